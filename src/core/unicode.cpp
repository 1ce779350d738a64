#include "core/unicode.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace chatgate::unicode {

namespace {

/// ICU's shared NFKC instance, fetched once. ICU creates it lazily behind its own once-flag;
/// holding it in a function-local static makes that creation happen under the C++ static guard,
/// which every thread's later use visibly synchronises with (ICU's own atomics are invisible to
/// ThreadSanitizer, which then takes its lazy creation for a race).
const icu::Normalizer2* nfkc_instance(UErrorCode& status) {
    static UErrorCode created = U_ZERO_ERROR;
    static const icu::Normalizer2* instance = icu::Normalizer2::getNFKCInstance(created);
    status = created;
    return instance;
}

}  // namespace

std::string nfkc(std::string_view utf8) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* normalizer = nfkc_instance(status);
    auto text = icu::UnicodeString::fromUTF8(
        icu::StringPiece(utf8.data(), static_cast<std::int32_t>(utf8.size())));
    icu::UnicodeString normal = U_SUCCESS(status) ? normalizer->normalize(text, status) : text;
    // ICU's data is built in; failing here would mean a broken install: keep the text as it was.
    if (U_FAILURE(status)) return std::string(utf8);
    std::string out;
    normal.toUTF8String(out);
    return out;
}

bool only_letters_numbers_or(std::string_view utf8, std::string_view extra) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(utf8.data());
    const auto size = static_cast<std::int32_t>(utf8.size());
    for (std::int32_t i = 0; i < size;) {
        UChar32 c = 0;
        U8_NEXT(bytes, i, size, c);
        if (c < 0) return false;
        if (c < 0x80 && extra.find(static_cast<char>(c)) != std::string_view::npos) continue;
        if ((U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK)) == 0) return false;
    }
    return true;
}

void make_valid_utf8(std::string& text) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
    const auto size = static_cast<std::int32_t>(text.size());
    std::int32_t i = 0;
    while (i < size && bytes[i] < 0x80) ++i;  // the common case: ASCII
    if (i == size) return;
    std::string out;
    std::int32_t copied = 0;
    while (i < size) {
        std::int32_t start = i;
        UChar32 c = 0;
        U8_NEXT(bytes, i, size, c);
        if (c >= 0) continue;
        if (out.empty()) out.reserve(text.size() + 16);
        out.append(text, static_cast<std::size_t>(copied),
                   static_cast<std::size_t>(start - copied));
        out += "\xEF\xBF\xBD";
        copied = i;
    }
    if (copied == 0) return;
    out.append(text, static_cast<std::size_t>(copied), std::string::npos);
    text = std::move(out);
}

}  // namespace chatgate::unicode

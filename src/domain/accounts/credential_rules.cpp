#include "domain/accounts/credential_rules.hpp"

#include "core/text.hpp"
#include "core/unicode.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace chatgate::domain {
namespace {

constexpr double kMaxSimilarity = 0.7;
constexpr std::size_t kMinPasswordChars = 8;

bool is_ascii_word(unsigned char c) {
    return std::isalnum(c) || c == '_';
}

/// Code points, with ASCII letters lowercased (Django lowercases both sides before comparing).
std::vector<char32_t> lowered_code_points(std::string_view text) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t cp = c < 0x80 ? c : c & (0x3F >> (len - 1));
        for (std::size_t k = 1; k < len && i + k < text.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        }
        if (cp < 0x80) cp = static_cast<char32_t>(std::tolower(static_cast<int>(cp)));
        out.push_back(cp);
        i += len;
    }
    return out;
}

/// difflib.SequenceMatcher(a, b).quick_ratio(): twice the size of the multiset intersection
/// over the total length.
double quick_ratio(const std::vector<char32_t>& a, const std::vector<char32_t>& b) {
    if (a.empty() && b.empty()) return 1.0;
    std::map<char32_t, long> available;
    for (char32_t c : b) ++available[c];
    long matches = 0;
    for (char32_t c : a) {
        auto it = available.find(c);
        if (it != available.end() && it->second > 0) {
            --it->second;
            ++matches;
        }
    }
    return 2.0 * static_cast<double>(matches) / static_cast<double>(a.size() + b.size());
}

/// Django skips parts far shorter than the password, which cannot be "too similar".
bool exceeds_maximum_length_ratio(std::size_t password_len, std::size_t value_len) {
    double length_bound = kMaxSimilarity / 2 * static_cast<double>(password_len);
    return password_len >= 10 * value_len && static_cast<double>(value_len) < length_bound;
}

bool too_similar(std::string_view password, std::string_view username) {
    if (username.empty()) return false;
    auto pw = lowered_code_points(password);
    auto name = lowered_code_points(username);
    // re.split(r"\W+", name) + [name]; non-ASCII counts as a word character.
    std::vector<std::vector<char32_t>> parts(1);
    for (char32_t c : name) {
        if (c < 0x80 && !is_ascii_word(static_cast<unsigned char>(c))) {
            if (!parts.back().empty()) parts.emplace_back();
        } else {
            parts.back().push_back(c);
        }
    }
    parts.push_back(name);
    for (const auto& part : parts) {
        if (exceeds_maximum_length_ratio(pw.size(), part.size())) continue;
        if (quick_ratio(pw, part) >= kMaxSimilarity) return true;
    }
    return false;
}

bool entirely_numeric(std::string_view password) {
    return !password.empty() && std::all_of(password.begin(), password.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
}

}  // namespace

std::size_t count_chars(std::string_view utf8) {
    return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string normalize_username(std::string_view username) {
    return unicode::nfkc(username);
}

std::vector<std::string> username_problems(std::string_view username) {
    std::vector<std::string> out;
    // Zero-width, bidirectional, format and space characters are neither letters nor numbers.
    if (username.empty() || !unicode::only_letters_numbers_or(username, "_@.+-")) {
        out.emplace_back(
            "Enter a valid username. This value may contain only letters, numbers, and "
            "@/./+/-/_ characters.");
    }
    // Normalising may lengthen a name that was read within the limit ("㍿" is four letters).
    if (count_chars(username) > kMaxUsernameChars) {
        out.emplace_back("Ensure this field has no more than " + std::to_string(kMaxUsernameChars) +
                         " characters.");
    }
    return out;
}

PasswordRules::PasswordRules(std::string common_passwords)
    : common_text_(std::move(common_passwords)) {
    std::string_view rest = common_text_;
    while (!rest.empty()) {
        auto eol = rest.find('\n');
        auto line = text::trim(rest.substr(0, eol));
        if (!line.empty()) common_.push_back(line);
        if (eol == std::string_view::npos) break;
        rest.remove_prefix(eol + 1);
    }
    std::sort(common_.begin(), common_.end());
}

bool PasswordRules::is_common(std::string_view password) const {
    std::string lowered = text::lowercase(text::trim(password));
    return std::binary_search(common_.begin(), common_.end(), std::string_view(lowered));
}

std::vector<std::string> PasswordRules::problems(std::string_view password,
                                                 std::string_view username) const {
    std::vector<std::string> out;
    if (too_similar(password, username))
        out.emplace_back("The password is too similar to the username.");
    if (count_chars(password) < kMinPasswordChars) {
        out.emplace_back("This password is too short. It must contain at least 8 characters.");
    }
    if (is_common(password)) out.emplace_back("This password is too common.");
    if (entirely_numeric(password)) out.emplace_back("This password is entirely numeric.");
    return out;
}

}  // namespace chatgate::domain

#include "core/text.hpp"

#include <cctype>

namespace chatgate::text {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

template <class Predicate>
std::string_view trim_if(std::string_view text, Predicate drop) {
    while (!text.empty() && drop(text.front())) text.remove_prefix(1);
    while (!text.empty() && drop(text.back())) text.remove_suffix(1);
    return text;
}

}  // namespace

std::string_view trim(std::string_view text) {
    return trim_if(text, is_space);
}

std::string_view trim_blanks(std::string_view text) {
    return trim_if(text, is_blank);
}

std::string quoted(std::string_view text) {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "'" + std::string(...).
    std::string out;
    out.reserve(text.size() + 2);
    out += '\'';
    out += text;
    out += '\'';
    return out;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace chatgate::text

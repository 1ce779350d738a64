#pragma once

#include <string>
#include <string_view>

/// The little of Unicode chatgate needs, by ICU (kept behind these functions).
namespace chatgate::unicode {

/// `utf8` in Normalization Form KC (compatibility forms folded: fullwidth `ａ` is `a`, `ⓐ` is
/// `a`, U+00A0 is a space). Ill-formed sequences become U+FFFD.
std::string nfkc(std::string_view utf8);

/// Whether every code point of `utf8` is a letter or a number (general categories L and N, what
/// Python's `\w` matches besides `_`) or one of `extra` (ASCII). False for ill-formed UTF-8.
bool only_letters_numbers_or(std::string_view utf8, std::string_view extra);

}  // namespace chatgate::unicode

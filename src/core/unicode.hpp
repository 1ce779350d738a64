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

/// Replaces each ill-formed UTF-8 sequence in `text` by U+FFFD (in place; nothing is copied
/// when the text is valid). JSON's structure is ASCII, so serialized JSON stays JSON.
void make_valid_utf8(std::string& text);

}  // namespace chatgate::unicode

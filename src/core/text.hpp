#pragma once

#include <charconv>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>

/// Small text helpers every layer uses: trimming, whole-string integers, ASCII case.
namespace chatgate::text {

/// Without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r).
std::string_view trim(std::string_view text);

/// Without leading and trailing spaces and tabs only: HTTP's optional whitespace, and the
/// blanks around items of comma-separated settings.
std::string_view trim_blanks(std::string_view text);

/// `text` as a decimal integer when the whole of it is one ("12", "-3"; not "", " 1", "1x",
/// "+1", or a value out of `Int`'s range).
template <std::integral Int>
std::optional<Int> parse_integer(std::string_view text) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

/// `text` in single quotes, for messages that name a bad value.
std::string quoted(std::string_view text);

/// ASCII lowercase; other bytes unchanged.
std::string lowercase(std::string_view text);

}  // namespace chatgate::text

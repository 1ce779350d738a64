#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatgate::api {

/// "YYYY-MM-DDTHH:MM:SSZ" (or "YYYY-MM-DD", midnight UTC) to unix seconds; nothing for any
/// other text or an impossible date.
std::optional<std::int64_t> parse_utc_time(std::string_view text);
/// Unix seconds as "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc_time(std::int64_t seconds);
/// Whether `text` is a real calendar day written "YYYY-MM-DD".
bool is_day(std::string_view text);

}  // namespace chatgate::api

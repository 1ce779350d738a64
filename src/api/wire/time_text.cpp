#include "api/wire/time_text.hpp"

#include "core/text.hpp"

#include <ctime>

namespace chatgate::api {
namespace {

std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
    if (at + count > text.size()) return std::nullopt;
    std::string_view part = text.substr(at, count);
    for (char c : part) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    return text::parse_integer<int>(part);
}

/// The fields of a UTC time, checked by converting them and back (timegm normalises
/// impossible dates like February 30th, which then no longer match).
std::optional<std::int64_t> to_unix(int year, int month, int day, int hour, int minute,
                                    int second) {
    std::tm fields{};
    fields.tm_year = year - 1900;
    fields.tm_mon = month - 1;
    fields.tm_mday = day;
    fields.tm_hour = hour;
    fields.tm_min = minute;
    fields.tm_sec = second;
    std::time_t t = timegm(&fields);
    std::tm back{};
    if (!gmtime_r(&t, &back)) return std::nullopt;
    if (back.tm_year != year - 1900 || back.tm_mon != month - 1 || back.tm_mday != day ||
        back.tm_hour != hour || back.tm_min != minute || back.tm_sec != second) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(t);
}

}  // namespace

std::optional<std::int64_t> parse_utc_time(std::string_view text) {
    bool day_only = text.size() == 10;
    if (!day_only && (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
                      text[19] != 'Z')) {
        return std::nullopt;
    }
    if (text[4] != '-' || text[7] != '-') return std::nullopt;
    auto year = digits(text, 0, 4);
    auto month = digits(text, 5, 2);
    auto day = digits(text, 8, 2);
    if (!year || !month || !day) return std::nullopt;
    if (day_only) return to_unix(*year, *month, *day, 0, 0, 0);
    auto hour = digits(text, 11, 2);
    auto minute = digits(text, 14, 2);
    auto second = digits(text, 17, 2);
    if (!hour || !minute || !second) return std::nullopt;
    return to_unix(*year, *month, *day, *hour, *minute, *second);
}

std::string format_utc_time(std::int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm fields{};
    gmtime_r(&t, &fields);
    char out[32];
    std::size_t n = std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &fields);
    return std::string(out, n);
}

bool is_day(std::string_view text) {
    return text.size() == 10 && parse_utc_time(text).has_value();
}

}  // namespace chatgate::api

#include "guards/rate_table.hpp"

#include "core/text.hpp"

namespace chatgate::guards {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;
using text::trim_blanks;

Error bad(std::string why) {
    return Error{ErrorCode::invalid_argument, std::move(why), {}};
}

/// Seconds per unit of a period: s, m, h, d; 0 for anything else.
std::int64_t unit_seconds(char unit) {
    switch (unit) {
        case 's':
            return 1;
        case 'm':
            return 60;
        case 'h':
            return 3600;
        case 'd':
            return 86400;
        default:
            return 0;
    }
}

/// "5/15m" -> 5 per 900 s.
std::optional<Rate> parse_rate(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto limit = text::parse_integer<std::int64_t>(trim_blanks(text.substr(0, slash)));
    if (!limit || *limit < 1) return std::nullopt;
    std::string_view period = trim_blanks(text.substr(slash + 1));
    if (period.empty()) return std::nullopt;
    std::int64_t unit = unit_seconds(period.back());
    if (unit == 0) return std::nullopt;
    period.remove_suffix(1);
    std::optional<std::int64_t> count = 1;
    if (!period.empty()) count = text::parse_integer<std::int64_t>(period);
    if (!count || *count < 1 || *count > 366) return std::nullopt;
    Rate rate{*limit, seconds(*count * unit)};
    if (rate.interval() < nanoseconds(1)) return std::nullopt;  // more than 1e9 per second
    return rate;
}

}  // namespace

Result<RateTable> RateTable::parse(std::string_view text, const RateTable& base) {
    RateTable table = base;
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = trim_blanks(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) continue;
        auto equals = item.find('=');
        if (equals == std::string_view::npos) {
            return bad(text::quoted(item) + " is not NAME=LIMIT/PERIOD");
        }
        std::string_view name = trim_blanks(item.substr(0, equals));
        std::string_view value = trim_blanks(item.substr(equals + 1));
        auto index = index_of(name);
        if (!index) return bad("unknown limit name " + text::quoted(name));
        if (value == "off") {
            table.rates_[*index] = Rate{};
            continue;
        }
        auto rate = parse_rate(value);
        if (!rate) {
            return bad(text::quoted(value) + " for " + text::quoted(name) +
                       " is not LIMIT/PERIOD (such as 10/1m, 5/15m, 1000/1h) or off");
        }
        table.rates_[*index] = *rate;
    }
    return table;
}

Result<RateTable> RateTable::parse(std::string_view text) {
    return parse(text, RateTable{});
}

std::optional<std::size_t> RateTable::index_of(std::string_view name) {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) return i;
    }
    return std::nullopt;
}

std::optional<Rate> RateTable::find(std::string_view name) const {
    auto index = index_of(name);
    if (!index) return std::nullopt;
    return rates_[*index];
}

}  // namespace chatgate::guards

#include "api/rate_limits.hpp"

#include "api/json_io.hpp"
#include "api/routes.hpp"
#include "domain/accounts/credential_rules.hpp"

#include <charconv>
#include <stdexcept>

namespace chatgate::api {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

Error bad(std::string why) {
    return Error{ErrorCode::invalid_argument, std::move(why), {}};
}

bool parse_count(std::string_view text, std::int64_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

/// "5/15m" -> 5 per 900 s.
std::optional<Rate> parse_rate(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::int64_t limit = 0;
    if (!parse_count(trim(text.substr(0, slash)), limit) || limit < 1) return std::nullopt;
    std::string_view period = trim(text.substr(slash + 1));
    if (period.empty()) return std::nullopt;
    std::int64_t unit = 0;
    switch (period.back()) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return std::nullopt;
    }
    period.remove_suffix(1);
    std::int64_t count = 1;
    if (!period.empty() && (!parse_count(period, count) || count < 1 || count > 366)) {
        return std::nullopt;
    }
    Rate rate{limit, seconds(count * unit)};
    if (rate.interval() < nanoseconds(1)) return std::nullopt;  // more than 1e9 per second
    return rate;
}

std::int64_t ceil_seconds(nanoseconds span) {
    auto s = std::chrono::ceil<seconds>(span).count();
    return s < 0 ? 0 : s;
}

}  // namespace

Result<RateTable> RateTable::parse(std::string_view text, const RateTable& base) {
    RateTable table = base;
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) continue;
        auto equals = item.find('=');
        if (equals == std::string_view::npos) {
            return bad("'" + std::string(item) + "' is not NAME=LIMIT/PERIOD");
        }
        std::string_view name = trim(item.substr(0, equals));
        std::string_view value = trim(item.substr(equals + 1));
        auto index = table.index_of(name);
        if (!index) return bad("unknown limit name '" + std::string(name) + "'");
        if (value == "off") {
            table.rates_[*index] = Rate{};
            continue;
        }
        auto rate = parse_rate(value);
        if (!rate) {
            return bad("'" + std::string(value) + "' for '" + std::string(name) +
                       "' is not LIMIT/PERIOD (such as 10/1m, 5/15m, 1000/1h) or off");
        }
        table.rates_[*index] = *rate;
    }
    return table;
}

Result<RateTable> RateTable::parse(std::string_view text) {
    return parse(text, RateTable{});
}

std::optional<std::size_t> RateTable::index_of(std::string_view name) const {
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

RateLimits::RateLimits(const Clock& clock, const RateTable& table, ClientAddressResolver resolver,
                       std::size_t max_keys)
    : table_(table), resolver_(std::move(resolver)), limiter_(clock, max_keys) {
    login_class_ = *table_.index_of("login");
    failed_user_class_ = *table_.index_of("failed_login_user");
    failed_address_class_ = *table_.index_of("failed_login_address");
    for (const Route& route : routes()) {
        std::string_view name = route.rate_class;
        if (name.empty()) {
            // Routes that name no class: reads and writes, by who is asking.
            bool read = route.method == http::Method::get || route.method == http::Method::head;
            name = !read ? "write" : route.auth == Auth::bearer ? "read" : "pages";
        }
        if (name == "none") {
            route_class_.push_back(std::nullopt);
            continue;
        }
        auto index = table_.index_of(name);
        if (!index) {
            throw std::logic_error("route " + std::string(route.path) + " has unknown rate class " +
                                   std::string(name));
        }
        route_class_.push_back(index);
    }
}

std::optional<Error> RateLimits::admit(const Route& route, const http::Request& request,
                                       UserId user, RateTicket& ticket) {
    auto index = static_cast<std::size_t>(&route - routes().data());
    if (index >= route_class_.size() || !route_class_[index]) return std::nullopt;
    std::size_t rate_class = *route_class_[index];
    const Rate& rate = table_.at(rate_class);
    bool limit_login = rate_class == login_class_;
    if (rate.unlimited() && !limit_login) return std::nullopt;

    std::string address;
    if (user == 0 || limit_login) {
        std::vector<std::string_view> forwarded;
        for (const auto& header : request.headers) {
            if (http::iequals(header.name, "X-Forwarded-For")) forwarded.push_back(header.value);
        }
        auto client = resolver_.resolve(request.remote_address, forwarded);
        address = client ? client->limit_key() : std::string("unknown");
    }
    if (!rate.unlimited()) {
        // One byte for the class keeps the key short: keys of different classes never meet.
        // Built on the stack: the common case (a known user) allocates nothing.
        char buffer[80];
        std::size_t size = 0;
        buffer[size++] = static_cast<char>('a' + rate_class);
        if (user != 0) {
            buffer[size++] = 'u';
            size = std::to_chars(buffer + size, buffer + sizeof buffer, user).ptr - buffer;
        } else {
            buffer[size++] = 'a';
            size += address.copy(buffer + size, sizeof buffer - size);
        }
        ticket.decision = limiter_.acquire(std::string_view(buffer, size), rate);
        if (!ticket.decision->allowed) {
            return Error{ErrorCode::rate_limited,
                         "Request was throttled. Expected available in " +
                             std::to_string(ceil_seconds(ticket.decision->retry_after)) +
                             " seconds.",
                         {},
                         ceil_seconds(ticket.decision->retry_after)};
        }
    }
    if (limit_login) return admit_login(request, address, ticket);
    return std::nullopt;
}

std::optional<Error> RateLimits::admit_login(const http::Request& request,
                                             const std::string& address, RateTicket& ticket) {
    std::optional<Decision> refused;
    const Rate& per_user = table_.at(failed_user_class_);
    const Rate& per_address = table_.at(failed_address_class_);
    if (!per_user.unlimited()) {
        // The username as the login handler will read it; unreadable bodies fail there.
        std::optional<std::string> username;
        if (auto body = parse_body(request); body && body->is_object()) {
            std::vector<FieldError> ignored;
            username = read_char_field(*body, "username", domain::kMaxUsernameChars, ignored);
        }
        if (username) {
            std::string key(1, static_cast<char>('a' + failed_user_class_));
            key += *username;
            auto decision = limiter_.acquire(key, per_user);
            if (decision.allowed) {
                ticket.held_user_key = std::move(key);
            } else {
                refused = decision;
            }
        }
    }
    if (!refused && !per_address.unlimited()) {
        std::string key(1, static_cast<char>('a' + failed_address_class_));
        key += address;
        auto decision = limiter_.acquire(key, per_address);
        if (decision.allowed) {
            ticket.held_address_key = std::move(key);
        } else {
            refused = decision;
        }
    }
    if (!refused) return std::nullopt;
    if (!ticket.held_user_key.empty()) limiter_.release(ticket.held_user_key, per_user);
    ticket.held_user_key.clear();
    ticket.decision = refused;
    auto wait = ceil_seconds(refused->retry_after);
    return Error{ErrorCode::rate_limited,
                 "Too many failed login attempts. Expected available in " + std::to_string(wait) +
                     " seconds.",
                 {},
                 wait};
}

void RateLimits::settle(RateTicket& ticket, const Result<http::Response>& result,
                        http::Response& response) {
    bool failed_login = !result && result.error().code == ErrorCode::invalid_credentials;
    if (!failed_login) {
        if (!ticket.held_user_key.empty()) {
            limiter_.release(ticket.held_user_key, table_.at(failed_user_class_));
        }
        if (!ticket.held_address_key.empty()) {
            limiter_.release(ticket.held_address_key, table_.at(failed_address_class_));
        }
    }
    if (!ticket.decision) return;
    const Decision& d = *ticket.decision;
    response.headers.reserve(response.headers.size() + 4);  // these, and the request id to come
    response.headers.emplace_back("RateLimit-Limit", std::to_string(d.limit));
    response.headers.emplace_back("RateLimit-Remaining", std::to_string(d.remaining));
    response.headers.emplace_back("RateLimit-Reset", std::to_string(ceil_seconds(d.reset)));
}

}  // namespace chatgate::api

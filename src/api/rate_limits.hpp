#pragma once

#include "api/client_address.hpp"
#include "api/rate_limiter.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "http/message.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::api {

struct Route;

/// The named limits: one per route class (the `rate_class` of each route in routes.cpp), plus
/// the two limits on failed logins.
class RateTable {
public:
    /// Every name a `rate_limits` setting may use, in a fixed order.
    static constexpr std::array<std::string_view, 10> kNames = {
        "read",    "write", "pages",  "register",          "login",
        "refresh", "chat",  "top_up", "failed_login_user", "failed_login_address"};

    /// Parses "name=LIMIT/PERIOD,..." over `base` (names not mentioned keep their rate). PERIOD
    /// is a count and unit, "30s", "1m", "15m", "1h", "1d" (the count may be left out: "m");
    /// "name=off" removes the limit. Errors say what is wrong, for the caller to name the key.
    static Result<RateTable> parse(std::string_view text, const RateTable& base);
    /// The same over a table without limits.
    static Result<RateTable> parse(std::string_view text);

    /// The rate of `name`, or nothing for an unknown name.
    std::optional<Rate> find(std::string_view name) const;
    std::optional<std::size_t> index_of(std::string_view name) const;
    const Rate& at(std::size_t index) const { return rates_[index]; }

private:
    std::array<Rate, kNames.size()> rates_{};
};

/// What the rate limits decided before a request, carried to the answer.
struct RateTicket {
    std::optional<Decision> decision;  ///< reported in the RateLimit-* headers
    std::string held_user_key;         ///< failed-login reservations to hand back unless the
    std::string held_address_key;      ///< login turns out to have failed
};

/// The dispatcher's rate-limit hook: per-route limits keyed on the user (bearer routes) or the
/// client address (anonymous routes), and the stricter limits on failed logins, per username and
/// per address. A login reserves one failure on both before the password is checked (so
/// concurrent guesses cannot slip past the limit) and gets it back unless the credentials were
/// wrong; a locked-out username answers 429 even to the right password. Thread-safe.
class RateLimits {
public:
    /// Resolves every route of `routes()` to its class once; a `rate_class` in the route table
    /// that `table` does not know is a programming error and throws std::logic_error.
    RateLimits(const Clock& clock, const RateTable& table, ClientAddressResolver resolver,
               std::size_t max_keys);

    /// Before the handler: a rate_limited Error to answer instead, or nothing. `route` is an
    /// entry of `routes()`; `user` is the authenticated user, 0 on anonymous routes.
    std::optional<Error> admit(const Route& route, const http::Request& request, UserId user,
                               RateTicket& ticket);

    /// After the handler (or the refusal): hands back reservations that must not count and adds
    /// the RateLimit-* headers.
    void settle(RateTicket& ticket, const Result<http::Response>& result, http::Response& response);

private:
    std::optional<Error> admit_login(const http::Request& request, const std::string& address,
                                     RateTicket& ticket);

    std::vector<std::optional<std::size_t>> route_class_;  ///< by route index; none: unlimited
    RateTable table_;
    ClientAddressResolver resolver_;
    RateLimiter limiter_;
    std::size_t login_class_ = 0;
    std::size_t failed_user_class_ = 0;
    std::size_t failed_address_class_ = 0;
};

}  // namespace chatgate::api

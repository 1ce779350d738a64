#pragma once

#include "api/wire/json_limits.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "guards/client_address.hpp"
#include "guards/rate_limiter.hpp"
#include "guards/rate_table.hpp"
#include "http/message.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace chatgate::api {

struct Route;

/// What the rate limits decided before a request, carried to the answer.
struct RateTicket {
    std::optional<guards::Decision> decision;  ///< reported in the RateLimit-* headers
    std::string held_user_key;                 ///< failed-login reservations to hand back unless
    std::string held_address_key;              ///< the login turns out to have failed
    bool held_for_redeem = false;  ///< held failed-redemption reservations instead (per user)
    /// Also OpenAI's x-ratelimit-* headers, which its libraries read (routes answering in
    /// OpenAI's error style).
    bool openai_headers = false;
    std::string client;                 ///< an anonymous request's client key, for its hashing lane
    bool recent_failed_logins = false;  ///< failures from that client not yet forgotten
};

/// A span as OpenAI writes it in x-ratelimit-reset-*: "1s", "6m0s", "1h2m3s" (whole seconds,
/// rounded up; "0s" for none).
std::string openai_duration(std::chrono::nanoseconds span);

/// How chatgate applies its rate limits to requests: per-route limits keyed on the user (bearer
/// routes) or the client address (anonymous routes), and the stricter limits on failed logins,
/// per username and per address. A login reserves one failure on both before the password is
/// checked (so concurrent guesses cannot slip past the limit) and gets it back unless the
/// credentials were wrong; a locked-out username answers 429 even to the right password.
/// Redemptions of codes work alike, per user and per address: a failure is reserved before the
/// code is looked up and handed back only when it was redeemed.
/// Thread-safe.
class RateLimitPolicy {
public:
    RateLimitPolicy(const Clock& clock, const guards::RateTable& table,
                    guards::ClientAddressResolver resolver, std::size_t max_keys,
                    const JsonLimits& json_limits);

    /// Before the handler: a rate_limited Error to answer instead, or nothing. `user` is the
    /// authenticated user, 0 on anonymous routes.
    std::optional<Error> admit(const Route& route, const http::Request& request, UserId user,
                               RateTicket& ticket);

    /// After the handler (or the refusal): hands back reservations that must not count and adds
    /// the RateLimit-* headers (and x-ratelimit-*-requests when the ticket says so).
    void settle(RateTicket& ticket, const Result<http::Response>& result, http::Response& response);

private:
    std::optional<Error> admit_login(const http::Request& request, const std::string& address,
                                     RateTicket& ticket);
    std::optional<Error> admit_redeem(UserId user, const std::string& address, RateTicket& ticket);
    std::optional<Error> refuse_failures(guards::RateClass refused_by,
                                         const guards::Decision& refused, RateTicket& ticket,
                                         std::string_view what);
    void release_login_failures(RateTicket& ticket, const Result<http::Response>& result);
    static void add_headers(const RateTicket& ticket, http::Response& response);
    std::string client_key(const http::Request& request) const;

    guards::RateTable table_;
    guards::ClientAddressResolver resolver_;
    guards::RateLimiter limiter_;
    JsonLimits json_limits_;  ///< to read the username of a login
};

}  // namespace chatgate::api

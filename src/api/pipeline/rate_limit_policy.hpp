#pragma once

#include "api/wire/json_limits.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "guards/client_address.hpp"
#include "guards/rate_limiter.hpp"
#include "guards/rate_table.hpp"
#include "guards/shared_rate_store.hpp"
#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace chatgate {
class WorkPool;
}

namespace chatgate::api {

struct Route;

/// A flag per rate limit, by RateClass.
using RateClasses = std::array<bool, guards::RateTable::kNames.size()>;

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
    /// With shared limits: the keys this request took from the local limiter, to take from the
    /// shared store too; `shared` once they were.
    struct Taken {
        std::string key;
        guards::RateClass rate_class{};
    };
    std::vector<Taken> taken;
    bool shared = false;
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
///
/// With `share` (several nodes on one PostgreSQL database) the keys of the chosen limits are
/// also counted in the shared store, so a client cannot multiply its quota by the number of nodes.
/// The local limiter stays in front as the fast path: a node's own count never exceeds the shared
/// one, so a local refusal needs no round trip. A request it allows takes the same keys from the
/// shared store in one hop to the database pool (`admit_shared`); a shared refusal hands the local
/// ones back. When the shared store cannot be reached, limits are per node (logged once) and the
/// store is tried again a second later.
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

    /// Counts the keys of `classes` in `store` as well, its calls run on `pool` (never an I/O
    /// thread).
    void share(guards::SharedRateStore& store, WorkPool& pool, const RateClasses& classes);
    /// After `admit` allowed a request whose ticket holds `taken` keys: the shared store's
    /// verdict on them (when reachable). Without shared limits `taken` stays empty and this is
    /// never called, so a single node pays no coroutine for it.
    boost::asio::awaitable<std::optional<Error>> admit_shared(RateTicket& ticket);
    /// `settle` for a ticket counted in the shared store (`shared`), handing back there too
    /// what must not count.
    boost::asio::awaitable<void> settle_shared(RateTicket& ticket,
                                               const Result<http::Response>& result,
                                               http::Response& response);

private:
    struct SharedOutcome;
    /// Which held failure reservations (login or redemption) `settle` hands back: the user's,
    /// the address's.
    static std::pair<bool, bool> give_back(const RateTicket& ticket,
                                           const Result<http::Response>& result);
    SharedOutcome take_shared(const std::vector<RateTicket::Taken>& taken, std::int64_t now_ns);
    bool shared_usable(std::int64_t now_ns) const;
    void shared_failed(std::int64_t now_ns);
    void shared_answered();
    std::int64_t now_ns() const;

    std::optional<Error> admit_login(const http::Request& request, const std::string& address,
                                     RateTicket& ticket);
    std::optional<Error> admit_redeem(UserId user, const std::string& address, RateTicket& ticket);
    /// A failure limit refused: the reservation already taken handed back, the 429.
    std::optional<Error> refuse_failures(guards::RateClass refused_by,
                                         const guards::Decision& refused, RateTicket& ticket);
    static void add_headers(const RateTicket& ticket, http::Response& response);
    std::string client_key(const http::Request& request) const;

    guards::RateTable table_;
    guards::ClientAddressResolver resolver_;
    const Clock& clock_;
    guards::RateLimiter limiter_;
    JsonLimits json_limits_;  ///< to read the username of a login
    guards::SharedRateStore* shared_ = nullptr;
    WorkPool* shared_pool_ = nullptr;
    RateClasses shared_classes_{};
    std::atomic<bool> shared_down_{false};
    std::atomic<std::int64_t> shared_retry_at_ns_{0};  ///< while down: the next try
    std::atomic<std::uint64_t> shared_checks_{0};      ///< every so many, a purge
};

}  // namespace chatgate::api

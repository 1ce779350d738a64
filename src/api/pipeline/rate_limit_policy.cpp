#include "api/pipeline/rate_limit_policy.hpp"

#include "api/routes.hpp"
#include "api/wire/json_io.hpp"
#include "core/work_pool.hpp"
#include "domain/accounts/credential_rules.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <charconv>

namespace chatgate::api {
namespace {

using guards::Decision;
using guards::Rate;
using guards::RateClass;
using guards::RateTable;
using std::chrono::nanoseconds;
using std::chrono::seconds;

/// Failed logins from an address after which its logins' hashes wait behind everybody else's.
/// One: a flood from fresh addresses is demoted after its first wave.
constexpr std::int64_t kSuspectAfterFailures = 1;

std::int64_t ceil_seconds(nanoseconds span) {
    auto s = std::chrono::ceil<seconds>(span).count();
    return s < 0 ? 0 : s;
}

/// One byte for the class keeps a key short: keys of different classes never meet.
char class_byte(RateClass rate_class) {
    return static_cast<char>('a' + RateTable::index(rate_class));
}

/// The key every client of a class shares when the limiter has no room for its own key (only
/// when its table is full of keys still refusing): new clients are limited together, never let
/// through unlimited.
std::string shared_key(RateClass rate_class) {
    return {class_byte(rate_class), '*'};
}

void count_refusal(RateClass rate_class) {
    if (!metrics::enabled()) return;
    metrics::registry().rate_limited.with({RateTable::kNames[RateTable::index(rate_class)]}).add();
}

/// What a failure class counts ("login", "redemption"); empty for the limits on requests.
std::string_view failed_attempts(RateClass rate_class) {
    switch (rate_class) {
        case RateClass::failed_login_user:
        case RateClass::failed_login_address:
            return "login";
        case RateClass::failed_redeem_user:
        case RateClass::failed_redeem_address:
            return "redemption";
        default:
            return {};
    }
}

/// The failure classes of the reservations a ticket holds: per user (or username), per address.
std::pair<RateClass, RateClass> held_classes(const RateTicket& ticket) {
    if (ticket.held_for_redeem) {
        return {RateClass::failed_redeem_user, RateClass::failed_redeem_address};
    }
    return {RateClass::failed_login_user, RateClass::failed_login_address};
}

/// The 429 of a refusal by `rate_class`, counted.
Error throttled(RateClass rate_class, const Decision& decision) {
    count_refusal(rate_class);
    auto wait = ceil_seconds(decision.retry_after);
    auto attempts = failed_attempts(rate_class);
    std::string what = attempts.empty() ? std::string("Request was throttled.")
                                        : "Too many failed " + std::string(attempts) + " attempts.";
    return Error{ErrorCode::rate_limited,
                 what + " Expected available in " + std::to_string(wait) + " seconds.",
                 {},
                 wait};
}

/// What the local limiter would have said, from a TAT kept in the shared store.
Decision decision_from_tat(const Rate& rate, std::int64_t now, std::optional<std::int64_t> tat,
                           bool allowed) {
    const std::int64_t interval = rate.interval().count();
    const std::int64_t tolerance = interval * rate.limit;
    Decision d;
    d.limit = rate.limit;
    d.allowed = allowed;
    if (!tat) {  // refused by a row this statement could not read: a full interval
        d.reset = rate.period;
        d.retry_after = rate.interval();
        return d;
    }
    if (allowed) {
        d.remaining = std::max<std::int64_t>(0, (tolerance - (*tat - now)) / interval);
        d.reset = nanoseconds(std::max<std::int64_t>(0, *tat - now));
    } else {
        d.reset = nanoseconds(std::max<std::int64_t>(0, *tat - now));
        d.retry_after =
            nanoseconds(std::max<std::int64_t>(interval, *tat + interval - tolerance - now));
    }
    return d;
}

/// Every so many shared checks, one also deletes keys whose quota is whole again.
constexpr std::uint64_t kPurgeEvery = 1024;
constexpr std::int64_t kPurgeLimit = 256;
/// While the shared store is unreachable, how long requests count locally before one tries it.
constexpr std::chrono::seconds kSharedRetry{1};

}  // namespace

RateLimitPolicy::RateLimitPolicy(const Clock& clock, const RateTable& table,
                                 guards::ClientAddressResolver resolver, std::size_t max_keys,
                                 const JsonLimits& json_limits)
    : table_(table),
      resolver_(std::move(resolver)),
      clock_(clock),
      limiter_(clock, max_keys),
      json_limits_(json_limits) {}

std::string RateLimitPolicy::client_key(const http::Request& request) const {
    std::vector<std::string_view> forwarded;
    for (const auto& header : request.headers) {
        if (http::iequals(header.name, "X-Forwarded-For")) forwarded.push_back(header.value);
    }
    auto client = resolver_.resolve(request.remote_address, forwarded);
    return client ? client->limit_key() : std::string("unknown");
}

std::optional<Error> RateLimitPolicy::admit(const Route& route, const http::Request& request,
                                            UserId user, RateTicket& ticket) {
    if (!route.rate) return std::nullopt;
    ticket.openai_headers = route.errors == ErrorStyle::openai;
    RateClass rate_class = *route.rate;
    const Rate& rate = table_.at(rate_class);
    bool limit_login = rate_class == RateClass::login;
    bool limit_redeem = rate_class == RateClass::redeem;
    if (rate.unlimited() && !limit_login && !limit_redeem) return std::nullopt;

    std::string address;
    if (user == 0 || limit_login || limit_redeem) address = client_key(request);
    ticket.client = address;  // anonymous routes' hashing lane (sign-ups, logins)
    if (!rate.unlimited()) {
        // Built on the stack: the common case (a known user) allocates nothing.
        char buffer[80];
        std::size_t size = 0;
        buffer[size++] = class_byte(rate_class);
        if (user != 0) {
            buffer[size++] = 'u';
            size = std::to_chars(buffer + size, buffer + sizeof buffer, user).ptr - buffer;
        } else {
            buffer[size++] = 'a';
            size += address.copy(buffer + size, sizeof buffer - size);
        }
        ticket.decision =
            limiter_.acquire(std::string_view(buffer, size), rate, shared_key(rate_class));
        if (!ticket.decision->allowed) return throttled(rate_class, *ticket.decision);
        if (shared_ && shared_classes_[RateTable::index(rate_class)]) {
            ticket.taken.push_back({std::string(buffer, size), rate_class});
        }
    }
    if (limit_login) return admit_login(request, address, ticket);
    if (limit_redeem) return admit_redeem(user, address, ticket);
    return std::nullopt;
}

std::optional<Error> RateLimitPolicy::admit_redeem(UserId user, const std::string& address,
                                                   RateTicket& ticket) {
    ticket.held_for_redeem = true;
    const Rate& per_user = table_.at(RateClass::failed_redeem_user);
    const Rate& per_address = table_.at(RateClass::failed_redeem_address);
    if (!per_user.unlimited()) {
        std::string key{class_byte(RateClass::failed_redeem_user), 'u'};
        key += std::to_string(user);
        auto decision = limiter_.acquire(key, per_user, shared_key(RateClass::failed_redeem_user));
        if (!decision.allowed) {
            return refuse_failures(RateClass::failed_redeem_user, decision, ticket);
        }
        if (shared_ && shared_classes_[RateTable::index(RateClass::failed_redeem_user)]) {
            ticket.taken.push_back({key, RateClass::failed_redeem_user});
        }
        ticket.held_user_key = std::move(key);
    }
    if (!per_address.unlimited()) {
        std::string key(1, class_byte(RateClass::failed_redeem_address));
        key += address;
        auto decision =
            limiter_.acquire(key, per_address, shared_key(RateClass::failed_redeem_address));
        if (!decision.allowed) {
            return refuse_failures(RateClass::failed_redeem_address, decision, ticket);
        }
        if (shared_ && shared_classes_[RateTable::index(RateClass::failed_redeem_address)]) {
            ticket.taken.push_back({key, RateClass::failed_redeem_address});
        }
        ticket.held_address_key = std::move(key);
    }
    return std::nullopt;
}

std::optional<Error> RateLimitPolicy::refuse_failures(RateClass refused_by, const Decision& refused,
                                                      RateTicket& ticket) {
    if (!ticket.held_user_key.empty()) {
        limiter_.release(ticket.held_user_key, table_.at(held_classes(ticket).first));
    }
    ticket.held_user_key.clear();
    ticket.taken.clear();  // refused here: the shared store is not asked
    ticket.decision = refused;
    return throttled(refused_by, refused);
}

std::optional<Error> RateLimitPolicy::admit_login(const http::Request& request,
                                                  const std::string& address, RateTicket& ticket) {
    std::optional<Decision> refused;
    RateClass refused_by = RateClass::failed_login_user;
    const Rate& per_user = table_.at(RateClass::failed_login_user);
    const Rate& per_address = table_.at(RateClass::failed_login_address);
    if (!per_user.unlimited()) {
        // The username as the login handler will read it; unreadable bodies fail there.
        std::optional<std::string> username;
        if (auto body = parse_body(request, json_limits_); body && body->is_object()) {
            std::vector<FieldError> ignored;
            username = read_char_field(*body, "username", domain::kMaxUsernameChars, ignored);
        }
        if (username) {
            std::string key{class_byte(RateClass::failed_login_user), 'n'};  // never the shared key
            key += domain::normalize_username(*username);  // look-alikes share a lockout
            auto decision =
                limiter_.acquire(key, per_user, shared_key(RateClass::failed_login_user));
            if (decision.allowed) {
                if (shared_ && shared_classes_[RateTable::index(RateClass::failed_login_user)]) {
                    ticket.taken.push_back({key, RateClass::failed_login_user});
                }
                ticket.held_user_key = std::move(key);
            } else {
                refused = decision;
            }
        }
    }
    if (!refused && !per_address.unlimited()) {
        std::string key(1, class_byte(RateClass::failed_login_address));
        key += address;
        auto decision =
            limiter_.acquire(key, per_address, shared_key(RateClass::failed_login_address));
        if (decision.allowed) {
            if (shared_ && shared_classes_[RateTable::index(RateClass::failed_login_address)]) {
                ticket.taken.push_back({key, RateClass::failed_login_address});
            }
            ticket.held_address_key = std::move(key);
            // Held besides this attempt's reservation: failed (or refused as busy) logins from
            // this address not yet forgotten (each for one interval of failed_login_address).
            std::int64_t held = decision.limit - 1 - decision.remaining;
            ticket.recent_failed_logins = held >= kSuspectAfterFailures;
        } else {
            refused = decision;
            refused_by = RateClass::failed_login_address;
        }
    }
    if (!refused) return std::nullopt;
    return refuse_failures(refused_by, *refused, ticket);
}

std::pair<bool, bool> RateLimitPolicy::give_back(const RateTicket& ticket,
                                                 const Result<http::Response>& result) {
    if (ticket.held_for_redeem) {
        // Only a redeemed code gives its reservations back: every other answer was a guess.
        if (!result) return {false, false};
        return {!ticket.held_user_key.empty(), !ticket.held_address_key.empty()};
    }
    bool failed_login = !result && result.error().code == ErrorCode::invalid_credentials;
    // A login refused because the hashing queue was full counts against its address (a flood
    // keeps it full; its addresses then wait behind others) but never against the username.
    bool busy = !result && result.error().code == ErrorCode::busy;
    if (failed_login) return {false, false};
    return {!ticket.held_user_key.empty(), !ticket.held_address_key.empty() && !busy};
}

void RateLimitPolicy::settle(RateTicket& ticket, const Result<http::Response>& result,
                             http::Response& response) {
    auto [user_back, address_back] = give_back(ticket, result);
    auto [user_class, address_class] = held_classes(ticket);
    if (user_back) limiter_.release(ticket.held_user_key, table_.at(user_class));
    if (address_back) limiter_.release(ticket.held_address_key, table_.at(address_class));
    add_headers(ticket, response);
}

void RateLimitPolicy::add_headers(const RateTicket& ticket, http::Response& response) {
    if (!ticket.decision) return;
    const Decision& d = *ticket.decision;
    // These, and the request id to come.
    response.headers.reserve(response.headers.size() + (ticket.openai_headers ? 7 : 4));
    response.headers.emplace_back("RateLimit-Limit", std::to_string(d.limit));
    response.headers.emplace_back("RateLimit-Remaining", std::to_string(d.remaining));
    response.headers.emplace_back("RateLimit-Reset", std::to_string(ceil_seconds(d.reset)));
    if (ticket.openai_headers) {
        // chatgate limits requests only; it has no token rate limit to report.
        response.headers.emplace_back("x-ratelimit-limit-requests", std::to_string(d.limit));
        response.headers.emplace_back("x-ratelimit-remaining-requests",
                                      std::to_string(d.remaining));
        response.headers.emplace_back("x-ratelimit-reset-requests", openai_duration(d.reset));
    }
}

// ---- shared limits -----------------------------------------------------------------------

/// The shared store's answer for a request's keys: each one's TAT, up to the first refused
/// (whose take changed nothing; the ones before it were handed back); `failed` when the store
/// could not be reached.
struct RateLimitPolicy::SharedOutcome {
    bool failed = false;
    std::optional<std::size_t> refused;  ///< index into the ticket's taken keys
    std::vector<guards::SharedRateStore::Taken> answers;
};

void RateLimitPolicy::share(guards::SharedRateStore& store, WorkPool& pool,
                            const RateClasses& classes) {
    shared_ = &store;
    shared_pool_ = &pool;
    shared_classes_ = classes;
}

std::int64_t RateLimitPolicy::now_ns() const {
    return std::chrono::duration_cast<nanoseconds>(clock_.now().time_since_epoch()).count();
}

bool RateLimitPolicy::shared_usable(std::int64_t now) const {
    return !shared_down_.load(std::memory_order_relaxed) ||
           now >= shared_retry_at_ns_.load(std::memory_order_relaxed);
}

void RateLimitPolicy::shared_failed(std::int64_t now) {
    shared_retry_at_ns_.store(now + nanoseconds(kSharedRetry).count(), std::memory_order_relaxed);
    if (!shared_down_.exchange(true)) {
        log::warn(
            "shared rate limits unreachable: every node limits on its own until the "
            "database answers again");
    }
}

void RateLimitPolicy::shared_answered() {
    if (shared_down_.exchange(false)) log::info("shared rate limits reachable again");
}

RateLimitPolicy::SharedOutcome RateLimitPolicy::take_shared(
    const std::vector<RateTicket::Taken>& taken, std::int64_t now) {
    SharedOutcome out;
    try {
        for (std::size_t i = 0; i < taken.size(); ++i) {
            const Rate& rate = table_.at(taken[i].rate_class);
            const std::int64_t interval = rate.interval().count();
            out.answers.push_back(
                shared_->take_rate(taken[i].key, now, interval, interval * rate.limit));
            if (!out.answers.back().allowed) {
                out.refused = i;
                for (std::size_t j = 0; j < i; ++j) {
                    shared_->give_back_rate(taken[j].key,
                                            table_.at(taken[j].rate_class).interval().count());
                }
                break;
            }
        }
        if (shared_checks_.fetch_add(1, std::memory_order_relaxed) % kPurgeEvery == 0) {
            shared_->purge_rates(now, kPurgeLimit);
        }
    } catch (const std::exception& e) {
        log::debug("shared rate limit check failed", {{"error", e.what()}});
        out.failed = true;
    }
    return out;
}

boost::asio::awaitable<std::optional<Error>> RateLimitPolicy::admit_shared(RateTicket& ticket) {
    const std::int64_t now = now_ns();
    if (!shared_usable(now)) co_return std::nullopt;  // per node meanwhile
    auto work = [&] { return take_shared(ticket.taken, now); };
    SharedOutcome outcome = co_await shared_pool_->run(work);
    if (outcome.failed) {
        shared_failed(now);
        co_return std::nullopt;
    }
    shared_answered();
    for (std::size_t i = 0; i < outcome.answers.size(); ++i) {
        const auto& taken = ticket.taken[i];
        const auto& answer = outcome.answers[i];
        Decision d =
            decision_from_tat(table_.at(taken.rate_class), now, answer.tat_ns, answer.allowed);
        if (!answer.allowed) {
            // The other nodes used this quota: what this node took does not count either.
            for (const auto& local : ticket.taken) {
                limiter_.release(local.key, table_.at(local.rate_class));
            }
            ticket.taken.clear();
            ticket.held_user_key.clear();
            ticket.held_address_key.clear();
            ticket.decision = d;
            co_return throttled(taken.rate_class, d);
        }
        if (failed_attempts(taken.rate_class).empty()) {
            ticket.decision = d;  // the headers report the shared count
        } else if (taken.rate_class == RateClass::failed_login_address) {
            ticket.recent_failed_logins = d.limit - 1 - d.remaining >= kSuspectAfterFailures;
        }
    }
    ticket.shared = true;
    co_return std::nullopt;
}

boost::asio::awaitable<void> RateLimitPolicy::settle_shared(RateTicket& ticket,
                                                            const Result<http::Response>& result,
                                                            http::Response& response) {
    auto [user_back, address_back] = give_back(ticket, result);
    std::vector<RateTicket::Taken> back;
    auto shares = [&](RateClass rate_class) {
        return ticket.shared && shared_classes_[RateTable::index(rate_class)];
    };
    auto [user_class, address_class] = held_classes(ticket);
    if (shares(user_class) && user_back) back.push_back({ticket.held_user_key, user_class});
    if (shares(address_class) && address_back) {
        back.push_back({ticket.held_address_key, address_class});
    }
    settle(ticket, result, response);
    if (back.empty()) co_return;
    auto work = [&] {
        try {
            for (const auto& key : back) {
                shared_->give_back_rate(key.key, table_.at(key.rate_class).interval().count());
            }
            return true;
        } catch (const std::exception&) {
            return false;  // counted against the client until its TAT passes: never too lenient
        }
    };
    bool given_back = co_await shared_pool_->run(work);
    if (!given_back) shared_failed(now_ns());
}

std::string openai_duration(std::chrono::nanoseconds span) {
    std::int64_t total = ceil_seconds(span);
    if (total <= 0) return "0s";
    std::int64_t hours = total / 3600;
    std::int64_t minutes = total / 60 % 60;
    std::int64_t seconds = total % 60;
    std::string out;
    if (hours > 0) out += std::to_string(hours) + "h";
    if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
    return out + std::to_string(seconds) + "s";
}

}  // namespace chatgate::api

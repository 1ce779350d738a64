#include "api/pipeline/rate_limit_policy.hpp"

#include "api/routes.hpp"
#include "api/wire/json_io.hpp"
#include "domain/accounts/credential_rules.hpp"
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

}  // namespace

RateLimitPolicy::RateLimitPolicy(const Clock& clock, const RateTable& table,
                                 guards::ClientAddressResolver resolver, std::size_t max_keys,
                                 const JsonLimits& json_limits)
    : table_(table),
      resolver_(std::move(resolver)),
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
        if (!ticket.decision->allowed) {
            count_refusal(rate_class);
            return Error{ErrorCode::rate_limited,
                         "Request was throttled. Expected available in " +
                             std::to_string(ceil_seconds(ticket.decision->retry_after)) +
                             " seconds.",
                         {},
                         ceil_seconds(ticket.decision->retry_after)};
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
            return refuse_failures(RateClass::failed_redeem_user, decision, ticket, "redemption");
        }
        ticket.held_user_key = std::move(key);
    }
    if (!per_address.unlimited()) {
        std::string key(1, class_byte(RateClass::failed_redeem_address));
        key += address;
        auto decision =
            limiter_.acquire(key, per_address, shared_key(RateClass::failed_redeem_address));
        if (!decision.allowed) {
            return refuse_failures(RateClass::failed_redeem_address, decision, ticket,
                                   "redemption");
        }
        ticket.held_address_key = std::move(key);
    }
    return std::nullopt;
}

std::optional<Error> RateLimitPolicy::refuse_failures(RateClass refused_by, const Decision& refused,
                                                      RateTicket& ticket, std::string_view what) {
    count_refusal(refused_by);
    RateClass user_class =
        ticket.held_for_redeem ? RateClass::failed_redeem_user : RateClass::failed_login_user;
    if (!ticket.held_user_key.empty())
        limiter_.release(ticket.held_user_key, table_.at(user_class));
    ticket.held_user_key.clear();
    ticket.decision = refused;
    auto wait = ceil_seconds(refused.retry_after);
    return Error{ErrorCode::rate_limited,
                 "Too many failed " + std::string(what) + " attempts. Expected available in " +
                     std::to_string(wait) + " seconds.",
                 {},
                 wait};
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
    return refuse_failures(refused_by, *refused, ticket, "login");
}

void RateLimitPolicy::settle(RateTicket& ticket, const Result<http::Response>& result,
                             http::Response& response) {
    if (ticket.held_for_redeem) {
        // Only a redeemed code gives its reservations back: every other answer was a guess.
        if (result) {
            if (!ticket.held_user_key.empty()) {
                limiter_.release(ticket.held_user_key, table_.at(RateClass::failed_redeem_user));
            }
            if (!ticket.held_address_key.empty()) {
                limiter_.release(ticket.held_address_key,
                                 table_.at(RateClass::failed_redeem_address));
            }
        }
    } else {
        release_login_failures(ticket, result);
    }
    add_headers(ticket, response);
}

void RateLimitPolicy::release_login_failures(RateTicket& ticket,
                                             const Result<http::Response>& result) {
    bool failed_login = !result && result.error().code == ErrorCode::invalid_credentials;
    // A login refused because the hashing queue was full counts against its address (a flood
    // keeps it full; its addresses then wait behind others) but never against the username.
    bool busy = !result && result.error().code == ErrorCode::busy;
    if (!failed_login) {
        if (!ticket.held_user_key.empty()) {
            limiter_.release(ticket.held_user_key, table_.at(RateClass::failed_login_user));
        }
        if (!ticket.held_address_key.empty() && !busy) {
            limiter_.release(ticket.held_address_key, table_.at(RateClass::failed_login_address));
        }
    }
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

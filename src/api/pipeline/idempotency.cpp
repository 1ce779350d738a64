#include "api/pipeline/idempotency.hpp"

#include "api/routes.hpp"
#include "api/wire/json_io.hpp"
#include "security/digest.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>

namespace chatgate::api {
namespace {

namespace net = boost::asio;
using domain::ClaimOutcome;

constexpr std::size_t kMaxKeyChars = 255;
/// Polling another node's claim: the first look again soon (most requests answer in tens of
/// milliseconds), then doubling up to the cap, so a long wait costs a few reads a second.
constexpr std::chrono::milliseconds kFirstPoll{5};
constexpr std::chrono::milliseconds kMaxPoll{250};

Error still_running() {
    return Error{ErrorCode::idempotency_key_in_flight,
                 "A request with this Idempotency-Key is still being processed; retry later.",
                 {}};
}

bool acceptable_key(std::string_view key) {
    if (key.empty() || key.size() > kMaxKeyChars) return false;
    for (char c : key) {
        if (c < 0x21 || c > 0x7e) return false;  // visible ASCII only
    }
    return true;
}

bool header_present(const http::Request& request, std::string_view name) {
    for (const auto& h : request.headers) {
        if (http::iequals(h.name, name)) return true;
    }
    return false;
}

/// Decided on the body as the handlers will parse it (the same reader and limits), never on
/// its text: `"\u0073tream"` is `"stream"`, and the seed's chat also takes `"true"` (a form
/// field is one).
bool asks_for_stream(const http::Request& request, const JsonLimits& limits) {
    auto body = parse_body(request, limits);
    if (!body || !body->is_object()) return false;
    const auto* stream = body->get_object().if_contains("stream");
    if (!stream) return false;
    return (stream->is_bool() && stream->get_bool()) ||
           (stream->is_string() && stream->get_string() == "true");
}

Error error(ErrorCode code, std::string message) {
    return Error{code, std::move(message), {}};
}

}  // namespace

/// A repeat waiting for the first request's answer. Its timer belongs to the waiting
/// coroutine's executor; `wake` moves its expiry to the past there, which ends a wait in
/// progress and makes a later one return at once (so a wake-up between the waiter's claim and
/// its wait is not lost).
struct Idempotency::Waiter {
    explicit Waiter(net::any_io_executor executor) : timer(std::move(executor)) {}
    net::steady_timer timer;
};

Idempotency::Idempotency(domain::IdempotencyService& service, std::chrono::milliseconds wait,
                         const JsonLimits& json_limits)
    : service_(service), wait_(wait), json_limits_(json_limits) {}

Idempotency::~Idempotency() = default;

void Idempotency::remove_waiter(const std::string& slot, const std::shared_ptr<Waiter>& waiter) {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(slot);
    for (auto it = first; it != last; ++it) {
        if (!it->second.owner_before(waiter) && !waiter.owner_before(it->second)) {
            waiters_.erase(it);
            return;
        }
    }
}

void Idempotency::wake(const std::string& slot) {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(slot);
    for (auto it = first; it != last; ++it) {
        auto waiter = it->second.lock();
        if (!waiter) continue;
        net::post(waiter->timer.get_executor(), [waiter] {
            waiter->timer.expires_at(std::chrono::steady_clock::time_point::min());
        });
    }
}

boost::asio::awaitable<Result<http::Response>> Idempotency::run(Services& services,
                                                                RequestContext& ctx,
                                                                Handler handler) {
    const http::Request& request = ctx.request;
    if (!header_present(request, "Idempotency-Key") || ctx.user_id == 0) {
        co_return co_await handler(services, ctx);
    }
    std::string key(request.header("Idempotency-Key"));
    if (!acceptable_key(key)) {
        co_return error(ErrorCode::invalid_argument,
                        "Idempotency-Key must be 1 to 255 visible ASCII characters.");
    }
    if (asks_for_stream(request, json_limits_)) {
        co_return error(ErrorCode::invalid_argument,
                        "Idempotency-Key is not supported for streamed answers.");
    }
    std::string fingerprint = security::sha256_hex(
        {request.method_text, ctx.route.path, request.header("Content-Type"), request.body});
    std::string slot = std::to_string(ctx.user_id) + ":" + key;
    auto deadline = std::chrono::steady_clock::now() + wait_;
    auto executor = co_await net::this_coro::executor;

    std::shared_ptr<Waiter> waiter;
    auto poll = kFirstPoll;
    for (;;) {
        auto claim = co_await service_.claim(ctx.user_id, key, fingerprint);
        if (claim.outcome == ClaimOutcome::elsewhere) {
            // Another node runs it: no wake-up comes from there, so look at its row again.
            auto now = std::chrono::steady_clock::now();
            if (now >= deadline) co_return still_running();
            net::steady_timer pause(executor);
            pause.expires_at(std::min(deadline, now + poll));
            co_await pause.async_wait(net::as_tuple(net::use_awaitable));
            poll = std::min(kMaxPoll, poll * 2);
            continue;
        }
        if (claim.outcome != ClaimOutcome::in_flight) {
            if (waiter) remove_waiter(slot, waiter);
            if (claim.outcome == ClaimOutcome::claimed) break;
            switch (claim.outcome) {
                case ClaimOutcome::replay: {
                    http::Response replayed;
                    replayed.status = claim.answer->status;
                    replayed.content_type = std::move(claim.answer->content_type);
                    replayed.body = std::move(claim.answer->body);
                    replayed.headers.emplace_back("Idempotent-Replayed", "true");
                    co_return replayed;
                }
                case ClaimOutcome::mismatch:
                    co_return error(ErrorCode::idempotency_key_reused,
                                    "Idempotency-Key was already used with a different request.");
                case ClaimOutcome::abandoned:
                    co_return error(ErrorCode::idempotency_key_in_flight,
                                    "The first request with this Idempotency-Key was interrupted "
                                    "and its outcome is unknown; check /api/transactions/ before "
                                    "retrying with a new key.");
                default:
                    break;
            }
        }
        if (!waiter) {
            // Register first, then look again: a wake-up can no longer be missed.
            waiter = std::make_shared<Waiter>(executor);
            waiter->timer.expires_at(deadline);
            std::lock_guard lock(mutex_);
            waiters_.emplace(slot, waiter);
            continue;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            remove_waiter(slot, waiter);
            co_return still_running();
        }
        co_await waiter->timer.async_wait(net::as_tuple(net::use_awaitable));
        remove_waiter(slot, waiter);
        waiter.reset();
    }

    // The key is ours: run the request once, then keep its answer or free the key.
    std::exception_ptr failure;
    Result<http::Response> result = Error{ErrorCode::internal, {}, {}};
    try {
        result = co_await handler(services, ctx);
    } catch (...) {
        failure = std::current_exception();
    }
    bool keep =
        !failure && result && result->status >= 200 && result->status < 300 && !result->stream;
    if (keep) {
        domain::StoredAnswer answer{result->status, result->content_type,
                                    std::string(result->payload())};
        co_await service_.complete(ctx.user_id, key, answer);
    } else {
        co_await service_.release(ctx.user_id, key);
    }
    wake(slot);
    if (failure) std::rethrow_exception(failure);
    co_return result;
}

}  // namespace chatgate::api

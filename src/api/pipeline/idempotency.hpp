#pragma once

#include "api/handler.hpp"
#include "api/wire/json_limits.hpp"
#include "domain/idempotency/idempotency_service.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chatgate::api {

/// Idempotency-Key for the routes marked `Replay::idempotency_key`, in one place instead of in
/// each handler. A request with the header runs only if it is the first with that key for its
/// user (claimed in the database); a repeat of the same request (method, route, content type,
/// body bytes) gets the first answer again, with `Idempotent-Replayed: true`; a different
/// request with the key gets 422.
///
/// Only 2xx answers are kept. Every other answer of these routes leaves no effect (validation,
/// refusals, failures before the charge or refunded), so it frees the key and a retry runs
/// anew. Repeats that arrive while the first runs in this process wait for its answer, up to
/// `wait`, then get 409; so do repeats while another node runs it (polling its row, backing
/// off from 5 to 250 ms), which then get the same answer. Streamed answers cannot be replayed, so
/// they are refused (400) when sent with a key. Thread-safe.
class Idempotency {
public:
    Idempotency(domain::IdempotencyService& service, std::chrono::milliseconds wait,
                const JsonLimits& json_limits);
    ~Idempotency();

    /// Runs `handler` under the key rules (or plainly when the header is absent). The route
    /// table's handlers are wrapped in this when the pipeline is built (api/pipeline/dispatcher).
    boost::asio::awaitable<Result<http::Response>> run(Services& services, RequestContext& ctx,
                                                       Handler handler);

private:
    struct Waiter;
    void remove_waiter(const std::string& slot, const std::shared_ptr<Waiter>& waiter);
    void wake(const std::string& slot);

    domain::IdempotencyService& service_;
    std::chrono::milliseconds wait_;
    JsonLimits json_limits_;  ///< to see whether a request asks for a stream
    std::mutex mutex_;
    /// By user:key. Weak: a waiter belongs to its coroutine (and its timer to that coroutine's
    /// io_context), never to this registry.
    std::unordered_multimap<std::string, std::weak_ptr<Waiter>> waiters_;
};

}  // namespace chatgate::api

#pragma once

// The process's metrics, in Prometheus's text exposition format. Updates are relaxed atomic
// operations on values that never move once created, so instrumenting a hot path costs an
// add; a labeled child is found under a shared (reader) lock, with no allocation once it
// exists. Names follow Prometheus's conventions: a `chatgate_` prefix, base units (seconds),
// `_total` on counters. No label ever carries a user: their number must stay small.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chatgate::metrics {

/// Off until the composition root enables it (a metrics listener or token is configured), so a
/// server that exposes nothing does not count either.
bool enabled();
void set_enabled(bool on);

class Counter {
public:
    void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
    void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
    std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

/// Durations in fixed buckets (upper bounds in seconds, ascending; +Inf is implied).
class Histogram {
public:
    explicit Histogram(const std::vector<double>& bounds);
    void observe(std::chrono::nanoseconds duration);
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    /// Appends the `_bucket`, `_sum` and `_count` lines; `labels` is `a="x",` or empty.
    void render(std::string& out, std::string_view name, std::string_view labels) const;

private:
    const std::vector<double>& bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  ///< not cumulative
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_ns_{0};
};

/// Bucket bounds for request-like durations: 100 us to 60 s.
const std::vector<double>& latency_buckets();

/// One metric name with its children by label values (`with` creates a child on first use).
template <class M>
class Family {
public:
    Family(std::string name, std::string help, std::vector<std::string> labels,
           const std::vector<double>* bounds = nullptr);
    M& with(std::initializer_list<std::string_view> values);
    void render(std::string& out) const;
    std::string_view name() const { return name_; }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::string name_;
    std::string help_;
    std::vector<std::string> labels_;
    const std::vector<double>* bounds_;
    mutable std::shared_mutex mutex_;
    /// Keyed by the rendered label pairs (`a="x",b="y",`), which is also what render prints.
    std::unordered_map<std::string, std::unique_ptr<M>, Hash, std::equal_to<>> children_;
};

/// Every metric chatgate exposes, created once.
struct Registry {
    Registry();

    // HTTP
    Family<Counter> http_requests{"chatgate_http_requests_total",
                                  "Requests answered, by route template, method and status.",
                                  {"route", "method", "status"}};
    Family<Histogram> http_duration{
        "chatgate_http_request_duration_seconds",
        "Time from a request's head to its answer (a stream's: to its end).",
        {"route", "method"},
        &latency_buckets()};
    Gauge connections;  ///< chatgate_http_connections
    Gauge streams;      ///< chatgate_http_streams
    // The AI upstream
    Family<Counter> upstream_requests{"chatgate_upstream_requests_total",
                                      "Exchanges with an AI upstream, by model and outcome.",
                                      {"model", "outcome"}};
    Family<Histogram> upstream_duration{"chatgate_upstream_request_duration_seconds",
                                        "Duration of an exchange with an AI upstream.",
                                        {"model"},
                                        &latency_buckets()};
    Family<Histogram> upstream_ttft{"chatgate_upstream_time_to_first_token_seconds",
                                    "Time from a streamed request to its first text.",
                                    {"model"},
                                    &latency_buckets()};
    // Tokens and money
    Family<Counter> tokens{"chatgate_tokens_total",
                           "Model tokens of settled chats, by model and type (prompt, completion).",
                           {"model", "type"}};
    Family<Counter> tokens_charged{
        "chatgate_tokens_charged_total", "Balance tokens charged for chats, by model.", {"model"}};
    Gauge open_reservations;  ///< chatgate_chat_reservations_open
    Family<Counter> settlements{
        "chatgate_chat_settlements_total",
        "Chat reservations settled, by outcome (full, partial, refunded, recovered).",
        {"outcome"}};
    Family<Counter> rate_limited{"chatgate_rate_limit_refusals_total",
                                 "Requests refused by a rate limit, by its class.",
                                 {"class"}};
    // Work pools
    Family<Histogram> pool_wait{"chatgate_work_pool_wait_seconds",
                                "Time a job waited in a work pool's queue.",
                                {"pool"},
                                &latency_buckets()};
    Family<Histogram> pool_run{"chatgate_work_pool_run_seconds",
                               "Time a job ran in a work pool (for the database pools: the "
                               "statements of one operation).",
                               {"pool"},
                               &latency_buckets()};
    Family<Gauge> pool_depth{
        "chatgate_work_pool_depth", "Jobs queued or running in a work pool.", {"pool"}};
    Histogram db_commit{latency_buckets()};  ///< chatgate_db_commit_duration_seconds

    /// Runs before each exposition: sets gauges read from elsewhere (the pools' depths).
    /// Register at start-up only, before serving.
    void on_render(std::function<void()> collect) { collectors_.push_back(std::move(collect)); }
    /// The exposition of everything, with `chatgate_build_info`.
    std::string render() const;

private:
    std::vector<std::function<void()>> collectors_;
};

Registry& registry();

/// The Content-Type of the exposition.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace chatgate::metrics

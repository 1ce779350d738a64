#include "observability/metrics.hpp"

#include <charconv>
#include <cstdio>
#include <mutex>

#ifndef CHATGATE_VERSION
#define CHATGATE_VERSION "dev"
#endif

namespace chatgate::metrics {
namespace {

std::atomic<bool> g_enabled{false};

void append_number(std::string& out, std::uint64_t value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, end);
}

void append_number(std::string& out, std::int64_t value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, end);
}

void append_seconds(std::string& out, double seconds) {
    char buf[32];
    int n = std::snprintf(buf, sizeof buf, "%.9g", seconds);
    out.append(buf, static_cast<std::size_t>(n));
}

/// A label value as the exposition format wants it: backslash, quote and newline escaped.
void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

template <class M>
constexpr std::string_view type_of() {
    if constexpr (std::is_same_v<M, Counter>) return "counter";
    if constexpr (std::is_same_v<M, Gauge>) return "gauge";
    return "histogram";
}

/// `name{labels} value`, with the trailing comma of `labels` dropped.
void append_sample(std::string& out, std::string_view name, std::string_view labels) {
    out.append(name);
    if (!labels.empty()) {
        out += '{';
        out.append(labels.substr(0, labels.size() - 1));
        out += '}';
    }
    out += ' ';
}

void append_gauge(std::string& out, std::string_view name, std::string_view help,
                  std::int64_t value) {
    append_header(out, name, help, "gauge");
    out.append(name).append(" ");
    append_number(out, value);
    out += '\n';
}

}  // namespace

bool enabled() {
    return g_enabled.load(std::memory_order_relaxed);
}

void set_enabled(bool on) {
    g_enabled.store(on, std::memory_order_relaxed);
}

const std::vector<double>& latency_buckets() {
    static const std::vector<double> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                            1,      2.5,     5,      10,    30,     60};
    return bounds;
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(std::chrono::nanoseconds duration) {
    double seconds = static_cast<double>(duration.count()) * 1e-9;
    std::size_t i = 0;
    while (i < bounds_.size() && seconds > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, duration.count())),
                      std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
    std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        out.append(bucket).append("{").append(labels).append("le=\"");
        if (i < bounds_.size()) {
            append_seconds(out, bounds_[i]);
        } else {
            out.append("+Inf");
        }
        out.append("\"} ");
        append_number(out, cumulative);
        out += '\n';
    }
    append_sample(out, std::string(name) + "_sum", labels);
    append_seconds(out, static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9);
    out += '\n';
    append_sample(out, std::string(name) + "_count", labels);
    append_number(out, cumulative);
    out += '\n';
}

template <class M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> labels,
                  const std::vector<double>* bounds)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(bounds) {}

template <class M>
M& Family<M>::with(std::initializer_list<std::string_view> values) {
    thread_local std::string key;
    key.clear();
    std::size_t i = 0;
    for (std::string_view value : values) {
        key.append(labels_[i++]).append("=\"");
        append_label_value(key, value);
        key.append("\",");
    }
    {
        std::shared_lock lock(mutex_);
        if (auto it = children_.find(std::string_view(key)); it != children_.end()) {
            return *it->second;
        }
    }
    std::unique_lock lock(mutex_);
    auto& child = children_[key];
    if (!child) {
        if constexpr (std::is_same_v<M, Histogram>) {
            child = std::make_unique<M>(*bounds_);
        } else {
            child = std::make_unique<M>();
        }
    }
    return *child;
}

template <class M>
void Family<M>::render(std::string& out) const {
    append_header(out, name_, help_, type_of<M>());
    std::shared_lock lock(mutex_);
    for (const auto& [labels, child] : children_) {
        if constexpr (std::is_same_v<M, Histogram>) {
            child->render(out, name_, labels);
        } else {
            append_sample(out, name_, labels);
            append_number(out, child->value());
            out += '\n';
        }
    }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Registry() = default;

std::string Registry::render() const {
    for (const auto& collect : collectors_) collect();
    std::string out;
    out.reserve(16 * 1024);
    append_header(out, "chatgate_build_info", "The running build: 1, with its version.", "gauge");
    out.append("chatgate_build_info{version=\"" CHATGATE_VERSION "\"} 1\n");
    http_requests.render(out);
    http_duration.render(out);
    append_gauge(out, "chatgate_http_connections", "Client connections open now.",
                 connections.value());
    append_gauge(out, "chatgate_http_streams", "Streamed answers being sent now.", streams.value());
    upstream_requests.render(out);
    upstream_duration.render(out);
    upstream_ttft.render(out);
    tokens.render(out);
    tokens_charged.render(out);
    append_gauge(out, "chatgate_chat_reservations_open", "Chat reservations not settled yet.",
                 open_reservations.value());
    settlements.render(out);
    rate_limited.render(out);
    pool_wait.render(out);
    pool_run.render(out);
    pool_depth.render(out);
    append_header(out, "chatgate_db_commit_duration_seconds",
                  "Time the database writer spent in one group COMMIT.", "histogram");
    db_commit.render(out, "chatgate_db_commit_duration_seconds", "");
    return out;
}

Registry& registry() {
    static Registry instance;
    return instance;
}

}  // namespace chatgate::metrics

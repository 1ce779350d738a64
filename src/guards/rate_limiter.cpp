#include "guards/rate_limiter.hpp"

#include <algorithm>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

namespace chatgate::guards {

struct alignas(64) RateLimiter::Shard {
    struct Entry {
        std::int64_t tat_ns;
        std::list<std::string>::iterator position;
    };

    std::mutex mutex;
    std::list<std::string> recency;  ///< owns the keys; most recently used first
    std::unordered_map<std::string_view, Entry> entries;  ///< keys view into `recency`

    void touch(Entry& entry) { recency.splice(recency.begin(), recency, entry.position); }

    void insert(std::string_view key, std::int64_t tat_ns, std::size_t cap) {
        if (entries.size() >= cap) {
            entries.erase(std::string_view(recency.back()));
            recency.pop_back();
        }
        recency.emplace_front(key);
        entries.emplace(std::string_view(recency.front()), Entry{tat_ns, recency.begin()});
    }
};

RateLimiter::RateLimiter(const Clock& clock, std::size_t max_keys, std::size_t shards)
    : clock_(clock),
      shard_count_(std::max<std::size_t>(1, shards)),
      per_shard_(std::max<std::size_t>(1, (max_keys + shard_count_ - 1) / shard_count_)),
      shards_(std::make_unique<Shard[]>(shard_count_)) {}

RateLimiter::~RateLimiter() = default;

RateLimiter::Shard& RateLimiter::shard_for(std::string_view key) const {
    return shards_[std::hash<std::string_view>{}(key) % shard_count_];
}

std::int64_t RateLimiter::now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch())
        .count();
}

Decision RateLimiter::acquire(std::string_view key, const Rate& rate) {
    const std::int64_t interval = rate.interval().count();
    const std::int64_t tolerance = interval * rate.limit;  // the whole quota, as time
    const std::int64_t now = now_ns();

    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto found = shard.entries.find(key);
    std::int64_t tat = now;
    if (found != shard.entries.end()) {
        tat = std::max(found->second.tat_ns, now);
        shard.touch(found->second);
    }
    const std::int64_t next_tat = tat + interval;
    const std::int64_t allow_at = next_tat - tolerance;

    Decision decision;
    decision.limit = rate.limit;
    if (now < allow_at) {
        decision.allowed = false;
        decision.remaining = 0;
        decision.reset = std::chrono::nanoseconds(tat - now);
        decision.retry_after = std::chrono::nanoseconds(allow_at - now);
        return decision;
    }
    if (found != shard.entries.end()) {
        found->second.tat_ns = next_tat;
    } else {
        shard.insert(key, next_tat, per_shard_);
    }
    decision.remaining = (tolerance - (next_tat - now)) / interval;
    decision.reset = std::chrono::nanoseconds(next_tat - now);
    return decision;
}

void RateLimiter::release(std::string_view key, const Rate& rate) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto found = shard.entries.find(key);
    // A key forgotten meanwhile already has its whole quota.
    if (found != shard.entries.end()) found->second.tat_ns -= rate.interval().count();
}

std::size_t RateLimiter::size() const {
    std::size_t total = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
        std::lock_guard lock(shards_[i].mutex);
        total += shards_[i].entries.size();
    }
    return total;
}

}  // namespace chatgate::guards

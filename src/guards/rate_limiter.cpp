#include "guards/rate_limiter.hpp"

#include <algorithm>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

namespace chatgate::guards {

namespace {
/// How many keys from the least recent end a full shard looks at for one it may forget. Each
/// refusing key it passes moves to the front, so the next look starts further on.
constexpr int kEvictionScan = 8;
}  // namespace

struct alignas(64) RateLimiter::Shard {
    struct Entry {
        std::int64_t tat_ns;
        std::int64_t slack_ns;  ///< tolerance - interval: refusing while now < tat - slack
        std::list<std::string>::iterator position;

        bool refusing(std::int64_t now) const { return now < tat_ns - slack_ns; }
    };

    std::mutex mutex;
    std::list<std::string> recency;  ///< owns the keys; most recently used first
    std::unordered_map<std::string_view, Entry> entries;  ///< keys view into `recency`

    void touch(Entry& entry) { recency.splice(recency.begin(), recency, entry.position); }

    /// Forgets one key that is not refusing, if one is found among the least recent few.
    bool make_room(std::int64_t now) {
        for (int i = 0; i < kEvictionScan && !recency.empty(); ++i) {
            auto victim = entries.find(std::string_view(recency.back()));
            if (!victim->second.refusing(now)) {
                entries.erase(victim);
                recency.pop_back();
                return true;
            }
            touch(victim->second);
        }
        return false;
    }

    bool insert(std::string_view key, const Entry& entry, std::size_t cap, std::int64_t now) {
        if (entries.size() >= cap && !make_room(now)) return false;
        recency.emplace_front(key);
        Entry placed = entry;
        placed.position = recency.begin();
        entries.emplace(std::string_view(recency.front()), placed);
        return true;
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

Decision RateLimiter::acquire(std::string_view key, const Rate& rate, std::string_view fallback) {
    const std::int64_t now = now_ns();
    if (auto decision = try_acquire(key, rate, now, false)) return *decision;  // a known key
    bool has_fallback = !fallback.empty() && fallback != key;
    // While the shared key refuses, every new key shares its refusal: some of them counted on
    // it when there was no room, and must not start afresh once room is made.
    if (has_fallback && refusing(fallback, now)) {
        if (auto decision = try_acquire(fallback, rate, now, false)) return *decision;
    }
    if (auto decision = try_acquire(key, rate, now, true)) return *decision;
    if (has_fallback) {
        if (auto decision = try_acquire(fallback, rate, now, true)) return *decision;
    }
    // Nowhere to count it: refuse rather than let an untracked key through.
    Decision refused;
    refused.allowed = false;
    refused.limit = rate.limit;
    refused.reset = rate.period;
    refused.retry_after = rate.interval();
    return refused;
}

bool RateLimiter::refusing(std::string_view key, std::int64_t now) const {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto found = shard.entries.find(key);
    return found != shard.entries.end() && found->second.refusing(now);
}

std::optional<Decision> RateLimiter::try_acquire(std::string_view key, const Rate& rate,
                                                 std::int64_t now, bool may_insert) {
    const std::int64_t interval = rate.interval().count();
    const std::int64_t tolerance = interval * rate.limit;  // the whole quota, as time

    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto found = shard.entries.find(key);
    if (found == shard.entries.end() && !may_insert) return std::nullopt;
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
    } else if (!shard.insert(key, {next_tat, tolerance - interval, {}}, per_shard_, now)) {
        return std::nullopt;
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

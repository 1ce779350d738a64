#pragma once

#include "core/clock.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chatgate::guards {

/// `limit` requests per `period`, all of which may arrive in one burst.
struct Rate {
    std::int64_t limit = 0;  ///< 0: unlimited
    std::chrono::nanoseconds period{0};

    bool unlimited() const { return limit <= 0; }
    /// The time one request "costs"; the whole quota is back `period` after the last request.
    std::chrono::nanoseconds interval() const { return period / limit; }
};

/// The outcome of one request against one key, with what the RateLimit-* headers report.
struct Decision {
    bool allowed = true;
    std::int64_t limit = 0;
    std::int64_t remaining = 0;
    std::chrono::nanoseconds reset{0};        ///< until the whole quota is available again
    std::chrono::nanoseconds retry_after{0};  ///< until the next request is allowed; 0 if allowed
};

/// Rate limiting by GCRA (the generic cell rate algorithm): one number per key, the theoretical
/// arrival time (TAT) of the next request. A request is allowed when TAT - now leaves room for
/// one more interval within the period; allowing it moves TAT one interval on.
///
/// Thread-safe and cheap under contention: keys are spread over shards, each guarded by its own
/// mutex held for one hash lookup. Memory is bounded: at most about `max_keys` keys are kept.
/// A shard that is full forgets its least recently used key that is not refusing (a key idle
/// for a full period loses nothing; a busy one gets a fresh quota), looking at a few keys from
/// the least recent end. A key that is refusing (over its limit, a lockout) is never forgotten
/// before it would allow again, so a flood of new keys cannot erase it: when a shard holds only
/// refusing keys, a new key is judged by the caller's coarser `fallback` key instead, and
/// refused when that cannot be placed either; while the fallback refuses, so does every new key
/// (one that counted on it must not start afresh when room is made).
class RateLimiter {
public:
    RateLimiter(const Clock& clock, std::size_t max_keys, std::size_t shards = 64);
    ~RateLimiter();
    RateLimiter(const RateLimiter&) = delete;
    RateLimiter& operator=(const RateLimiter&) = delete;

    /// Takes one request from `key`'s quota, or refuses it (changing nothing). `rate` must not
    /// be unlimited, and must be the same on every call for a key. `fallback` (a key shared by
    /// many, such as one per limit) counts instead when `key` is new and its shard is full of
    /// refusing keys; empty: such a key is refused.
    Decision acquire(std::string_view key, const Rate& rate, std::string_view fallback = {});

    /// Hands back a request taken by `acquire`, for outcomes that must not count (a login that
    /// succeeded, where only failures are limited).
    void release(std::string_view key, const Rate& rate);

    /// Keys currently held (for tests and the memory bound).
    std::size_t size() const;
    std::size_t capacity() const { return per_shard_ * shard_count_; }

private:
    struct Shard;
    Shard& shard_for(std::string_view key) const;
    /// The decision for `key`, or nothing when it is new and may not be placed (`may_insert`
    /// false, or no room for it).
    std::optional<Decision> try_acquire(std::string_view key, const Rate& rate, std::int64_t now,
                                        bool may_insert);
    bool refusing(std::string_view key, std::int64_t now) const;
    std::int64_t now_ns() const;

    const Clock& clock_;
    std::size_t shard_count_;
    std::size_t per_shard_;
    std::unique_ptr<Shard[]> shards_;
};

}  // namespace chatgate::guards

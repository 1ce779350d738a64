#include "guards/rate_limiter.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chatgate::guards {
namespace {

using namespace std::chrono_literals;

constexpr Rate kThreePerMinute{3, 60s};

TEST(RateLimiter, AllowsTheWholeQuotaAsABurstThenRefuses) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 3; ++i) {
        auto d = limiter.acquire("k", kThreePerMinute);
        EXPECT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.limit, 3);
        EXPECT_EQ(d.remaining, 2 - i);
        EXPECT_EQ(d.reset, 20s * (i + 1));  // each request costs one interval of 20 s
        EXPECT_EQ(d.retry_after, 0s);
    }
    auto refused = limiter.acquire("k", kThreePerMinute);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0);
    EXPECT_EQ(refused.retry_after, 20s);  // one interval frees one request
    EXPECT_EQ(refused.reset, 60s);        // the whole quota is back after the period
}

TEST(RateLimiter, ARefusalChangesNothing) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 3; ++i) limiter.acquire("k", kThreePerMinute);
    for (int i = 0; i < 10; ++i) EXPECT_FALSE(limiter.acquire("k", kThreePerMinute).allowed);
    clock.advance(20s);
    EXPECT_TRUE(limiter.acquire("k", kThreePerMinute).allowed);
    EXPECT_FALSE(limiter.acquire("k", kThreePerMinute).allowed);
}

TEST(RateLimiter, QuotaComesBackOneIntervalAtATime) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 3; ++i) limiter.acquire("k", kThreePerMinute);
    clock.advance(19s);
    auto early = limiter.acquire("k", kThreePerMinute);
    EXPECT_FALSE(early.allowed);
    EXPECT_EQ(early.retry_after, 1s);
    clock.advance(1s);
    auto d = limiter.acquire("k", kThreePerMinute);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 0);
    EXPECT_EQ(d.reset, 60s);
    clock.advance(60s);  // a full period idle: the whole burst again
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.acquire("k", kThreePerMinute).allowed);
    EXPECT_FALSE(limiter.acquire("k", kThreePerMinute).allowed);
}

TEST(RateLimiter, SteadyRateAtTheIntervalIsAlwaysAllowed) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 100);
    Rate rate{10, 1s};  // 100 ms interval
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.acquire("k", rate).allowed);
    for (int i = 0; i < 50; ++i) {
        clock.advance(100ms);
        auto d = limiter.acquire("k", rate);
        EXPECT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.remaining, 0);
    }
    clock.advance(50ms);
    EXPECT_FALSE(limiter.acquire("k", rate).allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 3; ++i) limiter.acquire("a", kThreePerMinute);
    EXPECT_FALSE(limiter.acquire("a", kThreePerMinute).allowed);
    EXPECT_TRUE(limiter.acquire("b", kThreePerMinute).allowed);
}

TEST(RateLimiter, ReleaseGivesOneRequestBack) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 3; ++i) limiter.acquire("k", kThreePerMinute);
    limiter.release("k", kThreePerMinute);
    auto d = limiter.acquire("k", kThreePerMinute);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 0);
    EXPECT_FALSE(limiter.acquire("k", kThreePerMinute).allowed);
    limiter.release("unknown", kThreePerMinute);  // forgotten keys have their quota already
    EXPECT_TRUE(limiter.acquire("unknown", kThreePerMinute).allowed);
}

TEST(RateLimiter, MemoryIsBoundedByForgettingTheLeastRecentlyUsedKey) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 4, 1);  // one shard, to make the order observable
    EXPECT_EQ(limiter.capacity(), 4u);
    for (auto key : {"a", "b", "c", "d"}) limiter.acquire(key, kThreePerMinute);
    for (int i = 0; i < 2; ++i) limiter.acquire("a", kThreePerMinute);  // "a" used last; b oldest
    EXPECT_FALSE(limiter.acquire("a", kThreePerMinute).allowed);
    limiter.acquire("e", kThreePerMinute);  // full: forgets "b"
    EXPECT_EQ(limiter.size(), 4u);
    EXPECT_FALSE(limiter.acquire("a", kThreePerMinute).allowed) << "a must still be limited";
    EXPECT_EQ(limiter.acquire("b", kThreePerMinute).remaining, 2) << "b starts afresh";
}

TEST(RateLimiter, AFloodOfNewKeysNeverForgetsARefusingKey) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 4, 1);
    const Rate lockout{2, 900s};
    for (int i = 0; i < 2; ++i) limiter.acquire("victim", lockout);
    ASSERT_FALSE(limiter.acquire("victim", lockout).allowed);
    for (int i = 0; i < 10'000; ++i) {
        limiter.acquire("flood-" + std::to_string(i), kThreePerMinute, "shared");
    }
    EXPECT_LE(limiter.size(), limiter.capacity());
    EXPECT_FALSE(limiter.acquire("victim", lockout).allowed) << "the lockout must hold";
    clock.advance(450s);  // one failure back: now it may go
    EXPECT_TRUE(limiter.acquire("victim", lockout).allowed);
}

TEST(RateLimiter, ATableFullOfRefusingKeysLimitsNewKeysByTheFallback) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 2, 1);
    const Rate one{1, 60s};
    limiter.acquire("x", one);
    limiter.acquire("y", one);  // both refuse now, and fill the table
    // The fallback has no room either: new keys are refused, not let through.
    EXPECT_FALSE(limiter.acquire("new-1", one, "shared").allowed);
    EXPECT_FALSE(limiter.acquire("new-2", one).allowed);
    EXPECT_EQ(limiter.size(), 2u);
    clock.advance(60s);  // x and y allow again, so they may be forgotten
    EXPECT_TRUE(limiter.acquire("new-3", one, "shared").allowed);
}

/// A key that lands in shard `shard` of `shards`, as the limiter spreads them.
std::string key_in_shard(std::size_t shard, std::size_t shards, const std::string& prefix) {
    for (int i = 0;; ++i) {
        std::string key = prefix + std::to_string(i);
        if (std::hash<std::string_view>{}(key) % shards == shard) return key;
    }
}

TEST(RateLimiter, NewKeysCountOnTheFallbackWhileTheirShardIsFullOfRefusingKeys) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 2, 2);  // two shards of one key each
    const Rate two{2, 60s};
    const std::string locked = key_in_shard(0, 2, "locked-");
    const std::string newcomer = key_in_shard(0, 2, "new-");
    const std::string fallback = key_in_shard(1, 2, "shared-");
    for (int i = 0; i < 2; ++i) limiter.acquire(locked, two);
    auto d = limiter.acquire(newcomer, two, fallback);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 1);
    EXPECT_FALSE(limiter.acquire(locked, two).allowed) << "still locked";
    EXPECT_EQ(limiter.acquire(fallback, two).remaining, 0) << "the newcomer counted on it";
    EXPECT_FALSE(limiter.acquire(newcomer, two, fallback).allowed) << "and shares its refusal";
}

TEST(RateLimiter, AKeyThatCountedOnTheFallbackDoesNotStartAfreshWhenRoomIsMade) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 2, 2);
    const Rate quick{1, 10s};
    const Rate lockout{2, 900s};
    const std::string busy = key_in_shard(0, 2, "busy-");
    const std::string guessed = key_in_shard(0, 2, "guessed-");
    const std::string shared = key_in_shard(1, 2, "shared-");
    limiter.acquire(busy, quick);  // refuses for 10 s, and fills its shard
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(limiter.acquire(guessed, lockout, shared).allowed);
    clock.advance(10s);  // "busy" may go now, so there is room for new keys again
    EXPECT_FALSE(limiter.acquire(guessed, lockout, shared).allowed)
        << "its failures are on the shared key, which still refuses";
}

TEST(RateLimiter, ManyKeysStayWithinTheBound) {
    testing::ManualClock clock;
    RateLimiter limiter(clock, 1000);
    for (int i = 0; i < 50'000; ++i)
        limiter.acquire("client-" + std::to_string(i), kThreePerMinute);
    EXPECT_LE(limiter.size(), limiter.capacity());
    EXPECT_LT(limiter.capacity(), 1000u + 64u);
}

TEST(RateLimiter, ExactUnderConcurrentUse) {
    testing::ManualClock clock;  // frozen: exactly `limit` requests may pass in total
    RateLimiter limiter(clock, 1000);
    Rate rate{1000, 60s};
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                if (limiter.acquire("shared", rate).allowed) ++allowed;
                limiter.acquire("own-" + std::to_string(i % 50), rate);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace chatgate::guards

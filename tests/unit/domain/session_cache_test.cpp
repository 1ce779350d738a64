#include "domain/accounts/session_cache.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

namespace chatgate {
namespace {

using namespace std::chrono_literals;
using domain::AccessState;
using domain::SessionCache;

class SessionCacheTest : public ::testing::Test {
protected:
    /// find, then (on a miss) store what a read returned, as SessionService does.
    std::optional<AccessState> find(UserId user, domain::SessionId session) {
        SessionCache::Ticket ticket;
        return cache_.find(user, session, ticket);
    }
    void put(UserId user, domain::SessionId session, AccessState state) {
        SessionCache::Ticket ticket;
        ASSERT_FALSE(cache_.find(user, session, ticket));
        cache_.store(user, session, state, ticket);
    }

    testing::ManualClock clock_;
    SessionCache cache_{clock_, {.ttl = 1000ms, .max_entries = 64}};
    const AccessState live_{true, 3, true};
};

TEST_F(SessionCacheTest, KeepsAStateUntilItsTtl) {
    EXPECT_FALSE(find(1, 10));
    put(1, 10, live_);
    auto hit = find(1, 10);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->epoch, 3);
    EXPECT_FALSE(find(1, 11));  // another session of the same user
    EXPECT_FALSE(find(2, 10));  // another user
    clock_.advance(999ms);
    EXPECT_TRUE(find(1, 10));
    clock_.advance(1ms);
    EXPECT_FALSE(find(1, 10));
}

TEST_F(SessionCacheTest, ForgettingASessionLeavesTheOthers) {
    put(1, 10, live_);
    put(1, 11, live_);
    cache_.forget_session(1, 10);
    EXPECT_FALSE(find(1, 10));
    EXPECT_TRUE(find(1, 11));
}

TEST_F(SessionCacheTest, ForgettingAUserForgetsEverySessionOfIt) {
    put(1, 10, live_);
    put(1, 11, live_);
    put(17, 12, live_);  // same shard (16 shards), another user
    cache_.forget_user(1);
    EXPECT_FALSE(find(1, 10));
    EXPECT_FALSE(find(1, 11));
    EXPECT_TRUE(find(17, 12));
}

TEST_F(SessionCacheTest, AReadThatRacedWithARevocationIsNotKept) {
    SessionCache::Ticket ticket;
    ASSERT_FALSE(cache_.find(1, 10, ticket));  // the check starts its read...
    cache_.forget_session(1, 10);              // ...a logout commits and forgets meanwhile...
    cache_.store(1, 10, live_, ticket);        // ...and the read's stale answer arrives
    EXPECT_FALSE(find(1, 10));
    put(1, 10, live_);  // a read started after the revocation is kept
    EXPECT_TRUE(find(1, 10));
}

TEST_F(SessionCacheTest, StaysWithinItsBound) {
    // 64 entries over 16 shards: 4 per shard, then the shard starts over.
    for (UserId user = 0; user < 16 * 5; user += 16) put(user, 1, live_);
    int kept = 0;
    for (UserId user = 0; user < 16 * 5; user += 16) kept += find(user, 1).has_value();
    EXPECT_LE(kept, 4);
    EXPECT_GE(kept, 1);
}

TEST_F(SessionCacheTest, ZeroTtlKeepsNothing) {
    SessionCache off(clock_, {.ttl = 0ms, .max_entries = 64});
    EXPECT_FALSE(off.enabled());
    SessionCache::Ticket ticket;
    ASSERT_FALSE(off.find(1, 10, ticket));
    off.store(1, 10, live_, ticket);
    EXPECT_FALSE(off.find(1, 10, ticket));
}

}  // namespace
}  // namespace chatgate

#include "domain/accounts/session_service.hpp"

#include "storage/sqlite/sqlite_store.hpp"
#include "support/manual_clock.hpp"
#include "support/run_sync.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace chatgate {
namespace {

using namespace std::chrono_literals;
using domain::judge_access;
using testing::run_sync;

/// The session rules on the real SQLite store, with the writer's group commit as in production.
class SessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = ::testing::TempDir() + "chatgate-sessions-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite3";
        remove_files();
        store_ = std::make_unique<storage::SqliteStore>(path_);
        sessions_ = std::make_unique<domain::SessionService>(
            *store_, DbPools{reads_, writes_}, clock_,
            domain::SessionPolicy{.token_lifetime = 3600s,
                                  .check_access = true,
                                  .on_reuse =
                                      [this](UserId user, domain::SessionId session) {
                                          reuses_.emplace_back(user, session);
                                      },
                                  .cache_ttl = 1000ms,  // as in production: the rules hold
                                  .cache_max_entries = 64});
        user_ = *store_->create_user({"alice", "old-hash", 4000, false, false});
    }
    void TearDown() override {
        sessions_.reset();
        reads_.join();
        writes_.join();
        store_.reset();
        remove_files();
    }
    void remove_files() {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }
    domain::SessionGrant start() { return run_sync(sessions_->start(user_)).value(); }
    Result<domain::SessionGrant> rotate(const domain::SessionGrant& g) {
        return run_sync(sessions_->rotate(user_, g.id, g.generation, g.epoch));
    }
    Result<UserId> check(const domain::SessionGrant& g) {
        return run_sync(sessions_->check_access(user_, g.id, g.epoch));
    }
    std::string path_;
    std::unique_ptr<storage::SqliteStore> store_;
    testing::ManualClock clock_;
    WorkPool reads_{"test-db-read", {.threads = 1}};
    WorkPool writes_{
        "test-db-write",
        {.threads = 1,
         .max_batch = 8,
         .hooks = {[this] { store_->begin_batch(); }, [this] { store_->commit_batch(); },
                   [this] { store_->rollback_batch(); }}}};
    std::unique_ptr<domain::SessionService> sessions_;
    UserId user_ = 0;
    std::vector<std::pair<UserId, domain::SessionId>> reuses_;  ///< reported by on_reuse
};

void expect_error(const Result<domain::SessionGrant>& r, ErrorCode code, std::string_view message) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(r.error().message, message);
}

TEST_F(SessionTest, RefreshRotatesOnce) {
    auto login = start();
    EXPECT_EQ(login.generation, 0);
    auto next = rotate(login);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->id, login.id);
    EXPECT_EQ(next->generation, 1);
    auto after = rotate(*next);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->generation, 2);
    EXPECT_TRUE(check(*after));
}

TEST_F(SessionTest, ReuseRevokesTheWholeFamilyOnly) {
    auto family = start();
    auto other = start();
    auto next = rotate(family).value();
    expect_error(rotate(family), ErrorCode::refresh_token_not_valid, "Token is blacklisted");
    ASSERT_EQ(reuses_.size(), 1u);
    EXPECT_EQ(reuses_[0], std::make_pair(user_, family.id));
    // The family is gone: its newest refresh token and its access tokens too.
    expect_error(rotate(next), ErrorCode::refresh_token_not_valid, "Token is blacklisted");
    EXPECT_EQ(reuses_.size(), 1u);  // a revoked family is not reused again
    auto access = check(next);
    ASSERT_FALSE(access);
    EXPECT_EQ(access.error().code, ErrorCode::token_not_valid);
    EXPECT_EQ(access.error().message, "Token is blacklisted");
    EXPECT_TRUE(check(other));
    EXPECT_TRUE(rotate(other));
}

TEST_F(SessionTest, LogoutIsIdempotentAndScopedToTheUser) {
    auto family = start();
    auto stranger = *store_->create_user({"mallory", "h", 0, false, false});
    run_sync(sessions_->end(stranger, family.id));  // not theirs: nothing happens
    EXPECT_TRUE(check(family));
    run_sync(sessions_->end(user_, family.id));
    run_sync(sessions_->end(user_, family.id));
    EXPECT_FALSE(check(family));
    expect_error(rotate(family), ErrorCode::refresh_token_not_valid, "Token is blacklisted");
}

TEST_F(SessionTest, UnknownFamilyOrForeignUserIsInvalid) {
    auto family = start();
    expect_error(rotate({family.id + 100, 0, 0}), ErrorCode::refresh_token_not_valid,
                 "Token is invalid or expired");
    auto stranger = *store_->create_user({"mallory", "h", 0, false, false});
    auto foreign = run_sync(sessions_->rotate(stranger, family.id, 0, 0));
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().message, "Token is invalid or expired");
    EXPECT_TRUE(rotate(family));  // and the real owner's family was not disturbed
}

TEST_F(SessionTest, PasswordChangeBumpsTheEpochAndRevokesEverySession) {
    auto a = start();
    auto b = start();
    EXPECT_FALSE(store_->replace_password(user_, "stale-hash", "new-hash"));
    EXPECT_TRUE(check(a));
    EXPECT_TRUE(store_->replace_password(user_, "old-hash", "new-hash"));
    sessions_->user_changed(user_);  // what the password handler does after the change
    EXPECT_EQ(store_->find_login(user_)->password_hash, "new-hash");
    for (const auto& g : {a, b}) {
        EXPECT_FALSE(check(g));
        expect_error(rotate(g), ErrorCode::refresh_token_not_valid, "Token is blacklisted");
    }
    // Tokens from before sessions existed (no sid, epoch 0) stop working too.
    EXPECT_TRUE(judge_access(user_, 0, 1, store_->access_state(user_, 0)));
    EXPECT_FALSE(judge_access(user_, 0, 0, store_->access_state(user_, 0)));
    // A new login carries the new epoch.
    auto fresh = start();
    EXPECT_EQ(fresh.epoch, 1);
    EXPECT_TRUE(check(fresh));
}

TEST_F(SessionTest, AChangeOutsideTheServiceIsSeenWithinTheCacheTtl) {
    auto family = start();
    EXPECT_TRUE(check(family));                   // now cached
    store_->revoke_session(user_, family.id, 0);  // as a direct database edit would
    EXPECT_TRUE(check(family));                   // the cached state, within its ttl
    clock_.advance(1001ms);
    EXPECT_FALSE(check(family));
}

TEST_F(SessionTest, JudgeAccess) {
    using domain::AccessState;
    EXPECT_EQ(judge_access(1, 5, 0, std::nullopt).error().code, ErrorCode::user_not_found);
    EXPECT_EQ(judge_access(1, 5, 0, AccessState{false, 0, true}).error().code,
              ErrorCode::user_inactive);
    EXPECT_EQ(judge_access(1, 5, 0, AccessState{true, 1, true}).error().code,
              ErrorCode::token_not_valid);
    EXPECT_EQ(judge_access(1, 5, 0, AccessState{true, 0, false}).error().code,
              ErrorCode::token_not_valid);
    EXPECT_EQ(judge_access(1, 0, 0, AccessState{true, 0, false}).value(), 1);
    EXPECT_EQ(judge_access(1, 5, 0, AccessState{true, 0, true}).value(), 1);
}

TEST_F(SessionTest, OldFamiliesArePurgedAtTheNextLogin) {
    auto old = start();
    clock_.advance(3601s);  // longer than every token of the family lives
    auto fresh = start();
    expect_error(rotate(old), ErrorCode::refresh_token_not_valid, "Token is invalid or expired");
    EXPECT_FALSE(check(old));
    EXPECT_TRUE(rotate(fresh));
}

TEST_F(SessionTest, SwitchedOffCheckAcceptsEverything) {
    domain::SessionService unchecked(*store_, DbPools{reads_, writes_}, clock_,
                                     domain::SessionPolicy{3600s, false});
    auto family = start();
    run_sync(sessions_->end(user_, family.id));
    EXPECT_TRUE(run_sync(unchecked.check_access(user_, family.id, family.epoch)));
}

}  // namespace
}  // namespace chatgate

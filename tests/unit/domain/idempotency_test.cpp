#include "domain/idempotency/idempotency_service.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "support/manual_clock.hpp"
#include "support/run_sync.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace chatgate {
namespace {

using namespace std::chrono_literals;
using domain::ClaimOutcome;
using domain::StoredAnswer;
using testing::run_sync;

/// The Idempotency-Key rules on the real SQLite store, with a clock that moves when told.
class IdempotencyTest : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = ::testing::TempDir() + "chatgate-idem-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite3";
        remove_files();
        store_ = std::make_unique<storage::SqliteStore>(path_);
        keys_ = service("node-a#2");
        user_ = *store_->create_user({"alice", "h", 0, false, false});
    }
    void TearDown() override {
        keys_.reset();
        writes_.join();
        store_.reset();
        remove_files();
    }
    void remove_files() {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }
    std::unique_ptr<domain::IdempotencyService> service(std::string owner) {
        return std::make_unique<domain::IdempotencyService>(*store_, DbPools{writes_, writes_},
                                                            clock_, domain::IdempotencyPolicy{60s},
                                                            std::move(owner));
    }
    domain::ClaimResult claim(const std::string& key, const std::string& fingerprint) {
        return run_sync(keys_->claim(user_, key, fingerprint));
    }

    std::string path_;
    std::unique_ptr<storage::SqliteStore> store_;
    testing::ManualClock clock_;
    WorkPool writes_{"test-db-write", {.threads = 1}};
    std::unique_ptr<domain::IdempotencyService> keys_;
    UserId user_ = 0;
};

TEST_F(IdempotencyTest, FirstClaimRunsThenRepeatsReplayTheAnswer) {
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::claimed);
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::in_flight);
    run_sync(keys_->complete(user_, "k", StoredAnswer{200, "application/json", R"({"a":1})"}));
    auto again = claim("k", "fp");
    ASSERT_EQ(again.outcome, ClaimOutcome::replay);
    EXPECT_EQ(again.answer->status, 200);
    EXPECT_EQ(again.answer->content_type, "application/json");
    EXPECT_EQ(again.answer->body, R"({"a":1})");
}

TEST_F(IdempotencyTest, AnotherFingerprintIsAMismatchWhileRunningAndAfter) {
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::claimed);
    EXPECT_EQ(claim("k", "other").outcome, ClaimOutcome::mismatch);
    run_sync(keys_->complete(user_, "k", StoredAnswer{200, "application/json", "{}"}));
    EXPECT_EQ(claim("k", "other").outcome, ClaimOutcome::mismatch);
}

TEST_F(IdempotencyTest, KeysArePerUser) {
    auto bob = *store_->create_user({"bob", "h", 0, false, false});
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::claimed);
    EXPECT_EQ(run_sync(keys_->claim(bob, "k", "fp")).outcome, ClaimOutcome::claimed);
}

TEST_F(IdempotencyTest, ReleasedKeyCanBeClaimedAgain) {
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::claimed);
    run_sync(keys_->release(user_, "k"));
    EXPECT_EQ(claim("k", "changed body").outcome, ClaimOutcome::claimed);
}

TEST_F(IdempotencyTest, AnswersExpireAfterTheTtl) {
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::claimed);
    clock_.advance(30s);
    run_sync(keys_->complete(user_, "k", StoredAnswer{200, "application/json", "{}"}));
    clock_.advance(59s);  // the TTL counts from the answer
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::replay);
    clock_.advance(1s);
    EXPECT_EQ(claim("k", "other body").outcome, ClaimOutcome::claimed);
}

TEST_F(IdempotencyTest, ClaimOfAStoppedProcessIsNotTakenOverBeforeItExpires) {
    auto before_restart = service("node-a#1");  // this node, before a restart
    EXPECT_EQ(run_sync(before_restart->claim(user_, "k", "fp")).outcome, ClaimOutcome::claimed);
    // Whether that request charged is unknown: refuse rather than risk charging twice.
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::abandoned);
    auto unnamed = service("a-process-from-before-node-names");
    EXPECT_EQ(run_sync(unnamed->claim(user_, "k2", "fp")).outcome, ClaimOutcome::claimed);
    EXPECT_EQ(claim("k2", "fp").outcome, ClaimOutcome::abandoned);
    clock_.advance(60s);
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::claimed);
}

TEST_F(IdempotencyTest, AClaimOfAnotherNodeIsWaitedForThenReplayed) {
    auto other_node = service("node-b#7");
    EXPECT_EQ(run_sync(other_node->claim(user_, "k", "fp")).outcome, ClaimOutcome::claimed);
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::elsewhere);
    EXPECT_EQ(claim("k", "other").outcome, ClaimOutcome::mismatch);
    run_sync(other_node->complete(user_, "k", StoredAnswer{200, "application/json", "{}"}));
    auto again = claim("k", "fp");
    ASSERT_EQ(again.outcome, ClaimOutcome::replay);
    EXPECT_EQ(again.answer->body, "{}");
}

TEST_F(IdempotencyTest, OwnRunningClaimIsNeverTakenOver) {
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::claimed);
    clock_.advance(3600s);
    EXPECT_EQ(claim("k", "fp").outcome, ClaimOutcome::in_flight);
}

TEST_F(IdempotencyTest, ExpiredAnswersArePurged) {
    for (auto key : {"a", "b", "c"}) {
        EXPECT_EQ(claim(key, "fp").outcome, ClaimOutcome::claimed);
        run_sync(keys_->complete(user_, key, StoredAnswer{200, "application/json", "{}"}));
    }
    EXPECT_EQ(claim("running", "fp").outcome, ClaimOutcome::claimed);
    clock_.advance(61s);
    // Claiming any key purges expired answers, never a running claim.
    EXPECT_EQ(claim("d", "fp").outcome, ClaimOutcome::claimed);
    EXPECT_EQ(store_->purge_idempotency_keys(INT64_MAX, 100), 0);
    EXPECT_EQ(claim("running", "fp").outcome, ClaimOutcome::in_flight);
}

}  // namespace
}  // namespace chatgate

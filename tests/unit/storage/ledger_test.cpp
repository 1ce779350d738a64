#include "domain/accounts/account_service.hpp"
#include "domain/ledger/ledger_service.hpp"
#include "support/run_sync.hpp"
#include "support/test_stores.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

namespace chatgate {
namespace {

using domain::BalanceChange;
using domain::ChangeStatus;
using domain::LedgerKind;
using testing::run_sync;

using testing::Engine;

// Every case runs on SQLite and on PostgreSQL.
class StoreTest : public ::testing::TestWithParam<Engine> {
protected:
    void SetUp() override {
        CHATGATE_SKIP_WITHOUT_ENGINE(GetParam());
        database_.emplace(GetParam(), "ledger");
        store_ = database_->open();
    }
    void TearDown() override { store_.reset(); }
    UserId make_user(const std::string& name, TokenAmount grant = 4000) {
        auto id = store_->create_user({name, "hash", grant, false, false});
        EXPECT_TRUE(id);
        return *id;
    }
    void expect_consistent(UserId user) {
        auto account = store_->find_account(user);
        ASSERT_TRUE(account);
        EXPECT_GE(account->balance, 0);
        EXPECT_EQ(store_->ledger_sum(user), account->balance);
    }

    std::optional<testing::TestDatabase> database_;  // declared first: dropped after the store
    std::unique_ptr<storage::Database> store_;
};

TEST_P(StoreTest, SignUpGrantIsALedgerRow) {
    auto user = make_user("alice");
    EXPECT_EQ(store_->find_account(user)->balance, 4000);
    auto rows = store_->list_ledger(user, 0, 10);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].kind, LedgerKind::signup_grant);
    EXPECT_EQ(rows[0].delta, 4000);
    EXPECT_EQ(rows[0].balance_after, 4000);
    expect_consistent(user);
}

TEST_P(StoreTest, DuplicateUsernameIsAValueAndCaseSensitive) {
    make_user("alice");
    auto again = store_->create_user({"alice", "h", 4000, false, false});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::already_exists);
    EXPECT_TRUE(store_->create_user({"Alice", "h", 4000, false, false}));
}

TEST_P(StoreTest, ChargeNeverOverdraws) {
    auto user = make_user("bob", 250);
    BalanceChange charge{user, -100, LedgerKind::chat_charge, std::nullopt, INT64_MAX, true};
    EXPECT_EQ(store_->change_balance(charge).status, ChangeStatus::applied);
    EXPECT_EQ(store_->change_balance(charge).status, ChangeStatus::applied);
    auto refused = store_->change_balance(charge);
    EXPECT_EQ(refused.status, ChangeStatus::insufficient);
    EXPECT_EQ(store_->find_account(user)->balance, 50);
    EXPECT_EQ(store_->count_ledger(user), 3);  // grant + two charges, nothing for the refusal
    expect_consistent(user);
}

TEST_P(StoreTest, CapAndMissingUser) {
    auto user = make_user("carol", 100);
    BalanceChange top_up{user, 50, LedgerKind::top_up, std::nullopt, 120, true};
    EXPECT_EQ(store_->change_balance(top_up).status, ChangeStatus::over_cap);
    top_up.user = 999;
    EXPECT_EQ(store_->change_balance(top_up).status, ChangeStatus::no_user);
    expect_consistent(user);
}

TEST_P(StoreTest, ConcurrentChargesAreExact) {
    auto user = make_user("dave", 4000);
    constexpr int kThreads = 8;
    constexpr int kAttemptsEach = 10;  // 80 attempts for 40 affordable charges
    std::atomic<int> applied{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kAttemptsEach; ++i) {
                BalanceChange charge{user,         -100,      LedgerKind::chat_charge,
                                     std::nullopt, INT64_MAX, true};
                auto result = store_->change_balance(charge);
                (result.status == ChangeStatus::applied ? applied : refused)++;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(applied.load(), 40);
    EXPECT_EQ(refused.load(), 40);
    EXPECT_EQ(store_->find_account(user)->balance, 0);
    expect_consistent(user);
}

TEST_P(StoreTest, SharedRateLimitsCountOneQuotaForEveryConnection) {
    auto* rates = store_->shared_rates();
    if (GetParam() == Engine::sqlite) {
        EXPECT_EQ(rates, nullptr) << "one process: its own limiter is the whole count";
        return;
    }
    ASSERT_NE(rates, nullptr);
    auto other_node = database_->open();
    auto* other = other_node->shared_rates();
    const std::int64_t now = 1'000'000'000, interval = 10, tolerance = 30;  // 3 per 30 ns
    EXPECT_TRUE(rates->take_rate("k", now, interval, tolerance).allowed);
    EXPECT_TRUE(other->take_rate("k", now, interval, tolerance).allowed);
    auto third = rates->take_rate("k", now, interval, tolerance);
    EXPECT_TRUE(third.allowed);
    EXPECT_EQ(third.tat_ns, now + 30);
    auto refused = other->take_rate("k", now, interval, tolerance);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.tat_ns, now + 30) << "a refusal changes nothing";
    other->give_back_rate("k", interval);
    EXPECT_TRUE(rates->take_rate("k", now, interval, tolerance).allowed);
    EXPECT_TRUE(rates->take_rate("k", now + 10, interval, tolerance).allowed) << "time passes";
    EXPECT_TRUE(rates->take_rate("other", now, interval, tolerance).allowed);
    EXPECT_EQ(rates->purge_rates(now + 35, 100), 1) << "only keys whose TAT has passed";
    EXPECT_EQ(rates->purge_rates(now + 1000, 100), 1);
    // Keys are bytes: a NUL (from a client's username) is kept apart from its look-alikes.
    using namespace std::string_view_literals;
    for (auto key : {"n\0x"sv, "n\\0x"sv, "n\\\\0x"sv}) {
        EXPECT_TRUE(rates->take_rate(key, now, interval, interval).allowed);
        EXPECT_FALSE(rates->take_rate(key, now, interval, interval).allowed);
    }

    // Racing connections never take more than the quota.
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            auto node = database_->open();
            for (int i = 0; i < 20; ++i) {
                if (node->shared_rates()->take_rate("race", now, interval, 50 * interval).allowed) {
                    ++allowed;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(allowed.load(), 50);
}

class ServiceTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (IsSkipped()) return;
        ledger_ = std::make_unique<domain::LedgerService>(*store_, db(),
                                                          domain::TopUpPolicy{true, 1000, 5000});
    }
    domain::LedgerService& ledger() { return *ledger_; }

    DbPools db() { return {reads, writes}; }
    WorkPool reads{"test-db-read", {.threads = 2}};
    WorkPool writes{
        "test-db-write",
        {.threads = 1,
         .max_batch = 16,
         .hooks = {[this] { store_->begin_batch(); }, [this] { store_->commit_batch(); },
                   [this] { store_->rollback_batch(); },
                   [this](const std::exception_ptr& e) { return store_->batch_retryable(e); }, 4}}};
    std::unique_ptr<domain::LedgerService> ledger_;
};

TEST_P(ServiceTest, TopUpPolicy) {
    auto user = make_user("iris");
    EXPECT_EQ(run_sync(ledger().top_up(user, 0)).error().message, "Invalid token amount.");
    EXPECT_EQ(run_sync(ledger().top_up(user, 1001)).error().message, "Invalid token amount.");
    EXPECT_EQ(*run_sync(ledger().top_up(user, 1000)), 5000);
    auto over = run_sync(ledger().top_up(user, 1));
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().message, "Balance would exceed the maximum of 5000 tokens.");
    expect_consistent(user);

    domain::LedgerService disabled{*store_, db(), {false, 1000, 5000}};
    EXPECT_EQ(run_sync(disabled.top_up(user, 1)).error().code, ErrorCode::permission_denied);
}

TEST_P(ServiceTest, HistoryPagesNewestFirst) {
    auto user = make_user("jack");
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(run_sync(ledger().top_up(user, i + 1)));
    auto first = run_sync(ledger().history(user, 1, 2));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->count, 5);
    ASSERT_EQ(first->entries.size(), 2u);
    EXPECT_EQ(first->entries[0].delta, 4);
    auto last = run_sync(ledger().history(user, 3, 2));
    ASSERT_TRUE(last);
    EXPECT_EQ(last->entries[0].kind, LedgerKind::signup_grant);
    EXPECT_EQ(run_sync(ledger().history(user, 4, 2)).error().code, ErrorCode::not_found);
    EXPECT_EQ(run_sync(ledger().history(999, 1, 2)).error().code, ErrorCode::user_not_found);
}

// Two nodes on one database, each with its own writer: their batches take the same two users'
// rows in opposite orders, so their transactions deadlock now and then. The losing batch runs
// again (or, past its attempts, fails its callers with 503); every charge applies exactly once
// or not at all, and each balance is its ledger's sum.
class TwoNodesTest : public ::testing::TestWithParam<Engine> {
protected:
    void SetUp() override { CHATGATE_SKIP_WITHOUT_ENGINE(GetParam()); }

    static WorkPool::Options writer(storage::Database& store) {
        return {
            .threads = 1,
            .max_batch = 16,
            .hooks = {[&store] { store.begin_batch(); }, [&store] { store.commit_batch(); },
                      [&store] { store.rollback_batch(); },
                      [&store](const std::exception_ptr& e) { return store.batch_retryable(e); },
                      store.batch_attempts()}};
    }
};

TEST_P(TwoNodesTest, BatchesThatDeadlockRunAgainAndEveryChargeCountsOnce) {
    namespace net = boost::asio;
    testing::TestDatabase database(GetParam(), "nodes");
    auto first = database.open();
    auto second = database.open();
    constexpr TokenAmount kGrant = 1'000'000;
    UserId users[2] = {*first->create_user({"ann", "h", kGrant, false, false}),
                       *first->create_user({"ben", "h", kGrant, false, false})};
    std::atomic<int> applied[2] = {0, 0};
    std::atomic<int> failed{0};
    auto hammer = [&](storage::Database& store, int first_user) {
        WorkPool writes("test-node", writer(store));
        net::io_context io;
        for (int i = 0; i < 300; ++i) {
            int which = (first_user + i) % 2;
            net::co_spawn(
                io,
                [&, which]() -> net::awaitable<void> {
                    BalanceChange charge{users[which], -10,       LedgerKind::chat_charge,
                                         std::nullopt, INT64_MAX, true};
                    try {
                        auto result =
                            co_await writes.run([&] { return store.change_balance(charge); });
                        if (result.status == ChangeStatus::applied) ++applied[which];
                    } catch (const std::exception&) {
                        ++failed;
                    }
                },
                net::detached);
        }
        io.run();
    };
    std::thread one([&] { hammer(*first, 0); });
    std::thread two([&] { hammer(*second, 1); });
    one.join();
    two.join();
    EXPECT_EQ(applied[0] + applied[1] + failed, 600);
    // Retried with a random pause, a batch nearly never loses five times in a row.
    EXPECT_LT(failed.load(), 60);
    for (int u = 0; u < 2; ++u) {
        EXPECT_EQ(first->find_account(users[u])->balance, kGrant - 10 * applied[u]);
        EXPECT_EQ(second->ledger_sum(users[u]), kGrant - 10 * applied[u]);
    }
}

INSTANTIATE_TEST_SUITE_P(Engines, TwoNodesTest, ::testing::Values(Engine::postgresql),
                         testing::engine_name);

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values(Engine::sqlite, Engine::postgresql),
                         testing::engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, ServiceTest,
                         ::testing::Values(Engine::sqlite, Engine::postgresql),
                         testing::engine_name);

}  // namespace
}  // namespace chatgate

// The payments' storage: migration 0006's ledger rebuild, codes claimed exactly, paid credits
// idempotent on the event id, refunds that leave a debt and credits that pay it off first.

#include "assets/assets.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/statements.hpp"
#include "support/test_stores.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace chatgate {
namespace {

using domain::EventOutcome;
using domain::RedeemStatus;

// On SQLite and on PostgreSQL.
class PaymentStoreTest : public ::testing::TestWithParam<testing::Engine> {
protected:
    void SetUp() override {
        CHATGATE_SKIP_WITHOUT_ENGINE(GetParam());
        database_.emplace(GetParam(), "pay");
    }
    void TearDown() override { store_.reset(); }
    storage::Database& store() {
        if (!store_) store_ = database_->open();
        return *store_;
    }
    UserId make_user(const std::string& name, TokenAmount grant = 4000) {
        auto id = store().create_user({name, "hash", grant, false, false});
        EXPECT_TRUE(id);
        return *id;
    }
    TokenAmount balance(UserId user) { return store().find_account(user)->balance; }
    void expect_consistent(UserId user) {
        EXPECT_GE(balance(user), 0);
        EXPECT_EQ(store().ledger_sum(user), balance(user));
    }
    static domain::AuditEntry audit(std::string action) {
        return {{std::nullopt, "os:root", ""}, std::move(action), std::nullopt, "{}", "{}", {}};
    }
    /// A paid checkout of `tokens` for `user` (amount 1000 minor units).
    domain::EventResult pay(UserId user, const std::string& id, TokenAmount tokens) {
        store().save_checkout({"cs_" + id, user, "price_x", tokens});
        return store().credit_checkout({"evt_pay_" + id, "cs_" + id, user, "pi_" + id, 1000});
    }

    std::optional<testing::TestDatabase> database_;  // declared first: dropped after the store
    std::unique_ptr<storage::Database> store_;
};

// SQLite's rebuild of the ledger.
class SqlitePaymentStoreTest : public PaymentStoreTest {};

TEST_P(SqlitePaymentStoreTest, AVersion5DatabaseUpgradesKeepingEveryLedgerRow) {
    {
        storage::Connection db(database_->location(), storage::Connection::Mode::read_write);
        db.exec(storage::sql::kCreateVersionTable);
        db.exec("PRAGMA foreign_keys = OFF");
        for (auto name :
             {"migrations/sqlite/0001_init.sql", "migrations/sqlite/0002_sessions.sql",
              "migrations/sqlite/0003_conversations.sql", "migrations/sqlite/0004_operators.sql",
              "migrations/sqlite/0005_responses.sql"}) {
            db.exec(std::string(assets::find(name)).c_str());
        }
        db.exec(
            "INSERT INTO schema_version (version) VALUES (1), (2), (3), (4), (5);"
            "INSERT INTO users (username, password_hash, tokens, date_joined)"
            " VALUES ('old', 'h', 4050, 't');"
            "INSERT INTO ledger (user_id, delta, balance_after, kind, created_at)"
            " VALUES (1, 4100, 4100, 'signup_grant', 't'), (1, -100, 4000, 'chat_charge', 't'),"
            " (1, 50, 4050, 'admin_grant', 't');");
    }
    EXPECT_GE(store().schema_version(), 6);
    auto rows = store().list_ledger(1, 0, 10);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].kind, domain::LedgerKind::admin_grant);
    EXPECT_EQ(rows[2].kind, domain::LedgerKind::signup_grant);
    expect_consistent(1);
    domain::BalanceChange code{1, 5, domain::LedgerKind::code_redeem, "code 1", INT64_MAX, true};
    EXPECT_EQ(store().change_balance(code).status, domain::ChangeStatus::applied);
    storage::Connection db(database_->location(), storage::Connection::Mode::read_write);
    EXPECT_THROW(db.exec("DELETE FROM ledger"), storage::StorageError);
    EXPECT_THROW(db.exec("UPDATE ledger SET delta = 1"), storage::StorageError);
    EXPECT_THROW(db.exec("INSERT INTO ledger (user_id, delta, balance_after, kind, created_at)"
                         " VALUES (1, 1, 1, 'free_money', 't')"),
                 storage::StorageError);
}

TEST_P(PaymentStoreTest, ConcurrentClaimsOfAThreeUseCodeCreditThreeUsersOnce) {
    std::vector<UserId> users;
    for (int i = 0; i < 8; ++i) users.push_back(make_user("u" + std::to_string(i)));
    store().create_code_batch({100, 3, std::nullopt, {"digest-a"}, "os:root"},
                              audit("codes.create"));
    std::atomic<int> credited = 0;
    std::vector<std::thread> threads;
    for (UserId user : users) {
        threads.emplace_back([&, user] {
            for (int attempt = 0; attempt < 3; ++attempt) {
                auto r = store().redeem_code({user, "digest-a", 0, INT64_MAX});
                if (r.status == RedeemStatus::credited) ++credited;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(credited.load(), 3);
    int richer = 0;
    for (UserId user : users) {
        richer += balance(user) == 4100;
        expect_consistent(user);
    }
    EXPECT_EQ(richer, 3);
    auto batches = store().list_code_batches(0, 10);
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].uses, 3);
    EXPECT_EQ(store().count_audit({}), 1);
}

TEST_P(PaymentStoreTest, ExpiredAndRevokedCodesClaimNothing) {
    auto user = make_user("e");
    store().create_code_batch({100, 5, 1000, {"d-exp"}, "os:root"}, audit("codes.create"));
    auto batch = store().create_code_batch({100, 5, std::nullopt, {"d-rev", "d-other"}, "os:r"},
                                           audit("codes.create"));
    EXPECT_EQ(store().redeem_code({user, "d-exp", 1000, INT64_MAX}).status, RedeemStatus::refused);
    EXPECT_EQ(store().redeem_code({user, "d-exp", 999, INT64_MAX}).status, RedeemStatus::credited);
    EXPECT_EQ(store().revoke_codes(batch, std::string("d-rev"), 5, audit("codes.revoke")), 1);
    EXPECT_EQ(store().redeem_code({user, "d-rev", 0, INT64_MAX}).status, RedeemStatus::refused);
    EXPECT_EQ(store().redeem_code({user, "d-other", 0, INT64_MAX}).status, RedeemStatus::credited);
    EXPECT_FALSE(store().revoke_codes(batch + 100, std::nullopt, 5, audit("codes.revoke")));
    EXPECT_EQ(balance(user), 4200);
    expect_consistent(user);
}

TEST_P(PaymentStoreTest, APaidCheckoutCreditsOnceWhateverTheEvent) {
    auto user = make_user("p");
    auto first = pay(user, "1", 5000);
    EXPECT_EQ(first.outcome, EventOutcome::applied);
    EXPECT_EQ(first.credited, 5000);
    // The same event again, and another event for the same session: nothing more.
    EXPECT_EQ(store().credit_checkout({"evt_pay_1", "cs_1", user, "pi_1", 1000}).outcome,
              EventOutcome::duplicate);
    EXPECT_EQ(store().credit_checkout({"evt_other", "cs_1", user, "pi_1", 1000}).outcome,
              EventOutcome::ignored);
    // A session chatgate did not make, or claimed for another user, credits nothing.
    EXPECT_EQ(store().credit_checkout({"evt_x", "cs_unknown", user, "pi_x", 1000}).outcome,
              EventOutcome::ignored);
    auto other = make_user("q");
    store().save_checkout({"cs_2", user, "price_x", 100});
    EXPECT_EQ(store().credit_checkout({"evt_y", "cs_2", other, "pi_2", 1000}).outcome,
              EventOutcome::ignored);
    EXPECT_EQ(balance(user), 9000);
    EXPECT_EQ(balance(other), 4000);
    expect_consistent(user);
    expect_consistent(other);
}

TEST_P(PaymentStoreTest, ARefundAfterSpendingLeavesADebtThatTheNextCreditPaysFirst) {
    auto user = make_user("r", 0);
    ASSERT_EQ(pay(user, "1", 1000).outcome, EventOutcome::applied);
    domain::BalanceChange spend{user, -800, domain::LedgerKind::chat_charge, {}, INT64_MAX, true};
    ASSERT_EQ(store().change_balance(spend).status, domain::ChangeStatus::applied);
    // Half refunded: 500 owed, 200 there.
    auto half = store().refund_charge({"evt_r1", "pi_1", 500});
    EXPECT_EQ(half.outcome, EventOutcome::applied);
    EXPECT_EQ(half.credited, 200);
    EXPECT_EQ(half.debt, 300);
    EXPECT_EQ(balance(user), 0);
    EXPECT_EQ(store().refund_charge({"evt_r1", "pi_1", 500}).outcome, EventOutcome::duplicate);
    // The cumulative amount: the full refund takes only the other half.
    auto full = store().refund_charge({"evt_r2", "pi_1", 1000});
    EXPECT_EQ(full.credited, 0);
    EXPECT_EQ(full.debt, 800);
    EXPECT_EQ(store().debt(user), 800);
    // A code pays the debt first: 500 of it, nothing left over.
    store().create_code_batch({500, 1, std::nullopt, {"d"}, "os:r"}, audit("codes.create"));
    auto redeemed = store().redeem_code({user, "d", 0, INT64_MAX});
    EXPECT_EQ(redeemed.status, RedeemStatus::credited);
    EXPECT_EQ(redeemed.balance, 0);
    EXPECT_EQ(store().debt(user), 300);
    // A payment pays the rest and keeps the remainder.
    auto paid = pay(user, "2", 1000);
    EXPECT_EQ(paid.debt, 0);
    EXPECT_EQ(balance(user), 700);
    auto rows = store().list_ledger(user, 0, 2);
    EXPECT_EQ(rows[0].kind, domain::LedgerKind::debt_repayment);
    EXPECT_EQ(rows[0].delta, -300);
    EXPECT_EQ(rows[1].kind, domain::LedgerKind::payment_credit);
    EXPECT_EQ(rows[1].delta, 1000);
    EXPECT_EQ(store().refund_charge({"evt_r3", "pi_unknown", 10}).outcome,
              EventOutcome::unknown_payment);
    expect_consistent(user);
}

INSTANTIATE_TEST_SUITE_P(Engines, PaymentStoreTest,
                         ::testing::Values(testing::Engine::sqlite, testing::Engine::postgresql),
                         testing::engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, SqlitePaymentStoreTest,
                         ::testing::Values(testing::Engine::sqlite), testing::engine_name);

}  // namespace
}  // namespace chatgate

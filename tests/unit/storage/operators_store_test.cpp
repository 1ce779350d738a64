// The operators' storage: key limits reserved and settled exactly, admin balance changes with
// their audit rows, the usage reports' plans, and the upgrade of a version-3 database.

#include "assets/assets.hpp"
#include "domain/admin/admin_service.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/statements.hpp"
#include "support/test_stores.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

namespace chatgate {
namespace {

using domain::ChangeStatus;
using testing::Engine;

// The store's operator half, on SQLite and on PostgreSQL.
class OperatorsStoreTest : public ::testing::TestWithParam<Engine> {
protected:
    void SetUp() override {
        CHATGATE_SKIP_WITHOUT_ENGINE(GetParam());
        database_.emplace(GetParam(), "ops");
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
    domain::ApiKeyId make_key(UserId user, std::optional<TokenAmount> limit) {
        auto id = store().create_api_key(
            {user, "pub" + std::to_string(user), "digest", "k", std::nullopt, limit, std::nullopt},
            10);
        EXPECT_TRUE(id);
        return *id;
    }
    void expect_consistent(UserId user) {
        EXPECT_EQ(store().ledger_sum(user), store().find_account(user)->balance);
    }

    std::optional<testing::TestDatabase> database_;  // declared first: dropped after the store
    std::unique_ptr<storage::Database> store_;
};

// What only SQLite has: its query plans and its table rebuilds.
class SqliteOperatorsTest : public ::testing::Test {
protected:
    storage::SqliteStore& store() {
        if (!store_) store_ = std::make_unique<storage::SqliteStore>(database_.location());
        return *store_;
    }
    void expect_consistent(UserId user) {
        EXPECT_EQ(store().ledger_sum(user), store().find_account(user)->balance);
    }

    testing::TestDatabase database_{Engine::sqlite, "ops_sqlite"};
    std::string path_ = database_.location();
    std::unique_ptr<storage::SqliteStore> store_;
};

TEST_P(OperatorsStoreTest, AKeyLimitCountsReservationsAndGetsTheUnusedPartBack) {
    auto user = make_user("alice");
    auto key = make_key(user, 250);
    auto first = store().reserve({user, 200, key, "m"});
    ASSERT_EQ(first.status, ChangeStatus::applied);
    // 200 of 250 is held: a second reservation of 100 would pass the limit.
    EXPECT_EQ(store().reserve({user, 100, key, "m"}).status, ChangeStatus::key_limit);
    EXPECT_EQ(store().find_account(user)->balance, 3800);  // the refused one took nothing
    ASSERT_TRUE(store().settle({first.id, 120, std::nullopt, 10, 20}).applied);
    EXPECT_EQ(store().find_api_key_info(user, key)->spent, 120);
    EXPECT_EQ(store().reserve({user, 100, key, "m"}).status, ChangeStatus::applied);
    EXPECT_EQ(store().find_api_key_info(user, key)->spent, 220);
    expect_consistent(user);
}

TEST_P(OperatorsStoreTest, ConcurrentReservationsNeverPassTheKeyLimit) {
    auto user = make_user("bob", 100000);
    auto key = make_key(user, 1000);
    std::atomic<int> applied = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                if (store().reserve({user, 100, key, "m"}).status == ChangeStatus::applied) {
                    ++applied;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(applied.load(), 10);
    EXPECT_EQ(store().find_api_key_info(user, key)->spent, 1000);
    EXPECT_EQ(store().find_account(user)->balance, 100000 - 1000);
    expect_consistent(user);
}

TEST_P(OperatorsStoreTest, ARevokedKeyReservesNothing) {
    auto user = make_user("carol");
    auto key = make_key(user, std::nullopt);
    ASSERT_TRUE(store().revoke_api_key(user, key));
    EXPECT_FALSE(store().revoke_api_key(user, key));
    EXPECT_EQ(store().reserve({user, 100, key, "m"}).status, ChangeStatus::key_limit);
    EXPECT_TRUE(store().find_api_key(std::string("pub") + std::to_string(user))->revoked);
}

TEST_P(OperatorsStoreTest, AdminChangesWriteLedgerAndAuditTogether) {
    auto user = make_user("dave", 100);
    domain::AuditEntry audit{{std::nullopt, "os:root", ""}, "tokens.deduct", user, "", "", "why"};
    domain::BalanceChange deduct{
        user, -150, domain::LedgerKind::admin_deduct, "by os:root: why", INT64_MAX, false};
    EXPECT_EQ(store().admin_change_balance(deduct, audit).status, ChangeStatus::insufficient);
    EXPECT_EQ(store().count_audit({}), 0);  // refused: no audit row either
    deduct.delta = -60;
    EXPECT_EQ(store().admin_change_balance(deduct, audit).status, ChangeStatus::applied);
    auto rows = store().list_audit({});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].before, R"({"tokens":100})");
    EXPECT_EQ(rows[0].after.substr(0, 13), R"({"tokens":40,)");
    EXPECT_EQ(rows[0].reason, "why");
    EXPECT_EQ(store().list_ledger(user, 0, 1)[0].kind, domain::LedgerKind::admin_deduct);
    expect_consistent(user);
}

TEST_F(SqliteOperatorsTest, UsageReportsReadCoveringIndexes) {
    store();
    storage::Connection db(path_, storage::Connection::Mode::read_only);
    auto plan_of = [&](std::string sql) {
        std::string plan;
        auto stmt = db.prepare(sql.c_str());
        while (stmt.step()) plan += stmt.text(3) + "\n";
        return plan;
    };
    // (Prepared from copies: the statement cache is keyed by address.)
    auto by_day = std::string("EXPLAIN QUERY PLAN ") + storage::sql::kUsageByDay;
    auto spend = std::string("EXPLAIN QUERY PLAN ") + storage::sql::kSpendPerModel;
    auto top = std::string("EXPLAIN QUERY PLAN ") + storage::sql::kTopSpenders;
    std::string plans[] = {plan_of(by_day), plan_of(spend), plan_of(top)};
    EXPECT_NE(plans[0].find("COVERING INDEX chat_reservations_usage"), std::string::npos)
        << plans[0];
    EXPECT_NE(plans[1].find("COVERING INDEX chat_reservations_user_usage"), std::string::npos)
        << plans[1];
    EXPECT_NE(plans[2].find("COVERING INDEX chat_reservations_usage"), std::string::npos)
        << plans[2];
}

TEST_F(SqliteOperatorsTest, AVersion3DatabaseUpgradesKeepingEveryRowAndTheSessionCounter) {
    {
        storage::Connection db(path_, storage::Connection::Mode::read_write);
        db.exec(storage::sql::kCreateVersionTable);
        for (auto name : {"migrations/sqlite/0001_init.sql", "migrations/sqlite/0002_sessions.sql",
                          "migrations/sqlite/0003_conversations.sql"}) {
            db.exec(std::string(assets::find(name)).c_str());
        }
        db.exec(
            "INSERT INTO schema_version (version) VALUES (1), (2), (3);"
            "INSERT INTO users (username, password_hash, tokens, date_joined)"
            " VALUES ('old', 'h', 4000, 't');"
            "INSERT INTO ledger (user_id, delta, balance_after, kind, created_at)"
            " VALUES (1, 4100, 4100, 'signup_grant', 't'), (1, -100, 4000, 'chat_charge', 't');"
            "INSERT INTO chat_messages (user_id, message, response, cost, charge_entry_id,"
            " created_at) VALUES (1, 'm', 'r', 100, 2, 't');"
            "INSERT INTO sessions (user_id, created_at, last_used_at) VALUES (1, 1, 1), (1, 2, 2);"
            "DELETE FROM sessions WHERE id = 2;");
    }
    EXPECT_GE(store().schema_version(), 4);  // and any later migration after it
    EXPECT_EQ(store().list_ledger(1, 0, 10).size(), 2u);
    expect_consistent(1);
    // The purged family's id is never handed out again.
    auto started = store().start_session(1, 10, 0);
    EXPECT_EQ(started.grant.id, 3);
    // The rebuilt ledger is still append-only and takes the new kinds.
    domain::BalanceChange grant{1,         5,    domain::LedgerKind::admin_grant, "by os:x: y",
                                INT64_MAX, false};
    EXPECT_EQ(store().change_balance(grant).status, ChangeStatus::applied);
    store().append_audit({{std::nullopt, "os:x", ""}, "key.create", 1, "{}", "{}", std::nullopt});
    storage::Connection db(path_, storage::Connection::Mode::read_write);
    EXPECT_THROW(db.exec("DELETE FROM ledger"), storage::StorageError);
    EXPECT_THROW(db.exec("UPDATE ledger SET delta = 1"), storage::StorageError);
    EXPECT_THROW(db.exec("DELETE FROM audit_log"), storage::StorageError);
}

TEST_P(OperatorsStoreTest, ADeadNodesReservationsAreRefundedOnceWhoeverNotices) {
    using Ids = std::vector<domain::ReservationId>;
    auto user = make_user("nora", 1000);
    store().renew_lease("node-a", 10'000);
    store().renew_lease("node-b", 10'000);
    auto by_a = store().reserve({user, 300, 0, "m", "node-a"});
    auto by_b = store().reserve({user, 200, 0, "m", "node-b"});
    ASSERT_EQ(by_a.status, ChangeStatus::applied);
    ASSERT_EQ(by_b.status, ChangeStatus::applied);
    EXPECT_EQ(store().orphaned_reservations("node-b", 5'000, 10), Ids{});  // both leases live
    store().renew_lease("node-b", 30'000);                                 // node-a stops renewing
    EXPECT_EQ(store().orphaned_reservations("node-b", 20'000, 10), Ids{by_a.id});
    EXPECT_EQ(store().orphaned_reservations("node-a", 20'000, 10), Ids{});  // never its own
    EXPECT_EQ(store().open_reservations("node-b"), Ids{by_b.id});

    // Two other nodes notice at once, each through its own connection: one refund.
    auto other = database_->open();
    std::atomic<int> refunds = 0;
    std::thread first([&] { refunds += store().settle({by_a.id, 0, std::nullopt}).applied; });
    std::thread second([&] { refunds += other->settle({by_a.id, 0, std::nullopt}).applied; });
    first.join();
    second.join();
    EXPECT_EQ(refunds.load(), 1);
    EXPECT_EQ(store().orphaned_reservations("node-b", 20'000, 10), Ids{});
    EXPECT_EQ(store().find_account(user)->balance, 1000 - 200);
    expect_consistent(user);
}

TEST_P(OperatorsStoreTest, AStartingNodeFreesOnlyClaimsOfDeadProcessesNeverOfALiveNode) {
    auto user = make_user("olga");
    // The claims are made after the sign-up grant: the user's ledger is untouched since.
    auto now = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }();
    store().renew_lease("node-live", now + 60'000);
    store().renew_lease("node-dead", now - 60'000);
    for (auto [key, owner] : {std::pair{"k-live", "node-live#1"},
                              {"k-dead", "node-dead#1"},
                              {"k-mine", "node-me#old"},
                              {"k-legacy", "0a1b2c3d"}}) {
        domain::IdempotencyClaim claim{user, key, "f", owner, now + 1000, now + 3'600'000};
        ASSERT_FALSE(store().claim_idempotency_key(claim));  // claimed anew
    }
    EXPECT_EQ(store().release_abandoned_idempotency_keys("node-me#new", "node-me", now), 3);
    auto holder = [&](const char* key) {
        domain::IdempotencyClaim again{user, key, "f", "node-me#new", now + 2000, now + 3'600'000};
        auto record = store().claim_idempotency_key(again);
        return record ? record->owner : std::string("(free)");
    };
    EXPECT_EQ(holder("k-live"), "node-live#1");  // a live node's request in flight stays
    EXPECT_EQ(holder("k-dead"), "(free)");
    EXPECT_EQ(holder("k-mine"), "(free)");
    EXPECT_EQ(holder("k-legacy"), "(free)");
}

INSTANTIATE_TEST_SUITE_P(Engines, OperatorsStoreTest,
                         ::testing::Values(Engine::sqlite, Engine::postgresql),
                         testing::engine_name);

// PostgreSQL's own schema rules: the append-only triggers, and nodes starting at once.
class PostgresSchemaTest : public ::testing::TestWithParam<Engine> {
protected:
    void SetUp() override { CHATGATE_SKIP_WITHOUT_ENGINE(GetParam()); }
};

TEST_P(PostgresSchemaTest, NodesStartingAtOnceApplyEachMigrationOnce) {
    testing::TestDatabase database(GetParam(), "schema");
    std::vector<std::unique_ptr<storage::Database>> stores(4);
    std::vector<std::thread> threads;
    for (auto& store : stores) {
        threads.emplace_back([&] { store = database.open(); });
    }
    for (auto& thread : threads) thread.join();
    for (auto& store : stores) EXPECT_EQ(store->schema_version(), 8);
    storage::pg::Connection db(database.location(), std::nullopt);
    EXPECT_EQ(db.run("SELECT count(*) FROM schema_migrations").int64(0, 0), 8);
}

TEST_P(PostgresSchemaTest, TheLedgerAuditLogAndSettledReservationsAreAppendOnly) {
    testing::TestDatabase database(GetParam(), "append");
    auto store = database.open();
    auto user = *store->create_user({"erin", "h", 500, false, false});
    auto reservation = store->reserve({user, 100, 0, "m"});
    ASSERT_EQ(reservation.status, ChangeStatus::applied);
    ASSERT_TRUE(store->settle({reservation.id, 40, std::nullopt, 1, 2}).applied);
    store->append_audit({{std::nullopt, "os:x", ""}, "key.create", user, "{}", "{}", std::nullopt});
    storage::pg::Connection db(database.location(), std::nullopt);
    for (const char* sql : {"UPDATE ledger SET delta = 1", "DELETE FROM ledger",
                            "TRUNCATE ledger CASCADE", "UPDATE audit_log SET actor = 'x'",
                            "DELETE FROM audit_log", "UPDATE chat_reservations SET cost = 0",
                            "DELETE FROM chat_reservations", "UPDATE users SET tokens = -1",
                            "INSERT INTO ledger (user_id, delta, balance_after,"
                            " kind, created_at) VALUES (1, 5, 5, 'gift', 't')"}) {
        EXPECT_THROW(db.exec(sql), storage::pg::DatabaseError) << sql;
    }
    EXPECT_EQ(store->ledger_sum(user), store->find_account(user)->balance);
    EXPECT_EQ(store->find_account(user)->balance, 460);
}

INSTANTIATE_TEST_SUITE_P(Engines, PostgresSchemaTest, ::testing::Values(Engine::postgresql),
                         testing::engine_name);

TEST(AuditFacts, AreJsonWithEscapedText) {
    auto text = domain::Facts().add("n", 5).add_bool("b", false).add("s", "a\"b\\c\n").json();
    EXPECT_EQ(text, R"({"n":5,"b":false,"s":"a\"b\\c\u000a"})");
}

}  // namespace
}  // namespace chatgate

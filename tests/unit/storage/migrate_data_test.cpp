// migrate_data's refusals and checks, on a SQLite source and a fresh PostgreSQL target: the
// copy keeps ids and balances and moves the identities past them; a non-empty target and a
// source with an open reservation are refused with nothing written. (The whole move through
// the binary is tests/integration/test_migrate_data.py.)

#include "storage/migrate_data.hpp"

#include "storage/sqlite/connection.hpp"
#include "support/test_stores.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace chatgate {
namespace {

using testing::Engine;
using testing::TestDatabase;

class MigrateDataTest : public ::testing::TestWithParam<Engine> {
protected:
    void SetUp() override {
        CHATGATE_SKIP_WITHOUT_ENGINE(GetParam());
        source_.emplace(Engine::sqlite, "mdsrc");
        target_.emplace(Engine::postgresql, "mddst");
    }
    UserId make_user(storage::Database& store, const std::string& name) {
        auto id = store.create_user({name, "hash-of-" + name, 4000, false, false});
        EXPECT_TRUE(id);
        return *id;
    }
    storage::MigrationReport migrate() {
        return storage::migrate_data(source_->location(), {target_->location(), std::nullopt});
    }
    std::int64_t rows_of(const storage::MigrationReport& report, const std::string& table) {
        for (const auto& t : report.tables) {
            if (t.name == table) return t.rows;
        }
        return -1;
    }

    std::optional<TestDatabase> source_;
    std::optional<TestDatabase> target_;
};

TEST_P(MigrateDataTest, CopiesBalancesAndIdsAndMovesTheIdentitiesPastThem) {
    UserId ann = 0, ben = 0;
    {
        auto store = source_->open();
        ann = make_user(*store, "ann");
        ben = make_user(*store, "ben");
        auto held = store->reserve({ann, 300, 0, "m", "n"});
        ASSERT_EQ(held.status, domain::ChangeStatus::applied);
        store->settle({held.id, 120, std::nullopt, 0, 0});
    }
    auto report = migrate();
    EXPECT_EQ(rows_of(report, "users"), 2);
    EXPECT_EQ(rows_of(report, "ledger"), 4);  // two grants, the charge and its refund
    EXPECT_EQ(rows_of(report, "chat_reservations"), 1);
    auto target = target_->open();
    EXPECT_EQ(target->find_account(ann)->balance, 4000 - 120);
    EXPECT_EQ(target->ledger_sum(ann), 4000 - 120);
    EXPECT_EQ(target->find_account(ben)->balance, 4000);
    EXPECT_EQ(target->find_credentials("ann")->password_hash, "hash-of-ann");
    auto carl = make_user(*target, "carl");
    EXPECT_GT(carl, ben);
    EXPECT_EQ(target->ledger_sum(carl), 4000);
}

TEST_P(MigrateDataTest, RefusesATargetThatHoldsUsers) {
    make_user(*source_->open(), "ann");
    make_user(*target_->open(), "already-here");
    EXPECT_THROW(migrate(), storage::MigrationRefused);
    auto target = target_->open();
    EXPECT_FALSE(target->find_credentials("ann"));
    EXPECT_TRUE(target->find_credentials("already-here"));
}

TEST_P(MigrateDataTest, RefusesASourceWithAnOpenReservationAndWritesNothing) {
    {
        auto store = source_->open();
        auto ann = make_user(*store, "ann");
        ASSERT_EQ(store->reserve({ann, 300, 0, "m", "n"}).status, domain::ChangeStatus::applied);
    }
    try {
        migrate();
        ADD_FAILURE() << "an open reservation was copied";
    } catch (const storage::MigrationRefused& refused) {
        EXPECT_NE(std::string(refused.what()).find("open chat reservation"), std::string::npos)
            << refused.what();
    }
    EXPECT_FALSE(target_->open()->find_credentials("ann"));
}

TEST_P(MigrateDataTest, RollsBackACopyWhoseBalancesDoNotMatchTheirLedger) {
    make_user(*source_->open(), "ann");
    {
        // A balance edited by hand, past the ledger: the copy must not be kept.
        storage::Connection raw(source_->location(), storage::Connection::Mode::read_write);
        raw.exec("UPDATE users SET tokens = tokens + 1");
    }
    try {
        migrate();
        ADD_FAILURE() << "a copy with a broken ledger was kept";
    } catch (const storage::MigrationRefused& refused) {
        EXPECT_NE(std::string(refused.what()).find("differs from the sum"), std::string::npos)
            << refused.what();
    }
    EXPECT_FALSE(target_->open()->find_credentials("ann"));
}

INSTANTIATE_TEST_SUITE_P(Engines, MigrateDataTest, ::testing::Values(Engine::postgresql),
                         testing::engine_name);

}  // namespace
}  // namespace chatgate

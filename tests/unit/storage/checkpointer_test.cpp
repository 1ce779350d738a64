#include "storage/sqlite/checkpointer.hpp"

#include "storage/sqlite/connection.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

namespace chatgate {
namespace {

/// The writer's WAL is copied back by the checkpointer's thread, and the WAL then starts over.
class CheckpointerTest : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = ::testing::TempDir() + "chatgate-checkpointer.sqlite3";
        remove_files();
        writer_ =
            std::make_unique<storage::Connection>(path_, storage::Connection::Mode::read_write);
        writer_->exec("CREATE TABLE t (v TEXT)");
    }
    void TearDown() override {
        writer_.reset();
        remove_files();
    }
    void remove_files() {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }
    void insert_row() {
        writer_->prepare("INSERT INTO t (v) VALUES (?)").bind(1, std::string(2000, 'x')).run();
    }

    std::string path_;
    std::unique_ptr<storage::Connection> writer_;
};

TEST_F(CheckpointerTest, BelowTheThresholdNothingRuns) {
    storage::Checkpointer checkpointer(path_, 1000);
    writer_->on_wal_commit([&](std::int64_t pages) { checkpointer.committed(pages); });
    for (int i = 0; i < 5; ++i) insert_row();
    checkpointer.wait_idle();
    EXPECT_EQ(checkpointer.runs(), 0);
}

TEST_F(CheckpointerTest, CopiesTheWalBackSoTheWriterStartsItOver) {
    storage::Checkpointer checkpointer(path_, 8);
    std::vector<std::int64_t> sizes;
    writer_->on_wal_commit([&](std::int64_t pages) {
        sizes.push_back(pages);
        checkpointer.committed(pages);
    });
    for (int i = 0; i < 10; ++i) insert_row();
    checkpointer.wait_idle();
    ASSERT_GE(checkpointer.runs(), 1);
    std::int64_t before = sizes.back();
    insert_row();  // the first write after a complete checkpoint rewinds the WAL
    EXPECT_GE(before, 8);
    EXPECT_LT(sizes.back(), before);
    auto count = writer_->prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(count.step());
    EXPECT_EQ(count.int64(0), 11);
}

}  // namespace
}  // namespace chatgate

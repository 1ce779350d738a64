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
    writer_->on_wal_commit([&](std::int64_t pages) { return checkpointer.committed(pages); });
    for (int i = 0; i < 5; ++i) insert_row();
    checkpointer.wait_idle();
    EXPECT_EQ(checkpointer.runs(), 0);
}

TEST_F(CheckpointerTest, CopiesTheWalBackSoTheWriterStartsItOver) {
    storage::Checkpointer checkpointer(path_, 8);
    std::vector<std::int64_t> sizes;
    writer_->on_wal_commit([&](std::int64_t pages) {
        sizes.push_back(pages);
        return checkpointer.committed(pages);
    });
    // Each write waits for the checkpoint it asked for, so the next one finds the WAL copied
    // back and starts it over: its length drops instead of growing for ever.
    int rows = 0;
    bool started_over = false;
    while (!started_over && rows < 100) {
        insert_row();
        ++rows;
        checkpointer.wait_idle();
        started_over = sizes.size() >= 2 && sizes.back() < sizes[sizes.size() - 2];
    }
    EXPECT_TRUE(started_over);
    EXPECT_GE(checkpointer.runs(), 1);
    auto count = writer_->prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(count.step());
    EXPECT_EQ(count.int64(0), rows);
}

TEST_F(CheckpointerTest, IsNotAskedAgainUntilTheWalGrowsByAnotherThreshold) {
    storage::Checkpointer checkpointer(path_, 1000);
    checkpointer.committed(1000);
    checkpointer.wait_idle();
    checkpointer.committed(1500);  // a checkpoint ran at 1000; the next one is due at 2000
    checkpointer.wait_idle();
    EXPECT_EQ(checkpointer.runs(), 1);
    checkpointer.committed(2000);
    checkpointer.wait_idle();
    EXPECT_EQ(checkpointer.runs(), 2);
    checkpointer.committed(3);  // the WAL started over: the threshold counts from 0 again
    checkpointer.committed(1000);
    checkpointer.wait_idle();
    EXPECT_EQ(checkpointer.runs(), 3);
    // Past kInlineFactor thresholds the writer is told to checkpoint itself.
    EXPECT_FALSE(checkpointer.committed(1001));
    EXPECT_TRUE(checkpointer.committed(storage::Checkpointer::kInlineFactor * 1000));
    EXPECT_FALSE(checkpointer.committed(storage::Checkpointer::kInlineFactor * 1000 + 10));
}

}  // namespace
}  // namespace chatgate

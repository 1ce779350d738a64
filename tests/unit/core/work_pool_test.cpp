#include "core/work_pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <stdexcept>
#include <string>

namespace chatgate {
namespace {

namespace net = boost::asio;

/// Records the order of hook calls and job bodies.
struct Journal {
    std::mutex mutex;
    std::vector<std::string> events;
    void add(std::string event) {
        std::lock_guard lock(mutex);
        events.push_back(std::move(event));
    }
};

TEST(WorkPool, RunsWorkOffTheCallerAndReturnsItsResult) {
    WorkPool pool("test", {.threads = 2});
    net::io_context io;
    auto caller = std::this_thread::get_id();
    std::thread::id worker;
    int result = 0;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            result = co_await pool.run([&] {
                worker = std::this_thread::get_id();
                return 42;
            });
        },
        net::detached);
    io.run();
    EXPECT_EQ(result, 42);
    EXPECT_NE(worker, caller);
}

TEST(WorkPool, ExceptionsReachTheCaller) {
    WorkPool pool("test", {});
    net::io_context io;
    bool caught = false;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            try {
                co_await pool.run([]() -> int { throw std::runtime_error("boom"); });
            } catch (const std::runtime_error&) {
                caught = true;
            }
        },
        net::detached);
    io.run();
    EXPECT_TRUE(caught);
}

class BatchTest : public ::testing::Test {
protected:
    /// Starts `count` jobs at once; each records "job" and returns its index.
    std::vector<std::string> run_jobs(WorkPool& pool, int count, int failing = -1) {
        net::io_context io;
        results.assign(static_cast<std::size_t>(count), "pending");
        for (int i = 0; i < count; ++i) {
            net::co_spawn(
                io,
                [&, i]() -> net::awaitable<void> {
                    try {
                        co_await pool.run([&, i] {
                            journal.add("job");
                            if (i == failing) throw std::runtime_error("job failed");
                            return i;
                        });
                        results[static_cast<std::size_t>(i)] = "ok";
                    } catch (const std::exception& e) {
                        results[static_cast<std::size_t>(i)] = e.what();
                    }
                },
                net::detached);
        }
        io.run();
        return results;
    }

    Journal journal;
    std::vector<std::string> results;
    bool fail_commit = false;
    BatchHooks hooks{[this] { journal.add("begin"); },
                     [this] {
                         journal.add("commit");
                         if (fail_commit) throw std::runtime_error("commit failed");
                     },
                     [this] { journal.add("abort"); }};
};

TEST_F(BatchTest, JobsRunBetweenBeginAndCommit) {
    WorkPool pool("test", {.threads = 1, .max_batch = 8, .hooks = hooks});
    auto results = run_jobs(pool, 20);
    EXPECT_EQ(std::count(results.begin(), results.end(), "ok"), 20);
    ASSERT_FALSE(journal.events.empty());
    EXPECT_EQ(journal.events.front(), "begin");
    EXPECT_EQ(journal.events.back(), "commit");
    int open = 0, jobs_in_batch = 0;
    for (const auto& e : journal.events) {
        if (e == "begin") {
            EXPECT_EQ(open, 0);
            open = 1;
            jobs_in_batch = 0;
        } else if (e == "commit") {
            EXPECT_EQ(open, 1);
            EXPECT_LE(jobs_in_batch, 8);
            open = 0;
        } else {
            EXPECT_EQ(open, 1) << "a job ran outside a batch";
            ++jobs_in_batch;
        }
    }
}

TEST_F(BatchTest, OneFailingJobDoesNotFailTheOthers) {
    WorkPool pool("test", {.threads = 1, .max_batch = 64, .hooks = hooks});
    auto results = run_jobs(pool, 10, 3);
    EXPECT_EQ(results[3], "job failed");
    EXPECT_EQ(std::count(results.begin(), results.end(), "ok"), 9);
}

TEST_F(BatchTest, FailedCommitFailsEveryJobOfTheBatch) {
    fail_commit = true;
    WorkPool pool("test", {.threads = 1, .max_batch = 64, .hooks = hooks});
    auto results = run_jobs(pool, 10);
    EXPECT_EQ(std::count(results.begin(), results.end(), "commit failed"), 10);
    EXPECT_NE(std::find(journal.events.begin(), journal.events.end(), "abort"),
              journal.events.end());
}

TEST_F(BatchTest, ARetryableCommitFailureRunsTheWholeBatchAgainAFewTimes) {
    int failing_commits = 2;  // the third attempt commits
    BatchHooks retrying{[this] { journal.add("begin"); },
                        [&] {
                            journal.add("commit");
                            if (failing_commits-- > 0) throw std::runtime_error("deadlock");
                        },
                        [this] { journal.add("abort"); },
                        [](const std::exception_ptr&) { return true; }, 3};
    WorkPool pool("test", {.threads = 1, .max_batch = 64, .hooks = retrying});
    auto results = run_jobs(pool, 1);
    EXPECT_EQ(results[0], "ok");
    std::vector<std::string> expected{"begin",  "job",   "commit", "abort", "begin", "job",
                                      "commit", "abort", "begin",  "job",   "commit"};
    EXPECT_EQ(journal.events, expected);

    failing_commits = 5;  // more than the attempts: the callers hear the last failure
    journal.events.clear();
    results = run_jobs(pool, 1);
    EXPECT_EQ(results[0], "deadlock");
    EXPECT_EQ(std::count(journal.events.begin(), journal.events.end(), "job"), 3);
}

TEST(WorkPool, SaturationIsReported) {
    WorkPool pool("test", {.threads = 1, .max_pending = 1});
    EXPECT_FALSE(pool.saturated());
    net::io_context io;
    std::promise<void> release;
    auto released = release.get_future().share();
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { co_await pool.run([&released] { released.wait(); }); },
        net::detached);
    io.run_one();  // starts the coroutine, which submits the job
    EXPECT_TRUE(pool.saturated());
    release.set_value();
    io.run();
    EXPECT_FALSE(pool.saturated());
}

TEST(WorkPool, LanesAreCountedApart) {
    WorkPool pool("test", {.threads = 1, .max_pending = 1});
    net::io_context io;
    std::promise<void> release;
    auto released = release.get_future().share();
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            co_await pool.run([&released] { released.wait(); }, WorkLane{"10.0.0.1", false});
        },
        net::detached);
    io.run_one();
    EXPECT_TRUE(pool.saturated(false));
    EXPECT_FALSE(pool.saturated(true)) << "a full lane of suspects leaves room for the others";
    release.set_value();
    io.run();
}

TEST(WorkPool, PreferredLanesRunBeforeTheOthers) {
    WorkPool pool("test", {.threads = 1});
    net::io_context io;
    std::promise<void> release;
    auto released = release.get_future().share();
    Journal journal;
    auto job = [&](std::string name, WorkLane lane) -> net::awaitable<void> {
        co_await pool.run([&journal, &name] { journal.add(name); }, lane);
    };
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { co_await pool.run([&released] { released.wait(); }); },
        net::detached);
    io.run_one();  // the pool's thread is busy with the first job now
    for (int i = 0; i < 3; ++i) {
        net::co_spawn(io, job("flood" + std::to_string(i), WorkLane{"10.0.0.1", false}),
                      net::detached);
        io.run_one();
    }
    net::co_spawn(io, job("user", WorkLane{"192.0.2.7"}), net::detached);
    io.run_one();
    release.set_value();
    io.run();
    EXPECT_EQ(journal.events, (std::vector<std::string>{"user", "flood0", "flood1", "flood2"}));
}

}  // namespace
}  // namespace chatgate

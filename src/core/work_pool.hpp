#pragma once

#include "core/fair_queue.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace chatgate {

/// Brackets for a batch of jobs. With them a pool groups the jobs waiting in its queue: `begin`,
/// every job's work, `commit`, and only then are the jobs' callers resumed. If `commit` throws,
/// every job of the batch fails with that exception (after `abort`), unless `retry` says that
/// failure may pass if the batch runs again: then `begin`, every job and `commit` run again, up
/// to `max_attempts` times in all (so jobs must be safe to repeat once their writes were rolled
/// back). The database writer uses this to commit many small transactions at once.
struct BatchHooks {
    std::function<void()> begin;
    std::function<void()> commit;
    std::function<void()> abort;
    std::function<bool(const std::exception_ptr&)> retry;
    int max_attempts = 1;
};

/// A fixed set of threads for blocking work (database calls, password hashing), so that
/// coroutines on the I/O threads never block. `run` moves the work onto the pool and resumes
/// the caller on its own executor. Thread-safe. `saturated()` reports when `max_pending` jobs
/// are queued or running, so callers can refuse work instead of queueing without bound. Jobs
/// may name a `WorkLane` (fair_queue.hpp): the preferred and the other lanes each have their
/// own `max_pending`, and the pool takes turns between lane keys.
class WorkPool {
public:
    struct Options {
        std::size_t threads = 1;
        std::size_t max_pending = SIZE_MAX;
        int nice = 0;               ///< > 0 lowers the threads' CPU priority
        std::size_t max_batch = 1;  ///< jobs per batch when `hooks` are set
        BatchHooks hooks;
        /// Told, after each job, how long it waited in the queue and how long it ran (for the
        /// metrics). Runs on the pool's thread; may be empty.
        std::function<void(std::chrono::nanoseconds wait, std::chrono::nanoseconds run)> on_job;
    };

    WorkPool(std::string name, Options options);
    ~WorkPool();
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    bool saturated(bool preferred = true) const noexcept {
        return pending_[preferred ? 0 : 1].load() >= options_.max_pending;
    }
    /// Jobs queued or running now, in both lanes.
    std::size_t pending() const noexcept { return pending_[0].load() + pending_[1].load(); }

    /// Finishes queued jobs and joins the threads.
    void join();

    /// `work` is taken by reference: callers co_await at once, so it outlives the call. It must
    /// be trivially destructible (a lambda capturing by reference): GCC 12 destroys the
    /// temporaries of a co_await expression twice, which is harmless only for those.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&>> run(F&& work, WorkLane lane = {}) {
        static_assert(std::is_trivially_destructible_v<std::remove_reference_t<F>>,
                      "capture by reference in work passed to WorkPool::run");
        using R = std::invoke_result_t<F&>;
        constexpr bool is_void = std::is_void_v<R>;
        using Slot = std::conditional_t<is_void, bool, R>;
        std::optional<Slot> out;
        std::exception_ptr failure;
        auto& pending = pending_[lane.preferred ? 0 : 1];
        ++pending;
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
            [&](auto handler) {
                auto resume = std::make_shared<decltype(handler)>(std::move(handler));
                submit({[&] {
                            if constexpr (is_void) {
                                work();
                                out.emplace(true);
                            } else {
                                out.emplace(work());
                            }
                        },
                        [&, resume](std::exception_ptr error) {
                            failure = error;
                            --pending;
                            auto executor = boost::asio::get_associated_executor(*resume);
                            // Once resumed, the caller may return from io_context::run() and
                            // destroy its io_context while this thread is still inside the
                            // post (found by TSan): the guard holds run() until we are done.
                            auto guard = boost::asio::make_work_guard(executor);
                            boost::asio::dispatch(executor, std::move(*resume));
                        }},
                       lane);
            },
            boost::asio::use_awaitable);
        if (failure) std::rethrow_exception(failure);
        if constexpr (!is_void) co_return std::move(*out);
    }

private:
    struct Job {
        std::function<void()> work;
        std::function<void(std::exception_ptr)> finish;
        std::chrono::steady_clock::time_point queued{};  ///< set only when on_job is
    };

    void submit(Job job, WorkLane lane);
    void serve(const std::string& name);
    void run_batch(std::vector<Job>& batch);
    /// begin, every job, commit: the batch's failure, each job's in `failures`.
    std::exception_ptr run_attempt(std::vector<Job>& batch,
                                   std::vector<std::exception_ptr>& failures);

    Options options_;
    std::array<std::atomic<std::size_t>, 2> pending_{};  ///< preferred lanes, the others
    std::mutex mutex_;
    std::condition_variable ready_;
    FairQueue<Job> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

/// The database's two pools. Reads run in parallel (SQLite readers do not block each other in
/// WAL mode); writes go through a single thread, because SQLite admits one writer at a time, and
/// that thread commits the writes waiting in its queue together.
struct DbPools {
    WorkPool& reads;
    WorkPool& writes;
};

}  // namespace chatgate

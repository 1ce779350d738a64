#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>

namespace chatgate {

/// A fixed set of threads for blocking work (database calls, password hashing), so that
/// coroutines on the I/O threads never block. `run` moves the work onto the pool and resumes
/// the caller on its own executor. Thread-safe. `saturated()` reports when more than
/// `max_pending` jobs are queued or running, so callers can refuse work instead of queueing
/// without bound.
class WorkPool {
public:
    WorkPool(std::string name, std::size_t threads, std::size_t max_pending, int nice = 0);
    ~WorkPool();
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    bool saturated() const noexcept { return pending_.load() >= max_pending_; }

    /// Finishes queued jobs and joins the threads.
    void join();

    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&>> run(F work) {
        using R = std::invoke_result_t<F&>;
        constexpr bool is_void = std::is_void_v<R>;
        using Slot = std::conditional_t<is_void, bool, R>;
        std::optional<Slot> out;
        std::exception_ptr failure;
        ++pending_;
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
            [&](auto handler) {
                boost::asio::post(pool_, [&, handler = std::move(handler)]() mutable {
                    try {
                        if constexpr (is_void) {
                            work();
                            out.emplace(true);
                        } else {
                            out.emplace(work());
                        }
                    } catch (...) {
                        failure = std::current_exception();
                    }
                    --pending_;
                    auto executor = boost::asio::get_associated_executor(handler);
                    boost::asio::dispatch(executor, std::move(handler));
                });
            },
            boost::asio::use_awaitable);
        if (failure) std::rethrow_exception(failure);
        if constexpr (!is_void) co_return std::move(*out);
    }

private:
    boost::asio::thread_pool pool_;
    std::size_t max_pending_;
    std::atomic<std::size_t> pending_{0};
};

/// The database's two pools. Reads run in parallel (SQLite readers do not block each other in
/// WAL mode); writes go through a single thread, because SQLite admits one writer at a time and a
/// queue in front of one thread costs less than threads fighting over the write lock.
struct DbPools {
    WorkPool& reads;
    WorkPool& writes;
};

}  // namespace chatgate

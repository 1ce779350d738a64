#include "core/work_pool.hpp"

#include <algorithm>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chatgate {

WorkPool::WorkPool(std::string name, Options options) : options_(std::move(options)) {
    // Named threads make `top -H` show who is busy.
    name.resize(std::min<std::size_t>(name.size(), 15));
    for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.threads); ++i) {
        threads_.emplace_back([this, name] { serve(name); });
    }
}

WorkPool::~WorkPool() {
    join();
}

void WorkPool::join() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& thread : threads_) {
        if (thread.joinable()) thread.join();
    }
}

void WorkPool::submit(Job job, WorkLane lane) {
    if (options_.on_job) job.queued = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        queue_.push(std::move(job), lane);
    }
    ready_.notify_one();
}

void WorkPool::serve(const std::string& name) {
    pthread_setname_np(pthread_self(), name.c_str());
    if (options_.nice != 0) {
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), options_.nice);
    }
    std::size_t max_batch = options_.hooks.begin ? std::max<std::size_t>(1, options_.max_batch) : 1;
    std::vector<Job> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to do
            while (!queue_.empty() && batch.size() < max_batch) batch.push_back(queue_.pop());
        }
        run_batch(batch);
        batch.clear();
    }
}

void WorkPool::run_batch(std::vector<Job>& batch) {
    const auto& hooks = options_.hooks;
    std::exception_ptr batch_failure;
    std::vector<std::exception_ptr> failures(batch.size());
    for (int attempt = 1;; ++attempt) {
        batch_failure = run_attempt(batch, failures);
        if (!batch_failure || attempt >= hooks.max_attempts || !hooks.retry ||
            !hooks.retry(batch_failure)) {
            break;
        }
    }
    // Callers resume only now, so nobody sees a result that was not committed.
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].finish(batch_failure ? batch_failure : failures[i]);
    }
}

std::exception_ptr WorkPool::run_attempt(std::vector<Job>& batch,
                                         std::vector<std::exception_ptr>& failures) {
    const auto& hooks = options_.hooks;
    if (hooks.begin) {
        try {
            hooks.begin();
        } catch (...) {
            return std::current_exception();
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        auto started = options_.on_job ? std::chrono::steady_clock::now()
                                       : std::chrono::steady_clock::time_point{};
        failures[i] = nullptr;
        try {
            batch[i].work();
        } catch (...) {
            failures[i] = std::current_exception();
        }
        if (options_.on_job) {
            options_.on_job(started - batch[i].queued, std::chrono::steady_clock::now() - started);
        }
    }
    if (hooks.commit) {
        try {
            hooks.commit();
        } catch (...) {
            if (hooks.abort) hooks.abort();
            return std::current_exception();
        }
    }
    return nullptr;
}

}  // namespace chatgate

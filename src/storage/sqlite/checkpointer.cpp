#include "storage/sqlite/checkpointer.hpp"

#include "storage/sqlite/connection.hpp"

#include <pthread.h>

namespace chatgate::storage {

Checkpointer::Checkpointer(const std::string& path, std::int64_t wal_pages)
    : connection_(std::make_unique<Connection>(path, Connection::Mode::read_write)),
      threshold_(wal_pages),
      next_run_at_(wal_pages),
      next_inline_at_(kInlineFactor * wal_pages),
      thread_([this] { serve(); }) {}

Checkpointer::~Checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    idle_.notify_all();
    thread_.join();
}

bool Checkpointer::committed(std::int64_t wal_pages) {
    // The WAL starts over only when the writer begins a transaction while no checkpoint is
    // running and the last one copied everything. So a checkpoint is not asked for again until
    // the WAL has grown by another threshold: asking after every commit kept one running all
    // the time, and the WAL then grew for ever.
    if (wal_pages < last_pages_) {  // it started over
        next_run_at_ = threshold_;
        next_inline_at_ = kInlineFactor * threshold_;
    }
    last_pages_ = wal_pages;
    if (wal_pages >= next_inline_at_) {
        next_inline_at_ = wal_pages + threshold_;  // a reader kept it from finishing: not at once
        return true;
    }
    if (wal_pages < next_run_at_) return false;
    next_run_at_ = wal_pages + threshold_;
    {
        std::lock_guard lock(mutex_);
        due_ = true;
    }
    wake_.notify_one();
    return false;
}

std::int64_t Checkpointer::runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

void Checkpointer::wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return (!due_ && !running_) || stopping_; });
}

void Checkpointer::serve() {
    pthread_setname_np(pthread_self(), "chatgate-ckpt");  // 15 characters at most
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return due_ || stopping_; });
        if (stopping_) return;
        due_ = false;
        running_ = true;
        lock.unlock();
        // A failure (disk full, I/O error) leaves the WAL as it is: the next commit retries.
        try {
            connection_->checkpoint_passive();
        } catch (const StorageError&) {
        }
        lock.lock();
        running_ = false;
        ++runs_;
        if (!due_) idle_.notify_all();
    }
}

}  // namespace chatgate::storage

#include "storage/sqlite/checkpointer.hpp"

#include "storage/sqlite/connection.hpp"

#include <pthread.h>

namespace chatgate::storage {

Checkpointer::Checkpointer(const std::string& path, std::int64_t wal_pages)
    : connection_(std::make_unique<Connection>(path, Connection::Mode::read_write)),
      threshold_(wal_pages),
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

void Checkpointer::committed(std::int64_t wal_pages) {
    if (wal_pages < threshold_) return;
    {
        std::lock_guard lock(mutex_);
        // Also while one runs: it may have started before this commit, so another follows.
        if (due_) return;
        due_ = true;
    }
    wake_.notify_one();
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
    pthread_setname_np(pthread_self(), "chatgate-db-ckpt");
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

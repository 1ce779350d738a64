#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace chatgate::storage {

class Connection;

/// Copies the WAL back into the database file on its own thread and connection, so the writer
/// never does. SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold:
/// it writes the pages back and syncs the WAL and the database file, which stalled that commit
/// (and every request waiting on its batch) for 5 to 80 ms every few hundred writes. A PASSIVE
/// checkpoint on a second connection does the same work without taking the writer's lock; once
/// it has copied every frame, the writer's next transaction starts the WAL over from its
/// beginning, so the file stops growing.
class Checkpointer {
public:
    /// `wal_pages`: the WAL's length, in pages, at which a checkpoint is started.
    Checkpointer(const std::string& path, std::int64_t wal_pages);
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    /// Called by the writer after each commit with the WAL's length in pages. Cheap: a wake-up
    /// only when the threshold is crossed.
    void committed(std::int64_t wal_pages);
    /// Checkpoints run so far (for tests and metrics).
    std::int64_t runs() const;
    /// Returns once no checkpoint is due or running.
    void wait_idle();

private:
    void serve();

    std::unique_ptr<Connection> connection_;
    std::int64_t threshold_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    bool due_ = false;  ///< a commit found the WAL over the threshold since the last run began
    bool running_ = false;
    bool stopping_ = false;
    std::int64_t runs_ = 0;
    std::thread thread_;
};

}  // namespace chatgate::storage

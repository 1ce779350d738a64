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
    /// Under steady writes the WAL never starts over: it does so only when the writer begins a
    /// transaction right after a checkpoint that copied every frame, and frames keep arriving
    /// while this thread syncs. So once the WAL is this many thresholds long, the writer runs
    /// one PASSIVE checkpoint itself, between commits; this thread has copied nearly all of it
    /// by then, so that costs the writer about two syncs, every ~2000 chats instead of ~150.
    static constexpr std::int64_t kInlineFactor = 16;

    /// `wal_pages`: the WAL's length, in pages, at which a checkpoint is started.
    Checkpointer(const std::string& path, std::int64_t wal_pages);
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    /// Called by the writer (one thread) after each commit with the WAL's length in pages.
    /// Cheap: a wake-up only when the threshold is crossed. True when the writer should
    /// checkpoint itself now (see kInlineFactor).
    bool committed(std::int64_t wal_pages);
    /// Checkpoints run so far (for tests and metrics).
    std::int64_t runs() const;
    /// Returns once no checkpoint is due or running.
    void wait_idle();

private:
    void serve();

    std::unique_ptr<Connection> connection_;
    std::int64_t threshold_;
    // The writer's thread only:
    std::int64_t next_run_at_;     ///< WAL pages at which the next run is asked for
    std::int64_t next_inline_at_;  ///< and the writer's own checkpoint
    std::int64_t last_pages_ = 0;  ///< at the latest commit
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

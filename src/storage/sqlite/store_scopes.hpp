#pragma once

// Internal to the SQLite store's .cpp files: how an operation holds the writer or a reader.

#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/statements.hpp"

#include <sqlite3.h>

#include <memory>
#include <mutex>

namespace chatgate::storage {

/// A ledger kind as the database spells it; StorageError for a word it does not know.
domain::LedgerKind parse_kind(const std::string& text);

inline constexpr const char* kBatchLost = "the database rolled back the batch transaction";

/// One write operation on the writer connection: its own transaction, or a savepoint inside the
/// open batch when the calling thread holds one. Rolled back unless committed.
class SqliteStore::WriteScope {
public:
    explicit WriteScope(SqliteStore& store) : db_(*store.writer_), nested_(store.in_batch()) {
        if (!nested_) lock_ = std::unique_lock(store.writer_mutex_);
        // Outside a transaction a SAVEPOINT would open (and RELEASE commit) one of its own.
        if (nested_ && !db_.in_transaction()) throw StorageError(kBatchLost, SQLITE_ABORT);
        db_.exec(nested_ ? sql::kSavepoint : sql::kBegin);
    }
    ~WriteScope() {
        if (done_) return;
        try {
            if (nested_) {
                db_.exec(sql::kRollbackTo);
                db_.exec(sql::kRelease);
            } else {
                db_.exec(sql::kRollback);
            }
        } catch (const StorageError&) {
            // The failed statement already ended the transaction; nothing is left to undo.
        }
    }
    WriteScope(const WriteScope&) = delete;
    WriteScope& operator=(const WriteScope&) = delete;

    void commit() {
        db_.exec(nested_ ? sql::kRelease : sql::kCommit);
        done_ = true;
    }

private:
    Connection& db_;
    bool nested_;
    std::unique_lock<std::mutex> lock_;
    bool done_ = false;
};

/// A read connection borrowed from the pool (or the locked writer for ":memory:").
class SqliteStore::Reader {
public:
    Reader(SqliteStore& store, std::unique_ptr<Connection> conn)
        : store_(store), conn_(std::move(conn)) {
        if (!conn_ && !store_.in_batch()) writer_lock_ = std::unique_lock(store_.writer_mutex_);
    }
    ~Reader() {
        if (conn_) {
            std::lock_guard lock(store_.readers_mutex_);
            store_.idle_readers_.push_back(std::move(conn_));
        }
    }
    Reader(Reader&&) = default;
    Connection& operator*() { return conn_ ? *conn_ : *store_.writer_; }
    Connection* operator->() { return &**this; }

private:
    SqliteStore& store_;
    std::unique_ptr<Connection> conn_;
    std::unique_lock<std::mutex> writer_lock_;
};

}  // namespace chatgate::storage

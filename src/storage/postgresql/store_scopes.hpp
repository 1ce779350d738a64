#pragma once

// Internal to the PostgreSQL store's .cpp files: how an operation holds the writer or a reader.

#include "storage/postgresql/connection.hpp"
#include "storage/postgresql/pg_store.hpp"
#include "storage/postgresql/statements.hpp"

#include <memory>
#include <mutex>

namespace chatgate::storage::pg {

/// A ledger kind as the database spells it; DatabaseError for a word it does not know.
domain::LedgerKind parse_kind(const std::string& text);

/// One write operation on the writer connection: its own transaction, or a savepoint inside the
/// open batch when the calling thread holds one. Rolled back unless committed. An operation that
/// loses a deadlock marks the batch, which then fails as a whole (and is run again by the
/// writer); later operations of a marked batch fail at once, releasing its locks sooner.
class PgStore::WriteScope {
public:
    explicit WriteScope(PgStore& store) : db_(*store.writer_), nested_(store.in_batch()) {
        if (!nested_) {
            lock_ = std::unique_lock(store.writer_mutex_);
            db_.ensure();
            db_.clear_conflict();
        } else if (db_.conflicted()) {
            throw WriteConflict();
        } else if (!db_.in_transaction()) {
            // The connection was lost: the batch's transaction is gone with it.
            throw StorageUnavailable();
        }
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
        } catch (const std::exception&) {
            // The connection is gone (and its transaction with it); nothing is left to undo.
        }
    }
    WriteScope(const WriteScope&) = delete;
    WriteScope& operator=(const WriteScope&) = delete;

    Connection& db() { return db_; }

    Rows run(const char* sql, std::initializer_list<Param> params = {}) {
        return db_.run(sql, params);
    }

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

/// A read connection borrowed from the pool (reconnected if it was lost), back to the pool when
/// done.
class PgStore::Reader {
public:
    Reader(PgStore& store, std::unique_ptr<Connection> conn)
        : store_(store), conn_(std::move(conn)) {}
    ~Reader() {
        if (conn_) {
            std::lock_guard lock(store_.readers_mutex_);
            store_.idle_readers_.push_back(std::move(conn_));
        }
    }
    Reader(Reader&&) = default;
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

private:
    PgStore& store_;
    std::unique_ptr<Connection> conn_;
};

}  // namespace chatgate::storage::pg

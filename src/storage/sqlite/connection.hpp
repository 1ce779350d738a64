#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace chatgate::storage {

/// An unexpected database failure (I/O, corruption, a broken invariant); never a business rule.
class StorageError : public std::runtime_error {
public:
    StorageError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

/// The database could not grow (SQLITE_FULL: the disk or the quota is full). An expected
/// failure for the client, a 503 to retry later, not a 500: nothing was written.
class StorageFull : public ErrorException {
public:
    StorageFull();
};

/// Nanoseconds on the steady clock when a write last failed for want of space (0: never), for
/// readiness. Process-wide, like the disk.
std::int64_t last_storage_full_ns() noexcept;

/// A prepared statement in use: bind parameters, step through rows. Resets itself (and clears
/// its bindings) when it goes out of scope so the cached statement can be reused.
class Statement {
public:
    explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    Statement& bind(int index, const std::optional<std::string>& value);
    Statement& bind(int index, const std::optional<std::int64_t>& value);

    /// True when a row is available; false when done. Throws StorageError on failure, except
    /// for constraint violations, which are reported through `constraint_failed`.
    bool step();
    /// Runs to completion; for statements that return no rows.
    void run();
    bool constraint_failed() const noexcept { return constraint_failed_; }
    int extended_error() const noexcept { return extended_error_; }

    std::int64_t int64(int column) const;
    std::string text(int column) const;
    std::optional<std::string> optional_text(int column) const;

private:
    sqlite3_stmt* stmt_;
    bool constraint_failed_ = false;
    int extended_error_ = 0;
};

/// One SQLite connection with its prepared-statement cache. Not thread-safe: a connection is
/// used by one thread at a time (the store hands them out).
class Connection {
public:
    enum class Mode { read_write, read_only };

    Connection(const std::string& path, Mode mode);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs SQL text without parameters (schema, PRAGMAs, transaction control).
    void exec(const char* sql);
    /// The cached prepared statement for `sql` (a string constant: it is keyed by address).
    Statement prepare(const char* sql);
    /// False outside a transaction, including after SQLite rolled one back on its own (I/O error).
    bool in_transaction() const noexcept;
    /// Rows changed by the latest INSERT, UPDATE or DELETE on this connection.
    std::int64_t changes() const noexcept;
    /// Replaces SQLite's automatic checkpoint on this connection: after each commit `on_commit`
    /// gets the WAL's length in pages (it must not throw); when it returns true, this
    /// connection runs a PASSIVE checkpoint there and then. Kept alive by the connection.
    void on_wal_commit(std::function<bool(std::int64_t)> on_commit);
    /// Copies what it can of the WAL into the database without blocking writers or readers.
    void checkpoint_passive();

private:
    sqlite3* db_ = nullptr;
    std::function<bool(std::int64_t)> on_wal_commit_;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace chatgate::storage

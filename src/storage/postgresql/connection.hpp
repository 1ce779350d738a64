#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace chatgate::storage::pg {

/// An unexpected database failure (a refused constraint, a broken invariant, bad SQL); never a
/// business rule and never a lost connection.
class DatabaseError : public std::runtime_error {
public:
    DatabaseError(const std::string& what, std::string sqlstate)
        : std::runtime_error(what), sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::string sqlstate_;
};

/// The database cannot be reached (restarting, the network, a statement past its deadline):
/// a 503 to retry later. The connection reconnects by itself at its next use.
class StorageUnavailable : public ErrorException {
public:
    StorageUnavailable();
};

/// The transaction lost a deadlock or a serialization check against another connection (another
/// node): nothing of it was kept, and running it again may well succeed. A 503 when it reaches
/// a caller, after the writer's retries.
class WriteConflict : public ErrorException {
public:
    WriteConflict();
};

/// One bound parameter, in PostgreSQL's text format; nullopt is SQL NULL.
class Param {
public:
    Param(std::int64_t value) : value_(std::to_string(value)) {}
    Param(std::string_view value) : value_(std::string(value)) {}
    Param(const std::string& value) : value_(value) {}
    Param(const char* value) : value_(std::string(value)) {}
    Param(std::nullopt_t) {}
    Param(const std::optional<std::string>& value) : value_(value) {}
    Param(const std::optional<std::int64_t>& value) {
        if (value) value_ = std::to_string(*value);
    }
    const char* c_str() const noexcept { return value_ ? value_->c_str() : nullptr; }

private:
    std::optional<std::string> value_;
};

/// The rows of one statement, in text format. Owns its result.
class Rows {
public:
    explicit Rows(pg_result* result) : result_(result) {}
    ~Rows();
    Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
    Rows(const Rows&) = delete;
    Rows& operator=(const Rows&) = delete;
    Rows& operator=(Rows&&) = delete;

    int size() const noexcept;
    bool empty() const noexcept { return size() == 0; }
    /// Rows an INSERT, UPDATE or DELETE changed.
    std::int64_t affected() const;

    bool null(int row, int column) const;
    std::int64_t int64(int row, int column) const;
    std::string text(int row, int column) const;
    std::optional<std::string> optional_text(int row, int column) const;
    std::optional<std::int64_t> optional_int(int row, int column) const;

private:
    pg_result* result_;
};

/// One libpq connection with its prepared statements. Not thread-safe: one thread at a time
/// (the store hands connections out). Blocking: it is used on the database threads only.
class Connection {
public:
    /// `url` is any libpq connection URI or string; `password`, when set, overrides the URL's.
    /// Connects at once. If it cannot: at start a DatabaseError naming libpq's reason (never
    /// the password), later StorageUnavailable.
    Connection(std::string url, std::optional<std::string> password, bool at_start = true);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Reconnects (and so prepares every statement anew) when the connection was lost; call it
    /// before a unit of work, never inside a transaction. StorageUnavailable if it cannot.
    void ensure();
    /// Runs SQL text without parameters (transaction control, a migration's script).
    void exec(const char* sql);
    /// Runs `sql` (a string constant: prepared once per connection, keyed by its address).
    Rows run(const char* sql, std::initializer_list<Param> params = {});
    /// The same with a run-time number of parameters (a multi-row INSERT).
    Rows run(const char* sql, const std::vector<Param>& params);
    /// Inside a transaction (including one that failed and waits for its ROLLBACK).
    bool in_transaction() const noexcept;
    bool broken() const noexcept;
    /// A statement lost a deadlock or a serialization check since `clear_conflict`: the
    /// transaction it ran in must start over.
    bool conflicted() const noexcept { return conflicted_; }
    void clear_conflict() noexcept { conflicted_ = false; }

private:
    [[noreturn]] void fail(pg_result* result, const std::string& what);
    /// True (and `result` cleared) when the statement failed because the connection is gone.
    bool lost(pg_result*& result);
    /// Prepares `sql` if this connection has not yet, then runs it; the result, or a failure.
    pg_result* run_prepared(const char* sql, const std::vector<const char*>& values);
    void connect(bool at_start);

    std::string url_;
    std::optional<std::string> password_;
    pg_conn* conn_ = nullptr;
    bool conflicted_ = false;
    std::unordered_map<const char*, std::string> prepared_;  ///< SQL constant -> statement name
};

}  // namespace chatgate::storage::pg

#include "storage/sqlite/connection.hpp"

#include <sqlite3.h>

#include <atomic>
#include <chrono>

namespace chatgate::storage {
namespace {

constexpr std::int64_t kFullRetryAfterSeconds = 10;
std::atomic<std::int64_t> g_last_full_ns{0};

[[noreturn]] void throw_error(std::string message, int code) {
    if ((code & 0xff) == SQLITE_FULL) {
        g_last_full_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
        throw StorageFull();
    }
    throw StorageError(message, code);
}

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
    std::string message = what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    throw_error(std::move(message), code);
}

/// Process-wide SQLite settings, before the first connection opens. Memory statistics are off:
/// with them every sqlite3_malloc takes a global mutex, 5% of the writer thread's time in a
/// profile of chats at 64 connections.
void configure_sqlite_once() {
    static const bool configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // fails harmlessly if SQLite already started
        return true;
    }();
    (void)configured;
}

}  // namespace

StorageFull::StorageFull()
    : ErrorException(Error{ErrorCode::busy,
                           "The server cannot store data right now (its disk is full); "
                           "retry later.",
                           {},
                           kFullRetryAfterSeconds}) {}

std::int64_t last_storage_full_ns() noexcept {
    return g_last_full_ns.load();
}

Statement::~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
        fail(sqlite3_db_handle(stmt_), "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    if (sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8) != SQLITE_OK) {
        fail(sqlite3_db_handle(stmt_), "bind");
    }
    return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
    if (value) return bind(index, std::string_view(*value));
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(sqlite3_db_handle(stmt_), "bind");
    return *this;
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
    if (value) return bind(index, *value);
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(sqlite3_db_handle(stmt_), "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    extended_error_ = sqlite3_extended_errcode(sqlite3_db_handle(stmt_));
    if ((extended_error_ & 0xff) == SQLITE_CONSTRAINT) {
        constraint_failed_ = true;
        return false;
    }
    fail(sqlite3_db_handle(stmt_), std::string("step: ") + sqlite3_sql(stmt_));
}

void Statement::run() {
    while (step()) {
    }
}

std::int64_t Statement::int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
    auto data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return text(column);
}

Connection::Connection(const std::string& path, Mode mode) {
    configure_sqlite_once();
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
                (mode == Mode::read_only ? SQLITE_OPEN_READWRITE
                                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string what = "cannot open database " + path;
        sqlite3* db = db_;
        db_ = nullptr;
        try {
            fail(db, what);
        } catch (...) {
            sqlite3_close(db);
            throw;
        }
    }
    sqlite3_extended_result_codes(db_, 1);
    // busy_timeout first: the PRAGMAs below may already need the lock another process holds.
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA foreign_keys = ON");
    if (mode == Mode::read_write) {
        exec("PRAGMA journal_mode = WAL");
        // In WAL mode NORMAL keeps every commit atomic and survives a process crash; only an
        // OS crash or power loss can drop the last commits, never half of one.
        exec("PRAGMA synchronous = NORMAL");
    } else {
        exec("PRAGMA query_only = ON");
    }
}

Connection::~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
}

void Connection::exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string what = std::string("exec failed: ") + (message ? message : "unknown error");
        sqlite3_free(message);
        throw_error(std::move(what), sqlite3_extended_errcode(db_));
    }
}

std::int64_t Connection::changes() const noexcept {
    return sqlite3_changes64(db_);
}

void Connection::on_wal_commit(std::function<bool(std::int64_t)> on_commit) {
    on_wal_commit_ = std::move(on_commit);
    sqlite3_wal_hook(
        db_,
        [](void* self, sqlite3* db, const char* name, int pages) {
            if (static_cast<Connection*>(self)->on_wal_commit_(pages)) {
                // As SQLite's own automatic checkpoint does; a busy reader only makes it partial.
                sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
            }
            return SQLITE_OK;
        },
        this);
}

void Connection::checkpoint_passive() {
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) fail(db_, "checkpoint");
}

bool Connection::in_transaction() const noexcept {
    return sqlite3_get_autocommit(db_) == 0;
}

Statement Connection::prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
            SQLITE_OK) {
            fail(db_, std::string("prepare: ") + sql);
        }
        it = cache_.emplace(sql, stmt).first;
    }
    return Statement(it->second);
}

}  // namespace chatgate::storage

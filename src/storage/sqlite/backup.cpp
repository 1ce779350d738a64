#include "storage/sqlite/backup.hpp"

#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/statements.hpp"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sys/stat.h>
#include <thread>

namespace chatgate::storage {
namespace {

constexpr std::chrono::milliseconds kBusyPause{10};
constexpr std::chrono::seconds kDeadline{60};

struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

Handle open(const std::string& path, int flags) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    Handle handle(db);
    if (rc != SQLITE_OK) {
        throw StorageError("cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "no memory"),
                           rc);
    }
    sqlite3_busy_timeout(db, 5000);
    return handle;
}

/// Copies every page in one step: one read transaction on the source, so the copy is one
/// snapshot (copying in several steps restarts whenever the server writes in between). In WAL
/// mode the read blocks no writer. SQLITE_BUSY/LOCKED (a checkpoint or recovery holds a lock
/// for a moment) is retried until the deadline.
void copy(sqlite3* from, sqlite3* to) {
    sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
    if (!backup) throw StorageError(std::string("backup: ") + sqlite3_errmsg(to), SQLITE_ERROR);
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    int rc = sqlite3_backup_step(backup, -1);
    while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(kBusyPause);
        rc = sqlite3_backup_step(backup, -1);
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) throw StorageError("backup did not complete", rc);
}

std::int64_t count(Connection& db, const char* sql) {
    auto stmt = db.prepare(sql);
    return stmt.step() ? stmt.int64(0) : 0;
}

}  // namespace

void backup_database(const std::string& source, const std::string& dest) {
    if (std::filesystem::exists(dest)) {
        throw StorageError("the backup destination exists already: " + dest, SQLITE_CANTOPEN);
    }
    // Private from its first byte: create it 0600 before SQLite writes into it.
    mode_t old_mask = ::umask(0077);
    try {
        Handle from = open(source, SQLITE_OPEN_READONLY);
        Handle to = open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        ::umask(old_mask);
        copy(from.get(), to.get());
    } catch (...) {
        ::umask(old_mask);
        std::error_code ignored;
        std::filesystem::remove(dest, ignored);
        throw;
    }
    std::filesystem::permissions(
        dest, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

BackupReport verify_backup(const std::string& path) {
    if (!std::filesystem::exists(path)) {
        throw StorageError("no such backup: " + path, SQLITE_CANTOPEN);
    }
    Connection db(path, Connection::Mode::read_only);
    BackupReport report;
    {
        auto check = db.prepare(sql::kIntegrityCheck);
        report.integrity_ok = check.step() && check.text(0) == "ok";
    }
    report.users = count(db, sql::kCountAllUsers);
    report.ledger_rows = count(db, sql::kCountAllLedger);
    report.mismatched_users = count(db, sql::kCountLedgerMismatches);
    report.schema_version = count(db, sql::kCurrentVersion);
    return report;
}

}  // namespace chatgate::storage

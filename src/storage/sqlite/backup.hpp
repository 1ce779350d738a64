#pragma once

#include <cstdint>
#include <string>

namespace chatgate::storage {

/// Copies the database at `source` to `dest` (which must not exist yet) with SQLite's online
/// backup API: a consistent snapshot while the server keeps writing (WAL readers block no
/// writer). Copies in steps, restarting if a write lands meanwhile, up to a deadline. The copy
/// is created with mode 0600. Throws StorageError on failure (and removes a partial copy).
void backup_database(const std::string& source, const std::string& dest);

/// What `verify_backup` found.
struct BackupReport {
    bool integrity_ok = false;  ///< PRAGMA integrity_check said "ok"
    std::int64_t users = 0;
    std::int64_t ledger_rows = 0;
    std::int64_t mismatched_users = 0;  ///< balance != sum of the ledger, or negative
    std::int64_t schema_version = 0;

    bool ok() const { return integrity_ok && mismatched_users == 0; }
};

/// Opens `path` read-only and checks its integrity and the ledger invariant for every user.
BackupReport verify_backup(const std::string& path);

}  // namespace chatgate::storage

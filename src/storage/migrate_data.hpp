#pragma once

#include "storage/postgresql/pg_store.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatgate::storage {

/// migrate_data would not copy, for a reason the operator can act on (the target is not
/// empty, the source is not a chatgate database at this version, it holds open
/// reservations...), or the copy failed its checks and was rolled back. Nothing was written
/// into the target's tables.
class MigrationRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What was copied: the rows of each table, in copy order.
struct MigrationReport {
    struct Table {
        std::string name;
        std::int64_t rows = 0;
    };
    std::vector<Table> tables;
    std::int64_t schema_version = 0;
};

/// Copies the SQLite installation at `sqlite_path` (opened read-only, one snapshot) into the
/// empty PostgreSQL database `target`: applies its migrations (PgStore's), then copies every
/// table but the node leases in one transaction with the ids kept, moves every identity past
/// the copied ids, and checks before the COMMIT that each table holds as many rows as the
/// source's and that every balance equals its ledger's sum and none is negative. Throws
/// MigrationRefused (and writes no row) when it cannot or must not; StorageError/DatabaseError
/// on a database failure.
MigrationReport migrate_data(const std::string& sqlite_path, const pg::PgSettings& target);

}  // namespace chatgate::storage

#pragma once

// The SQL of `migrate_data` (migrate_data.cpp): reading a SQLite installation and writing it
// into PostgreSQL. The per-table SELECT and INSERT texts are built from the tables below and
// the columns both schemas declare (checked equal); every value is a bound parameter.

#include <array>
#include <string_view>

namespace chatgate::storage::migrate_sql {

/// A table copied, in an order that satisfies every foreign key, and which of its rows.
struct CopiedTable {
    std::string_view name;
    std::string_view where;  ///< a filter on the source's rows; empty: all of them
};

// Idempotency keys: only the completed ones (an answer to replay for a retry across the move).
// A claim still in progress belongs to a process that is gone; a restarted node frees such a
// claim of its own anyway, so leaving it behind changes nothing.
inline constexpr std::array<CopiedTable, 18> kCopiedTables{{
    {"users", ""},
    {"ledger", ""},
    {"sessions", ""},
    {"idempotency_keys", "status IS NOT NULL"},
    {"conversations", ""},
    {"api_keys", ""},
    {"chat_reservations", ""},
    {"chat_messages", ""},
    {"audit_log", ""},
    {"stored_responses", ""},
    {"stored_response_items", ""},
    {"code_batches", ""},
    {"redemption_codes", ""},
    {"code_redemptions", ""},
    {"payment_checkouts", ""},
    {"payment_events", ""},
    {"payment_credits", ""},
    {"user_debts", ""},
}};

/// Source tables deliberately left behind: each store's own schema bookkeeping, and the node
/// leases (the nodes on PostgreSQL take their own).
inline constexpr std::array<std::string_view, 3> kSkippedTables{
    {"schema_version", "sqlite_sequence", "node_leases"}};

// ---- SQLite, the source (opened read-only) ----
inline constexpr const char* kSqliteBegin = "BEGIN";
inline constexpr const char* kSqliteRollback = "ROLLBACK";
inline constexpr const char* kSqliteIsChatgate =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
inline constexpr const char* kSqliteVersions =
    "SELECT coalesce(group_concat(version, ','), '') FROM "
    "(SELECT version FROM schema_version ORDER BY version)";
inline constexpr const char* kSqliteTables =
    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
inline constexpr const char* kSqliteColumns =
    "SELECT name FROM pragma_table_info(?1) ORDER BY name";
inline constexpr const char* kSqliteOpenReservations =
    "SELECT count(*) FROM chat_reservations WHERE cost IS NULL";

// ---- PostgreSQL, the target ----
inline constexpr const char* kPgBegin = "BEGIN";
inline constexpr const char* kPgCommit = "COMMIT";
inline constexpr const char* kPgRollback = "ROLLBACK";
inline constexpr const char* kPgVersions =
    "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '') FROM schema_migrations";
// No other writer meanwhile (a node started too early): it waits for the COMMIT.
inline constexpr const char* kPgLockTables = "LOCK TABLE users, ledger IN SHARE ROW EXCLUSIVE MODE";
inline constexpr const char* kPgHoldsData =
    "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM ledger)";
inline constexpr const char* kPgColumns =
    "SELECT column_name::text FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = $1::text ORDER BY column_name";
inline constexpr const char* kPgIdentityColumns =
    "SELECT column_name::text FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = $1::text AND is_identity = 'YES'";
// Past the highest copied id, so new rows do not collide; an empty table starts at 1.
inline constexpr const char* kPgSetIdentity =
    "SELECT setval(pg_get_serial_sequence($1::text, $2::text), $3::bigint, $4::bigint = 1)";
// Users whose balance is negative or differs from the sum of their ledger.
inline constexpr const char* kPgLedgerMismatches =
    "SELECT count(*) FROM users u WHERE u.tokens < 0 OR u.tokens <> "
    "coalesce((SELECT sum(l.delta) FROM ledger l WHERE l.user_id = u.id), 0)";

}  // namespace chatgate::storage::migrate_sql

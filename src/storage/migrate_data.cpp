#include "storage/migrate_data.hpp"

#include "storage/migrate_statements.hpp"
#include "storage/postgresql/connection.hpp"
#include "storage/sqlite/connection.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>

namespace chatgate::storage {

namespace {

namespace msql = migrate_sql;

/// Parameters per multi-row INSERT, below PostgreSQL's limit of 65535 per statement.
constexpr std::size_t kMaxParamsPerInsert = 30000;

/// `path` as a read-only SQLite URI (its %, ? and # escaped, so they stay part of the name).
std::string read_only_uri(const std::string& path) {
    std::string uri = "file:";
    for (char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            static constexpr char kHex[] = "0123456789ABCDEF";
            uri += '%';
            uri += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
            uri += kHex[static_cast<unsigned char>(c) & 0xF];
        } else {
            uri += c;
        }
    }
    return uri + "?mode=ro";
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
}

/// The copy's working state: both connections and the SQL texts it built (kept alive for the
/// connections' prepared-statement caches, which are keyed by the text's address).
class Copier {
public:
    Copier(Connection& source, pg::Connection& target) : source_(source), target_(target) {}

    void check_source_tables() const;
    void check_source_has_no_open_reservations() const;
    void refuse_unless_target_empty();
    MigrationReport::Table copy(const msql::CopiedTable& table);
    void set_identities(const msql::CopiedTable& table);
    void verify(const msql::CopiedTable& table, std::int64_t copied);
    void verify_ledger();

private:
    std::vector<std::string> source_columns(std::string_view table) const;
    std::vector<std::string> target_columns(std::string_view table);
    const char* keep(std::string sql) { return texts_.emplace_back(std::move(sql)).c_str(); }
    std::string insert_sql(std::string_view table, const std::vector<std::string>& columns,
                           std::size_t rows) const;
    std::int64_t source_count(const msql::CopiedTable& table);

    Connection& source_;
    pg::Connection& target_;
    std::deque<std::string> texts_;
};

void Copier::check_source_tables() const {
    auto stmt = source_.prepare(msql::kSqliteTables);
    while (stmt.step()) {
        auto name = stmt.text(0);
        auto known = [&](std::string_view n) { return n == name; };
        bool copied = std::any_of(msql::kCopiedTables.begin(), msql::kCopiedTables.end(),
                                  [&](const auto& t) { return t.name == name; });
        bool skipped = std::any_of(msql::kSkippedTables.begin(), msql::kSkippedTables.end(), known);
        if (!copied && !skipped) {
            throw MigrationRefused("the source holds a table this version cannot copy: " + name);
        }
    }
}

void Copier::check_source_has_no_open_reservations() const {
    auto stmt = source_.prepare(msql::kSqliteOpenReservations);
    stmt.step();
    if (auto open = stmt.int64(0); open > 0) {
        throw MigrationRefused(
            "the source holds " + std::to_string(open) +
            " open chat reservation(s) (a node stopped mid-answer): start chatgate once on it "
            "(it refunds them at start), stop it, and run migrate-data again");
    }
}

void Copier::refuse_unless_target_empty() {
    target_.run(msql::kPgLockTables);
    if (target_.run(msql::kPgHoldsData).int64(0, 0) > 0) {
        throw MigrationRefused(
            "the target database already holds users or ledger rows: migrate-data only fills "
            "an empty database");
    }
}

std::vector<std::string> Copier::source_columns(std::string_view table) const {
    std::vector<std::string> columns;
    auto stmt = source_.prepare(msql::kSqliteColumns);
    stmt.bind(1, table);
    while (stmt.step()) columns.push_back(stmt.text(0));
    std::sort(columns.begin(), columns.end());
    return columns;
}

std::vector<std::string> Copier::target_columns(std::string_view table) {
    std::vector<std::string> columns;
    auto rows = target_.run(msql::kPgColumns, {table});
    for (int i = 0; i < rows.size(); ++i) columns.push_back(rows.text(i, 0));
    std::sort(columns.begin(), columns.end());
    return columns;
}

std::string Copier::insert_sql(std::string_view table, const std::vector<std::string>& columns,
                               std::size_t rows) const {
    std::string sql = "INSERT INTO " + std::string(table) + " (" + join(columns) + ") VALUES ";
    std::size_t param = 1;
    for (std::size_t r = 0; r < rows; ++r) {
        sql += r == 0 ? "(" : ", (";
        for (std::size_t c = 0; c < columns.size(); ++c) {
            sql += (c == 0 ? "$" : ", $") + std::to_string(param++);
        }
        sql += ")";
    }
    return sql;
}

MigrationReport::Table Copier::copy(const msql::CopiedTable& table) {
    auto columns = source_columns(table.name);
    if (columns.empty() || columns != target_columns(table.name)) {
        throw MigrationRefused("table " + std::string(table.name) +
                               " has different columns in the source and the target");
    }
    const std::size_t per_insert = std::max<std::size_t>(1, kMaxParamsPerInsert / columns.size());
    const char* full_insert = keep(insert_sql(table.name, columns, per_insert));
    std::string select = "SELECT " + join(columns) + " FROM " + std::string(table.name);
    if (!table.where.empty()) select += " WHERE " + std::string(table.where);
    auto stmt = source_.prepare(keep(std::move(select)));

    std::vector<pg::Param> params;
    params.reserve(per_insert * columns.size());
    std::int64_t copied = 0;
    auto flush = [&](std::size_t rows) {
        const char* sql =
            rows == per_insert ? full_insert : keep(insert_sql(table.name, columns, rows));
        copied += target_.run(sql, params).affected();
        params.clear();
    };
    std::size_t pending = 0;
    while (stmt.step()) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
            params.emplace_back(stmt.optional_text(static_cast<int>(c)));
        }
        if (++pending == per_insert) {
            flush(pending);
            pending = 0;
        }
    }
    if (pending > 0) flush(pending);
    return {std::string(table.name), copied};
}

void Copier::set_identities(const msql::CopiedTable& table) {
    auto identities = target_.run(msql::kPgIdentityColumns, {table.name});
    for (int i = 0; i < identities.size(); ++i) {
        auto column = identities.text(i, 0);
        auto max = target_.run(keep("SELECT max(" + column + ") FROM " + std::string(table.name)));
        auto highest = max.optional_int(0, 0);
        target_.run(msql::kPgSetIdentity,
                    {table.name, column, highest.value_or(1), std::int64_t{highest ? 1 : 0}});
    }
}

std::int64_t Copier::source_count(const msql::CopiedTable& table) {
    std::string sql = "SELECT count(*) FROM " + std::string(table.name);
    if (!table.where.empty()) sql += " WHERE " + std::string(table.where);
    auto stmt = source_.prepare(keep(std::move(sql)));
    stmt.step();
    return stmt.int64(0);
}

void Copier::verify(const msql::CopiedTable& table, std::int64_t copied) {
    auto expected = source_count(table);
    auto rows = target_.run(keep("SELECT count(*) FROM " + std::string(table.name)));
    auto actual = rows.int64(0, 0);
    if (actual != expected || copied != expected) {
        throw MigrationRefused("verification failed, nothing kept: table " +
                               std::string(table.name) + " has " + std::to_string(actual) +
                               " rows in the target, " + std::to_string(expected) +
                               " in the source");
    }
}

void Copier::verify_ledger() {
    auto mismatched = target_.run(msql::kPgLedgerMismatches).int64(0, 0);
    if (mismatched > 0) {
        throw MigrationRefused("verification failed, nothing kept: " + std::to_string(mismatched) +
                               " user(s) whose balance is negative or differs from the sum of "
                               "their ledger");
    }
}

std::string source_versions(Connection& source) {
    auto is_chatgate = source.prepare(msql::kSqliteIsChatgate);
    is_chatgate.step();
    if (is_chatgate.int64(0) == 0) {
        throw MigrationRefused("the source is not a chatgate database (no schema_version table)");
    }
    auto versions = source.prepare(msql::kSqliteVersions);
    versions.step();
    return versions.text(0);
}

/// Applies the target's migrations (as a node does at start) and returns its versions.
std::string prepare_target(const pg::PgSettings& target) {
    pg::PgStore migrated(target);
    pg::Connection conn(target.url, target.password);
    return conn.run(msql::kPgVersions).text(0, 0);
}

}  // namespace

MigrationReport migrate_data(const std::string& sqlite_path, const pg::PgSettings& target) {
    if (!std::filesystem::is_regular_file(sqlite_path)) {
        throw MigrationRefused("no SQLite database at " + sqlite_path);
    }
    Connection source(read_only_uri(sqlite_path), Connection::Mode::read_only);
    source.exec(msql::kSqliteBegin);  // one snapshot for every read below
    auto versions = source_versions(source);
    if (versions.empty()) throw MigrationRefused("the source database has no schema yet");
    auto target_versions = prepare_target(target);
    if (versions != target_versions) {
        throw MigrationRefused("the source's schema (versions " + versions +
                               ") is not this version's (" + target_versions +
                               "): if it is older, start this chatgate once on it to upgrade it, "
                               "stop it, and run migrate-data again");
    }
    pg::Connection conn(target.url, target.password);
    Copier copier(source, conn);
    copier.check_source_tables();
    copier.check_source_has_no_open_reservations();

    MigrationReport report;
    report.schema_version = std::stoll(versions.substr(versions.rfind(',') + 1));
    conn.exec(msql::kPgBegin);
    try {
        copier.refuse_unless_target_empty();
        for (const auto& table : msql::kCopiedTables) report.tables.push_back(copier.copy(table));
        for (std::size_t i = 0; i < msql::kCopiedTables.size(); ++i) {
            copier.set_identities(msql::kCopiedTables[i]);
            copier.verify(msql::kCopiedTables[i], report.tables[i].rows);
        }
        copier.verify_ledger();
        conn.exec(msql::kPgCommit);
    } catch (...) {
        try {
            conn.exec(msql::kPgRollback);
        } catch (const std::exception&) {
            // The connection is gone, and the transaction with it.
        }
        throw;
    }
    source.exec(msql::kSqliteRollback);
    return report;
}

}  // namespace chatgate::storage

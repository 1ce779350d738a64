// SqliteStore's domain::AdminStore half: the operator's reads, actions and the audit log.

#include "storage/column_text.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/store_scopes.hpp"

namespace chatgate::storage {
namespace {

using domain::Facts;

std::optional<std::int64_t> optional_int(Statement& stmt, int column) {
    if (!stmt.optional_text(column)) return std::nullopt;
    return stmt.int64(column);
}

void bind_user_query(Statement& stmt, const domain::UserQuery& query) {
    stmt.bind(1, contains_pattern(query.search))
        .bind(2, optional_flag(query.active))
        .bind(3, optional_flag(query.staff));
}

domain::UserRow read_user(Statement& stmt) {
    return {stmt.int64(0),      stmt.text(1),       stmt.int64(2), stmt.int64(3) != 0,
            stmt.int64(4) != 0, stmt.int64(5) != 0, stmt.text(6)};
}

void bind_audit_query(Statement& stmt, const domain::AuditQuery& query) {
    stmt.bind(1, query.actor_user).bind(2, query.target).bind(3, query.action);
}

/// One flag of the user, read inside the caller's transaction.
std::optional<domain::UserRow> user_row(Connection& db, UserId user) {
    auto stmt = db.prepare(sql::kFindUserRow);
    stmt.bind(1, user);
    if (!stmt.step()) return std::nullopt;
    return read_user(stmt);
}

}  // namespace

void SqliteStore::insert_audit(const domain::AuditEntry& audit) {
    auto insert = writer_->prepare(sql::kInsertAudit);
    insert.bind(1, audit.actor.user)
        .bind(2, audit.actor.name)
        .bind(3, audit.action)
        .bind(4, audit.target)
        .bind(5, audit.before)
        .bind(6, audit.after)
        .bind(7, audit.reason)
        .bind(8, audit.actor.request_id.empty() ? std::optional<std::string>()
                                                : audit.actor.request_id);
    insert.run();
    if (insert.constraint_failed())
        throw StorageError("audit row refused", insert.extended_error());
}

domain::StaffRole SqliteStore::staff_role(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kStaffRole);
    stmt.bind(1, user);
    if (!stmt.step()) return {};
    return {stmt.int64(0) != 0, stmt.int64(1) != 0, stmt.text(2)};
}

std::vector<domain::LedgerExportRow> SqliteStore::export_ledger(
    const domain::LedgerExportQuery& query) {
    auto db = read();
    auto stmt = db->prepare(query.user ? sql::kExportUserLedger : sql::kExportAllLedger);
    stmt.bind(1, query.user)
        .bind(2, query.after)
        .bind(3, query.range.from)
        .bind(4, query.range.to)
        .bind(5, query.limit);
    std::vector<domain::LedgerExportRow> out;
    while (stmt.step()) {
        domain::LedgerEntry entry{stmt.int64(0),         stmt.int64(1),
                                  stmt.int64(2),         parse_kind(stmt.text(3)),
                                  stmt.optional_text(4), stmt.text(5)};
        out.push_back({std::move(entry), stmt.int64(6), stmt.text(7)});
    }
    return out;
}

std::int64_t SqliteStore::count_users(const domain::UserQuery& query) {
    auto db = read();
    auto stmt = db->prepare(sql::kCountUsers);
    bind_user_query(stmt, query);
    return stmt.step() ? stmt.int64(0) : 0;
}

std::vector<domain::UserRow> SqliteStore::list_users(const domain::UserQuery& query) {
    auto db = read();
    auto stmt = db->prepare(sql::kListUsers);
    bind_user_query(stmt, query);
    stmt.bind(4, sort_name(query.sort))
        .bind(5, std::int64_t{query.descending})
        .bind(6, query.limit)
        .bind(7, query.offset);
    std::vector<domain::UserRow> out;
    while (stmt.step()) out.push_back(read_user(stmt));
    return out;
}

std::optional<domain::UserRow> SqliteStore::find_user(UserId user) {
    auto db = read();
    return user_row(*db, user);
}

std::optional<domain::UserRow> SqliteStore::find_user_by_name(std::string_view username) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindUserRowByName);
    stmt.bind(1, username);
    if (!stmt.step()) return std::nullopt;
    return read_user(stmt);
}

std::vector<domain::SessionRow> SqliteStore::list_sessions(UserId user, std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kListSessions);
    stmt.bind(1, user).bind(2, limit);
    std::vector<domain::SessionRow> out;
    while (stmt.step()) {
        out.push_back({stmt.int64(0), stmt.int64(1), stmt.int64(2), optional_int(stmt, 3),
                       stmt.optional_text(4)});
    }
    return out;
}

std::vector<domain::UsageRow> SqliteStore::spend_per_model(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kSpendPerModel);
    stmt.bind(1, user);
    std::vector<domain::UsageRow> out;
    while (stmt.step()) {
        out.push_back(
            {{}, stmt.text(0), stmt.int64(1), stmt.int64(2), stmt.int64(3), stmt.int64(4)});
    }
    return out;
}

std::vector<domain::UsageRow> SqliteStore::usage_by_day(const domain::DayRange& range,
                                                        std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kUsageByDay);
    stmt.bind(1, range.from).bind(2, range.to).bind(3, limit);
    std::vector<domain::UsageRow> out;
    while (stmt.step()) {
        out.push_back({stmt.text(0), stmt.text(1), stmt.int64(2), stmt.int64(3), stmt.int64(4),
                       stmt.int64(5)});
    }
    return out;
}

std::vector<domain::SpenderRow> SqliteStore::top_spenders(const domain::DayRange& range,
                                                          std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kTopSpenders);
    stmt.bind(1, range.from).bind(2, range.to).bind(3, limit);
    std::vector<domain::SpenderRow> out;
    while (stmt.step()) out.push_back({stmt.int64(0), stmt.text(1), stmt.int64(2), stmt.int64(3)});
    return out;
}

domain::ChangeResult SqliteStore::admin_change_balance(const domain::BalanceChange& change,
                                                       domain::AuditEntry audit) {
    WriteScope tx(*this);
    auto result = apply_balance_change(change);
    if (result.status != domain::ChangeStatus::applied) return result;
    audit.before = Facts().add("tokens", result.balance - change.delta).json();
    audit.after = Facts().add("tokens", result.balance).add("ledger_id", result.entry).json();
    insert_audit(audit);
    tx.commit();
    return result;
}

bool SqliteStore::set_active(UserId user, bool active, domain::AuditEntry audit) {
    WriteScope tx(*this);
    auto before = user_row(*writer_, user);
    if (!before) return false;
    writer_->prepare(sql::kSetActive).bind(1, user).bind(2, std::int64_t{active}).run();
    audit.before = Facts().add_bool("is_active", before->is_active).json();
    audit.after = Facts().add_bool("is_active", active).json();
    insert_audit(audit);
    tx.commit();
    return true;
}

bool SqliteStore::set_staff(UserId user, bool staff, domain::AuditEntry audit) {
    WriteScope tx(*this);
    auto before = user_row(*writer_, user);
    if (!before) return false;
    writer_->prepare(sql::kSetStaff).bind(1, user).bind(2, std::int64_t{staff}).run();
    audit.before = Facts().add_bool("is_staff", before->is_staff).json();
    audit.after = Facts().add_bool("is_staff", staff).json();
    insert_audit(audit);
    tx.commit();
    return true;
}

std::optional<domain::RevokeCounts> SqliteStore::revoke_all(UserId user, domain::AuditEntry audit) {
    WriteScope tx(*this);
    {
        auto bump = writer_->prepare(sql::kBumpEpoch);
        bump.bind(1, user);
        if (!bump.step()) return std::nullopt;
    }
    domain::RevokeCounts counts;
    writer_->prepare(sql::kAdminRevokeSessions).bind(1, user).run();
    counts.sessions = writer_->changes();
    writer_->prepare(sql::kRevokeUserKeys).bind(1, user).run();
    counts.keys = writer_->changes();
    audit.after =
        Facts().add("sessions_revoked", counts.sessions).add("keys_revoked", counts.keys).json();
    insert_audit(audit);
    tx.commit();
    return counts;
}

bool SqliteStore::set_password(UserId user, const std::string& hash, domain::AuditEntry audit) {
    WriteScope tx(*this);
    {
        auto update = writer_->prepare(sql::kSetPassword);
        update.bind(1, user).bind(2, hash);
        if (!update.step()) return false;
    }
    writer_->prepare(sql::kAdminRevokeSessions).bind(1, user).run();
    insert_audit(audit);
    tx.commit();
    return true;
}

void SqliteStore::append_audit(const domain::AuditEntry& audit) {
    WriteScope tx(*this);
    insert_audit(audit);
    tx.commit();
}

std::int64_t SqliteStore::count_audit(const domain::AuditQuery& query) {
    auto db = read();
    auto stmt = db->prepare(sql::kCountAudit);
    bind_audit_query(stmt, query);
    return stmt.step() ? stmt.int64(0) : 0;
}

std::vector<domain::AuditRecord> SqliteStore::list_audit(const domain::AuditQuery& query) {
    auto db = read();
    auto stmt = db->prepare(sql::kListAudit);
    bind_audit_query(stmt, query);
    stmt.bind(4, query.limit).bind(5, query.offset);
    std::vector<domain::AuditRecord> out;
    while (stmt.step()) {
        out.push_back({stmt.int64(0), stmt.text(1), optional_int(stmt, 2), stmt.text(3),
                       stmt.text(4), optional_int(stmt, 5), stmt.optional_text(6).value_or("{}"),
                       stmt.optional_text(7).value_or("{}"), stmt.optional_text(8),
                       stmt.optional_text(9)});
    }
    return out;
}

}  // namespace chatgate::storage

// PgStore's domain::AdminStore half: the operator's reads, actions and the audit log.

#include "storage/column_text.hpp"
#include "storage/postgresql/pg_store.hpp"
#include "storage/postgresql/store_scopes.hpp"

namespace chatgate::storage::pg {
namespace {

using domain::Facts;

domain::UserRow read_user(const Rows& rows, int r) {
    return {rows.int64(r, 0),      rows.text(r, 1),       rows.int64(r, 2), rows.int64(r, 3) != 0,
            rows.int64(r, 4) != 0, rows.int64(r, 5) != 0, rows.text(r, 6)};
}

std::optional<domain::UserRow> user_row(Connection& db, UserId user) {
    auto rows = db.run(sql::kFindUserRow, {user});
    if (rows.empty()) return std::nullopt;
    return read_user(rows, 0);
}

}  // namespace

void PgStore::insert_audit(const domain::AuditEntry& audit) {
    writer_->run(sql::kInsertAudit, {audit.actor.user, audit.actor.name, audit.action, audit.target,
                                     audit.before, audit.after, audit.reason,
                                     audit.actor.request_id.empty() ? std::optional<std::string>()
                                                                    : audit.actor.request_id});
}

domain::StaffRole PgStore::staff_role(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kStaffRole, {user});
    if (rows.empty()) return {};
    return {rows.int64(0, 0) != 0, rows.int64(0, 1) != 0, rows.text(0, 2)};
}

std::vector<domain::LedgerExportRow> PgStore::export_ledger(
    const domain::LedgerExportQuery& query) {
    auto db = read();
    auto rows = db->run(query.user ? sql::kExportUserLedger : sql::kExportAllLedger,
                        {query.user, query.after, query.range.from, query.range.to, query.limit});
    std::vector<domain::LedgerExportRow> out;
    for (int r = 0; r < rows.size(); ++r) {
        domain::LedgerEntry entry{rows.int64(r, 0),         rows.int64(r, 1),
                                  rows.int64(r, 2),         parse_kind(rows.text(r, 3)),
                                  rows.optional_text(r, 4), rows.text(r, 5)};
        out.push_back({std::move(entry), rows.int64(r, 6), rows.text(r, 7)});
    }
    return out;
}

std::int64_t PgStore::count_users(const domain::UserQuery& query) {
    auto db = read();
    auto rows = db->run(
        sql::kCountUsers,
        {contains_pattern(query.search), optional_flag(query.active), optional_flag(query.staff)});
    return rows.empty() ? 0 : rows.int64(0, 0);
}

std::vector<domain::UserRow> PgStore::list_users(const domain::UserQuery& query) {
    auto db = read();
    auto rows =
        db->run(sql::kListUsers, {contains_pattern(query.search), optional_flag(query.active),
                                  optional_flag(query.staff), sort_name(query.sort),
                                  std::int64_t{query.descending}, query.limit, query.offset});
    std::vector<domain::UserRow> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(read_user(rows, r));
    return out;
}

std::optional<domain::UserRow> PgStore::find_user(UserId user) {
    auto db = read();
    return user_row(*db, user);
}

std::optional<domain::UserRow> PgStore::find_user_by_name(std::string_view username) {
    auto db = read();
    auto rows = db->run(sql::kFindUserRowByName, {username});
    if (rows.empty()) return std::nullopt;
    return read_user(rows, 0);
}

std::vector<domain::SessionRow> PgStore::list_sessions(UserId user, std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kListSessions, {user, limit});
    std::vector<domain::SessionRow> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({rows.int64(r, 0), rows.int64(r, 1), rows.int64(r, 2),
                       rows.optional_int(r, 3), rows.optional_text(r, 4)});
    }
    return out;
}

std::vector<domain::UsageRow> PgStore::spend_per_model(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kSpendPerModel, {user});
    std::vector<domain::UsageRow> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({{},
                       rows.text(r, 0),
                       rows.int64(r, 1),
                       rows.int64(r, 2),
                       rows.int64(r, 3),
                       rows.int64(r, 4)});
    }
    return out;
}

std::vector<domain::UsageRow> PgStore::usage_by_day(const domain::DayRange& range,
                                                    std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kUsageByDay, {range.from, range.to, limit});
    std::vector<domain::UsageRow> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({rows.text(r, 0), rows.text(r, 1), rows.int64(r, 2), rows.int64(r, 3),
                       rows.int64(r, 4), rows.int64(r, 5)});
    }
    return out;
}

std::vector<domain::SpenderRow> PgStore::top_spenders(const domain::DayRange& range,
                                                      std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kTopSpenders, {range.from, range.to, limit});
    std::vector<domain::SpenderRow> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({rows.int64(r, 0), rows.text(r, 1), rows.int64(r, 2), rows.int64(r, 3)});
    }
    return out;
}

domain::ChangeResult PgStore::admin_change_balance(const domain::BalanceChange& change,
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

bool PgStore::set_active(UserId user, bool active, domain::AuditEntry audit) {
    WriteScope tx(*this);
    auto before = user_row(tx.db(), user);
    if (!before) return false;
    tx.run(sql::kSetActive, {user, std::int64_t{active}});
    audit.before = Facts().add_bool("is_active", before->is_active).json();
    audit.after = Facts().add_bool("is_active", active).json();
    insert_audit(audit);
    tx.commit();
    return true;
}

bool PgStore::set_staff(UserId user, bool staff, domain::AuditEntry audit) {
    WriteScope tx(*this);
    auto before = user_row(tx.db(), user);
    if (!before) return false;
    tx.run(sql::kSetStaff, {user, std::int64_t{staff}});
    audit.before = Facts().add_bool("is_staff", before->is_staff).json();
    audit.after = Facts().add_bool("is_staff", staff).json();
    insert_audit(audit);
    tx.commit();
    return true;
}

std::optional<domain::RevokeCounts> PgStore::revoke_all(UserId user, domain::AuditEntry audit) {
    WriteScope tx(*this);
    if (tx.run(sql::kBumpEpoch, {user}).empty()) return std::nullopt;
    domain::RevokeCounts counts;
    counts.sessions = tx.run(sql::kAdminRevokeSessions, {user}).affected();
    counts.keys = tx.run(sql::kRevokeUserKeys, {user}).affected();
    audit.after =
        Facts().add("sessions_revoked", counts.sessions).add("keys_revoked", counts.keys).json();
    insert_audit(audit);
    tx.commit();
    return counts;
}

bool PgStore::set_password(UserId user, const std::string& hash, domain::AuditEntry audit) {
    WriteScope tx(*this);
    if (tx.run(sql::kSetPassword, {user, hash}).empty()) return false;
    tx.run(sql::kAdminRevokeSessions, {user});
    insert_audit(audit);
    tx.commit();
    return true;
}

void PgStore::append_audit(const domain::AuditEntry& audit) {
    WriteScope tx(*this);
    insert_audit(audit);
    tx.commit();
}

std::int64_t PgStore::count_audit(const domain::AuditQuery& query) {
    auto db = read();
    auto rows = db->run(sql::kCountAudit, {query.actor_user, query.target, query.action});
    return rows.empty() ? 0 : rows.int64(0, 0);
}

std::vector<domain::AuditRecord> PgStore::list_audit(const domain::AuditQuery& query) {
    auto db = read();
    auto rows = db->run(sql::kListAudit,
                        {query.actor_user, query.target, query.action, query.limit, query.offset});
    std::vector<domain::AuditRecord> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({rows.int64(r, 0), rows.text(r, 1), rows.optional_int(r, 2), rows.text(r, 3),
                       rows.text(r, 4), rows.optional_int(r, 5),
                       rows.optional_text(r, 6).value_or("{}"),
                       rows.optional_text(r, 7).value_or("{}"), rows.optional_text(r, 8),
                       rows.optional_text(r, 9)});
    }
    return out;
}

}  // namespace chatgate::storage::pg

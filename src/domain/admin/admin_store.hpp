#pragma once

#include "core/ids.hpp"
#include "domain/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

/// Who did an operator action: a staff user (by the API) or an operating-system user (by the
/// command line, `user` empty, `name` "os:<login>").
struct Actor {
    std::optional<UserId> user;
    std::string name;
    std::string request_id;  ///< empty from the command line
};

/// One row to append to the audit log, in the same transaction as the action it records.
struct AuditEntry {
    Actor actor;
    std::string action;
    std::optional<UserId> target;
    std::string before;  ///< a JSON object (see json_facts)
    std::string after;
    std::optional<std::string> reason;
};

struct AuditRecord {
    std::int64_t id = 0;
    std::string created_at;
    std::optional<UserId> actor_user;
    std::string actor;
    std::string action;
    std::optional<UserId> target;
    std::string before;
    std::string after;
    std::optional<std::string> reason;
    std::optional<std::string> request_id;
};

struct AuditQuery {
    std::optional<UserId> actor_user;
    std::optional<UserId> target;
    std::optional<std::string> action;
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};

struct UserRow {
    UserId id = 0;
    std::string username;
    TokenAmount tokens = 0;
    bool is_active = false;
    bool is_staff = false;
    bool is_superuser = false;
    std::string date_joined;
};

enum class UserSort { id, username, tokens, date_joined };

struct UserQuery {
    std::string search;  ///< part of the username; empty: everyone
    std::optional<bool> active;
    std::optional<bool> staff;
    UserSort sort = UserSort::id;
    bool descending = false;
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};

struct SessionRow {
    std::int64_t id = 0;
    std::int64_t created_at = 0;  ///< unix seconds
    std::int64_t last_used_at = 0;
    std::optional<std::int64_t> revoked_at;
    std::optional<std::string> revoke_reason;
};

/// Settled exchanges summed: per model for one user, per day and model for everyone.
struct UsageRow {
    std::string day;  ///< YYYY-MM-DD (UTC); empty in per-user sums
    std::string model;
    std::int64_t requests = 0;
    std::int64_t prompt_tokens = 0;
    std::int64_t completion_tokens = 0;
    TokenAmount tokens_charged = 0;
};

struct SpenderRow {
    UserId user = 0;
    std::string username;
    std::int64_t requests = 0;
    TokenAmount tokens_charged = 0;
};

/// A half-open range of UTC days, [from, to + 1 day), as YYYY-MM-DD.
struct DayRange {
    std::string from;
    std::string to;
};

struct StaffRole {
    bool is_staff = false;
    bool is_superuser = false;
    std::string username;  ///< empty when there is no such user
};

/// A page of ledger rows for an export, oldest first, after the row `after` (keyset paging,
/// so every page costs the same however deep the export is).
struct LedgerExportQuery {
    std::optional<UserId> user;  ///< nothing: every user's
    DayRange range;
    LedgerEntryId after = 0;
    std::int64_t limit = 1000;
};

struct LedgerExportRow {
    LedgerEntry entry;
    UserId user = 0;
    std::string username;
};

struct RevokeCounts {
    std::int64_t sessions = 0;
    std::int64_t keys = 0;
};

/// Persistence of the operator's reads and actions. Every action writes its audit row in the
/// same transaction, or neither. Blocking and thread-safe like `Store`.
class AdminStore {
public:
    virtual ~AdminStore() = default;

    virtual StaffRole staff_role(UserId user) = 0;
    virtual std::int64_t count_users(const UserQuery& query) = 0;
    virtual std::vector<UserRow> list_users(const UserQuery& query) = 0;
    virtual std::optional<UserRow> find_user(UserId user) = 0;
    virtual std::optional<UserRow> find_user_by_name(std::string_view username) = 0;
    virtual std::vector<SessionRow> list_sessions(UserId user, std::int64_t limit) = 0;
    virtual std::vector<UsageRow> spend_per_model(UserId user) = 0;
    virtual std::vector<UsageRow> usage_by_day(const DayRange& range, std::int64_t limit) = 0;
    virtual std::vector<SpenderRow> top_spenders(const DayRange& range, std::int64_t limit) = 0;
    virtual std::vector<LedgerExportRow> export_ledger(const LedgerExportQuery& query) = 0;

    /// The balance change, its ledger row and the audit row (before/after balances filled in).
    virtual ChangeResult admin_change_balance(const BalanceChange& change, AuditEntry audit) = 0;
    /// Sets is_active (or is_staff); the audit row gets the old and new value. False: no user.
    virtual bool set_active(UserId user, bool active, AuditEntry audit) = 0;
    virtual bool set_staff(UserId user, bool staff, AuditEntry audit) = 0;
    /// Bumps the session epoch, revokes every session and key. Nothing when there is no user.
    virtual std::optional<RevokeCounts> revoke_all(UserId user, AuditEntry audit) = 0;
    /// Replaces the password hash like a password change (epoch bumped, sessions revoked).
    virtual bool set_password(UserId user, const std::string& hash, AuditEntry audit) = 0;
    virtual void append_audit(const AuditEntry& audit) = 0;
    virtual std::int64_t count_audit(const AuditQuery& query) = 0;
    /// Newest first.
    virtual std::vector<AuditRecord> list_audit(const AuditQuery& query) = 0;
};

/// A flat JSON object of facts for the audit log, built without a JSON library (the domain
/// has none): keys are plain words, values integers, booleans or strings (escaped).
class Facts {
public:
    Facts& add(std::string_view key, std::int64_t value);
    Facts& add_bool(std::string_view key, bool value);
    Facts& add(std::string_view key, std::string_view value);
    std::string json() const { return "{" + body_ + "}"; }

private:
    void key(std::string_view name);
    std::string body_;
};

}  // namespace chatgate::domain

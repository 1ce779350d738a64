#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/accounts/credential_rules.hpp"
#include "domain/accounts/password_hasher.hpp"
#include "domain/admin/admin_store.hpp"
#include "domain/chat/chat_store.hpp"
#include "domain/keys/key_service.hpp"
#include "domain/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace chatgate::domain {

/// Filled from the configuration by the composition root.
struct AdminPolicy {
    TokenAmount balance_cap{};  ///< a grant may not pass it, like a top-up
    TokenAmount max_grant{};    ///< per action, either way
};

struct UserPage {
    std::int64_t count = 0;
    std::vector<UserRow> users;
};

/// One user in full, for an operator.
struct UserDetail {
    UserRow user;
    std::vector<LedgerEntry> recent_ledger;  ///< newest first
    std::vector<SessionRow> sessions;        ///< most recently used first
    std::vector<ApiKeyInfo> keys;
    std::int64_t conversations = 0;
    std::vector<UsageRow> spend_per_model;
};

struct AuditPage {
    std::int64_t count = 0;
    std::vector<AuditRecord> entries;
};

/// The operator's reads and actions (the admin API and the command line share it). Every
/// action is one store transaction that also appends its audit row. Whether the caller is
/// staff is the pipeline's check; whether an actor may make staff is checked here. Thread-safe.
class AdminService {
public:
    static constexpr std::size_t kMaxReasonChars = 500;
    static constexpr std::int64_t kRecentLedger = 20;
    static constexpr std::int64_t kRecentSessions = 50;

    AdminService(AdminStore& admin, Store& store, ChatStore& chats, KeyService& keys,
                 const PasswordHasher& hasher, const PasswordRules& rules, const KeyCrypto& crypto,
                 DbPools db, WorkPool& hash_pool, AdminPolicy policy);

    boost::asio::awaitable<StaffRole> role(UserId user);
    boost::asio::awaitable<UserPage> users(const UserQuery& query);
    /// Errors: not_found.
    boost::asio::awaitable<Result<UserDetail>> user(UserId user);
    boost::asio::awaitable<Result<UserRow>> user_named(const std::string& username);

    /// Adds (`delta` > 0) or takes (`delta` < 0) tokens with a reason: its own ledger kind,
    /// the reason and the actor in the ledger reference, and the audit row, in one transaction.
    /// Errors: invalid_argument (amount, reason, a deduction larger than the balance, a grant
    /// past the balance cap), not_found. Returns the new balance.
    boost::asio::awaitable<Result<TokenAmount>> adjust_balance(const Actor& actor, UserId user,
                                                               TokenAmount delta,
                                                               const std::string& reason);
    /// Errors: not_found.
    boost::asio::awaitable<Result<void>> set_active(const Actor& actor, UserId user, bool active);
    /// Errors: permission_denied (the acting user is not a superuser), not_found.
    boost::asio::awaitable<Result<void>> set_staff(const Actor& actor, UserId user, bool staff);
    boost::asio::awaitable<Result<RevokeCounts>> revoke_all(const Actor& actor, UserId user);
    /// Sets `password` (which must pass the rules) or, without one, a generated password that
    /// is returned once. Every session is revoked. Errors: invalid_argument, not_found, busy.
    boost::asio::awaitable<Result<std::string>> reset_password(
        const Actor& actor, UserId user, const std::optional<std::string>& password);
    /// A key for `user`, made by an operator (the command line), audited. Errors as
    /// KeyService::create, and not_found.
    boost::asio::awaitable<Result<CreatedKey>> create_key(const Actor& actor, UserId user,
                                                          const KeyRequest& request);

    /// Revokes one of the user's keys, audited. Errors: not_found (no such live key of theirs).
    boost::asio::awaitable<Result<void>> revoke_key(const Actor& actor, UserId user, ApiKeyId key);
    boost::asio::awaitable<std::vector<ApiKeyInfo>> keys_of(UserId user);

    boost::asio::awaitable<AuditPage> audit(const AuditQuery& query);
    boost::asio::awaitable<std::vector<UsageRow>> usage(const DayRange& range);
    boost::asio::awaitable<std::vector<SpenderRow>> top_spenders(const DayRange& range,
                                                                 std::int64_t limit);
    /// One page of a ledger export (a user's own, or everyone's for staff).
    boost::asio::awaitable<std::vector<LedgerExportRow>> export_page(
        const LedgerExportQuery& query);

    boost::asio::awaitable<bool> exists(UserId user);

private:
    AdminStore& admin_;
    Store& store_;
    ChatStore& chats_;
    KeyService& keys_;
    const PasswordHasher& hasher_;
    const PasswordRules& rules_;
    const KeyCrypto& crypto_;
    DbPools db_;
    WorkPool& hash_pool_;
    AdminPolicy policy_;
};

/// The reason rule shared by the API and the command line: 1 to kMaxReasonChars characters,
/// not blank. Empty when it passes.
std::optional<std::string> reason_problem(std::string_view reason);

}  // namespace chatgate::domain

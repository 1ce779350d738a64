#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

enum class LedgerKind {
    signup_grant,
    chat_charge,
    chat_refund,
    top_up,
    admin_grant,     ///< an operator's grant, with its reason (and the audit row)
    admin_deduct,    ///< an operator's deduction, with its reason (and the audit row)
    code_redeem,     ///< a redemption code, its id in the reference
    payment_credit,  ///< a paid checkout, its payment in the reference
    payment_refund,  ///< what a refund took back (the rest became debt)
    debt_repayment,  ///< the part of a paid credit that paid off the user's debt
};
std::string_view to_string(LedgerKind kind);
/// The kind `to_string` spells as `text`; nullopt for a word it never writes.
std::optional<LedgerKind> ledger_kind_from(std::string_view text);

struct NewUser {
    std::string username;
    std::string password_hash;
    TokenAmount signup_grant = 0;
    bool is_staff = false;
    bool is_superuser = false;
};

struct Credentials {
    UserId id = 0;
    std::string password_hash;
    bool is_active = false;
};

/// A user's login facts, by id (for a password change).
struct Login {
    UserId id = 0;
    std::string username;
    std::string password_hash;
    bool is_active = false;
};

struct Account {
    UserId id = 0;
    TokenAmount balance = 0;
    bool is_active = false;
};

struct LedgerEntry {
    LedgerEntryId id = 0;
    TokenAmount delta = 0;
    TokenAmount balance_after = 0;
    LedgerKind kind = LedgerKind::top_up;
    std::optional<std::string> reference;
    std::string created_at;  ///< ISO-8601 UTC with milliseconds
};

/// One balance change: applied as a single conditional UPDATE plus its ledger row, in one
/// transaction, or not at all.
struct BalanceChange {
    UserId user = 0;
    TokenAmount delta = 0;
    LedgerKind kind = LedgerKind::top_up;
    std::optional<std::string> reference;
    TokenAmount cap = INT64_MAX;  ///< refuse if the new balance would exceed this
    bool require_active = true;   ///< refunds still apply to a user deactivated mid-request
};

/// `key_limit`: the API key the request came with would pass its token_limit.
enum class ChangeStatus { applied, insufficient, over_cap, no_user, inactive, key_limit };

struct ChangeResult {
    ChangeStatus status = ChangeStatus::no_user;
    TokenAmount balance = 0;  ///< the new balance when applied
    LedgerEntryId entry = 0;  ///< the ledger row when applied
};

/// Persistence port of the domain. Every call blocks, so callers run it on the database pool.
/// Implementations are thread-safe, translate driver errors (a duplicate username becomes
/// `already_exists`) and throw only on unexpected failures (I/O, corruption).
class Store {
public:
    virtual ~Store() = default;

    /// Creates the user and, when `signup_grant` > 0, its grant ledger row, atomically.
    virtual Result<UserId> create_user(const NewUser& user) = 0;
    virtual std::optional<Credentials> find_credentials(std::string_view username) = 0;
    virtual std::optional<Account> find_account(UserId user) = 0;
    virtual ChangeResult change_balance(const BalanceChange& change) = 0;
    virtual std::int64_t count_ledger(UserId user) = 0;
    /// Newest first.
    virtual std::vector<LedgerEntry> list_ledger(UserId user, std::int64_t offset,
                                                 std::int64_t limit) = 0;
    /// Sum of the user's ledger deltas, for invariant checks.
    virtual TokenAmount ledger_sum(UserId user) = 0;
    /// True when the database answers a trivial query.
    virtual bool ping() = 0;

    // Password changes.
    virtual std::optional<Login> find_login(UserId user) = 0;
    /// Sets the new hash if the stored one is still `current_hash`, and in the same transaction
    /// bumps the user's session epoch and revokes all the user's sessions. False (nothing
    /// changed) when the hash was changed meanwhile or the user is gone.
    virtual bool replace_password(UserId user, const std::string& current_hash,
                                  const std::string& new_hash) = 0;
    /// The same password hashed with new parameters: sets `new_hash` if the stored hash is
    /// still `current_hash`, revoking nothing. False when it was changed meanwhile.
    virtual bool rehash_password(UserId user, const std::string& current_hash,
                                 const std::string& new_hash) = 0;
};

}  // namespace chatgate::domain

#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/accounts/credential_rules.hpp"
#include "domain/accounts/password_hasher.hpp"
#include "domain/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace chatgate::domain {

struct UserFlags {
    bool is_staff = false;
    bool is_superuser = false;
};

/// Sign-up, login and the "is this token's user still allowed in" check. Password hashing runs
/// on the hashing pool (refused with `busy` when it is saturated), storage on the database pool;
/// callers stay on their I/O thread. Thread-safe.
class AccountService {
public:
    AccountService(Store& store, const PasswordHasher& hasher, const PasswordRules& rules,
                   DbPools db, WorkPool& hash_pool, TokenAmount signup_grant);

    /// Field errors for the username and password rules; empty when both pass.
    std::vector<FieldError> check_credentials(std::string_view username,
                                              std::string_view password) const;

    /// Creates the user with the sign-up grant. Errors: invalid_argument (field rules),
    /// already_exists-as-field-error for a taken username, busy.
    boost::asio::awaitable<Result<UserId>> register_user(std::string username, std::string password,
                                                         UserFlags flags = {}, WorkLane lane = {});

    /// The user's id when the password matches an active account; invalid_credentials
    /// otherwise (the same answer and similar timing for unknown users), or busy.
    /// The hashing waits in `lane` (the client's address; not preferred after recent failed
    /// logins). A hash made with other parameters than the hasher's is replaced afterwards.
    boost::asio::awaitable<Result<UserId>> authenticate(std::string username, std::string password,
                                                        WorkLane lane = {});

    /// The account behind a verified token: user_not_found or user_inactive otherwise.
    boost::asio::awaitable<Result<Account>> active_account(UserId user);

    /// Replaces the password when `old_password` is the current one and `new_password` passes
    /// the rules, and revokes every session of the user (access tokens included). Errors:
    /// invalid_argument (field map: old_password, new_password), user_not_found,
    /// user_inactive, busy.
    boost::asio::awaitable<Result<void>> change_password(UserId user, std::string old_password,
                                                         std::string new_password);

private:
    boost::asio::awaitable<void> rehash(UserId user, const std::string& current,
                                        const std::string& password, WorkLane lane);

    Store& store_;
    const PasswordHasher& hasher_;
    const PasswordRules& rules_;
    DbPools db_;
    WorkPool& hash_pool_;
    TokenAmount signup_grant_;
    std::string dummy_hash_;  ///< verified against when the username is unknown
};

/// Maps a store lookup to the token-user errors shared by every authenticated operation.
Result<Account> require_active(const std::optional<Account>& account);

}  // namespace chatgate::domain

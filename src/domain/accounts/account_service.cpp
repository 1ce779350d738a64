#include "domain/accounts/account_service.hpp"

namespace chatgate::domain {
namespace {

Error busy() {
    return Error{ErrorCode::busy, "Server busy, retry later.", {}};
}

void add_username_taken(std::vector<FieldError>& errors) {
    constexpr const char* kTaken = "user with this username already exists.";
    for (auto& field : errors) {
        if (field.field == "username") {
            field.messages.insert(field.messages.begin(), kTaken);
            return;
        }
    }
    errors.insert(errors.begin(), FieldError{"username", {kTaken}});
}

}  // namespace

Result<Account> require_active(const std::optional<Account>& account) {
    if (!account) return Error{ErrorCode::user_not_found, "User not found", {}};
    if (!account->is_active) return Error{ErrorCode::user_inactive, "User is inactive", {}};
    return *account;
}

AccountService::AccountService(Store& store, const PasswordHasher& hasher,
                               const PasswordRules& rules, DbPools db, WorkPool& hash_pool,
                               TokenAmount signup_grant)
    : store_(store),
      hasher_(hasher),
      rules_(rules),
      db_(db),
      hash_pool_(hash_pool),
      signup_grant_(signup_grant),
      dummy_hash_(hasher.hash("chatgate-timing-equaliser")) {}

std::vector<FieldError> AccountService::check_credentials(std::string_view raw_username,
                                                          std::string_view password) const {
    std::string username = normalize_username(raw_username);
    std::vector<FieldError> errors;
    if (auto problems = username_problems(username); !problems.empty()) {
        errors.push_back({"username", std::move(problems)});
    }
    if (auto problems = rules_.problems(password, username); !problems.empty()) {
        errors.push_back({"password", std::move(problems)});
    }
    return errors;
}

boost::asio::awaitable<Result<UserId>> AccountService::register_user(std::string username,
                                                                     std::string password,
                                                                     UserFlags flags,
                                                                     WorkLane lane) {
    username = normalize_username(username);  // before the rules and the uniqueness check
    auto errors = check_credentials(username, password);
    // Checked before hashing so a taken name costs no hash; the unique index stays the guard.
    bool taken =
        co_await db_.reads.run([&] { return store_.find_credentials(username).has_value(); });
    if (taken) add_username_taken(errors);
    if (!errors.empty()) co_return Error::fields_invalid(std::move(errors));
    if (hash_pool_.saturated(lane.preferred)) co_return busy();
    std::string hash = co_await hash_pool_.run([&] { return hasher_.hash(password); }, lane);
    NewUser user{std::move(username), std::move(hash), signup_grant_, flags.is_staff,
                 flags.is_superuser};
    auto created = co_await db_.writes.run([&] { return store_.create_user(user); });
    if (!created && created.error().code == ErrorCode::already_exists) {
        add_username_taken(errors);
        co_return Error::fields_invalid(std::move(errors));
    }
    co_return created;
}

boost::asio::awaitable<Result<UserId>> AccountService::authenticate(std::string username,
                                                                    std::string password,
                                                                    WorkLane lane) {
    auto credentials = co_await db_.reads.run([&] {
        std::string normal = normalize_username(username);
        auto found = store_.find_credentials(normal);
        // A name registered before names were normalised is found as it was typed.
        if (!found && normal != username) found = store_.find_credentials(username);
        return found;
    });
    if (hash_pool_.saturated(lane.preferred)) co_return busy();
    const std::string& hash = credentials ? credentials->password_hash : dummy_hash_;
    bool matches = co_await hash_pool_.run([&] { return hasher_.verify(hash, password); }, lane);
    if (!credentials || !matches || !credentials->is_active) {
        co_return Error{ErrorCode::invalid_credentials,
                        "No active account found with the given credentials",
                        {}};
    }
    if (hasher_.needs_rehash(hash)) co_await rehash(credentials->id, hash, password, lane);
    co_return credentials->id;
}

boost::asio::awaitable<void> AccountService::rehash(UserId user, const std::string& current,
                                                    const std::string& password, WorkLane lane) {
    // Best effort: the login has succeeded either way, and the next one tries again.
    if (hash_pool_.saturated(lane.preferred)) co_return;
    std::string hash = co_await hash_pool_.run([&] { return hasher_.hash(password); }, lane);
    // Conditional on the hash just verified, like a password change.
    co_await db_.writes.run([&] { return store_.rehash_password(user, current, hash); });
}

boost::asio::awaitable<Result<Account>> AccountService::active_account(UserId user) {
    auto account = co_await db_.reads.run([&] { return store_.find_account(user); });
    co_return require_active(account);
}

boost::asio::awaitable<Result<void>> AccountService::change_password(UserId user,
                                                                     std::string old_password,
                                                                     std::string new_password) {
    constexpr const char* kOldWrong =
        "Your old password was entered incorrectly. Please enter it again.";
    auto login = co_await db_.reads.run([&] { return store_.find_login(user); });
    if (!login) co_return Error{ErrorCode::user_not_found, "User not found", {}};
    if (!login->is_active) co_return Error{ErrorCode::user_inactive, "User is inactive", {}};
    if (hash_pool_.saturated()) co_return busy();
    const std::string& current = login->password_hash;
    bool matches = co_await hash_pool_.run([&] { return hasher_.verify(current, old_password); });
    std::vector<FieldError> errors;
    if (!matches) errors.push_back({"old_password", {kOldWrong}});
    if (auto problems = rules_.problems(new_password, login->username); !problems.empty()) {
        errors.push_back({"new_password", std::move(problems)});
    }
    if (!errors.empty()) co_return Error::fields_invalid(std::move(errors));
    if (hash_pool_.saturated()) co_return busy();
    std::string hash = co_await hash_pool_.run([&] { return hasher_.hash(new_password); });
    // Conditional on the hash just verified: of two concurrent changes only one applies.
    bool replaced =
        co_await db_.writes.run([&] { return store_.replace_password(user, current, hash); });
    if (!replaced) co_return Error::fields_invalid({{"old_password", {kOldWrong}}});
    co_return Result<void>{};
}

}  // namespace chatgate::domain

#include "domain/admin/admin_service.hpp"

#include "domain/ledger/ledger_service.hpp"

#include <algorithm>
#include <cctype>

namespace chatgate::domain {
namespace {

constexpr std::size_t kGeneratedPasswordBytes = 12;  // 16 characters of URL-safe base64
constexpr int kMaxDraws = 8;

Error no_such_user() {
    return {ErrorCode::not_found, "Not found.", {}};
}

Error invalid(std::string field, std::string message) {
    return Error::fields_invalid({{std::move(field), {std::move(message)}}});
}

AuditEntry entry(const Actor& actor, std::string action, UserId target) {
    return {actor, std::move(action), target, "{}", "{}", std::nullopt};
}

void append_escaped(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
}

}  // namespace

void Facts::key(std::string_view name) {
    if (!body_.empty()) body_ += ',';
    append_escaped(body_, name);
    body_ += ':';
}

Facts& Facts::add(std::string_view name, std::int64_t value) {
    key(name);
    body_ += std::to_string(value);
    return *this;
}

Facts& Facts::add_bool(std::string_view name, bool value) {
    key(name);
    body_ += value ? "true" : "false";
    return *this;
}

Facts& Facts::add(std::string_view name, std::string_view value) {
    key(name);
    append_escaped(body_, value);
    return *this;
}

std::optional<std::string> reason_problem(std::string_view reason) {
    bool blank = std::all_of(reason.begin(), reason.end(),
                             [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    if (blank) return "A reason is required.";
    if (count_chars(reason) > AdminService::kMaxReasonChars) {
        return "Ensure this field has no more than " +
               std::to_string(AdminService::kMaxReasonChars) + " characters.";
    }
    return std::nullopt;
}

AdminService::AdminService(AdminStore& admin, Store& store, ChatStore& chats, KeyService& keys,
                           const PasswordHasher& hasher, const PasswordRules& rules,
                           const KeyCrypto& crypto, DbPools db, WorkPool& hash_pool,
                           AdminPolicy policy)
    : admin_(admin),
      store_(store),
      chats_(chats),
      keys_(keys),
      hasher_(hasher),
      rules_(rules),
      crypto_(crypto),
      db_(db),
      hash_pool_(hash_pool),
      policy_(policy) {}

boost::asio::awaitable<StaffRole> AdminService::role(UserId user) {
    co_return co_await db_.reads.run([&] { return admin_.staff_role(user); });
}

boost::asio::awaitable<UserPage> AdminService::users(const UserQuery& query) {
    co_return co_await db_.reads.run([&] {
        return UserPage{admin_.count_users(query), admin_.list_users(query)};
    });
}

boost::asio::awaitable<bool> AdminService::exists(UserId user) {
    auto row = co_await db_.reads.run([&] { return admin_.find_user(user); });
    co_return row.has_value();
}

boost::asio::awaitable<Result<UserDetail>> AdminService::user(UserId user) {
    auto detail = co_await db_.reads.run([&]() -> std::optional<UserDetail> {
        auto row = admin_.find_user(user);
        if (!row) return std::nullopt;
        return UserDetail{std::move(*row),
                          store_.list_ledger(user, 0, kRecentLedger),
                          admin_.list_sessions(user, kRecentSessions),
                          {},
                          chats_.count_conversations(user),
                          admin_.spend_per_model(user)};
    });
    if (!detail) co_return no_such_user();
    detail->keys = co_await keys_.list(user);
    co_return std::move(*detail);
}

boost::asio::awaitable<Result<UserRow>> AdminService::user_named(const std::string& username) {
    auto row = co_await db_.reads.run([&] { return admin_.find_user_by_name(username); });
    if (!row) co_return no_such_user();
    co_return std::move(*row);
}

boost::asio::awaitable<Result<TokenAmount>> AdminService::adjust_balance(
    const Actor& actor, UserId user, TokenAmount delta, const std::string& reason) {
    if (delta == 0 || delta > policy_.max_grant || delta < -policy_.max_grant) {
        co_return invalid("tokens", "Ensure this value is a whole number from 1 to " +
                                        std::to_string(policy_.max_grant) + ".");
    }
    if (auto problem = reason_problem(reason)) co_return invalid("reason", *problem);
    bool grant = delta > 0;
    BalanceChange change{user,
                         delta,
                         grant ? LedgerKind::admin_grant : LedgerKind::admin_deduct,
                         "by " + actor.name + ": " + reason,
                         policy_.balance_cap,
                         false};
    AuditEntry audit = entry(actor, grant ? "tokens.grant" : "tokens.deduct", user);
    audit.reason = reason;
    auto result =
        co_await db_.writes.run([&] { return admin_.admin_change_balance(change, audit); });
    switch (result.status) {
        case ChangeStatus::applied:
            co_return result.balance;
        case ChangeStatus::no_user:
            co_return no_such_user();
        case ChangeStatus::insufficient:
            co_return invalid("tokens", "The deduction is larger than the balance (" +
                                            std::to_string(result.balance) + ").");
        case ChangeStatus::over_cap:
            co_return invalid("tokens", "The grant would pass the balance cap.");
        default:
            co_return change_error(result.status);
    }
}

boost::asio::awaitable<Result<void>> AdminService::set_active(const Actor& actor, UserId user,
                                                              bool active) {
    AuditEntry audit = entry(actor, active ? "user.activate" : "user.deactivate", user);
    bool done = co_await db_.writes.run([&] { return admin_.set_active(user, active, audit); });
    if (!done) co_return no_such_user();
    co_return Result<void>{};
}

boost::asio::awaitable<Result<void>> AdminService::set_staff(const Actor& actor, UserId user,
                                                             bool staff) {
    if (actor.user) {
        auto acting = co_await role(*actor.user);
        if (!acting.is_superuser) {
            co_return Error{
                ErrorCode::permission_denied, "Only a superuser can make or unmake staff.", {}};
        }
    }
    AuditEntry audit = entry(actor, staff ? "user.make_staff" : "user.unmake_staff", user);
    bool done = co_await db_.writes.run([&] { return admin_.set_staff(user, staff, audit); });
    if (!done) co_return no_such_user();
    co_return Result<void>{};
}

boost::asio::awaitable<Result<RevokeCounts>> AdminService::revoke_all(const Actor& actor,
                                                                      UserId user) {
    AuditEntry audit = entry(actor, "user.revoke_all", user);
    auto counts = co_await db_.writes.run([&] { return admin_.revoke_all(user, audit); });
    if (!counts) co_return no_such_user();
    co_return *counts;
}

boost::asio::awaitable<Result<std::string>> AdminService::reset_password(
    const Actor& actor, UserId user, const std::optional<std::string>& password) {
    auto row = co_await db_.reads.run([&] { return admin_.find_user(user); });
    if (!row) co_return no_such_user();
    std::string chosen = password ? *password : crypto_.random_text(kGeneratedPasswordBytes);
    auto problems = rules_.problems(chosen, row->username);
    // A generated password failing the rules (all digits, say) is astronomically rare: draw again.
    for (int draw = 0; !password && !problems.empty() && draw < kMaxDraws; ++draw) {
        chosen = crypto_.random_text(kGeneratedPasswordBytes);
        problems = rules_.problems(chosen, row->username);
    }
    if (!problems.empty()) co_return Error::fields_invalid({{"password", std::move(problems)}});
    if (hash_pool_.saturated()) co_return Error{ErrorCode::busy, "Server busy, retry later.", {}};
    std::string hash = co_await hash_pool_.run([&] { return hasher_.hash(chosen); });
    AuditEntry audit = entry(actor, "user.reset_password", user);
    audit.after = Facts().add_bool("generated", !password).json();
    bool done = co_await db_.writes.run([&] { return admin_.set_password(user, hash, audit); });
    if (!done) co_return no_such_user();
    co_return password ? std::string() : chosen;
}

boost::asio::awaitable<Result<CreatedKey>> AdminService::create_key(const Actor& actor, UserId user,
                                                                    const KeyRequest& request) {
    bool found = co_await exists(user);  // (not in the condition: GCC 12)
    if (!found) co_return no_such_user();
    auto created = co_await keys_.create(user, request);
    if (!created) co_return created.error();
    AuditEntry audit = entry(actor, "key.create", user);
    audit.after = Facts()
                      .add("key_id", created->info.id)
                      .add("name", created->info.name)
                      .add("prefix", created->info.public_id)
                      .json();
    co_await db_.writes.run([&] { admin_.append_audit(audit); });
    co_return std::move(*created);
}

boost::asio::awaitable<Result<void>> AdminService::revoke_key(const Actor& actor, UserId user,
                                                              ApiKeyId key) {
    auto revoked = co_await keys_.revoke(user, key);
    if (!revoked) co_return revoked.error();
    AuditEntry audit = entry(actor, "key.revoke", user);
    audit.before = Facts().add("key_id", key).add_bool("revoked", false).json();
    audit.after = Facts().add("key_id", key).add_bool("revoked", true).json();
    co_await db_.writes.run([&] { admin_.append_audit(audit); });
    co_return Result<void>{};
}

boost::asio::awaitable<std::vector<ApiKeyInfo>> AdminService::keys_of(UserId user) {
    co_return co_await keys_.list(user);
}

boost::asio::awaitable<AuditPage> AdminService::audit(const AuditQuery& query) {
    co_return co_await db_.reads.run([&] {
        return AuditPage{admin_.count_audit(query), admin_.list_audit(query)};
    });
}

boost::asio::awaitable<std::vector<UsageRow>> AdminService::usage(const DayRange& range) {
    constexpr std::int64_t kMaxRows = 10000;
    co_return co_await db_.reads.run([&] { return admin_.usage_by_day(range, kMaxRows); });
}

boost::asio::awaitable<std::vector<SpenderRow>> AdminService::top_spenders(const DayRange& range,
                                                                           std::int64_t limit) {
    co_return co_await db_.reads.run([&] { return admin_.top_spenders(range, limit); });
}

boost::asio::awaitable<std::vector<LedgerExportRow>> AdminService::export_page(
    const LedgerExportQuery& query) {
    co_return co_await db_.reads.run([&] { return admin_.export_ledger(query); });
}

}  // namespace chatgate::domain

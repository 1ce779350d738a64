#include "domain/ledger/ledger_service.hpp"

#include "domain/accounts/account_service.hpp"

namespace chatgate::domain {

Error change_error(ChangeStatus status) {
    switch (status) {
        case ChangeStatus::insufficient:
            return {ErrorCode::insufficient_tokens, "Insufficient tokens", {}};
        case ChangeStatus::no_user:
            return {ErrorCode::user_not_found, "User not found", {}};
        case ChangeStatus::inactive:
            return {ErrorCode::user_inactive, "User is inactive", {}};
        case ChangeStatus::key_limit:
            return {ErrorCode::key_limit_reached, "API key token limit reached", {}};
        case ChangeStatus::over_cap:
        case ChangeStatus::applied:
            break;
    }
    return {ErrorCode::internal, "unexpected balance change status", {}};
}

LedgerService::LedgerService(Store& store, DbPools db, TopUpPolicy policy)
    : store_(store), db_(db), policy_(policy) {}

boost::asio::awaitable<Result<TokenAmount>> LedgerService::balance(UserId user) {
    auto account = co_await db_.reads.run([&] { return store_.find_account(user); });
    auto active = require_active(account);
    if (!active) co_return active.error();
    co_return active->balance;
}

boost::asio::awaitable<Result<TokenAmount>> LedgerService::top_up(UserId user, TokenAmount amount) {
    if (!policy_.enabled) co_return Error{ErrorCode::permission_denied, "Top-up is disabled.", {}};
    if (amount < 1 || amount > policy_.max_per_request) {
        co_return Error{ErrorCode::invalid_argument, "Invalid token amount.", {}};
    }
    BalanceChange change{user, amount, LedgerKind::top_up, std::nullopt, policy_.balance_cap, true};
    auto result = co_await db_.writes.run([&] { return store_.change_balance(change); });
    if (result.status == ChangeStatus::applied) co_return result.balance;
    if (result.status == ChangeStatus::over_cap) {
        co_return Error{ErrorCode::invalid_argument,
                        "Balance would exceed the maximum of " +
                            std::to_string(policy_.balance_cap) + " tokens.",
                        {}};
    }
    co_return change_error(result.status);
}

boost::asio::awaitable<Result<LedgerPage>> LedgerService::history(UserId user, std::int64_t page,
                                                                  std::int64_t page_size) {
    struct Loaded {
        std::optional<Account> account;
        LedgerPage page;
    };
    auto loaded = co_await db_.reads.run([&] {
        Loaded out{store_.find_account(user), {}};
        if (out.account && out.account->is_active && page >= 1) {
            out.page.count = store_.count_ledger(user);
            out.page.entries = store_.list_ledger(user, (page - 1) * page_size, page_size);
        }
        return out;
    });
    auto active = require_active(loaded.account);
    if (!active) co_return active.error();
    bool past_end = page < 1 || (page > 1 && loaded.page.entries.empty());
    if (past_end) co_return Error{ErrorCode::not_found, "Invalid page.", {}};
    co_return std::move(loaded.page);
}

}  // namespace chatgate::domain

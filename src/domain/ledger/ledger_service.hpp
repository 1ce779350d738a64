#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <vector>

namespace chatgate::domain {

/// Filled from the configuration by the composition root.
struct TopUpPolicy {
    bool enabled{};
    TokenAmount max_per_request{};
    TokenAmount balance_cap{};
};

struct LedgerPage {
    std::int64_t count = 0;  ///< entries in the whole ledger of the user
    std::vector<LedgerEntry> entries;
};

/// Balance reads, top-ups and ledger history for a token's user. Each change is one atomic
/// store call (conditional update plus ledger row). Thread-safe.
class LedgerService {
public:
    LedgerService(Store& store, DbPools db, TopUpPolicy policy);

    boost::asio::awaitable<Result<TokenAmount>> balance(UserId user);
    /// Errors: permission_denied (top-ups switched off), invalid_argument (amount out of range
    /// or the cap would be passed), user_not_found, user_inactive.
    boost::asio::awaitable<Result<TokenAmount>> top_up(UserId user, TokenAmount amount);
    /// `page` counts from 1; a page past the end (other than an empty first page) is not_found.
    boost::asio::awaitable<Result<LedgerPage>> history(UserId user, std::int64_t page,
                                                       std::int64_t page_size);
    /// The configured top-up rules, which clients may show before offering a top-up.
    const TopUpPolicy& top_up_policy() const { return policy_; }

private:
    Store& store_;
    DbPools db_;
    TopUpPolicy policy_;
};

/// The error for a refused balance change, shared by every service that changes balances.
Error change_error(ChangeStatus status);

}  // namespace chatgate::domain

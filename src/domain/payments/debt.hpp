#pragma once

#include "core/ids.hpp"

#include <cstdint>

/// The arithmetic of refunds and debt (see "Selling tokens" in the README): pure functions, so
/// the store's transactions and the tests share them.
namespace chatgate::domain {

/// The tokens of a credit that a cumulative `amount_refunded` of its `amount` takes back,
/// proportionally, rounded down (a full refund takes back everything). Refunded amounts beyond
/// `amount` count as `amount`; nothing is taken for an amount of zero or less.
TokenAmount refunded_tokens(TokenAmount credited, std::int64_t amount,
                            std::int64_t amount_refunded);

/// A refund of `owed` tokens from a balance of `balance`: what the balance gives now, and what
/// remains as debt.
struct RefundSplit {
    TokenAmount deducted = 0;
    TokenAmount debt = 0;
};
RefundSplit split_refund(TokenAmount balance, TokenAmount owed);

/// Of a paid credit of `credit` tokens, the part that pays off an outstanding `debt` first.
TokenAmount debt_repayment(TokenAmount debt, TokenAmount credit);

}  // namespace chatgate::domain

#include "domain/payments/debt.hpp"

#include <algorithm>

namespace chatgate::domain {
namespace {

// 128 bits: tokens times minor units can pass 2^63 (a GCC and Clang extension).
__extension__ using Wide = __int128;

}  // namespace

TokenAmount refunded_tokens(TokenAmount credited, std::int64_t amount,
                            std::int64_t amount_refunded) {
    if (amount <= 0 || credited <= 0 || amount_refunded <= 0) return 0;
    if (amount_refunded >= amount) return credited;
    Wide share = static_cast<Wide>(credited) * amount_refunded / amount;
    return static_cast<TokenAmount>(share);
}

RefundSplit split_refund(TokenAmount balance, TokenAmount owed) {
    if (owed <= 0) return {};
    TokenAmount deducted = std::clamp<TokenAmount>(balance, 0, owed);
    return {deducted, owed - deducted};
}

TokenAmount debt_repayment(TokenAmount debt, TokenAmount credit) {
    if (debt <= 0 || credit <= 0) return 0;
    return std::min(debt, credit);
}

}  // namespace chatgate::domain

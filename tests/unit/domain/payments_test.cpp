// The arithmetic of refunds and debt, and the redemption codes' format.

#include "domain/payments/code_service.hpp"
#include "domain/payments/debt.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace chatgate::domain {
namespace {

TEST(RefundedTokens, AreProportionalRoundedDownAndWholeForAFullRefund) {
    EXPECT_EQ(refunded_tokens(1000, 500, 0), 0);
    EXPECT_EQ(refunded_tokens(1000, 500, 250), 500);
    EXPECT_EQ(refunded_tokens(1000, 300, 100), 333);  // down: never more than was refunded
    EXPECT_EQ(refunded_tokens(1000, 300, 299), 996);
    EXPECT_EQ(refunded_tokens(1000, 300, 300), 1000);
    EXPECT_EQ(refunded_tokens(1000, 300, 900), 1000);  // beyond the amount: all of it
    EXPECT_EQ(refunded_tokens(1000, 0, 10), 0);
    EXPECT_EQ(refunded_tokens(0, 300, 10), 0);
}

TEST(RefundedTokens, DoNotOverflowOnLargeAmounts) {
    const TokenAmount tokens = 4'000'000'000'000'000'000;
    EXPECT_EQ(refunded_tokens(tokens, 4'000'000'000, 1'000'000'000), tokens / 4);
}

TEST(SplitRefund, TakesWhatTheBalanceAllowsAndTheRestBecomesDebt) {
    EXPECT_EQ(split_refund(5000, 1000).deducted, 1000);
    EXPECT_EQ(split_refund(5000, 1000).debt, 0);
    EXPECT_EQ(split_refund(300, 1000).deducted, 300);
    EXPECT_EQ(split_refund(300, 1000).debt, 700);
    EXPECT_EQ(split_refund(0, 1000).deducted, 0);
    EXPECT_EQ(split_refund(0, 1000).debt, 1000);
    EXPECT_EQ(split_refund(300, 0).deducted, 0);
    EXPECT_EQ(split_refund(300, 0).debt, 0);
}

TEST(DebtRepayment, PaysTheDebtFirstButNeverMoreThanTheCredit) {
    EXPECT_EQ(debt_repayment(0, 500), 0);
    EXPECT_EQ(debt_repayment(700, 500), 500);
    EXPECT_EQ(debt_repayment(700, 1000), 700);
    EXPECT_EQ(debt_repayment(700, 0), 0);
}

TEST(RedemptionCodes, AreBase32InGroupsAndCanonicalInAnySpelling) {
    std::string random(CodeService::kRandomBytes, '\0');
    for (std::size_t i = 0; i < random.size(); ++i) random[i] = static_cast<char>(i * 37 + 5);
    std::string code = CodeService::format(random);
    ASSERT_EQ(code.size(), 2 + 8 * 5u);
    EXPECT_EQ(code.substr(0, 3), "CG-");
    auto canonical = CodeService::canonical(code);
    ASSERT_TRUE(canonical.has_value());
    EXPECT_EQ(canonical->size(), 32u);
    std::string sloppy;
    for (char c : code) sloppy += c == '-' ? ' ' : static_cast<char>(std::tolower(c));
    EXPECT_EQ(CodeService::canonical(sloppy), canonical);
    // Different bytes, different codes: every one of the 160 bits shows.
    std::set<std::string> seen{code};
    for (std::size_t i = 0; i < random.size() * 8; ++i) {
        std::string flipped = random;
        flipped[i / 8] = static_cast<char>(flipped[i / 8] ^ (1 << (i % 8)));
        EXPECT_TRUE(seen.insert(CodeService::format(flipped)).second) << i;
    }
}

TEST(RedemptionCodes, OtherTextIsNoCode) {
    EXPECT_FALSE(CodeService::canonical(""));
    EXPECT_FALSE(CodeService::canonical("CG-"));
    EXPECT_FALSE(CodeService::canonical("XX-" + std::string(32, 'A')));
    EXPECT_FALSE(CodeService::canonical("CG-" + std::string(31, 'A')));
    EXPECT_FALSE(CodeService::canonical("CG-" + std::string(33, 'A')));
    EXPECT_FALSE(CodeService::canonical("CG-" + std::string(31, 'A') + "1"));  // not base32
    EXPECT_FALSE(CodeService::canonical(std::string(10000, 'A')));
    EXPECT_TRUE(CodeService::canonical("cg" + std::string(32, 'a')));
}

}  // namespace
}  // namespace chatgate::domain

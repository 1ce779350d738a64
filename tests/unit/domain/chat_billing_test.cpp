#include "domain/chat/chat_billing.hpp"

#include <gtest/gtest.h>

namespace chatgate::domain {
namespace {

TEST(ChatBilling, CompletionCapIsTheRequestsWhenBelowTheModels) {
    EXPECT_EQ(effective_completion_cap(500, 0), 500);
    EXPECT_EQ(effective_completion_cap(500, 100), 100);
    EXPECT_EQ(effective_completion_cap(500, 5000), 500);
    EXPECT_EQ(effective_completion_cap(0, 0), kDefaultCompletionCap);
}

TEST(ChatBilling, PromptBoundCountsEveryByteAndTurn) {
    ChatPrompt prompt{"m", {{ChatRole::user, "hello"}, {ChatRole::assistant, "héllo"}}, 10};
    EXPECT_EQ(prompt_token_bound(prompt), kTokensPerTurn + 5 + kTokensPerTurn + 6 + kTokensPerTurn);
}

TEST(ChatBilling, PromptBoundCountsToolCallsImagesAndOptions) {
    ChatPrompt prompt;
    ChatTurn look{ChatRole::user, "what is this?", "{...}", 0, 2};
    ChatTurn call{ChatRole::assistant, "", "{...}", 30, 0};
    prompt.turns = {look, call};
    prompt.image_token_bound = 1000;
    prompt.options = R"({"tools":[]})";
    EXPECT_EQ(prompt_token_bound(prompt), kTokensPerTurn + 12 + kTokensPerTurn +  // options
                                              13 + kTokensPerTurn + 2 * 1000 +    // text, images
                                              30 + kTokensPerTurn);               // the call
    // The wire copy itself (an image's base64 bytes) is not counted: images have their bound.
    prompt.turns[0].wire = std::string(100000, 'x');
    EXPECT_EQ(prompt_token_bound(prompt), kTokensPerTurn + 12 + kTokensPerTurn + 13 +
                                              kTokensPerTurn + 2000 + 30 + kTokensPerTurn);
    prompt.turns[0].image_parts = INT64_MAX;
    EXPECT_EQ(prompt_token_bound(prompt), INT64_MAX);
}

TEST(ChatBilling, PricesRoundUpAndSaturate) {
    EXPECT_EQ(price_per_1k(10, 1), 1);
    EXPECT_EQ(price_per_1k(10, 100), 1);
    EXPECT_EQ(price_per_1k(10, 101), 2);
    EXPECT_EQ(price_per_1k(0, 1000), 0);
    EXPECT_EQ(price_per_1k(INT64_MAX, INT64_MAX), INT64_MAX);
    ModelPrice price{100, 10, 20};
    EXPECT_EQ(reservation_for(price, 1000, 1000), 130);
    EXPECT_EQ(reservation_for({INT64_MAX, 1, 1}, 1000, 1000), INT64_MAX);
}

TEST(ChatBilling, RealCostIsCappedAtTheReservation) {
    ModelPrice price{100, 10, 20};
    EXPECT_EQ(price_of(price, {500, 250, true}, 1000), 110);
    EXPECT_EQ(price_of(price, {500'000, 250'000, true}, 1000), 1000);
    EXPECT_EQ(price_of(price, {-5, -5, true}, 1000), 100);  // nonsense usage: the fixed price
}

TEST(ChatBilling, MissingUsageIsEstimatedAtFourBytesPerToken) {
    auto usage = estimate_usage(9, 4);
    EXPECT_EQ(usage.prompt_tokens, 3);
    EXPECT_EQ(usage.completion_tokens, 1);
    EXPECT_FALSE(usage.reported);
}

TEST(ChatBilling, BoundedTextKeepsWholeCharactersUpToItsLimit) {
    BoundedText text(6);
    text.append("abc");
    text.append("d\xc3\xa9");  // "dé": 6 bytes in all, fits
    EXPECT_EQ(text.view(), "abcd\xc3\xa9");
    EXPECT_FALSE(text.truncated());
    text.append("more");
    EXPECT_EQ(text.view(), "abcd\xc3\xa9");
    EXPECT_TRUE(text.truncated());

    BoundedText cut(5);
    cut.append("abcd\xe2\x82\xac");  // the euro sign would need bytes 5..7
    EXPECT_EQ(cut.view(), "abcd");
    EXPECT_EQ(text_limit_bytes(10), static_cast<std::size_t>(10 * kStoredBytesPerToken));
}

}  // namespace
}  // namespace chatgate::domain

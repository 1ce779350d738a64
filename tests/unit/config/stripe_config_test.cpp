// The `stripe` configuration: read with its defaults, secrets resolved and never described,
// every bad entry refused naming its key.

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace chatgate {
namespace {

constexpr const char* kGood = R"({"secret_key_env": "CG_TEST_STRIPE_KEY",
    "webhook_secret_env": "CG_TEST_STRIPE_WHSEC",
    "prices": [{"price": "price_a", "tokens": 1000}, {"price": "price_b", "tokens": 5}],
    "success_url": "https://shop.example/ok?s={CHECKOUT_SESSION_ID}",
    "cancel_url": "https://shop.example/no"})";

class StripeConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("CG_TEST_STRIPE_KEY", "sk_test_123", 1);
        ::setenv("CG_TEST_STRIPE_WHSEC", "whsec_456", 1);
    }
    void TearDown() override {
        ::unsetenv("CG_TEST_STRIPE_KEY");
        ::unsetenv("CG_TEST_STRIPE_WHSEC");
    }
    static Result<Config> load(const std::string& stripe) {
        ConfigSources sources;
        sources.use_environment = false;
        sources.cli["stripe"] = stripe;
        return load_config(sources);
    }
    static void expect_refused(const std::string& stripe, const std::string& key) {
        auto config = load(stripe);
        ASSERT_FALSE(config) << stripe;
        EXPECT_NE(config.error().message.find("'stripe." + key + "'"), std::string::npos)
            << config.error().message;
    }
};

TEST_F(StripeConfigTest, IsOffWithoutTheKey) {
    ConfigSources sources;
    sources.use_environment = false;
    auto config = load_config(sources);
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->stripe.enabled);
}

TEST_F(StripeConfigTest, ReadsThePriceTableAndSecretsWithDefaults) {
    auto config = load(kGood);
    ASSERT_TRUE(config) << config.error().message;
    const auto& s = config->stripe;
    EXPECT_TRUE(s.enabled);
    EXPECT_EQ(s.url.host, "api.stripe.com");
    EXPECT_TRUE(s.url.tls);
    EXPECT_EQ(s.secret_key, "sk_test_123");
    EXPECT_EQ(s.webhook_secret, "whsec_456");
    EXPECT_EQ(s.webhook_tolerance_seconds, 300);
    ASSERT_EQ(s.prices.size(), 2u);
    EXPECT_EQ(s.prices[1].price, "price_b");
    EXPECT_EQ(s.prices[1].tokens, 5);
    std::string described = describe(*config);
    EXPECT_EQ(described.find("sk_test_123"), std::string::npos);
    EXPECT_EQ(described.find("whsec_456"), std::string::npos);
    EXPECT_NE(described.find("price_a"), std::string::npos);
}

TEST_F(StripeConfigTest, RefusesBadEntriesNamingThem) {
    std::string good = kGood;
    auto with = [&](std::string_view from, std::string_view to) {
        std::string out = good;
        out.replace(out.find(from), from.size(), to);
        return out;
    };
    expect_refused(with(R"("tokens": 5)", R"("tokens": 0)"), "prices[1].tokens");
    expect_refused(with(R"("price_b")", R"("price_a")"), "prices[1].price");
    expect_refused(
        with(R"([{"price": "price_a", "tokens": 1000}, {"price": "price_b", "tokens": 5}])", "[]"),
        "prices");
    expect_refused(with("CG_TEST_STRIPE_WHSEC", "CG_TEST_UNSET_VARIABLE"), "webhook_secret_env");
    expect_refused(with(R"("secret_key_env": "CG_TEST_STRIPE_KEY",)", ""), "secret_key_env");
    expect_refused(with("https://shop.example/no", "ftp://shop.example/no"), "cancel_url");
    expect_refused(with(R"({"secret_key_env")", R"({"api_base": "nope", "secret_key_env")"),
                   "api_base");
    expect_refused(with(R"({"secret_key_env")", R"({"webhook_tolerance_seconds": 0,
        "secret_key_env")"),
                   "webhook_tolerance_seconds");
    expect_refused(with(R"({"secret_key_env")", R"({"surprise": 1, "secret_key_env")"), "surprise");
}

}  // namespace
}  // namespace chatgate

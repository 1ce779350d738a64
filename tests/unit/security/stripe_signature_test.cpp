// Stripe's webhook signatures: the header parsed as documented, HMAC-SHA256 over "t.payload",
// the tolerance both ways, any of several v1 signatures (a secret being rotated).

#include "security/stripe_signature.hpp"

#include <gtest/gtest.h>

namespace chatgate::security {
namespace {

constexpr std::string_view kSecret = "whsec_x";
constexpr std::string_view kPayload = R"({"a":1})";
constexpr std::int64_t kTime = 1'700'000'000;
// From the official stripe npm library's generateTestHeaderString on the same inputs.
constexpr std::string_view kExpected =
    "b3438763ab46d9634b9844c8722818eaf523f803db1327484c6067462a5fd6d1";

std::string header_with(std::string_view signatures, std::int64_t t = kTime) {
    return "t=" + std::to_string(t) + "," + std::string(signatures);
}

TEST(StripeSignature, IsHmacSha256OfTimestampDotPayloadInHex) {
    EXPECT_EQ(stripe_signature(kSecret, kTime, kPayload), kExpected);
}

TEST(StripeSignatureHeader, KeepsTheTimestampAndEveryV1) {
    auto parsed = parse_stripe_signature("t=12,v1=aa,v0=bb, v1=cc,x=y,junk");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->timestamp, 12);
    ASSERT_EQ(parsed->signatures.size(), 2u);
    EXPECT_EQ(parsed->signatures[0], "aa");
    EXPECT_EQ(parsed->signatures[1], "cc");
}

TEST(StripeSignatureHeader, NeedsATimestampAndAV1) {
    EXPECT_FALSE(parse_stripe_signature(""));
    EXPECT_FALSE(parse_stripe_signature("v1=aa"));
    EXPECT_FALSE(parse_stripe_signature("t=12"));
    EXPECT_FALSE(parse_stripe_signature("t=12,v0=aa"));
    EXPECT_FALSE(parse_stripe_signature("t=abc,v1=aa"));
    EXPECT_FALSE(parse_stripe_signature("t=-5,v1=aa"));
    EXPECT_FALSE(parse_stripe_signature("t=99999999999999999999,v1=aa"));
}

TEST(StripeWebhookVerifier, AcceptsTheRightSignatureWithinTheTolerance) {
    StripeWebhookVerifier verifier{std::string(kSecret), 300};
    std::string header = header_with("v1=" + std::string(kExpected));
    EXPECT_TRUE(verifier.verify(header, kPayload, kTime));
    EXPECT_TRUE(verifier.verify(header, kPayload, kTime + 300));
    EXPECT_TRUE(verifier.verify(header, kPayload, kTime - 300));
    EXPECT_FALSE(verifier.verify(header, kPayload, kTime + 301));  // a replay, too old
    EXPECT_FALSE(verifier.verify(header, kPayload, kTime - 301));  // from the future
}

TEST(StripeWebhookVerifier, RefusesAnyChangeOfPayloadTimestampOrSecret) {
    StripeWebhookVerifier verifier{std::string(kSecret), 300};
    std::string header = header_with("v1=" + std::string(kExpected));
    EXPECT_FALSE(verifier.verify(header, R"({"a":2})", kTime));
    EXPECT_FALSE(verifier.verify(header, std::string(kPayload) + " ", kTime));
    EXPECT_FALSE(
        verifier.verify(header_with("v1=" + std::string(kExpected), kTime + 1), kPayload, kTime));
    StripeWebhookVerifier other{"whsec_y", 300};
    EXPECT_FALSE(other.verify(header, kPayload, kTime));
    std::string upper(kExpected);
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    EXPECT_FALSE(verifier.verify(header_with("v1=" + upper), kPayload, kTime));
    EXPECT_FALSE(
        verifier.verify(header_with("v1=" + std::string(kExpected.substr(1))), kPayload, kTime));
}

TEST(StripeWebhookVerifier, AcceptsAnyOfSeveralSignatures) {
    StripeWebhookVerifier verifier{std::string(kSecret), 300};
    std::string old = stripe_signature("whsec_old", kTime, kPayload);
    EXPECT_TRUE(verifier.verify(header_with("v1=" + old + ",v1=" + std::string(kExpected)),
                                kPayload, kTime));
    EXPECT_TRUE(verifier.verify(header_with("v1=" + std::string(kExpected) + ",v1=" + old),
                                kPayload, kTime));
    EXPECT_FALSE(verifier.verify(header_with("v1=" + old + ",v0=" + std::string(kExpected)),
                                 kPayload, kTime));
}

}  // namespace
}  // namespace chatgate::security

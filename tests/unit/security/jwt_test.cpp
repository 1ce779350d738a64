#include "security/jwt.hpp"

#include "support/manual_clock.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sodium.h>

namespace chatgate::security {
namespace {

using namespace std::chrono_literals;
using testing::ManualClock;

const std::string kKey(40, 'k');

std::string b64(std::string_view text) {
    std::string out(
        sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                      text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.pop_back();
    return out;
}

std::string unb64(std::string_view text) {
    std::string out(text.size(), '\0');
    size_t len = 0;
    sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                      text.size(), nullptr, &len, nullptr,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(len);
    return out;
}

std::string hmac(std::string_view key, std::string_view input) {
    crypto_auth_hmacsha256_state st;
    unsigned char mac[32];
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()),
                                  input.size());
    crypto_auth_hmacsha256_final(&st, mac);
    return b64(std::string_view(reinterpret_cast<char*>(mac), 32));
}

struct Parts {
    std::string header, payload, signature;
};

Parts split(const std::string& token) {
    auto a = token.find('.');
    auto b = token.find('.', a + 1);
    return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

class JwtTest : public ::testing::Test {
protected:
    ManualClock clock;
    JwtCodec codec{kKey, clock};
};

TEST_F(JwtTest, IssuedTokenVerifiesWithSimpleJwtClaims) {
    auto token = codec.issue(42, TokenType::access, 1800s);
    auto claims = codec.verify(token, TokenType::access);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->user_id, 42);
    EXPECT_EQ(claims->expires_at - claims->issued_at, 1800);
    EXPECT_EQ(claims->jti.size(), 32u);

    auto payload = boost::json::parse(unb64(split(token).payload)).as_object();
    EXPECT_EQ(payload.at("token_type").as_string(), "access");
    EXPECT_TRUE(payload.at("user_id").is_int64());
    auto header = boost::json::parse(unb64(split(token).header)).as_object();
    EXPECT_EQ(header.at("alg").as_string(), "HS256");
    EXPECT_EQ(header.at("typ").as_string(), "JWT");
}

TEST_F(JwtTest, EveryTokenHasItsOwnJti) {
    auto a = codec.verify(codec.issue(1, TokenType::access, 60s), TokenType::access);
    auto b = codec.verify(codec.issue(1, TokenType::access, 60s), TokenType::access);
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->jti, b->jti);
}

TEST_F(JwtTest, ExpiredTokenIsRefused) {
    auto token = codec.issue(1, TokenType::access, 60s);
    clock.advance(59s);
    EXPECT_TRUE(codec.verify(token, TokenType::access));
    clock.advance(1s);
    auto claims = codec.verify(token, TokenType::access);
    ASSERT_FALSE(claims);
    EXPECT_EQ(claims.error(), TokenRejection::expired);
}

TEST_F(JwtTest, WrongTypeIsReportedAsSuch) {
    auto refresh = codec.issue(1, TokenType::refresh, 60s);
    auto claims = codec.verify(refresh, TokenType::access);
    ASSERT_FALSE(claims);
    EXPECT_EQ(claims.error(), TokenRejection::wrong_type);
    EXPECT_TRUE(codec.verify(refresh, TokenType::refresh));
}

TEST_F(JwtTest, TamperedPayloadIsRefused) {
    auto p = split(codec.issue(1, TokenType::access, 60s));
    auto payload = unb64(p.payload);
    payload.replace(payload.find("\"user_id\":1"), 11, "\"user_id\":2");
    auto claims =
        codec.verify(p.header + "." + b64(payload) + "." + p.signature, TokenType::access);
    ASSERT_FALSE(claims);
    EXPECT_EQ(claims.error(), TokenRejection::bad_signature);
}

TEST_F(JwtTest, TamperedSignatureIsRefused) {
    auto token = codec.issue(1, TokenType::access, 60s);
    token.back() = token.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec.verify(token, TokenType::access));
}

TEST_F(JwtTest, OtherKeyIsRefused) {
    JwtCodec other(std::string(40, 'x'), clock);
    EXPECT_FALSE(codec.verify(other.issue(1, TokenType::access, 60s), TokenType::access));
}

TEST_F(JwtTest, AlgNoneIsRefused) {
    auto p = split(codec.issue(1, TokenType::access, 60s));
    std::string header = b64(R"({"alg":"none","typ":"JWT"})");
    EXPECT_FALSE(codec.verify(header + "." + p.payload + ".", TokenType::access));
    EXPECT_FALSE(codec.verify(header + "." + p.payload, TokenType::access));
}

TEST_F(JwtTest, OtherAlgorithmIsRefusedEvenWhenCorrectlySigned) {
    auto p = split(codec.issue(1, TokenType::access, 60s));
    for (const char* alg : {"HS512", "HS384", "RS256", "hs256"}) {
        std::string header = b64(std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})");
        std::string input = header + "." + p.payload;
        auto claims = codec.verify(input + "." + hmac(kKey, input), TokenType::access);
        ASSERT_FALSE(claims) << alg;
        EXPECT_EQ(claims.error(), TokenRejection::malformed) << alg;
    }
}

TEST_F(JwtTest, CorrectlySignedButMissingClaimsAreRefused) {
    std::string header = b64(R"({"alg":"HS256","typ":"JWT"})");
    for (const char* payload :
         {R"({"token_type":"access","exp":9999999999})",
          R"({"token_type":"access","user_id":1,"jti":"x"})",
          R"({"token_type":"access","exp":"9999999999","user_id":1,"jti":"x"})", R"([1,2])",
          "not json"}) {
        std::string input = header + "." + b64(payload);
        EXPECT_FALSE(codec.verify(input + "." + hmac(kKey, input), TokenType::access)) << payload;
    }
}

TEST_F(JwtTest, SessionClaimsRoundTrip) {
    auto refresh =
        codec.verify(codec.issue(7, TokenType::refresh, 60s, {11, 3, 2}), TokenType::refresh);
    ASSERT_TRUE(refresh);
    EXPECT_EQ(refresh->session_id, 11);
    EXPECT_EQ(refresh->generation, 3);
    EXPECT_EQ(refresh->epoch, 2);
    auto access_token = codec.issue(7, TokenType::access, 60s, {11, 3, 2});
    auto payload = boost::json::parse(unb64(split(access_token).payload)).as_object();
    EXPECT_FALSE(payload.contains("gen"));  // only refresh tokens name a generation
    auto access = codec.verify(access_token, TokenType::access);
    ASSERT_TRUE(access);
    EXPECT_EQ(access->session_id, 11);
    EXPECT_EQ(access->epoch, 2);
    // Without a session: no session claims, read as 0.
    auto legacy = codec.verify(codec.issue(7, TokenType::access, 60s), TokenType::access);
    ASSERT_TRUE(legacy);
    EXPECT_EQ(legacy->session_id, 0);
    EXPECT_EQ(legacy->epoch, 0);
}

TEST_F(JwtTest, NonIntegerSessionClaimsAreRefused) {
    std::string header = b64(R"({"alg":"HS256","typ":"JWT"})");
    for (const char* payload :
         {R"({"token_type":"access","exp":9999999999,"user_id":1,"jti":"x","sid":"1"})",
          R"({"token_type":"access","exp":9999999999,"user_id":1,"jti":"x","sep":1.5})",
          R"({"token_type":"access","exp":9999999999,"user_id":1,"jti":"x","gen":null})"}) {
        std::string input = header + "." + b64(payload);
        EXPECT_FALSE(codec.verify(input + "." + hmac(kKey, input), TokenType::access)) << payload;
    }
}

TEST_F(JwtTest, GarbageIsRefused) {
    for (const char* token : {"", ".", "..", "a.b.c", "a.b.c.d", "abc", "....", "a..c"}) {
        EXPECT_FALSE(codec.verify(token, TokenType::access)) << token;
    }
    EXPECT_FALSE(codec.verify(std::string(10000, 'a'), TokenType::access));
}

TEST_F(JwtTest, ShortKeyIsRejected) {
    EXPECT_THROW(JwtCodec(std::string(31, 'k'), clock), std::invalid_argument);
}

}  // namespace
}  // namespace chatgate::security

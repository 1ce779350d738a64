#include "domain/accounts/credential_rules.hpp"

#include <gtest/gtest.h>

namespace chatgate::domain {
namespace {

using Messages = std::vector<std::string>;

const std::string kSimilar = "The password is too similar to the username.";
const std::string kShort = "This password is too short. It must contain at least 8 characters.";
const std::string kCommon = "This password is too common.";
const std::string kNumeric = "This password is entirely numeric.";

class PasswordRulesTest : public ::testing::Test {
protected:
    PasswordRules rules{"password\n123456\nqwerty\n12345678\n  iloveyou  \n"};
};

TEST_F(PasswordRulesTest, StrongPasswordPasses) {
    EXPECT_EQ(rules.problems("correct-horse-battery", "alice"), Messages{});
}

TEST_F(PasswordRulesTest, DjangoOrderAndMessages) {
    EXPECT_EQ(rules.problems("1", "alice"), (Messages{kShort, kNumeric}));
    EXPECT_EQ(rules.problems("12345678", "alice"), (Messages{kCommon, kNumeric}));
    EXPECT_EQ(rules.problems("password", "bob"), (Messages{kCommon}));
    EXPECT_EQ(rules.problems("98765432123", "bob"), (Messages{kNumeric}));
}

TEST_F(PasswordRulesTest, CommonCheckIgnoresCaseAndSurroundingSpace) {
    EXPECT_EQ(rules.problems("PassWord", "bob"), (Messages{kCommon}));
    EXPECT_EQ(rules.problems("ILOVEYOU", "bob"), (Messages{kCommon}));
}

TEST_F(PasswordRulesTest, SimilarToUsername) {
    EXPECT_EQ(rules.problems("alicealice", "alicealice"), (Messages{kSimilar}));
    EXPECT_EQ(rules.problems("ALICEWONDER1", "alicewonder"), (Messages{kSimilar}));
    // Parts of the name split on non-word characters are compared too.
    EXPECT_EQ(rules.problems("wonderland9", "alice.wonderland"), (Messages{kSimilar}));
    EXPECT_EQ(rules.problems("zq8#Lp2!vR", "alice"), Messages{});
}

TEST_F(PasswordRulesTest, VeryShortNamePartsAreNotCompared) {
    // Django skips parts far shorter than the password ("a" against 12 characters).
    EXPECT_EQ(rules.problems("xa9-Kq2!zmW4", "a"), Messages{});
}

TEST_F(PasswordRulesTest, LengthCountsCharactersNotBytes) {
    EXPECT_EQ(rules.problems("ééééééé", "bob"), (Messages{kShort}));  // 7 characters, 14 bytes
    EXPECT_EQ(rules.problems("éééééééé", "bob"), Messages{});
}

TEST(UsernameRules, DjangoCharacterSet) {
    EXPECT_TRUE(username_problems("alice_01.b@c+d-e").empty());
    EXPECT_TRUE(username_problems("Zoë").empty());
    EXPECT_FALSE(username_problems("has space").empty());
    EXPECT_FALSE(username_problems("semi;colon").empty());
    EXPECT_FALSE(username_problems("slash/").empty());
}

TEST(UsernameRules, LookAlikesAreRefusedAfterNormalising) {
    for (std::string_view raw : {"ad\u200Bmin", "\u202Eadmin", "ad\u00ADmin", "\uFEFFadmin",
                                 "ad\u00A0min", "admin\u2028", "admin\U0001F600"}) {
        EXPECT_FALSE(username_problems(normalize_username(raw)).empty()) << raw;
    }
}

TEST(UsernameRules, CompatibilityFormsNormaliseToTheNameTheyLookLike) {
    EXPECT_EQ(normalize_username("\uFF41\uFF44\uFF4D\uFF49\uFF4E"), "admin");  // fullwidth
    EXPECT_EQ(normalize_username("\u24D0dmin"), "admin");                      // circled a
    EXPECT_EQ(normalize_username("Zoe\u0308"), "Zo\u00EB");                    // composed
    EXPECT_TRUE(username_problems(normalize_username("\u0130stanbul_\u0661")).empty());
}

TEST(UsernameRules, ANameLengthenedByNormalisingIsTooLong) {
    std::string raw(48, 'a');
    raw += "\u337F";  // one character, four after NFKC
    EXPECT_EQ(username_problems(normalize_username(raw)),
              std::vector<std::string>{"Ensure this field has no more than 50 characters."});
}

TEST(CountChars, CodePoints) {
    EXPECT_EQ(count_chars(""), 0u);
    EXPECT_EQ(count_chars("abc"), 3u);
    EXPECT_EQ(count_chars("é€𝄞"), 3u);
}

}  // namespace
}  // namespace chatgate::domain

#include "core/unicode.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chatgate::unicode {
namespace {

std::string valid(std::string text) {
    make_valid_utf8(text);
    return text;
}

TEST(MakeValidUtf8, ValidTextIsUnchanged) {
    EXPECT_EQ(valid("plain"), "plain");
    EXPECT_EQ(valid("Zo\u00eb \u20ac \U0001D11E"), "Zo\u00eb \u20ac \U0001D11E");
}

TEST(MakeValidUtf8, IllFormedSequencesBecomeReplacementCharacters) {
    EXPECT_EQ(valid("\xff"), "\uFFFD");
    EXPECT_EQ(valid("/v1/\xff/x"), "/v1/\uFFFD/x");
    EXPECT_EQ(valid("a\xc3"), "a\uFFFD");                      // truncated
    EXPECT_EQ(valid("\xed\xa0\x80z"), "\uFFFD\uFFFD\uFFFDz");  // a surrogate, byte by byte
    EXPECT_EQ(valid("\xc0\xafok"), "\uFFFD\uFFFDok");          // overlong
}

}  // namespace
}  // namespace chatgate::unicode

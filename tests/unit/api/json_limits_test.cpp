#include "api/wire/json_io.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chatgate::api {
namespace {

constexpr JsonLimits kLimits{4, 8};

std::string nested(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

bool refused(const Result<boost::json::value>& r) {
    return !r && r.error().code == ErrorCode::malformed_request &&
           r.error().message.starts_with("JSON parse error - ");
}

TEST(JsonLimits, DepthUpToTheLimitParses) {
    EXPECT_TRUE(parse_json(nested(4), kLimits));
    EXPECT_TRUE(refused(parse_json(nested(5), kLimits)));
    EXPECT_TRUE(refused(parse_json(R"({"a":{"b":{"c":{"d":{}}}}})", kLimits)));
}

TEST(JsonLimits, StringsAndKeysAreCappedWherever) {
    EXPECT_TRUE(parse_json(R"({"12345678":"12345678"})", kLimits));
    EXPECT_TRUE(refused(parse_json(R"("123456789")", kLimits)));
    EXPECT_TRUE(refused(parse_json(R"({"123456789":1})", kLimits)));
    EXPECT_TRUE(refused(parse_json(R"([1,[2,{"a":"123456789"}]])", kLimits)));
}

TEST(JsonLimits, LengthIsCountedDecoded) {
    // Five two-byte characters: ten bytes once decoded, though the escapes are longer.
    EXPECT_TRUE(refused(parse_json(R"("\u00e9\u00e9\u00e9\u00e9\u00e9")", kLimits)));
    // Eight characters written as escapes: eight bytes.
    EXPECT_TRUE(parse_json(R"("\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041")", kLimits));
}

TEST(JsonLimits, ParseBodyUsesTheGivenLimits) {
    http::Request request;
    http::Header type{"Content-Type", "application/json"};
    request.headers.push_back(type);
    request.body = R"({"message":"123456789"})";
    EXPECT_TRUE(refused(parse_body(request, kLimits)));
    request.headers[0].value = "application/x-www-form-urlencoded";
    request.body = "message=123456789";
    auto form = parse_body(request, kLimits);
    ASSERT_FALSE(form);
    EXPECT_EQ(form.error().code, ErrorCode::malformed_request);
    request.body = "message=12345678";
    EXPECT_TRUE(parse_body(request, kLimits));
}

}  // namespace
}  // namespace chatgate::api

// Form bodies must hold the same text JSON bodies can: strict UTF-8. Found by the form_body
// fuzzer (tests/fuzz/corpus/form_body/crash-overlong-utf8): an overlong "%C1%B6" was accepted,
// and the stored text could not be written back into a JSON answer.
#include "api/wire/json_io.hpp"
#include "app/settings.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chatgate::api {
namespace {

Result<boost::json::value> parse_form(std::string_view body) {
    http::Request request;
    request.method = http::Method::post;
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    request.body = body;
    return parse_body(request, app::json_limits(Config{}));
}

TEST(FormUtf8, AcceptsWellFormedText) {
    // 2-, 3- and 4-byte forms at the edges of their ranges: U+0080, U+07FF, U+0800, U+D7FF,
    // U+E000, U+FFFF, U+10000, U+10FFFF.
    auto body = parse_form(
        "a=%C2%80%DF%BF&b=%E0%A0%80%ED%9F%BF&c=%EE%80%80%EF%BF%BF&d=%F0%90%80%80%F4%8F%BF%BF");
    ASSERT_TRUE(body) << body.error().message;
    EXPECT_EQ(body->at("a").as_string(), "\xC2\x80\xDF\xBF");
    EXPECT_EQ(body->at("d").as_string(), "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
}

TEST(FormUtf8, RefusesWhatIsNotUtf8) {
    for (std::string body : {
             "username=b%C1%B6",       // overlong 2-byte form (the fuzzer's find)
             "username=%C0%80",        // overlong NUL
             "username=%E0%80%80",     // overlong 3-byte form
             "username=%F0%80%80%80",  // overlong 4-byte form
             "username=%ED%A0%80",     // a UTF-16 surrogate
             "username=%F4%90%80%80",  // above U+10FFFF
             "username=%F5%80%80%80",  // no such lead byte
             "username=%80",           // a lone continuation byte
             "username=%E2%82",        // cut short
             "u%FF=x",                 // keys too
         }) {
        auto parsed = parse_form(body);
        ASSERT_FALSE(parsed) << body;
        EXPECT_EQ(parsed.error().code, ErrorCode::malformed_request) << body;
        EXPECT_EQ(parsed.error().message, "Form data is not valid UTF-8.") << body;
    }
}

}  // namespace
}  // namespace chatgate::api

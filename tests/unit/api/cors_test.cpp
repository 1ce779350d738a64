#include "api/pipeline/cors.hpp"

#include <gtest/gtest.h>

namespace chatgate::api {
namespace {

std::string header(const http::Response& response, std::string_view name) {
    for (const auto& [n, v] : response.headers) {
        if (n == name) return v;
    }
    return "<absent>";
}

http::Request from(std::string_view origin) {
    http::Request r;
    r.method = http::Method::options;
    if (!origin.empty()) r.headers.push_back({"Origin", origin});
    r.headers.push_back({"Access-Control-Request-Method", "POST"});
    return r;
}

TEST(Cors, OffByDefault) {
    auto cors = CorsPolicy::create({});
    ASSERT_TRUE(cors);
    EXPECT_FALSE(cors->enabled());
}

TEST(Cors, PreflightForAnAllowedOrigin) {
    auto cors = CorsPolicy::create(
        {"https://app.example, http://localhost:3000", true, std::chrono::seconds(300)});
    ASSERT_TRUE(cors);
    http::Response response;
    cors->preflight(from("http://localhost:3000"), "POST, OPTIONS", response);
    EXPECT_EQ(header(response, "Access-Control-Allow-Origin"), "http://localhost:3000");
    EXPECT_EQ(header(response, "Access-Control-Allow-Methods"), "POST, OPTIONS");
    EXPECT_NE(header(response, "Access-Control-Allow-Headers").find("Authorization"),
              std::string::npos);
    EXPECT_EQ(header(response, "Access-Control-Max-Age"), "300");
    EXPECT_EQ(header(response, "Access-Control-Allow-Credentials"), "true");
    EXPECT_EQ(header(response, "Vary"), "Origin");
}

TEST(Cors, NothingForOtherOrigins) {
    auto cors = CorsPolicy::create({"https://app.example", false, std::chrono::seconds(600)});
    ASSERT_TRUE(cors);
    for (auto origin : {"https://evil.example", "https://app.example.evil", "http://app.example",
                        "https://APP.example", "null", ""}) {
        http::Response preflight;
        cors->preflight(from(origin), "GET", preflight);
        http::Response plain;
        cors->decorate(from(origin), plain);
        for (const auto* r : {&preflight, &plain}) {
            EXPECT_EQ(header(*r, "Access-Control-Allow-Origin"), "<absent>") << origin;
            EXPECT_EQ(header(*r, "Access-Control-Allow-Methods"), "<absent>") << origin;
            EXPECT_EQ(header(*r, "Vary"), "Origin") << "caches must key on Origin";
        }
    }
}

TEST(Cors, OrdinaryAnswersExposeTheRateLimitHeaders) {
    auto cors = CorsPolicy::create({"https://app.example", false, std::chrono::seconds(600)});
    http::Response response;
    cors->decorate(from("https://app.example"), response);
    EXPECT_EQ(header(response, "Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_EQ(header(response, "Access-Control-Allow-Credentials"), "<absent>");
    auto exposed = header(response, "Access-Control-Expose-Headers");
    for (auto name : {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"}) {
        EXPECT_NE(exposed.find(name), std::string::npos) << name;
    }
}

TEST(Cors, WildcardOnlyWithoutCredentials) {
    auto any = CorsPolicy::create({"*", false, std::chrono::seconds(600)});
    ASSERT_TRUE(any);
    http::Response response;
    any->decorate(from("https://whoever.example"), response);
    EXPECT_EQ(header(response, "Access-Control-Allow-Origin"), "*");
    auto refused = CorsPolicy::create({"*", true, std::chrono::seconds(600)});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("credentials"), std::string::npos);
}

TEST(Cors, RefusesEntriesThatAreNotOrigins) {
    for (auto bad : {"app.example", "https://app.example/", "https://app.example/path", "://x"}) {
        EXPECT_FALSE(CorsPolicy::create({bad, false, std::chrono::seconds(600)})) << bad;
    }
}

}  // namespace
}  // namespace chatgate::api

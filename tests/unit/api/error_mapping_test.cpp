#include "api/wire/error_mapping.hpp"

#include "api/routes.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace chatgate::api {
namespace {

namespace json = boost::json;

std::string header(const http::Response& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (http::iequals(key, name)) return value;
    }
    return "<absent>";
}

json::object openai_error(const Error& error, int expected_status) {
    http::Response response = error_response(error, "req-1", ErrorStyle::openai);
    EXPECT_EQ(response.status, expected_status) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    auto body = json::parse(response.body).as_object();
    EXPECT_EQ(body.size(), 1u) << response.body;
    auto inner = body.at("error").as_object();
    EXPECT_EQ(inner.size(), 4u) << "message, type, param, code: " << response.body;
    EXPECT_TRUE(inner.at("message").is_string()) << response.body;
    EXPECT_FALSE(inner.at("message").as_string().empty()) << response.body;
    return inner;
}

TEST(OpenAiErrors, ValidationNamesTheParam) {
    auto e =
        openai_error(Error::fields_invalid({{"messages[0].role", {"Invalid value: 'x'."}}}), 400);
    EXPECT_EQ(e.at("type"), "invalid_request_error");
    EXPECT_EQ(e.at("param"), "messages[0].role");
    EXPECT_EQ(e.at("message"), "Invalid value: 'x'.");
    EXPECT_TRUE(e.at("code").is_null());

    auto whole = openai_error({ErrorCode::invalid_argument, "Not an object.", {}}, 400);
    EXPECT_TRUE(whole.at("param").is_null());
    EXPECT_EQ(whole.at("message"), "Not an object.");

    auto json_syntax =
        openai_error({ErrorCode::malformed_request, "JSON parse error - x", {}}, 400);
    EXPECT_EQ(json_syntax.at("type"), "invalid_request_error");
}

TEST(OpenAiErrors, AuthenticationFailuresAreInvalidApiKey) {
    for (auto code :
         {ErrorCode::not_authenticated, ErrorCode::bad_authorization_header,
          ErrorCode::token_not_valid, ErrorCode::user_not_found, ErrorCode::user_inactive}) {
        auto e = openai_error({code, "Token is invalid or expired", {}}, 401);
        EXPECT_EQ(e.at("type"), "authentication_error");
        EXPECT_EQ(e.at("code"), "invalid_api_key");
    }
}

TEST(OpenAiErrors, AnUnknownModelIsModelNotFound) {
    std::string message = "The model `x` does not exist or you do not have access to it.";
    auto e = openai_error({ErrorCode::not_found, message, {{"model", {message}}}}, 404);
    EXPECT_EQ(e.at("code"), "model_not_found");
    EXPECT_EQ(e.at("param"), "model");
    EXPECT_EQ(e.at("type"), "invalid_request_error");

    auto url = openai_error({ErrorCode::not_found, "Invalid URL (GET /v1/nothing)", {}}, 404);
    EXPECT_TRUE(url.at("code").is_null());
    EXPECT_EQ(url.at("message"), "Invalid URL (GET /v1/nothing)");
}

TEST(OpenAiErrors, AShortBalanceIsInsufficientQuotaNotToBeRetried) {
    Error short_balance{ErrorCode::insufficient_tokens, "Insufficient tokens", {}};
    auto e = openai_error(short_balance, 429);
    EXPECT_EQ(e.at("type"), "insufficient_quota");
    EXPECT_EQ(e.at("code"), "insufficient_quota");
    auto response = error_response(short_balance, "r", ErrorStyle::openai);
    EXPECT_EQ(header(response, "x-should-retry"), "false");
    EXPECT_EQ(header(response, "Retry-After"), "<absent>");

    // The seed's clients keep their 403.
    auto seed = error_response(short_balance, "r");
    EXPECT_EQ(seed.status, 403);
    EXPECT_EQ(json::parse(seed.body), json::parse(R"({"error": "Insufficient tokens"})"));
}

TEST(OpenAiErrors, RateLimitsAndUpstreamFailures) {
    Error limited{ErrorCode::rate_limited, "Slow down.", {}, 7};
    auto e = openai_error(limited, 429);
    EXPECT_EQ(e.at("type"), "requests");
    EXPECT_EQ(e.at("code"), "rate_limit_exceeded");
    EXPECT_EQ(header(error_response(limited, "r", ErrorStyle::openai), "Retry-After"), "7");

    EXPECT_EQ(openai_error({ErrorCode::upstream_unavailable, "down", {}}, 502).at("type"),
              "server_error");
    EXPECT_EQ(openai_error({ErrorCode::upstream_timeout, "slow", {}}, 504).at("type"),
              "server_error");
    EXPECT_EQ(openai_error({ErrorCode::busy, "busy", {}}, 503).at("type"), "server_error");
    auto internal = openai_error({ErrorCode::internal, "secret detail", {}}, 500);
    EXPECT_EQ(internal.at("type"), "server_error");
    EXPECT_EQ(internal.at("message").as_string().find("secret"), json::string::npos);
    EXPECT_NE(internal.at("message").as_string().find("req-1"), json::string::npos);
}

TEST(OpenAiErrors, TransportAndRoutingFailures) {
    EXPECT_EQ(openai_error({ErrorCode::method_not_allowed, "Method \"GET\" not allowed.", {}}, 405)
                  .at("type"),
              "invalid_request_error");
    EXPECT_EQ(openai_error({ErrorCode::payload_too_large, "too large", {}}, 413).at("type"),
              "invalid_request_error");
    EXPECT_EQ(openai_error({ErrorCode::unsupported_media_type, "no", {}}, 415).at("type"),
              "invalid_request_error");
    EXPECT_EQ(
        openai_error({ErrorCode::uri_too_long, "Request URL is too long.", {}}, 414).at("type"),
        "invalid_request_error");
}

TEST(OpenAiErrors, PathsUnderV1UseOpenAiErrors) {
    EXPECT_EQ(error_style_for_path("/v1/chat/completions"), ErrorStyle::openai);
    EXPECT_EQ(error_style_for_path("/v1/unknown/thing"), ErrorStyle::openai);
    EXPECT_EQ(error_style_for_path("/v1"), ErrorStyle::openai);
    EXPECT_EQ(error_style_for_path("/v10/x"), ErrorStyle::seed);
    EXPECT_EQ(error_style_for_path("/api/chat/"), ErrorStyle::seed);
    EXPECT_EQ(error_style_for_path(""), ErrorStyle::seed);
    for (const auto& route : routes()) {
        EXPECT_EQ(route.errors, error_style_for_path(route.path)) << route.path;
    }
}

}  // namespace
}  // namespace chatgate::api

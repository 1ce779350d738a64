#include "http/request_parsing.hpp"

#include "support/default_settings.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chatgate::http {
namespace {

TEST(ParseRequest, ReadsAWholeRequestAndStopsBeforeTheNext) {
    std::string raw =
        "POST /api/chat/?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}"
        "GET / HTTP/1.1\r\n\r\n";
    auto parsed = parse_request(raw, chatgate::testing::default_server_limits());
    ASSERT_TRUE(parsed.complete);
    EXPECT_FALSE(parsed.error);
    EXPECT_EQ(parsed.consumed, raw.find("GET"));
    EXPECT_EQ(parsed.request.method, Method::post);
    EXPECT_EQ(parsed.request.path, "/api/chat/");
    EXPECT_EQ(parsed.request.query, "x=1");
    EXPECT_EQ(parsed.request.header("host"), "h");
    EXPECT_EQ(parsed.request.body, "{}");
}

TEST(ParseRequest, IncompleteNeedsMore) {
    auto parsed =
        parse_request("GET / HTTP/1.1\r\nHost:", chatgate::testing::default_server_limits());
    EXPECT_FALSE(parsed.complete);
    EXPECT_FALSE(parsed.error);
}

TEST(ParseRequest, RefusesLikeTheConnectionDoes) {
    ServerLimits limits = chatgate::testing::default_server_limits();
    limits.max_header_count = 1;
    limits.max_target_bytes = 8;
    limits.max_body_bytes = 4;
    limits.max_header_bytes = 64;
    EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", limits).error,
              TransportError::too_many_headers);
    EXPECT_EQ(parse_request("GET /123456789 HTTP/1.1\r\n\r\n", limits).error,
              TransportError::uri_too_long);
    EXPECT_EQ(parse_request("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345", limits).error,
              TransportError::body_too_large);
    EXPECT_EQ(
        parse_request("GET / HTTP/1.1\r\nX: " + std::string(100, 'x') + "\r\n\r\n", limits).error,
        TransportError::header_too_large);
    EXPECT_EQ(parse_request("GET / XTTP/1.1\r\n\r\n", limits).error, TransportError::malformed);
}

TEST(ParseRequest, AbsoluteFormTargetsAreRoutedByTheirPath) {
    auto limits = chatgate::testing::default_server_limits();
    auto parsed = parse_request(
        "GET http://example.com:8080/healthz?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", limits);
    ASSERT_TRUE(parsed.complete);
    EXPECT_EQ(parsed.request.path, "/healthz");
    EXPECT_EQ(parsed.request.query, "x=1");
    EXPECT_EQ(parse_request("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n", limits).request.path, "/");
    EXPECT_EQ(parse_request("GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n", limits).request.query,
              "q");
}

}  // namespace
}  // namespace chatgate::http

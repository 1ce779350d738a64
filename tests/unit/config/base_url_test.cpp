#include "config/base_url.hpp"

#include <gtest/gtest.h>

namespace chatgate {
namespace {

TEST(BaseUrl, HttpsWithPathPrefix) {
    auto url = parse_base_url("https://api.openai.com/v1");
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_TRUE(url->tls);
    EXPECT_EQ(url->host, "api.openai.com");
    EXPECT_EQ(url->port, 443);
    EXPECT_EQ(url->path_prefix, "/v1");
    EXPECT_EQ(url->target("/chat/completions"), "/v1/chat/completions");
    EXPECT_EQ(url->host_header(), "api.openai.com");
}

TEST(BaseUrl, PlainHttpWithPortAndTrailingSlash) {
    auto url = parse_base_url("http://127.0.0.1:8080/openai/v1/");
    ASSERT_TRUE(url);
    EXPECT_FALSE(url->tls);
    EXPECT_EQ(url->host, "127.0.0.1");
    EXPECT_EQ(url->port, 8080);
    EXPECT_EQ(url->path_prefix, "/openai/v1");
    EXPECT_EQ(url->host_header(), "127.0.0.1:8080");
}

TEST(BaseUrl, NoPathAndIpv6) {
    auto url = parse_base_url("http://localhost");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->port, 80);
    EXPECT_EQ(url->target("/chat/completions"), "/chat/completions");
    auto v6 = parse_base_url("https://[::1]:8443/v1");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 8443);
    EXPECT_EQ(v6->host_header(), "[::1]:8443");
}

TEST(BaseUrl, RefusesWhatIsNotAnUpstreamUrl) {
    for (const char* text : {"", "ftp://x", "api.openai.com/v1", "https://", "https:///v1",
                             "https://x:0", "https://x:65536", "https://x:abc", "https://x:",
                             "https://user:pw@x/v1", "https://x/v1?key=1", "https://x/v1#f",
                             "https://x y/", "https://[::1/v1", "https://x/v 1"}) {
        EXPECT_FALSE(parse_base_url(text)) << text;
    }
}

}  // namespace
}  // namespace chatgate

#include "http/limits.hpp"

#include "support/default_settings.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chatgate::http {
namespace {

class CheckHeadTest : public ::testing::Test {
protected:
    void SetUp() override {
        limits.max_header_count = 3;
        limits.max_target_bytes = 10;
        request.target = "/0123456789";  // 11 bytes
        request.target.remove_suffix(1);
        request.headers = {{"Host", "x"}, {"A", "1"}, {"B", "2"}};
    }
    ServerLimits limits = chatgate::testing::default_server_limits();
    Request request;
};

TEST_F(CheckHeadTest, AtTheLimitsPasses) {
    EXPECT_FALSE(check_head(request, limits).has_value());
}

TEST_F(CheckHeadTest, OneHeaderTooMany) {
    request.headers.push_back({"C", "3"});
    EXPECT_EQ(check_head(request, limits), TransportError::too_many_headers);
}

TEST_F(CheckHeadTest, TargetOneByteTooLong) {
    request.target = "/0123456789";
    EXPECT_EQ(check_head(request, limits), TransportError::uri_too_long);
}

TEST_F(CheckHeadTest, ALoneChunkedTransferCodingPasses) {
    request.headers.back() = {"Transfer-Encoding", " Chunked "};
    EXPECT_FALSE(check_head(request, limits).has_value());
}

TEST_F(CheckHeadTest, EveryOtherTransferCodingIsRefused) {
    for (std::string_view value : {"gzip", "xchunked", "identity", "chunked, identity",
                                   "gzip, chunked", "chunked,chunked", "", "chunked;q=1"}) {
        request.headers.back() = {"Transfer-Encoding", value};
        EXPECT_EQ(check_head(request, limits), TransportError::unsupported_transfer_coding)
            << value;
    }
}

TEST_F(CheckHeadTest, TwoTransferEncodingFieldsAreAList) {
    request.headers = {
        {"Host", "x"}, {"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}};
    EXPECT_EQ(check_head(request, limits), TransportError::unsupported_transfer_coding);
}

TEST_F(CheckHeadTest, Http11NeedsExactlyOneValidHost) {
    request.headers = {{"A", "1"}};
    EXPECT_EQ(check_head(request, limits), TransportError::bad_host);
    request.headers = {{"Host", "x"}, {"host", "y"}};
    EXPECT_EQ(check_head(request, limits), TransportError::bad_host);
    for (std::string_view bad : {"a b", "evil.com/path", "user@host", "x\\y", ""}) {
        request.headers = {{"Host", bad}};
        EXPECT_EQ(check_head(request, limits), TransportError::bad_host) << bad;
    }
    for (std::string_view good : {"example.com", "example.com:8080", "[::1]:80", "127.0.0.1"}) {
        request.headers = {{"Host", good}};
        EXPECT_FALSE(check_head(request, limits).has_value()) << good;
    }
}

TEST_F(CheckHeadTest, Http10MayLeaveHostOut) {
    request.version = 10;
    request.headers = {{"A", "1"}};
    EXPECT_FALSE(check_head(request, limits).has_value());
}

TEST_F(CheckHeadTest, ChunkedOnHttp10IsRefused) {
    request.version = 10;
    request.headers.back() = {"Transfer-Encoding", "chunked"};
    EXPECT_EQ(check_head(request, limits), TransportError::unsupported_transfer_coding);
}

}  // namespace
}  // namespace chatgate::http

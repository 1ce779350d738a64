#include "http/client_group.hpp"

#include <gtest/gtest.h>

namespace chatgate::http {
namespace {

std::string group(const char* address) {
    return client_group(boost::asio::ip::make_address(address)).to_string();
}

TEST(ClientGroup, Ipv4AddressesCountAlone) {
    EXPECT_EQ(group("198.51.100.7"), "198.51.100.7");
}

TEST(ClientGroup, Ipv6AddressesCountByTheirSlash64) {
    EXPECT_EQ(group("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
    EXPECT_EQ(group("2001:db8:1:2::1"), group("2001:db8:1:2:ffff::9"));
    EXPECT_NE(group("2001:db8:1:2::1"), group("2001:db8:1:3::1"));
}

TEST(ClientGroup, Ipv4MappedAddressesAreTheirIpv4One) {
    EXPECT_EQ(group("::ffff:198.51.100.7"), "198.51.100.7");
}

}  // namespace
}  // namespace chatgate::http

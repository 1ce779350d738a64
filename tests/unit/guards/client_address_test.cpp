#include "guards/client_address.hpp"

#include <gtest/gtest.h>

namespace chatgate::guards {
namespace {

std::string text(const std::optional<IpAddress>& address) {
    return address ? address->to_string() : "<none>";
}

TEST(ParseIp, AcceptsAddressesAndTheFormsProxiesWrite) {
    EXPECT_EQ(text(parse_ip("1.2.3.4")), "1.2.3.4");
    EXPECT_EQ(text(parse_ip(" 1.2.3.4 ")), "1.2.3.4");
    EXPECT_EQ(text(parse_ip("1.2.3.4:8080")), "1.2.3.4");
    EXPECT_EQ(text(parse_ip("::1")), "::1");
    EXPECT_EQ(text(parse_ip("[2001:db8::1]")), "2001:db8::1");
    EXPECT_EQ(text(parse_ip("[2001:db8::1]:443")), "2001:db8::1");
    EXPECT_EQ(text(parse_ip("2001:DB8:0:0:0:0:0:1")), "2001:db8::1");
    EXPECT_EQ(text(parse_ip("::ffff:10.0.0.1")), "10.0.0.1") << "IPv4-mapped is IPv4";
}

TEST(ParseIp, RefusesEverythingElse) {
    for (auto bad :
         {"", " ", "unknown", "1.2.3", "1.2.3.256", "1.2.3.4:port", "1.2.3.4:", "[1.2.3.4]", "[::1",
          "[::1]x", "::1:", "1.2.3.4, 5.6.7.8", "_hidden", "1.2.3.4:99999999", "01.2.3.4x"}) {
        EXPECT_FALSE(parse_ip(bad).has_value()) << bad;
    }
    std::string huge(500, '1');
    EXPECT_FALSE(parse_ip(huge).has_value());
}

TEST(ParseIp, LimitKeyIsTheV4AddressOrTheV6Slash64) {
    EXPECT_EQ(parse_ip("9.8.7.6")->limit_key(), "9.8.7.6");
    EXPECT_EQ(parse_ip("2001:db8:1:2:aaaa::1")->limit_key(), "2001:db8:1:2::/64");
    EXPECT_EQ(parse_ip("2001:db8:1:2:bbbb::7")->limit_key(), "2001:db8:1:2::/64");
}

TEST(Cidr, ParsesListsAndMatchesBlocks) {
    auto list = parse_cidr_list(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,,");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 3u);
    EXPECT_TRUE((*list)[0].contains(*parse_ip("10.200.3.4")));
    EXPECT_FALSE((*list)[0].contains(*parse_ip("11.0.0.1")));
    EXPECT_TRUE((*list)[1].contains(*parse_ip("192.168.1.7")));
    EXPECT_FALSE((*list)[1].contains(*parse_ip("192.168.1.8")));
    EXPECT_TRUE((*list)[2].contains(*parse_ip("fdab::1")));
    EXPECT_FALSE((*list)[2].contains(*parse_ip("fe80::1")));
    EXPECT_FALSE((*list)[0].contains(*parse_ip("::a00:1"))) << "IPv6 is not IPv4";
    auto odd = parse_cidr_list("172.16.0.0/12");
    ASSERT_TRUE(odd);
    EXPECT_TRUE((*odd)[0].contains(*parse_ip("172.31.255.255")));
    EXPECT_FALSE((*odd)[0].contains(*parse_ip("172.32.0.0")));
    EXPECT_TRUE(parse_cidr_list("")->empty());
}

TEST(Cidr, RefusesBadEntriesNamingThem) {
    for (auto bad :
         {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "nonsense", "1.2.3.4:80"}) {
        auto list = parse_cidr_list(std::string("127.0.0.1,") + bad);
        ASSERT_FALSE(list) << bad;
        EXPECT_NE(list.error().message.find(bad), std::string::npos) << list.error().message;
    }
}

class Resolver : public ::testing::Test {
protected:
    std::string resolve(std::string_view peer, std::vector<std::string_view> xff) {
        return text(resolver.resolve(peer, xff));
    }
    ClientAddressResolver resolver{*parse_cidr_list("127.0.0.1, 10.0.0.0/8")};
};

TEST_F(Resolver, UntrustedPeerIsTheClientWhateverItForwards) {
    EXPECT_EQ(resolve("203.0.113.9", {"1.1.1.1"}), "203.0.113.9");
    EXPECT_EQ(resolve("203.0.113.9", {}), "203.0.113.9");
}

TEST_F(Resolver, TrustedPeerNamesTheRightMostUntrustedAddress) {
    EXPECT_EQ(resolve("127.0.0.1", {"198.51.100.7"}), "198.51.100.7");
    // The client wrote "6.6.6.6" itself; the proxy appended the address it saw.
    EXPECT_EQ(resolve("127.0.0.1", {"6.6.6.6, 198.51.100.7"}), "198.51.100.7");
    // A chain of trusted proxies is skipped.
    EXPECT_EQ(resolve("127.0.0.1", {"6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"}), "198.51.100.7");
    // Several headers are one list, in order.
    EXPECT_EQ(resolve("127.0.0.1", {"6.6.6.6, 198.51.100.7", "10.1.1.1"}), "198.51.100.7");
    EXPECT_EQ(resolve("127.0.0.1", {"[2001:db8::5]:1234"}), "2001:db8::5");
}

TEST_F(Resolver, TrustedPeerWithoutHeaderIsItself) {
    EXPECT_EQ(resolve("127.0.0.1", {}), "127.0.0.1");
    EXPECT_EQ(resolve("127.0.0.1", {""}), "127.0.0.1");
    EXPECT_EQ(resolve("10.0.0.1", {"10.0.0.2"}), "10.0.0.2") << "all trusted: the furthest";
}

TEST_F(Resolver, MalformedEntriesStopAtTheLastTrustedHop) {
    EXPECT_EQ(resolve("127.0.0.1", {"garbage"}), "127.0.0.1");
    EXPECT_EQ(resolve("127.0.0.1", {"1.1.1.1, garbage, 10.0.0.3"}), "10.0.0.3");
    EXPECT_EQ(resolve("127.0.0.1", {"garbage, 198.51.100.7"}), "198.51.100.7");
    EXPECT_EQ(resolve("127.0.0.1", {"198.51.100.7, ,"}), "198.51.100.7") << "empty elements";
    EXPECT_EQ(resolve("127.0.0.1", {"unknown"}), "127.0.0.1");
    EXPECT_EQ(resolve("127.0.0.1", {std::string_view("1.1.1.1\0", 8)}), "127.0.0.1");
}

TEST_F(Resolver, NoTrustedProxiesMeansThePeer) {
    ClientAddressResolver none;
    EXPECT_EQ(text(none.resolve("127.0.0.1", {"1.1.1.1"})), "127.0.0.1");
    EXPECT_EQ(text(none.resolve("not an address", {})), "<none>");
}

}  // namespace
}  // namespace chatgate::guards

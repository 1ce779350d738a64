#pragma once

#include "core/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::guards {

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as IPv4-mapped IPv6, so both spellings of an
/// IPv4 client are one address).
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};

    bool is_v4() const;
    /// The canonical text: dotted quad for IPv4, RFC 5952 for IPv6.
    std::string to_string() const;
    /// The part a rate limit is keyed on: the whole IPv4 address, or an IPv6 address's /64
    /// (one subscriber usually holds a whole /64, so keying on single addresses would let it
    /// pick a fresh key per request).
    std::string limit_key() const;
    bool operator==(const IpAddress&) const = default;
};

/// Parses "1.2.3.4", "::1", and the forms proxies put in X-Forwarded-For: "1.2.3.4:80",
/// "[::1]" and "[::1]:80". Surrounding blanks are ignored. Anything else: nothing.
std::optional<IpAddress> parse_ip(std::string_view text);

/// An address block: "10.0.0.0/8", "fd00::/8", or a single address.
struct Cidr {
    IpAddress base;
    unsigned prefix = 128;  ///< in IPv6 bits (an IPv4 /8 is stored as /104)

    bool contains(const IpAddress& address) const;
};

/// Parses a comma-separated list of blocks (blanks allowed, empty list allowed). A bad entry is
/// an invalid_argument naming it.
Result<std::vector<Cidr>> parse_cidr_list(std::string_view text);

/// Who the client is, for rate limiting: the peer address, unless the peer is a trusted reverse
/// proxy; then the right-most address of X-Forwarded-For that is not itself a trusted proxy
/// (addresses further left were written by the client and prove nothing). When the chain is
/// unreadable beyond a trusted hop, that hop is the answer. Read-only after construction, so
/// thread-safe.
class ClientAddressResolver {
public:
    explicit ClientAddressResolver(std::vector<Cidr> trusted_proxies = {});

    /// `forwarded_for` is every X-Forwarded-For header value, in order of arrival.
    std::optional<IpAddress> resolve(std::string_view peer,
                                     const std::vector<std::string_view>& forwarded_for) const;

    bool trusts(const IpAddress& address) const;

private:
    std::vector<Cidr> trusted_;
};

}  // namespace chatgate::guards

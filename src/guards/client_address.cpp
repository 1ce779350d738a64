#include "guards/client_address.hpp"

#include "core/text.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace chatgate::guards {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/// inet_pton needs a NUL-terminated string; addresses are short.
template <int Family, std::size_t Bytes>
bool pton(std::string_view text, std::uint8_t (&out)[Bytes]) {
    char buffer[64];
    if (text.empty() || text.size() >= sizeof buffer) return false;
    if (text.find('\0') != std::string_view::npos) return false;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    return inet_pton(Family, buffer, out) == 1;
}

std::optional<IpAddress> parse_bare(std::string_view text) {
    IpAddress address;
    std::uint8_t v4[4];
    if (pton<AF_INET>(text, v4)) {
        std::memcpy(address.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
        std::memcpy(address.bytes.data() + 12, v4, 4);
        return address;
    }
    std::uint8_t v6[16];
    if (pton<AF_INET6>(text, v6)) {
        std::memcpy(address.bytes.data(), v6, 16);
        return address;
    }
    return std::nullopt;
}

bool all_digits(std::string_view text) {
    if (text.empty() || text.size() > 5) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

}  // namespace

bool IpAddress::is_v4() const {
    return std::memcmp(bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

std::string IpAddress::to_string() const {
    char buffer[INET6_ADDRSTRLEN];
    if (is_v4()) {
        inet_ntop(AF_INET, bytes.data() + 12, buffer, sizeof buffer);
    } else {
        inet_ntop(AF_INET6, bytes.data(), buffer, sizeof buffer);
    }
    return buffer;
}

std::string IpAddress::limit_key() const {
    if (is_v4()) return to_string();
    IpAddress block = *this;
    std::memset(block.bytes.data() + 8, 0, 8);
    return block.to_string() + "/64";
}

std::optional<IpAddress> parse_ip(std::string_view text) {
    text = text::trim_blanks(text);
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && !(rest.front() == ':' && all_digits(rest.substr(1)))) {
            return std::nullopt;
        }
        auto inner = text.substr(1, close - 1);
        auto address = parse_bare(inner);
        if (!address || inner.find(':') == std::string_view::npos) return std::nullopt;
        return address;
    }
    // "1.2.3.4:80": exactly one colon means an IPv4 address with a port.
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        if (!all_digits(text.substr(colon + 1))) return std::nullopt;
        text = text.substr(0, colon);
        if (text.find('.') == std::string_view::npos) return std::nullopt;
    }
    return parse_bare(text);
}

bool Cidr::contains(const IpAddress& address) const {
    unsigned full = prefix / 8;
    if (std::memcmp(address.bytes.data(), base.bytes.data(), full) != 0) return false;
    unsigned bits = prefix % 8;
    if (bits == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
    return (address.bytes[full] & mask) == (base.bytes[full] & mask);
}

Result<std::vector<Cidr>> parse_cidr_list(std::string_view text) {
    std::vector<Cidr> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = text::trim_blanks(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) continue;
        auto bad = [&] {
            return Error{ErrorCode::invalid_argument,
                         text::quoted(item) + " is not an address or address/prefix",
                         {}};
        };
        auto slash = item.find('/');
        auto address = parse_bare(item.substr(0, slash));
        if (!address) return bad();
        Cidr cidr{*address, 128};
        if (slash != std::string_view::npos) {
            std::string_view bits = item.substr(slash + 1);
            if (!all_digits(bits)) return bad();
            unsigned prefix = static_cast<unsigned>(std::stoul(std::string(bits)));
            bool v4 = item.substr(0, slash).find(':') == std::string_view::npos;
            if (prefix > (v4 ? 32u : 128u)) return bad();
            cidr.prefix = v4 ? prefix + 96 : prefix;
        }
        out.push_back(cidr);
    }
    return out;
}

ClientAddressResolver::ClientAddressResolver(std::vector<Cidr> trusted_proxies)
    : trusted_(std::move(trusted_proxies)) {}

bool ClientAddressResolver::trusts(const IpAddress& address) const {
    for (const auto& cidr : trusted_) {
        if (cidr.contains(address)) return true;
    }
    return false;
}

std::optional<IpAddress> ClientAddressResolver::resolve(
    std::string_view peer, const std::vector<std::string_view>& forwarded_for) const {
    auto current = parse_ip(peer);
    if (!current || trusted_.empty() || !trusts(*current)) return current;
    // Walk the chain from the right (the hop nearest to us) while the hops are trusted.
    for (auto header = forwarded_for.rbegin(); header != forwarded_for.rend(); ++header) {
        std::string_view list = *header;
        while (true) {
            auto comma = list.rfind(',');
            std::string_view item = comma == std::string_view::npos ? list : list.substr(comma + 1);
            auto hop = parse_ip(item);
            if (!hop) {
                if (text::trim_blanks(item).empty() && comma != std::string_view::npos) {
                    list = list.substr(0, comma);  // "a, , b": skip the empty element
                    continue;
                }
                if (text::trim_blanks(item).empty() && comma == std::string_view::npos) break;
                return current;  // unreadable: the last trusted hop is all we know
            }
            current = hop;
            if (!trusts(*current)) return current;
            if (comma == std::string_view::npos) break;
            list = list.substr(0, comma);
        }
    }
    return current;
}

}  // namespace chatgate::guards

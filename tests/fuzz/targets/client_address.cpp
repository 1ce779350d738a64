// Who the client is: X-Forwarded-For values and peer addresses through guards::parse_ip and
// ClientAddressResolver (a client controls that header), plus the operator's lists in
// configuration: trusted_proxies (parse_cidr_list) and rate_limits (RateTable::parse).
// The input's lines are the X-Forwarded-For values; the whole input is also read as each list.
#include "guards/client_address.hpp"

#include "guards/rate_table.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using namespace chatgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const guards::ClientAddressResolver resolver(
        guards::parse_cidr_list("10.0.0.0/8, 192.168.1.1, fd00::/8, ::1").value());
    std::string_view text(reinterpret_cast<const char*>(data), size);

    std::vector<std::string_view> forwarded_for;
    for (std::string_view rest = text; !rest.empty();) {
        auto newline = rest.find('\n');
        forwarded_for.push_back(rest.substr(0, newline));
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    }
    for (std::string_view peer : {"10.1.2.3", "::1", "203.0.113.7"}) {
        auto client = resolver.resolve(peer, forwarded_for);
        if (!client) __builtin_trap();  // a readable peer always yields an answer
        (void)client->limit_key();
    }
    for (auto line : forwarded_for) {
        if (auto address = guards::parse_ip(line)) {
            // The canonical text must read back as the same address.
            auto again = guards::parse_ip(address->to_string());
            if (!again || *again != *address) __builtin_trap();
        }
    }
    if (auto blocks = guards::parse_cidr_list(text)) {
        for (const auto& block : *blocks) {
            if (block.prefix > 128 || !block.contains(block.base)) __builtin_trap();
        }
    }
    (void)guards::RateTable::parse(text);
    return 0;
}

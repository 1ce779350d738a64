#include "http/limits.hpp"

#include <cctype>

namespace chatgate::http {
namespace {

constexpr std::string_view kBlanks = " \t";

std::string_view trim(std::string_view text) {
    auto first = text.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

/// RFC 9112 6.1: the one transfer coding chatgate reads is a lone `chunked` on HTTP/1.1. Any
/// other coding, a list (`chunked, identity`, `gzip, chunked`) or HTTP/1.0 leaves the end of
/// the body unknown to us (what follows would run as a second request), so it is refused
/// before the body is read.
bool acceptable_transfer_encoding(const Request& request) {
    bool present = false;
    int codings = 0;
    for (const auto& header : request.headers) {
        if (!iequals(header.name, "Transfer-Encoding")) continue;
        present = true;
        std::string_view list = header.value;
        while (true) {
            auto comma = list.find(',');
            std::string_view coding = trim(list.substr(0, comma));
            if (!coding.empty()) {
                if (!iequals(coding, "chunked")) return false;
                ++codings;
            }
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    return !present || (codings == 1 && request.version >= 11);
}

/// RFC 3986's reg-name, IP literal and port characters: anything else (a space, '/', '@', a
/// control byte) is no host name.
bool host_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-._~!$&'()*+,;=:[]%").find(c) != std::string_view::npos;
}

/// RFC 9112 3.2: an HTTP/1.1 request has exactly one Host field (HTTP/1.0: at most one), and
/// its value is a host with an optional port (never empty: chatgate has no default host).
bool acceptable_host(const Request& request) {
    int count = 0;
    for (const auto& header : request.headers) {
        if (!iequals(header.name, "Host")) continue;
        if (++count > 1 || header.value.empty()) return false;
        for (char c : header.value) {
            if (!host_char(c)) return false;
        }
    }
    return count == 1 || (count == 0 && request.version < 11);
}

}  // namespace

std::optional<TransportError> check_head(const Request& request, const ServerLimits& limits) {
    if (request.headers.size() > limits.max_header_count) return TransportError::too_many_headers;
    if (request.target.size() > limits.max_target_bytes) return TransportError::uri_too_long;
    if (!acceptable_transfer_encoding(request)) return TransportError::unsupported_transfer_coding;
    if (!acceptable_host(request)) return TransportError::bad_host;
    return std::nullopt;
}

}  // namespace chatgate::http

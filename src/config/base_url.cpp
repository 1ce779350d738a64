#include "config/base_url.hpp"

#include "core/text.hpp"

#include <cctype>
#include <charconv>

namespace chatgate {
namespace {

Error bad(std::string why) {
    return Error{ErrorCode::invalid_argument, std::move(why), {}};
}

bool valid_host_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::string BaseUrl::host_header() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (tls ? 443 : 80)) {
        out += ':';
        out += std::to_string(port);
    }
    return out;
}

std::string BaseUrl::target(std::string_view path) const {
    std::string out = path_prefix;
    out.append(path);
    return out;
}

Result<BaseUrl> parse_base_url(std::string_view text) {
    BaseUrl url;
    if (text.starts_with("https://")) {
        text.remove_prefix(8);
    } else if (text.starts_with("http://")) {
        url.tls = false;
        url.port = 80;
        text.remove_prefix(7);
    } else {
        return bad("must start with http:// or https://");
    }
    if (text.find_first_of("?#") != std::string_view::npos) {
        return bad("must not have a query or fragment");
    }
    auto slash = text.find('/');
    std::string_view authority = text.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "" : text.substr(slash);
    if (authority.find('@') != std::string_view::npos) {
        return bad("must not carry user info; use api_key_env or api_key_file");
    }
    std::string_view port_text;
    if (authority.starts_with("[")) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("has an unclosed IPv6 bracket");
        url.host = std::string(authority.substr(1, close - 1));
        std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return bad("has junk after the IPv6 address");
            port_text = rest.substr(1);
        }
        for (char c : url.host) {
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
                return bad("has an invalid IPv6 address");
            }
        }
    } else {
        auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
        for (char c : url.host) {
            if (!valid_host_char(c)) return bad("has an invalid host name");
        }
    }
    if (url.host.empty()) return bad("has no host");
    if (!port_text.empty() || authority.ends_with(":")) {
        auto port = text::parse_integer<unsigned>(port_text);
        if (!port || *port == 0 || *port > 65535) {
            return bad("has an invalid port");
        }
        url.port = static_cast<std::uint16_t>(*port);
    }
    while (path.ends_with('/')) path.remove_suffix(1);
    for (char c : path) {
        if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f') {
            return bad("has a space or control character in its path");
        }
    }
    url.path_prefix = std::string(path);
    return url;
}

}  // namespace chatgate

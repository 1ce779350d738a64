#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace chatgate {

/// Where an OpenAI-compatible upstream lives: `https://api.openai.com/v1` splits into TLS on,
/// host api.openai.com, port 443 and the path prefix `/v1` that request paths are appended to.
struct BaseUrl {
    bool tls = true;
    std::string host;  ///< without brackets for IPv6 literals
    std::uint16_t port = 443;
    std::string path_prefix;  ///< "" or "/v1": never ends with '/'

    /// `host` or `host:port` as the Host header wants it (port only when not the default).
    std::string host_header() const;
    /// path_prefix + `path` (which starts with '/').
    std::string target(std::string_view path) const;
};

/// Accepts http:// and https:// URLs with a host, an optional port and an optional path;
/// refuses user info, queries and fragments. Errors: invalid_argument saying what is wrong.
Result<BaseUrl> parse_base_url(std::string_view text);

}  // namespace chatgate

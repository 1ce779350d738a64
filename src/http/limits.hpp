#pragma once

#include "http/message.hpp"

#include <chrono>
#include <cstddef>
#include <optional>

namespace chatgate::http {

/// What the transport allows. No defaults here: app/settings.cpp fills every field from the
/// configuration, the one place that knows them.
struct ServerLimits {
    std::size_t max_header_bytes{};
    std::size_t max_body_bytes{};
    /// To read one request, and to write its answer (each piece of a streamed answer).
    std::chrono::milliseconds request_timeout{};
    std::chrono::milliseconds idle_timeout{};  ///< between requests on a keep-alive connection
    /// From a request's first byte (from the accept, for a connection's first request) to the
    /// end of its header, however the bytes trickle in.
    std::chrono::milliseconds header_timeout{};
    std::size_t max_header_count{};  ///< more header fields: 431
    std::size_t max_target_bytes{};  ///< a longer request target (URL): 414
    std::size_t max_connections{};   ///< open connections in all; more are closed at accept
    /// Open connections from one client address; more are closed at accept. 0: no limit.
    std::size_t max_connections_per_address{};
};

/// The limits a request's head breaks, if any (header count, target length); the header size
/// itself is bounded by the parser. Pure, so fuzz targets and tests can call it.
std::optional<TransportError> check_head(const Request& request, const ServerLimits& limits);

}  // namespace chatgate::http

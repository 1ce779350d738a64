#pragma once

#include "http/limits.hpp"
#include "http/message.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace chatgate::http {

/// One request read from raw bytes, by the same parser and limits as a connection uses.
struct ParsedRequest {
    /// Set when the transport would refuse the request (and answer it, then close).
    std::optional<TransportError> error;
    bool complete = false;     ///< a whole request was read (else more bytes are needed)
    std::size_t consumed = 0;  ///< bytes of the input it used
    Request request;           ///< views into `storage`; valid while this object lives
    std::shared_ptr<const void> storage;
};

/// Parses the first request in `bytes` (the rest would be pipelined requests). Beast-free to
/// call, for fuzz targets and tests; never throws for any input.
ParsedRequest parse_request(std::string_view bytes, const ServerLimits& limits);

}  // namespace chatgate::http

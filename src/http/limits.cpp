#include "http/limits.hpp"

namespace chatgate::http {

std::optional<TransportError> check_head(const Request& request, const ServerLimits& limits) {
    if (request.headers.size() > limits.max_header_count) return TransportError::too_many_headers;
    if (request.target.size() > limits.max_target_bytes) return TransportError::uri_too_long;
    return std::nullopt;
}

}  // namespace chatgate::http

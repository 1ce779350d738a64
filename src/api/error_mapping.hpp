#pragma once

#include "core/error.hpp"
#include "http/message.hpp"

#include <string_view>

namespace chatgate::api {

/// The one place where errors become HTTP statuses and wire bodies. The shapes are the old
/// app's: {"error": ...} for business refusals, field maps for validation, and SimpleJWT's
/// {"detail", "code", ...} for authentication.
http::Response error_response(const Error& error, std::string_view request_id);

/// The error for a request the transport could not read.
Error transport_error(http::TransportError kind, std::size_t max_body_bytes);

}  // namespace chatgate::api

#pragma once

#include "core/error.hpp"
#include "http/message.hpp"

#include <string_view>

namespace chatgate::api {

/// Which family of wire shapes a route's errors use (declared per route in api/routes.cpp).
enum class ErrorStyle {
    seed,    ///< the old app's shapes, kept for its clients
    openai,  ///< OpenAI's {"error": {"message", "type", "param", "code"}}, for /v1
    /// Anthropic's {"type": "error", "error": {"type", "message"}}, for /v1/messages
    anthropic,
};

/// The one place where errors become HTTP statuses and wire bodies. The seed style keeps the old
/// app's shapes: {"error": ...} for business refusals, field maps for validation, and
/// SimpleJWT's {"detail", "code", ...} for authentication. The OpenAI style answers with
/// OpenAI's statuses, types and codes; an insufficient balance there is OpenAI's quota
/// exhaustion, 429 insufficient_quota with `x-should-retry: false` (OpenAI's libraries would
/// otherwise retry a 429).
http::Response error_response(const Error& error, std::string_view request_id,
                              ErrorStyle style = ErrorStyle::seed);

/// The error for a request the transport could not read.
Error transport_error(http::TransportError kind, std::size_t max_body_bytes);

}  // namespace chatgate::api

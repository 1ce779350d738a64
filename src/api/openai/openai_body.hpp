#pragma once

#include "api/wire/json_limits.hpp"
#include "core/error.hpp"
#include "http/message.hpp"

#include <boost/json/value.hpp>

namespace chatgate::api::openai {

/// The JSON body of a request to an OpenAI- or Anthropic-compatible route. Their libraries'
/// bodies are JSON whatever the Content-Type says (`curl -d` sends a form type), so the body
/// goes through the JSON reader, with its limits, in any case.
Result<boost::json::value> read_json_body(const http::Request& request, const JsonLimits& limits);

}  // namespace chatgate::api::openai

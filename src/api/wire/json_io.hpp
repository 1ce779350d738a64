#pragma once

#include "api/wire/json_limits.hpp"
#include "core/error.hpp"
#include "http/message.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

/// Reading request bodies and writing JSON answers, with Django REST Framework's rules so
/// existing clients see the answers they expect.
namespace chatgate::api {

/// The body as JSON (`application/json`) or as form fields (`application/x-www-form-urlencoded`,
/// every value a string). An empty body is an empty object. Errors: unsupported_media_type,
/// malformed_request ("JSON parse error - ...", also for nesting or a string beyond
/// `limits`; a form key or value over the string limit is malformed too).
Result<boost::json::value> parse_body(const http::Request& request, const JsonLimits& limits);

/// JSON text to a value within `limits`; malformed_request otherwise. For any body reader.
Result<boost::json::value> parse_json(std::string_view text, const JsonLimits& limits);

/// DRF's CharField: required, not null, a string (numbers become their text), surrounding
/// whitespace trimmed, not blank, at most `max_chars` characters. On failure appends the
/// field's messages to `errors` and returns nothing.
std::optional<std::string> read_char_field(const boost::json::value& body, std::string_view name,
                                           std::size_t max_chars, std::vector<FieldError>& errors);

/// DRF's answer for a serializer given something other than an object.
Error not_an_object(const boost::json::value& body);

/// A value of the URL query (decoded), or nothing when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

http::Response json_response(int status, const boost::json::value& body);

}  // namespace chatgate::api

#pragma once

#include "api/handler.hpp"

#include <boost/json/value.hpp>

#include <string>

namespace chatgate::api {

/// An embedded page or asset: the route's `asset`, with its ETag (304 when the browser has it);
/// the libraries' files cached for a day, pages and their modules revalidated every time.
boost::asio::awaitable<Result<http::Response>> serve_asset(Services& services, RequestContext& ctx);
/// GET /api/schema/ -> the OpenAPI document as YAML, or JSON with ?format=json
boost::asio::awaitable<Result<http::Response>> get_schema(Services& services, RequestContext& ctx);

/// The embedded OpenAPI document (JSON text).
std::string_view openapi_json();
/// A JSON value as block-style YAML (strings double-quoted, so every value keeps its type).
std::string to_yaml(const boost::json::value& value);

}  // namespace chatgate::api

#pragma once

#include "api/routes.hpp"

#include <boost/json/value.hpp>

#include <string>

namespace chatgate::api {

/// An embedded page or asset: the route's `asset`, with long caching for /static/ files.
boost::asio::awaitable<Result<http::Response>> serve_asset(Api& api, RequestContext& ctx);
/// GET /api/schema/ -> the OpenAPI document as YAML, or JSON with ?format=json
boost::asio::awaitable<Result<http::Response>> get_schema(Api& api, RequestContext& ctx);
/// GET /healthz -> 200 while the process serves requests
boost::asio::awaitable<Result<http::Response>> get_healthz(Api& api, RequestContext& ctx);
/// GET /readyz -> 200 when the database answers, 503 otherwise
boost::asio::awaitable<Result<http::Response>> get_readyz(Api& api, RequestContext& ctx);

/// The embedded OpenAPI document (JSON text).
std::string_view openapi_json();
/// A JSON value as block-style YAML (strings double-quoted, so every value keeps its type).
std::string to_yaml(const boost::json::value& value);

}  // namespace chatgate::api

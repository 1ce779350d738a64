#pragma once

#include "api/handler.hpp"
#include "domain/chat/model_catalog.hpp"
#include "domain/keys/key_service.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

/// API keys of the caller: /api/keys/. Creating one needs an access token (a key cannot make
/// keys); the route table says so with `Auth::session`.
namespace chatgate::api {

boost::asio::awaitable<Result<http::Response>> post_key(Services& services, RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> get_keys(Services& services, RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> delete_key(Services& services, RequestContext& ctx);

/// A key's fields as answers show them (never the secret).
boost::json::object key_json(const domain::ApiKeyInfo& key);

/// The fields of a key request (`name`, `expires_at`, `models`, `token_limit`), checked
/// against `catalog`. Errors: invalid_argument as a field map.
Result<domain::KeyRequest> read_key_request(const boost::json::value& body,
                                            const domain::ModelCatalog& catalog);

}  // namespace chatgate::api

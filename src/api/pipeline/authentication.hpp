#pragma once

#include "core/error.hpp"
#include "domain/keys/key_service.hpp"
#include "http/message.hpp"
#include "security/jwt.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace chatgate::api {

/// An access token's claims, verified (HS256 pinned, constant-time signature check, expiry,
/// type). Errors: token_not_valid.
Result<security::TokenClaims> verify_access_token(std::string_view token,
                                                  const security::JwtCodec& jwt);

/// The token of `Authorization: Bearer <token>`, unverified; with `x_api_key`, a request
/// without an Authorization header may carry it in `x-api-key` instead (an access token or an
/// API key, as Anthropic's libraries send their key). Errors: not_authenticated without a
/// Bearer header, bad_authorization_header for a malformed one.
Result<std::string_view> bearer_token(const http::Request& request, bool x_api_key = false);

/// An API key (`sk-cg-<public id>_<secret>`) as presented, from a Bearer header or any other
/// header a surface reads keys from (Anthropic's `x-api-key`): one indexed read, a
/// constant-time digest comparison, then revocation, expiry and the owner's is_active. Errors:
/// token_not_valid, user_inactive.
boost::asio::awaitable<Result<domain::KeyAccess>> authenticate_api_key(std::string_view raw_key,
                                                                       domain::KeyService& keys);

}  // namespace chatgate::api

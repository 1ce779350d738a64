#pragma once

#include "core/error.hpp"
#include "domain/keys/key_service.hpp"
#include "http/message.hpp"
#include "security/jwt.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace chatgate::api {

/// The access token of `Authorization: Bearer <token>`, read as SimpleJWT reads it and verified
/// (HS256 pinned, constant-time signature check, expiry, type). Errors: not_authenticated
/// without a Bearer header, bad_authorization_header for a malformed one, token_not_valid.
Result<security::TokenClaims> authenticate_bearer(const http::Request& request,
                                                  const security::JwtCodec& jwt);

/// An access token's claims (the check of authenticate_bearer). Errors: token_not_valid.
Result<security::TokenClaims> verify_access_token(std::string_view token,
                                                  const security::JwtCodec& jwt);

/// The token of `Authorization: Bearer <token>`, unverified. Errors: not_authenticated without
/// a Bearer header, bad_authorization_header for a malformed one.
Result<std::string_view> bearer_token(const http::Request& request);

/// An API key (`sk-cg-<public id>_<secret>`) as presented, from a Bearer header or any other
/// header a surface reads keys from (Anthropic's `x-api-key`): one indexed read, a
/// constant-time digest comparison, then revocation, expiry and the owner's is_active. Errors:
/// token_not_valid, user_inactive.
boost::asio::awaitable<Result<domain::KeyAccess>> authenticate_api_key(std::string_view raw_key,
                                                                       domain::KeyService& keys);

}  // namespace chatgate::api

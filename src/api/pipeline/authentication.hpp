#pragma once

#include "core/error.hpp"
#include "http/message.hpp"
#include "security/jwt.hpp"

namespace chatgate::api {

/// The access token of `Authorization: Bearer <token>`, read as SimpleJWT reads it and verified
/// (HS256 pinned, constant-time signature check, expiry, type). Errors: not_authenticated
/// without a Bearer header, bad_authorization_header for a malformed one, token_not_valid.
/// With `x_api_key`, a request without an Authorization header may carry the token in
/// `x-api-key` instead, as Anthropic's libraries send their key.
Result<security::TokenClaims> authenticate_bearer(const http::Request& request,
                                                  const security::JwtCodec& jwt,
                                                  bool x_api_key = false);

}  // namespace chatgate::api

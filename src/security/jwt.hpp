#pragma once

#include "core/clock.hpp"
#include "core/ids.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace chatgate::security {

enum class TokenType { access, refresh };

struct TokenClaims {
    TokenType type = TokenType::access;
    UserId user_id = 0;
    std::int64_t issued_at = 0;   ///< seconds since the epoch
    std::int64_t expires_at = 0;  ///< seconds since the epoch
    std::string jti;              ///< 32 hex digits, unique per token
    // Session claims (0 when absent: tokens issued before sessions existed).
    std::int64_t session_id = 0;  ///< `sid`: the family the token belongs to
    std::int64_t generation = 0;  ///< `gen`: refresh tokens only, the family's generation
    std::int64_t epoch = 0;       ///< `sep`: the user's session epoch at issue
};

/// The session a token is issued for; `id` 0 issues a token without session claims.
struct SessionClaims {
    std::int64_t id = 0;
    std::int64_t generation = 0;
    std::int64_t epoch = 0;
};

/// Why a token was refused. `malformed`, `bad_signature` and `expired` all read as "invalid or
/// expired" to clients; `wrong_type` is reported separately, as SimpleJWT does.
enum class TokenRejection { malformed, bad_signature, expired, wrong_type };

/// Issues and verifies HS256 JSON Web Tokens with SimpleJWT's claims (token_type, exp, iat, jti,
/// user_id). The algorithm is pinned: any header whose `alg` is not exactly "HS256" is refused
/// before its payload is looked at, and the signature is compared in constant time.
/// Immutable after construction, so safe to share between threads.
class JwtCodec {
public:
    /// `key` must hold at least 32 bytes (checked by configuration; asserted here).
    JwtCodec(std::string key, const Clock& clock);

    std::string issue(UserId user, TokenType type, std::chrono::seconds lifetime,
                      const SessionClaims& session = {}) const;
    boost::system::result<TokenClaims, TokenRejection> verify(std::string_view token,
                                                              TokenType expected) const;

private:
    std::string sign(std::string_view signing_input) const;

    std::string key_;
    const Clock& clock_;
};

/// Random lowercase hex of `bytes` random bytes (2 * bytes characters).
std::string random_hex(std::size_t bytes);

}  // namespace chatgate::security

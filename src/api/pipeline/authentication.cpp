#include "api/pipeline/authentication.hpp"

#include <vector>

namespace chatgate::api {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

/// The header's words, split on blanks as SimpleJWT splits them.
std::vector<std::string_view> words(std::string_view header) {
    std::vector<std::string_view> parts;
    for (std::size_t i = 0; i < header.size();) {
        while (i < header.size() && is_blank(header[i])) ++i;
        std::size_t start = i;
        while (i < header.size() && !is_blank(header[i])) ++i;
        if (i > start) parts.push_back(header.substr(start, i - start));
    }
    return parts;
}

}  // namespace

Result<std::string_view> bearer_token(const http::Request& request, bool x_api_key) {
    std::string_view header = request.header("Authorization");
    if (x_api_key && header.empty()) {
        // Anthropic's libraries send their key bare in x-api-key.
        std::string_view key = request.header("x-api-key");
        if (!key.empty()) {
            auto parts = words(key);
            if (parts.size() != 1) return Error{ErrorCode::bad_authorization_header, {}, {}};
            return parts[0];
        }
    }
    auto parts = words(header);
    if (parts.empty() || parts[0] != "Bearer") return Error{ErrorCode::not_authenticated, {}, {}};
    if (parts.size() != 2) return Error{ErrorCode::bad_authorization_header, {}, {}};
    return parts[1];
}

boost::asio::awaitable<Result<domain::KeyAccess>> authenticate_api_key(std::string_view raw_key,
                                                                       domain::KeyService& keys) {
    co_return co_await keys.authenticate(raw_key);
}

Result<security::TokenClaims> verify_access_token(std::string_view token,
                                                  const security::JwtCodec& jwt) {
    auto claims = jwt.verify(token, security::TokenType::access);
    if (!claims) {
        bool wrong_type = claims.error() == security::TokenRejection::wrong_type;
        return Error{ErrorCode::token_not_valid,
                     wrong_type ? "Token has wrong type" : "Token is invalid or expired",
                     {}};
    }
    return std::move(*claims);
}

}  // namespace chatgate::api

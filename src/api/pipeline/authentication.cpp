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

Result<security::TokenClaims> authenticate_bearer(const http::Request& request,
                                                  const security::JwtCodec& jwt, bool x_api_key) {
    std::string_view header = request.header("Authorization");
    std::string from_key;
    if (x_api_key && header.empty() && !request.header("x-api-key").empty()) {
        from_key = "Bearer " + std::string(request.header("x-api-key"));
        header = from_key;
    }
    auto parts = words(header);
    if (parts.empty() || parts[0] != "Bearer") return Error{ErrorCode::not_authenticated, {}, {}};
    if (parts.size() != 2) return Error{ErrorCode::bad_authorization_header, {}, {}};
    auto claims = jwt.verify(parts[1], security::TokenType::access);
    if (!claims) {
        bool wrong_type = claims.error() == security::TokenRejection::wrong_type;
        return Error{ErrorCode::token_not_valid,
                     wrong_type ? "Token has wrong type" : "Token is invalid or expired",
                     {}};
    }
    return std::move(*claims);
}

}  // namespace chatgate::api

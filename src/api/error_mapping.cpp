#include "api/error_mapping.hpp"

#include "api/json_io.hpp"

#include <boost/json/array.hpp>

namespace chatgate::api {
namespace {

namespace json = boost::json;

json::object detail(std::string_view message) {
    return {{"detail", message}};
}

json::object detail_with_code(std::string_view message, std::string_view code) {
    return {{"detail", message}, {"code", code}};
}

json::object field_map(const std::vector<FieldError>& fields) {
    json::object out;
    for (const auto& field : fields) {
        json::array messages;
        for (const auto& m : field.messages) messages.emplace_back(m);
        out[field.field] = std::move(messages);
    }
    return out;
}

json::object invalid_access_token(std::string_view why) {
    json::object inner{{"token_class", "AccessToken"}, {"token_type", "access"}, {"message", why}};
    return {{"detail", "Given token not valid for any token type"},
            {"code", "token_not_valid"},
            {"messages", json::array{inner}}};
}

struct Mapped {
    int status;
    json::object body;
};

Mapped map(const Error& e, std::string_view request_id) {
    const std::string& m = e.message;
    switch (e.code) {
        case ErrorCode::invalid_argument:
            if (!e.fields.empty()) return {400, field_map(e.fields)};
            return {400, {{"error", m}}};
        case ErrorCode::malformed_request:
            return {400, detail(m)};
        case ErrorCode::unsupported_media_type:
            return {415, detail(m)};
        case ErrorCode::not_authenticated:
            return {401, detail("Authentication credentials were not provided.")};
        case ErrorCode::bad_authorization_header:
            return {401,
                    detail_with_code("Authorization header must contain two space-delimited values",
                                     "bad_authorization_header")};
        case ErrorCode::token_not_valid:
            return {401, invalid_access_token(m)};
        case ErrorCode::refresh_token_not_valid:
            return {401, detail_with_code(m, "token_not_valid")};
        case ErrorCode::user_not_found:
            return {401, detail_with_code("User not found", "user_not_found")};
        case ErrorCode::user_inactive:
            return {401, detail_with_code("User is inactive", "user_inactive")};
        case ErrorCode::no_active_account:
            return {401, detail_with_code("No active account found for the given token.",
                                          "no_active_account")};
        case ErrorCode::invalid_credentials:
            return {401, detail(m)};
        case ErrorCode::insufficient_tokens:
        case ErrorCode::permission_denied:
            return {403, {{"error", m}}};
        case ErrorCode::not_found:
            return {404, detail(m.empty() ? "Not found." : m)};
        case ErrorCode::already_exists:
            return {400, {{"error", m}}};
        case ErrorCode::method_not_allowed:
            return {405, detail(m)};
        case ErrorCode::payload_too_large:
            return {413, detail(m)};
        case ErrorCode::header_too_large:
            return {431, detail(m)};
        case ErrorCode::busy:
            return {503, detail(m)};
        case ErrorCode::upstream_unavailable:
            return {502, {{"error", m}}};
        case ErrorCode::upstream_timeout:
            return {504, {{"error", m}}};
        case ErrorCode::rate_limited:
            return {429, detail(m)};
        case ErrorCode::idempotency_key_reused:
            return {422, {{"error", m}}};
        case ErrorCode::idempotency_key_in_flight:
            return {409, {{"error", m}}};
        case ErrorCode::internal:
            break;
    }
    return {500, {{"detail", "Internal server error."}, {"request_id", request_id}}};
}

}  // namespace

http::Response error_response(const Error& error, std::string_view request_id) {
    auto [status, body] = map(error, request_id);
    http::Response response = json_response(status, body);
    if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"api\"");
    if (error.retry_after_seconds > 0) {
        response.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
    } else if (status == 503 || status == 429) {
        response.headers.emplace_back("Retry-After", "1");
    }
    return response;
}

Error transport_error(http::TransportError kind, std::size_t max_body_bytes) {
    switch (kind) {
        case http::TransportError::header_too_large:
            return {ErrorCode::header_too_large, "Request header fields are too large.", {}};
        case http::TransportError::body_too_large:
            return {
                ErrorCode::payload_too_large,
                "Request body is too large (limit " + std::to_string(max_body_bytes) + " bytes).",
                {}};
        case http::TransportError::malformed:
            break;
    }
    return {ErrorCode::malformed_request, "Malformed HTTP request.", {}};
}

}  // namespace chatgate::api

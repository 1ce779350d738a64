#include "api/wire/error_mapping.hpp"

#include "api/wire/json_io.hpp"

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
        case ErrorCode::key_limit_reached:
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
        case ErrorCode::uri_too_long:
            return {414, detail(m)};
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

// ---- OpenAI's error object, for /v1 -------------------------------------------------------

json::object openai_error(std::string_view message, std::string_view type,
                          std::string_view param = {}, std::string_view code = {}) {
    json::object inner{{"message", message}, {"type", type}};
    inner["param"] = param.empty() ? json::value(nullptr) : json::value(param);
    inner["code"] = code.empty() ? json::value(nullptr) : json::value(code);
    return {{"error", std::move(inner)}};
}

/// Validation errors carry one field: OpenAI's `param`, with its message.
std::string_view first_field(const Error& e) {
    return e.fields.empty() ? std::string_view{} : std::string_view(e.fields.front().field);
}

std::string_view field_message(const Error& e) {
    if (!e.fields.empty() && !e.fields.front().messages.empty()) {
        return e.fields.front().messages.front();
    }
    return e.message;
}

Mapped invalid_api_key(std::string_view message) {
    return {401, openai_error(message, "authentication_error", {}, "invalid_api_key")};
}

Mapped map_openai(const Error& e, std::string_view request_id) {
    const std::string& m = e.message;
    switch (e.code) {
        case ErrorCode::invalid_argument:
        case ErrorCode::already_exists:
            return {400, openai_error(field_message(e), "invalid_request_error", first_field(e))};
        case ErrorCode::malformed_request:
            return {400, openai_error("We could not parse the JSON body of your request (" + m +
                                          "). The API expects a JSON object.",
                                      "invalid_request_error")};
        case ErrorCode::unsupported_media_type:
            return {415, openai_error(m, "invalid_request_error")};
        case ErrorCode::not_authenticated:
            return invalid_api_key(
                "You didn't provide an API key. Send a chatgate access token (from POST "
                "/api/login/) in an Authorization header using Bearer auth (i.e. "
                "Authorization: Bearer YOUR_KEY).");
        case ErrorCode::bad_authorization_header:
            return invalid_api_key(
                "The Authorization header must be 'Bearer YOUR_KEY', with one key.");
        case ErrorCode::token_not_valid:
            return invalid_api_key("Incorrect API key provided (" + m +
                                   "). Use an access token from POST /api/login/.");
        case ErrorCode::user_not_found:
            return invalid_api_key("The API key's user no longer exists.");
        case ErrorCode::user_inactive:
            return invalid_api_key("The API key's user is inactive.");
        case ErrorCode::refresh_token_not_valid:
        case ErrorCode::no_active_account:
        case ErrorCode::invalid_credentials:
            return invalid_api_key(m);
        case ErrorCode::insufficient_tokens:
            return {429, openai_error("You exceeded your current quota: the token balance "
                                      "cannot cover this request. Top it up with POST "
                                      "/api/top-up/.",
                                      "insufficient_quota", {}, "insufficient_quota")};
        case ErrorCode::key_limit_reached:
            return {429, openai_error("You exceeded your current quota: this API key's "
                                      "token_limit cannot cover this request.",
                                      "insufficient_quota", {}, "insufficient_quota")};
        case ErrorCode::permission_denied:
            return {403, openai_error(m, "permission_error")};
        case ErrorCode::not_found: {
            std::string_view param = first_field(e);
            return {404, openai_error(m.empty() ? "Not found." : m, "invalid_request_error", param,
                                      param == "model" ? "model_not_found" : "")};
        }
        case ErrorCode::method_not_allowed:
            return {405, openai_error(m, "invalid_request_error")};
        case ErrorCode::payload_too_large:
            return {413, openai_error(m, "invalid_request_error")};
        case ErrorCode::header_too_large:
            return {431, openai_error(m, "invalid_request_error")};
        case ErrorCode::uri_too_long:
            return {414, openai_error(m, "invalid_request_error")};
        case ErrorCode::idempotency_key_reused:
            return {422, openai_error(m, "invalid_request_error", {}, "idempotency_key_reused")};
        case ErrorCode::idempotency_key_in_flight:
            return {409, openai_error(m, "conflict_error", {}, "idempotency_key_in_flight")};
        case ErrorCode::busy:
            return {503, openai_error(m, "server_error", {}, "overloaded")};
        case ErrorCode::upstream_unavailable:
            return {502, openai_error(m, "server_error", {}, "upstream_error")};
        case ErrorCode::upstream_timeout:
            return {504, openai_error(m, "server_error", {}, "upstream_timeout")};
        case ErrorCode::rate_limited:
            return {429, openai_error(m, "requests", {}, "rate_limit_exceeded")};
        case ErrorCode::internal:
            break;
    }
    return {500, openai_error("The server had an error while processing your request (request id " +
                                  std::string(request_id) + ").",
                              "server_error")};
}

/// Anthropic's error types by status; the messages are OpenAI's mapping's, which say the same.
std::string_view anthropic_type(int status) {
    switch (status) {
        case 400:
        case 405:
        case 409:
        case 414:
        case 415:
        case 422:
        case 431:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
            return "overloaded_error";
        case 504:
            return "timeout_error";
        default:
            return "api_error";
    }
}

Mapped map_anthropic(const Error& e, std::string_view request_id) {
    auto [status, body] = map_openai(e, request_id);
    // Anthropic answers a short credit balance with a 400, which its libraries do not retry.
    if (e.code == ErrorCode::insufficient_tokens) status = 400;
    json::value message = body.at("error").at("message");
    return {status,
            json::object{{"type", "error"},
                         {"error", {{"type", anthropic_type(status)}, {"message", message}}}}};
}

}  // namespace

http::Response error_response(const Error& error, std::string_view request_id, ErrorStyle style) {
    auto [status, body] = style == ErrorStyle::openai      ? map_openai(error, request_id)
                          : style == ErrorStyle::anthropic ? map_anthropic(error, request_id)
                                                           : map(error, request_id);
    http::Response response = json_response(status, body);
    if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"api\"");
    bool quota =
        error.code == ErrorCode::insufficient_tokens || error.code == ErrorCode::key_limit_reached;
    if (style != ErrorStyle::seed && quota) {
        // Waiting does not refill a balance: tell OpenAI's libraries not to retry this 429.
        response.headers.emplace_back("x-should-retry", "false");
    } else if (error.retry_after_seconds > 0) {
        response.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
    } else if (status == 503 || status == 429) {
        response.headers.emplace_back("Retry-After", "1");
    }
    if (error.retried && (status == 502 || status == 504)) {
        // chatgate's own attempts are spent: a client's retries on top would multiply them.
        response.headers.emplace_back("x-should-retry", "false");
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
        case http::TransportError::too_many_headers:
            return {ErrorCode::header_too_large, "Too many request header fields.", {}};
        case http::TransportError::uri_too_long:
            return {ErrorCode::uri_too_long, "Request URL is too long.", {}};
        case http::TransportError::unsupported_transfer_coding:
            return {ErrorCode::malformed_request,
                    "Unsupported Transfer-Encoding: only a lone \"chunked\" is accepted.",
                    {}};
        case http::TransportError::bad_host:
            return {
                ErrorCode::malformed_request, "A request needs exactly one valid Host header.", {}};
        case http::TransportError::too_many_connections:
            return {ErrorCode::busy, "Too many connections; retry later.", {}, 1};
        case http::TransportError::malformed:
            break;
    }
    return {ErrorCode::malformed_request, "Malformed HTTP request.", {}};
}

}  // namespace chatgate::api

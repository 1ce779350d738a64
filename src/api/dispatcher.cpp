#include "api/dispatcher.hpp"

#include "api/error_mapping.hpp"
#include "api/routes.hpp"
#include "observability/log.hpp"

#include <cctype>
#include <cstdio>

namespace chatgate::api {
namespace {

constexpr std::size_t kMaxRequestIdChars = 128;

// The contract's security headers, on every answer.
constexpr std::string_view kSecurityHeaders =
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: same-origin\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n";

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxRequestIdChars) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

/// SimpleJWT's reading of the Authorization header.
Result<UserId> authenticate(const http::Request& request, const security::JwtCodec& jwt) {
    std::string_view header = request.header("Authorization");
    std::vector<std::string_view> parts;
    for (std::size_t i = 0; i < header.size();) {
        while (i < header.size() && is_blank(header[i])) ++i;
        std::size_t start = i;
        while (i < header.size() && !is_blank(header[i])) ++i;
        if (i > start) parts.push_back(header.substr(start, i - start));
    }
    if (parts.empty() || parts[0] != "Bearer") return Error{ErrorCode::not_authenticated, {}, {}};
    if (parts.size() != 2) return Error{ErrorCode::bad_authorization_header, {}, {}};
    auto claims = jwt.verify(parts[1], security::TokenType::access);
    if (!claims) {
        bool wrong_type = claims.error() == security::TokenRejection::wrong_type;
        return Error{ErrorCode::token_not_valid,
                     wrong_type ? "Token has wrong type" : "Token is invalid or expired",
                     {}};
    }
    return claims->user_id;
}

}  // namespace

Dispatcher::Dispatcher(Api& api, RateLimits* limits, const CorsPolicy* cors)
    : api_(api), limits_(limits), cors_(cors), id_prefix_(security::random_hex(4) + "-") {
    auto table = routes();
    for (std::size_t i = 0; i < table.size(); ++i) router_.add(table[i].method, table[i].path, i);
}

std::string Dispatcher::request_id_for(const http::Request& request) {
    std::string_view given = request.header("X-Request-Id");
    if (acceptable_request_id(given)) return std::string(given);
    char counter[17];
    std::snprintf(counter, sizeof counter, "%llx", static_cast<unsigned long long>(++next_id_));
    return id_prefix_ + counter;
}

void Dispatcher::finish(http::Response& response, std::string request_id) const {
    response.headers.emplace_back("X-Request-Id", request_id);
    response.fixed_headers = kSecurityHeaders;
    response.request_id = std::move(request_id);
}

boost::asio::awaitable<http::Response> Dispatcher::handle(const http::Request& request) {
    std::string request_id = request_id_for(request);
    auto match = router_.match(request.method, request.path);
    using Kind = http::Router::Match::Kind;

    http::Response response;
    bool preflight = false;
    if (match.kind == Kind::found) {
        const Route& route = routes()[match.route];
        RequestContext ctx{request, route, request_id, 0, std::move(match.params)};
        Result<http::Response> result = Error{ErrorCode::internal, {}, {}};
        RateTicket rate_ticket;
        try {
            // (No co_await inside ?: here: GCC 12 miscompiles temporaries in that form.)
            Result<UserId> user = UserId{0};
            if (route.auth == Auth::bearer) user = authenticate(request, api_.jwt);
            std::optional<Error> throttled;
            if (user && limits_) throttled = limits_->admit(route, request, *user, rate_ticket);
            if (throttled) user = std::move(*throttled);
            if (user) {
                ctx.user_id = *user;
                result = co_await route.invoke(api_, ctx);
            } else {
                result = user.error();
            }
        } catch (const ErrorException& e) {
            result = e.error();
        } catch (const std::exception& e) {
            log::error("request failed",
                       {{"request_id", request_id}, {"route", route.path}, {"error", e.what()}});
        }
        response = result ? std::move(*result) : error_response(result.error(), request_id);
        if (limits_) limits_->settle(rate_ticket, result, response);
        response.route = route.path;
        response.user_id = ctx.user_id;
    } else if (match.kind == Kind::method_not_allowed && request.method == http::Method::options) {
        response.status = 204;
        response.content_type.clear();
        response.headers.emplace_back("Allow", match.allow);
        if (cors_) cors_->preflight(request, match.allow, response);
        response.route = "OPTIONS";
        preflight = true;
    } else if (match.kind == Kind::method_not_allowed) {
        std::string message = "Method \"" + std::string(request.method_text) + "\" not allowed.";
        response = error_response({ErrorCode::method_not_allowed, message, {}}, request_id);
        response.headers.emplace_back("Allow", match.allow);
        response.route = "405";
    } else {
        response = error_response({ErrorCode::not_found, "Not found.", {}}, request_id);
        response.route = "404";
    }
    if (cors_ && !preflight) cors_->decorate(request, response);
    finish(response, std::move(request_id));
    co_return response;
}

http::Response Dispatcher::transport_error(http::TransportError error,
                                           const http::Request& partial) {
    std::string request_id = request_id_for(partial);
    auto response =
        error_response(api::transport_error(error, api_.settings.max_body_bytes), request_id);
    response.close = true;
    response.route = "transport";
    if (cors_) cors_->decorate(partial, response);  // so a browser script can read the refusal
    finish(response, std::move(request_id));
    return response;
}

}  // namespace chatgate::api

#include "api/pipeline/dispatcher.hpp"

#include "api/pipeline/authentication.hpp"
#include "api/routes.hpp"
#include "api/wire/error_mapping.hpp"
#include "observability/log.hpp"

namespace chatgate::api {
namespace {

using Kind = http::Router::Match::Kind;

// The contract's security headers, on every answer.
#define CHATGATE_SECURITY_HEADERS         \
    "X-Frame-Options: DENY\r\n"           \
    "X-Content-Type-Options: nosniff\r\n" \
    "Referrer-Policy: same-origin\r\n"    \
    "Cross-Origin-Opener-Policy: same-origin\r\n"
constexpr std::string_view kSecurityHeaders = CHATGATE_SECURITY_HEADERS;
// The pages' policies, sent with them. The docs load only their own scripts; ReDoc injects
// styles and runs its search in a worker from a blob.
constexpr std::string_view kDocsHeaders = CHATGATE_SECURITY_HEADERS
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'\r\n";
// The chat page and the console: their own modules and style sheets only, no inline script or
// style, and fetches to this origin alone (scripts may still set element.style, as uPlot does).
constexpr std::string_view kAppHeaders = CHATGATE_SECURITY_HEADERS
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'\r\n";
#undef CHATGATE_SECURITY_HEADERS

std::string_view security_headers(PagePolicy policy) {
    switch (policy) {
        case PagePolicy::docs:
            return kDocsHeaders;
        case PagePolicy::app:
            return kAppHeaders;
        case PagePolicy::none:
            break;
    }
    return kSecurityHeaders;
}

}  // namespace

Dispatcher::Dispatcher(Services& services, Idempotency& idempotency, EdgePolicies policies)
    : services_(services), policies_(policies) {
    auto table = routes();
    for (std::size_t i = 0; i < table.size(); ++i) {
        const Route& route = table[i];
        router_.add(route.method, route.path, i);
        BoundHandler run = route.handler;
        if (route.replay == Replay::idempotency_key) {
            run = [&idempotency, handler = route.handler](Services& with, RequestContext& ctx) {
                return idempotency.run(with, ctx, handler);
            };
        }
        bound_.push_back({&route, std::move(run)});
    }
}

boost::asio::awaitable<http::Response> Dispatcher::handle(const http::Request& request) {
    std::string request_id = request_ids_.next(request);       // 1
    auto match = router_.match(request.method, request.path);  // 2
    http::Response response;
    if (match.kind == Kind::found) {
        response = co_await answer_route(request, request_id, match);  // 3 to 8
    } else {
        response = answer_unrouted(request, request_id, match);
    }
    bool preflight =
        match.kind == Kind::method_not_allowed && request.method == http::Method::options;
    if (policies_.cors && !preflight) policies_.cors->decorate(request, response);
    PagePolicy policy =
        match.kind == Kind::found ? bound_[match.route].route->policy : PagePolicy::none;
    finish(response, std::move(request_id), policy);
    co_return response;
}

boost::asio::awaitable<http::Response> Dispatcher::answer_route(const http::Request& request,
                                                                std::string_view request_id,
                                                                http::Router::Match& match) {
    const BoundRoute& bound = bound_[match.route];
    const Route& route = *bound.route;
    RequestContext ctx{request, route, request_id, 0, PathParams(std::move(match.params))};
    RateTicket ticket;
    Result<http::Response> result = co_await run_steps(bound, ctx, ticket);
    http::Response response =  // 8
        result ? std::move(*result) : error_response(result.error(), request_id, route.errors);
    if (ticket.shared) {
        co_await policies_.rate_limits->settle_shared(ticket, result, response);
    } else if (policies_.rate_limits) {
        policies_.rate_limits->settle(ticket, result, response);
    }
    response.route = route.path;
    response.user_id = ctx.user_id;
    co_return response;
}

boost::asio::awaitable<Result<http::Response>> Dispatcher::run_steps(const BoundRoute& bound,
                                                                     RequestContext& ctx,
                                                                     RateTicket& ticket) {
    Result<http::Response> result = Error{ErrorCode::internal, {}, {}};
    try {
        // (No co_await inside ?: or an if condition here: GCC 12 miscompiles temporaries in
        // those forms.)
        Caller caller;
        std::optional<Error> refused = authenticate(ctx, caller);  // 3
        if (!refused) refused = co_await check_key(caller);        // 3, for API keys
        if (!refused) refused = limit_rate(ctx, caller, ticket);   // 4
        if (!refused && !ticket.taken.empty()) {                   // 4, across nodes
            refused = co_await policies_.rate_limits->admit_shared(ticket);
        }
        if (!refused) refused = co_await check_session(caller);     // 5
        if (!refused) refused = co_await check_staff(ctx, caller);  // 5, for staff routes
        if (!refused) refused = check_path_types(ctx);              // 6
        if (refused) {
            result = std::move(*refused);
        } else {
            ctx.user_id = caller.user;
            ctx.hash_lane_key = std::move(ticket.client);
            ctx.hash_lane_preferred = !ticket.recent_failed_logins;
            ctx.key = std::move(caller.key);
            result = co_await bound.run(services_, ctx);  // 7
        }
    } catch (const ErrorException& e) {
        result = e.error();
    } catch (const std::exception& e) {
        log::error(
            "request failed",
            {{"request_id", ctx.request_id}, {"route", bound.route->path}, {"error", e.what()}});
    }
    co_return result;
}

std::optional<Error> Dispatcher::authenticate(const RequestContext& ctx, Caller& caller) const {
    if (ctx.route.auth == Auth::none) return std::nullopt;
    auto token = bearer_token(ctx.request, ctx.route.errors == ErrorStyle::anthropic);
    if (!token) return token.error();
    if (domain::KeyService::looks_like_key(*token)) {
        if (ctx.route.auth != Auth::bearer) {
            return Error{ErrorCode::permission_denied,
                         "API keys cannot be used here: log in with a password.",
                         {}};
        }
        caller.key_text = *token;
        return std::nullopt;
    }
    auto claims = verify_access_token(*token, services_.jwt);
    if (!claims) return claims.error();
    caller.user = claims->user_id;
    caller.claims = std::move(*claims);
    return std::nullopt;
}

boost::asio::awaitable<std::optional<Error>> Dispatcher::check_key(Caller& caller) const {
    if (caller.key_text.empty()) co_return std::nullopt;
    auto access = co_await authenticate_api_key(caller.key_text, services_.keys);
    if (!access) co_return access.error();
    caller.user = access->user;
    caller.key = std::move(access->grant);
    co_return std::nullopt;
}

boost::asio::awaitable<std::optional<Error>> Dispatcher::check_staff(const RequestContext& ctx,
                                                                     const Caller& caller) const {
    if (ctx.route.auth != Auth::staff) co_return std::nullopt;
    auto role = co_await services_.admin.role(caller.user);
    if (!role.is_staff) {
        co_return Error{
            ErrorCode::permission_denied, "You do not have permission to perform this action.", {}};
    }
    co_return std::nullopt;
}

std::optional<Error> Dispatcher::limit_rate(const RequestContext& ctx, const Caller& caller,
                                            RateTicket& ticket) const {
    if (!policies_.rate_limits) return std::nullopt;
    return policies_.rate_limits->admit(ctx.route, ctx.request, caller.user, ticket);
}

boost::asio::awaitable<std::optional<Error>> Dispatcher::check_session(const Caller& caller) const {
    if (!caller.claims) co_return std::nullopt;
    const security::TokenClaims& claims = *caller.claims;
    auto access =
        co_await services_.sessions.check_access(claims.user_id, claims.session_id, claims.epoch);
    if (!access) co_return access.error();
    co_return std::nullopt;
}

std::optional<Error> Dispatcher::check_path_types(const RequestContext& ctx) const {
    if (ctx.path.well_typed()) return std::nullopt;
    return Error{ErrorCode::not_found, "Not found.", {}};
}

http::Response Dispatcher::answer_unrouted(const http::Request& request,
                                           std::string_view request_id,
                                           const http::Router::Match& match) const {
    http::Response response;
    if (match.kind == Kind::method_not_allowed && request.method == http::Method::options) {
        response.status = 204;
        response.content_type.clear();
        response.headers.emplace_back("Allow", match.allow);
        if (policies_.cors) policies_.cors->preflight(request, match.allow, response);
        response.route = "OPTIONS";
    } else if (match.kind == Kind::method_not_allowed) {
        std::string message = "Method \"" + std::string(request.method_text) + "\" not allowed.";
        response = error_response({ErrorCode::method_not_allowed, message, {}}, request_id,
                                  error_style_for_path(request.path));
        response.headers.emplace_back("Allow", match.allow);
        response.route = "405";
    } else {
        ErrorStyle style = error_style_for_path(request.path);
        // OpenAI names the URL it could not find; the seed contract says only "Not found.".
        std::string message = style == ErrorStyle::openai
                                  ? "Invalid URL (" + std::string(request.method_text) + " " +
                                        std::string(request.path) + ")"
                                  : std::string("Not found.");
        response = error_response({ErrorCode::not_found, message, {}}, request_id, style);
        response.route = "404";
    }
    return response;
}

void Dispatcher::finish(http::Response& response, std::string request_id, PagePolicy policy) const {
    response.headers.emplace_back("X-Request-Id", request_id);
    response.fixed_headers = security_headers(policy);
    response.request_id = std::move(request_id);
}

http::Response Dispatcher::transport_error(http::TransportError error,
                                           const http::Request& partial) {
    std::string request_id = request_ids_.next(partial);
    auto response = error_response(api::transport_error(error, services_.settings.max_body_bytes),
                                   request_id, error_style_for_path(partial.path));
    response.close = true;
    response.route = "transport";
    // So a browser script can read the refusal.
    if (policies_.cors) policies_.cors->decorate(partial, response);
    finish(response, std::move(request_id));
    return response;
}

}  // namespace chatgate::api

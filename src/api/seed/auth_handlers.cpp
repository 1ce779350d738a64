#include "api/seed/auth_handlers.hpp"

#include "api/wire/json_io.hpp"
#include "domain/accounts/credential_rules.hpp"

#include <algorithm>

namespace chatgate::api {
namespace {

namespace json = boost::json;
using security::TokenType;

constexpr std::size_t kMaxTokenChars = 4096;

struct CredentialsInput {
    std::optional<std::string> username;
    std::optional<std::string> password;
};

/// Reads both fields the way the old serializers did; field errors come back username first.
Result<CredentialsInput> read_credentials(const Services& services, const http::Request& request,
                                          std::vector<FieldError>& errors) {
    auto body = parse_body(request, services.settings.json);
    if (!body) return body.error();
    if (!body->is_object()) return not_an_object(*body);
    CredentialsInput in;
    in.username = read_char_field(*body, "username", domain::kMaxUsernameChars, errors);
    in.password = read_char_field(*body, "password", domain::kMaxPasswordChars, errors);
    return in;
}

/// The body's refresh token, verified. Tokens without a session (issued before sessions
/// existed) are refused: they could be replayed without rotation.
Result<security::TokenClaims> read_refresh_token(const Services& services,
                                                 const http::Request& request) {
    auto body = parse_body(request, services.settings.json);
    if (!body) return body.error();
    if (!body->is_object()) return not_an_object(*body);
    std::vector<FieldError> errors;
    auto token = read_char_field(*body, "refresh", kMaxTokenChars, errors);
    if (!token) return Error::fields_invalid(std::move(errors));
    auto claims = services.jwt.verify(*token, TokenType::refresh);
    if (!claims) {
        bool wrong_type = claims.error() == security::TokenRejection::wrong_type;
        return Error{ErrorCode::refresh_token_not_valid,
                     wrong_type ? "Token has wrong type" : "Token is invalid or expired",
                     {}};
    }
    if (claims->session_id == 0) {
        return Error{ErrorCode::refresh_token_not_valid, "Token is invalid or expired", {}};
    }
    return std::move(*claims);
}

/// SimpleJWT's answer with rotation: {"access"} and, on refresh too, {"refresh"}.
http::Response token_pair(const Services& services, UserId user,
                          const domain::SessionGrant& session, bool access_first) {
    const auto& s = services.settings;
    security::SessionClaims claims{session.id, session.generation, session.epoch};
    std::string access = services.jwt.issue(user, TokenType::access, s.access_lifetime, claims);
    std::string refresh = services.jwt.issue(user, TokenType::refresh, s.refresh_lifetime, claims);
    json::object out;
    if (access_first) out["access"] = access;
    out["refresh"] = refresh;
    if (!access_first) out["access"] = access;
    return json_response(200, out);
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> post_register(Services& services,
                                                             RequestContext& ctx) {
    std::vector<FieldError> errors;
    auto in = read_credentials(services, ctx.request, errors);
    if (!in) co_return in.error();
    if (!errors.empty()) {
        // Like the old serializer, also report the rules broken by the fields that were readable.
        for (auto& rule : services.accounts.check_credentials(in->username.value_or(""),
                                                              in->password.value_or(""))) {
            bool readable =
                rule.field == "username" ? in->username.has_value() : in->password.has_value();
            if (readable) errors.push_back(std::move(rule));
        }
        std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
            return a.field == "username" && b.field != "username";
        });
        co_return Error::fields_invalid(std::move(errors));
    }
    std::string_view lane_key =
        ctx.hash_lane_key.empty() ? ctx.request.remote_address : ctx.hash_lane_key;
    auto created = co_await services.accounts.register_user(*in->username, *in->password, {},
                                                            WorkLane{lane_key});
    if (!created) co_return created.error();
    ctx.user_id = *created;
    co_return json_response(201, json::object{{"message", "User registered successfully!"}});
}

boost::asio::awaitable<Result<http::Response>> post_login(Services& services, RequestContext& ctx) {
    std::vector<FieldError> errors;
    auto in = read_credentials(services, ctx.request, errors);
    if (!in) co_return in.error();
    if (!errors.empty()) co_return Error::fields_invalid(std::move(errors));
    std::string_view lane_key =
        ctx.hash_lane_key.empty() ? ctx.request.remote_address : ctx.hash_lane_key;
    auto user = co_await services.accounts.authenticate(
        *in->username, *in->password, WorkLane{lane_key, ctx.hash_lane_preferred});
    if (!user) co_return user.error();
    ctx.user_id = *user;
    auto session = co_await services.sessions.start(*user);
    if (!session) co_return session.error();
    co_return token_pair(services, *user, *session, false);
}

boost::asio::awaitable<Result<http::Response>> post_token_refresh(Services& services,
                                                                  RequestContext& ctx) {
    auto claims = read_refresh_token(services, ctx.request);
    if (!claims) co_return claims.error();
    auto session = co_await services.sessions.rotate(claims->user_id, claims->session_id,
                                                     claims->generation, claims->epoch);
    if (!session) co_return session.error();
    ctx.user_id = claims->user_id;
    co_return token_pair(services, claims->user_id, *session, true);
}

boost::asio::awaitable<Result<http::Response>> post_logout(Services& services,
                                                           RequestContext& ctx) {
    auto claims = read_refresh_token(services, ctx.request);
    if (!claims) co_return claims.error();
    co_await services.sessions.end(claims->user_id, claims->session_id);
    ctx.user_id = claims->user_id;
    co_return json_response(200, json::object{{"detail", "Successfully logged out."}});
}

boost::asio::awaitable<Result<http::Response>> post_password(Services& services,
                                                             RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    if (!body->is_object()) co_return not_an_object(*body);
    std::vector<FieldError> errors;
    auto old_password = read_char_field(*body, "old_password", domain::kMaxPasswordChars, errors);
    auto new_password = read_char_field(*body, "new_password", domain::kMaxPasswordChars, errors);
    if (!errors.empty()) co_return Error::fields_invalid(std::move(errors));
    auto changed =
        co_await services.accounts.change_password(ctx.user_id, *old_password, *new_password);
    if (!changed) co_return changed.error();
    services.sessions.user_changed(ctx.user_id);  // its epoch moved: no cached session holds
    co_return json_response(200, json::object{{"detail", "New password has been saved."}});
}

}  // namespace chatgate::api

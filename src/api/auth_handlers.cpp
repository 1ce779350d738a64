#include "api/auth_handlers.hpp"

#include "api/json_io.hpp"
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
Result<CredentialsInput> read_credentials(const http::Request& request,
                                          std::vector<FieldError>& errors) {
    auto body = parse_body(request);
    if (!body) return body.error();
    if (!body->is_object()) return not_an_object(*body);
    CredentialsInput in;
    in.username = read_char_field(*body, "username", domain::kMaxUsernameChars, errors);
    in.password = read_char_field(*body, "password", domain::kMaxPasswordChars, errors);
    return in;
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> post_register(Api& api, RequestContext& ctx) {
    std::vector<FieldError> errors;
    auto in = read_credentials(ctx.request, errors);
    if (!in) co_return in.error();
    if (!errors.empty()) {
        // Like the old serializer, also report the rules broken by the fields that were readable.
        for (auto& rule :
             api.accounts.check_credentials(in->username.value_or(""), in->password.value_or(""))) {
            bool readable =
                rule.field == "username" ? in->username.has_value() : in->password.has_value();
            if (readable) errors.push_back(std::move(rule));
        }
        std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
            return a.field == "username" && b.field != "username";
        });
        co_return Error::fields_invalid(std::move(errors));
    }
    auto created = co_await api.accounts.register_user(*in->username, *in->password);
    if (!created) co_return created.error();
    ctx.user_id = *created;
    co_return json_response(201, json::object{{"message", "User registered successfully!"}});
}

boost::asio::awaitable<Result<http::Response>> post_login(Api& api, RequestContext& ctx) {
    std::vector<FieldError> errors;
    auto in = read_credentials(ctx.request, errors);
    if (!in) co_return in.error();
    if (!errors.empty()) co_return Error::fields_invalid(std::move(errors));
    auto user = co_await api.accounts.authenticate(*in->username, *in->password);
    if (!user) co_return user.error();
    ctx.user_id = *user;
    const auto& s = api.settings;
    co_return json_response(
        200, json::object{
                 {"refresh", api.jwt.issue(*user, TokenType::refresh, s.refresh_lifetime)},
                 {"access", api.jwt.issue(*user, TokenType::access, s.access_lifetime)},
             });
}

boost::asio::awaitable<Result<http::Response>> post_token_refresh(Api& api, RequestContext& ctx) {
    auto body = parse_body(ctx.request);
    if (!body) co_return body.error();
    if (!body->is_object()) co_return not_an_object(*body);
    std::vector<FieldError> errors;
    auto token = read_char_field(*body, "refresh", kMaxTokenChars, errors);
    if (!token) co_return Error::fields_invalid(std::move(errors));
    auto claims = api.jwt.verify(*token, TokenType::refresh);
    if (!claims) {
        bool wrong_type = claims.error() == security::TokenRejection::wrong_type;
        co_return Error{ErrorCode::refresh_token_not_valid,
                        wrong_type ? "Token has wrong type" : "Token is invalid or expired",
                        {}};
    }
    auto account = co_await api.accounts.active_account(claims->user_id);
    if (!account) co_return Error{ErrorCode::no_active_account, {}, {}};
    ctx.user_id = claims->user_id;
    co_return json_response(
        200, json::object{{"access", api.jwt.issue(claims->user_id, TokenType::access,
                                                   api.settings.access_lifetime)}});
}

}  // namespace chatgate::api

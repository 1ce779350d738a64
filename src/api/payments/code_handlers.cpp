#include "api/payments/code_handlers.hpp"

#include "api/wire/json_io.hpp"
#include "api/wire/pagination.hpp"
#include "api/wire/time_text.hpp"

#include <boost/json/array.hpp>

namespace chatgate::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxCodeChars = 100;
constexpr std::size_t kMaxTimeChars = 40;

boost::asio::awaitable<domain::Actor> actor_of(Services& services, const RequestContext& ctx) {
    auto role = co_await services.admin.role(ctx.user_id);
    co_return domain::Actor{ctx.user_id, role.username, std::string(ctx.request_id)};
}

/// A JSON integer field from `min`; `fallback` when absent (nothing: required).
std::optional<std::int64_t> read_int(const json::object& body, std::string_view name,
                                     std::int64_t min, std::optional<std::int64_t> fallback,
                                     std::vector<FieldError>& errors) {
    const json::value* value = body.if_contains(name);
    if (!value || value->is_null()) {
        if (!fallback) errors.push_back({std::string(name), {"This field is required."}});
        return fallback;
    }
    if (value->is_int64() && value->get_int64() >= min) return value->get_int64();
    errors.push_back({std::string(name),
                      {"A valid integer is required (at least " + std::to_string(min) + ")."}});
    return std::nullopt;
}

Result<domain::CodeRequest> read_code_request(const json::value& body) {
    const json::object* object = body.if_object();
    if (!object) return not_an_object(body);
    std::vector<FieldError> errors;
    auto tokens = read_int(*object, "tokens", 1, std::nullopt, errors);
    auto count = read_int(*object, "count", 1, std::nullopt, errors);
    auto max_uses = read_int(*object, "max_uses", 1, 1, errors);
    domain::CodeRequest request{tokens.value_or(0), count.value_or(0), max_uses.value_or(1), {}};
    if (const json::value* expires = object->if_contains("expires_at");
        expires && !expires->is_null()) {
        auto text = read_char_field(body, "expires_at", kMaxTimeChars, errors);
        if (text) {
            request.expires_at = parse_utc_time(*text);
            if (!request.expires_at) {
                errors.push_back({"expires_at", {"Expected YYYY-MM-DDTHH:MM:SSZ."}});
            }
        }
    }
    if (!errors.empty()) return Error::fields_invalid(std::move(errors));
    return request;
}

json::object batch_json(const domain::CodeBatchRow& b) {
    return {{"id", b.id},
            {"tokens", b.tokens},
            {"max_uses", b.max_uses},
            {"expires_at",
             b.expires_at ? json::value(format_utc_time(*b.expires_at)) : json::value(nullptr)},
            {"created_by", b.created_by},
            {"created_at", b.created_at},
            {"codes", b.codes},
            {"uses", b.uses},
            {"revoked", b.revoked}};
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> admin_create_codes(Services& services,
                                                                  RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    auto request = read_code_request(*body);
    if (!request) co_return request.error();
    auto actor = co_await actor_of(services, ctx);
    auto created = co_await services.codes.create(actor, *request);
    if (!created) co_return created.error();
    json::array codes;
    for (const auto& code : created->codes) codes.emplace_back(code);
    co_return json_response(201, json::object{{"batch_id", created->batch},
                                              {"tokens", request->tokens},
                                              {"max_uses", request->max_uses},
                                              {"codes", std::move(codes)}});
}

boost::asio::awaitable<Result<http::Response>> admin_list_codes(Services& services,
                                                                RequestContext& ctx) {
    auto page = read_page(ctx, services.settings);
    if (!page) co_return page.error();
    auto found = co_await services.codes.batches((page->page - 1) * page->size, page->size);
    json::array results;
    for (const auto& batch : found.batches) results.push_back(batch_json(batch));
    co_return json_response(200, page_envelope(ctx, *page, found.count, std::move(results)));
}

boost::asio::awaitable<Result<http::Response>> admin_revoke_codes(Services& services,
                                                                  RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    const json::object* object = body->if_object();
    if (!object) co_return not_an_object(*body);
    std::optional<std::string> code;
    if (object->contains("code")) {
        std::vector<FieldError> errors;
        code = read_char_field(*body, "code", kMaxCodeChars, errors);
        if (!errors.empty()) co_return Error::fields_invalid(std::move(errors));
    }
    auto actor = co_await actor_of(services, ctx);
    auto batch = ctx.path.integer("id");
    auto revoked = co_await services.codes.revoke(actor, batch, code);
    if (!revoked) co_return revoked.error();
    co_return json_response(200, json::object{{"batch_id", batch}, {"revoked", *revoked}});
}

boost::asio::awaitable<Result<http::Response>> post_redeem(Services& services,
                                                           RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    if (!body->is_object()) co_return not_an_object(*body);
    std::vector<FieldError> errors;
    auto code = read_char_field(*body, "code", kMaxCodeChars, errors);
    if (!code) co_return domain::CodeService::redeem_refused();
    auto balance = co_await services.codes.redeem(ctx.user_id, *code);
    if (!balance) co_return balance.error();
    co_return json_response(200, json::object{{"tokens", *balance}});
}

}  // namespace chatgate::api

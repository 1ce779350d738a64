#include "api/keys/key_handlers.hpp"

#include "api/wire/json_io.hpp"
#include "api/wire/time_text.hpp"

#include <boost/json/array.hpp>

namespace chatgate::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxNameChars = 100;
constexpr std::size_t kMaxModels = 64;
constexpr TokenAmount kMaxTokenLimit = 1'000'000'000'000;

json::value optional_text(const std::optional<std::string>& text) {
    return text ? json::value(*text) : json::value(nullptr);
}

std::optional<std::vector<std::string>> read_models(const json::object& body,
                                                    const domain::ModelCatalog& catalog,
                                                    std::vector<FieldError>& errors) {
    const json::value* value = body.if_contains("models");
    if (!value || value->is_null()) return std::nullopt;
    const json::array* list = value->if_array();
    if (!list || list->empty() || list->size() > kMaxModels) {
        errors.push_back({"models",
                          {"Expected a list of 1 to " + std::to_string(kMaxModels) +
                           " model ids, or null for every model."}});
        return std::nullopt;
    }
    std::vector<std::string> models;
    for (const auto& item : *list) {
        const json::string* id = item.if_string();
        if (!id || !catalog.find(*id)) {
            errors.push_back(
                {"models", {"Each entry must be the id of a model of GET /api/models/."}});
            return std::nullopt;
        }
        models.emplace_back(*id);
    }
    return models;
}

std::optional<TokenAmount> read_token_limit(const json::object& body,
                                            std::vector<FieldError>& errors) {
    const json::value* value = body.if_contains("token_limit");
    if (!value || value->is_null()) return std::nullopt;
    if (!value->is_int64() || value->get_int64() < 0 || value->get_int64() > kMaxTokenLimit) {
        errors.push_back({"token_limit",
                          {"Ensure this value is a whole number from 0 to " +
                           std::to_string(kMaxTokenLimit) + "."}});
        return std::nullopt;
    }
    return value->get_int64();
}

std::optional<std::int64_t> read_expiry(const json::object& body, std::vector<FieldError>& errors) {
    const json::value* value = body.if_contains("expires_at");
    if (!value || value->is_null()) return std::nullopt;
    const json::string* text = value->if_string();
    auto seconds = text ? parse_utc_time(*text) : std::nullopt;
    if (!seconds) {
        errors.push_back({"expires_at", {"Expected a UTC time: YYYY-MM-DDTHH:MM:SSZ."}});
    }
    return seconds;
}

}  // namespace

json::object key_json(const domain::ApiKeyInfo& key) {
    json::object out{{"id", key.id},
                     {"name", key.name},
                     {"prefix", std::string(domain::KeyService::kPrefix) + key.public_id},
                     {"created_at", key.created_at},
                     {"spent", key.spent}};
    out["expires_at"] =
        key.expires_at ? json::value(format_utc_time(*key.expires_at)) : json::value(nullptr);
    out["last_used_at"] = optional_text(key.last_used_at);
    out["revoked_at"] = optional_text(key.revoked_at);
    out["token_limit"] = key.token_limit ? json::value(*key.token_limit) : json::value(nullptr);
    if (key.models) {
        json::array models;
        for (const auto& model : *key.models) models.emplace_back(model);
        out["models"] = std::move(models);
    } else {
        out["models"] = nullptr;
    }
    return out;
}

Result<domain::KeyRequest> read_key_request(const json::value& body,
                                            const domain::ModelCatalog& catalog) {
    const json::object* object = body.if_object();
    if (!object) return not_an_object(body);
    std::vector<FieldError> errors;
    domain::KeyRequest request;
    auto name = read_char_field(body, "name", kMaxNameChars, errors);
    request.models = read_models(*object, catalog, errors);
    request.token_limit = read_token_limit(*object, errors);
    request.expires_at = read_expiry(*object, errors);
    if (!errors.empty()) return Error::fields_invalid(std::move(errors));
    request.name = std::move(*name);
    return request;
}

boost::asio::awaitable<Result<http::Response>> post_key(Services& services, RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    auto request = read_key_request(*body, services.chat.catalog());
    if (!request) co_return request.error();
    auto created = co_await services.keys.create(ctx.user_id, *request);
    if (!created) co_return created.error();
    json::object out = key_json(created->info);
    out["key"] = created->key;  // the only time it is ever shown
    co_return json_response(201, out);
}

boost::asio::awaitable<Result<http::Response>> get_keys(Services& services, RequestContext& ctx) {
    auto keys = co_await services.keys.list(ctx.user_id);
    json::array results;
    for (const auto& key : keys) results.push_back(key_json(key));
    co_return json_response(200, json::object{{"results", std::move(results)}});
}

boost::asio::awaitable<Result<http::Response>> delete_key(Services& services, RequestContext& ctx) {
    auto revoked = co_await services.keys.revoke(ctx.user_id, ctx.path.integer("id"));
    if (!revoked) co_return revoked.error();
    http::Response response;
    response.status = 204;
    response.content_type.clear();
    co_return response;
}

}  // namespace chatgate::api

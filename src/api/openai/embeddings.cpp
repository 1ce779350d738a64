#include "api/openai/embeddings.hpp"

#include "api/openai/chat_request.hpp"
#include "api/openai/json_checks.hpp"
#include "api/openai/openai_body.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace chatgate::api {
namespace openai {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxInputs = 2048;

/// An array of token ids; returns how many.
Result<std::int64_t> token_ids(const json::array& ids, const std::string& param) {
    if (ids.empty()) return invalid(param, "Invalid '" + param + "': empty array.");
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!ids[i].is_int64() || ids[i].get_int64() < 0) {
            return wrong_type(param + "[" + std::to_string(i) + "]", "a token id", ids[i]);
        }
    }
    return static_cast<std::int64_t>(ids.size());
}

/// The input's token bound: a string's bytes, one per token id.
Result<std::int64_t> input_bound(const json::value& input) {
    if (input.is_string()) {
        if (input.get_string().empty()) {
            return invalid("input", "'$.input' is invalid: an empty string.");
        }
        return static_cast<std::int64_t>(input.get_string().size());
    }
    const auto* list = input.if_array();
    if (!list) return wrong_type("input", "a string or an array", input);
    if (list->empty() || list->size() > kMaxInputs) {
        return invalid("input", "'$.input' must have 1 to 2048 items.");
    }
    if (list->front().is_int64()) return token_ids(*list, "input");
    std::int64_t bound = 0;
    for (std::size_t i = 0; i < list->size(); ++i) {
        std::string param = "input[" + std::to_string(i) + "]";
        const json::value& item = (*list)[i];
        if (const auto* ids = item.if_array()) {
            auto n = token_ids(*ids, param);
            if (!n) return n.error();
            bound += *n;
        } else if (item.is_string() && !item.get_string().empty()) {
            bound += static_cast<std::int64_t>(item.get_string().size());
        } else {
            return wrong_type(param, "a non-empty string or an array of token ids", item);
        }
    }
    return bound;
}

}  // namespace

Result<domain::EmbeddingInput> parse_embedding_request(const json::value& body,
                                                       const domain::ModelCatalog& models) {
    const auto* object = body.if_object();
    if (!object) return wrong_type("body", "an object", body);
    const json::value* model = member(*object, "model");
    if (!model) return invalid("model", "you must provide a model parameter");
    if (!model->is_string()) return wrong_type("model", "a string", *model);
    const domain::ChatModel* found = models.find(model->get_string());
    if (!found) {
        std::string message = "The model `" + std::string(model->get_string()) +
                              "` does not exist or you do not have access to it.";
        return Error{ErrorCode::not_found, message, {{"model", {message}}}};
    }
    if (!found->capabilities.embeddings) return capability_missing(*found, "embeddings", "model");
    const json::value* input = member(*object, "input");
    if (!input) return missing("input");
    auto bound = input_bound(*input);
    if (!bound) return bound.error();

    json::object fields{{"input", *input}};
    for (const auto& [key, value] : *object) {
        if (value.is_null() || key == "model" || key == "input") continue;
        std::string name(key);
        if (name == "encoding_format") {
            if (auto ok = read_string(value, name, {"float", "base64"}); !ok) return ok.error();
        } else if (name == "dimensions") {
            if (auto ok = read_integer(value, name, 1, 100'000); !ok) return ok.error();
        } else if (name == "user") {
            if (auto ok = read_string(value, name); !ok) return ok.error();
        } else {
            return invalid(name, "Unrecognized request argument supplied: " + name);
        }
        fields[key] = value;
    }
    return domain::EmbeddingInput{0, found->id, json::serialize(fields), *bound};
}

}  // namespace openai

boost::asio::awaitable<Result<http::Response>> post_embeddings(Services& services,
                                                               RequestContext& ctx) {
    auto body = openai::read_json_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    auto input = openai::parse_embedding_request(*body, services.chat.catalog());
    if (!input) co_return input.error();
    input->user = ctx.user_id;
    input->key = ctx.key;  // its models and token_limit apply as to chats
    auto outcome = co_await services.chat.embed(*input);
    if (!outcome) co_return outcome.error();
    // The vectors go out as the upstream wrote them, without a second parse.
    boost::json::object usage{{"prompt_tokens", outcome->usage.prompt_tokens},
                              {"total_tokens", outcome->usage.prompt_tokens}};
    http::Response response;
    response.body = R"({"object":"list","data":)" + outcome->data + R"(,"model":)" +
                    boost::json::serialize(boost::json::value(outcome->model)) + R"(,"usage":)" +
                    boost::json::serialize(usage) + "}";
    co_return response;
}

}  // namespace chatgate::api

#include "api/openai/openai_shapes.hpp"

#include "security/jwt.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

Error invalid(std::string param, std::string message) {
    return Error::fields_invalid({{std::move(param), {std::move(message)}}});
}

/// OpenAI's names for JSON types in "Invalid type" messages.
std::string_view type_name(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
        case json::kind::uint64:
            return "an integer";
        case json::kind::double_:
            return "a decimal";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "an unknown type";
}

Error wrong_type(const std::string& param, std::string_view expected, const json::value& got) {
    return invalid(param, "Invalid type for '" + param + "': expected " + std::string(expected) +
                              ", but got " + std::string(type_name(got)) + " instead.");
}

/// A present, non-null member; OpenAI treats an explicit null like an absent field.
const json::value* member(const json::object& object, std::string_view name) {
    const json::value* v = object.if_contains(name);
    return v && !v->is_null() ? v : nullptr;
}

Result<domain::ChatRole> read_role(const json::value* role, const std::string& param) {
    if (!role) return invalid(param, "Missing required parameter: '" + param + "'.");
    if (!role->is_string()) return wrong_type(param, "a string", *role);
    std::string_view name = role->get_string();
    if (name == "user") return domain::ChatRole::user;
    if (name == "assistant") return domain::ChatRole::assistant;
    // Developer messages are OpenAI's newer name for system messages; upstreams that predate
    // them all understand "system".
    if (name == "system" || name == "developer") return domain::ChatRole::system;
    if (name == "tool" || name == "function") {
        return invalid(param, "Messages with role '" + std::string(name) +
                                  "' are not supported: this server offers no tools.");
    }
    return invalid(param, "Invalid value: '" + std::string(name) +
                              "'. Supported values are: 'system', 'developer', 'user' and "
                              "'assistant'.");
}

/// A string, or an array of {"type": "text", "text": ...} parts joined by newlines.
Result<std::string> read_content(const json::value* content, domain::ChatRole role,
                                 const std::string& param) {
    // An assistant turn may have no content (OpenAI allows it next to tool calls).
    if (!content && role == domain::ChatRole::assistant) return std::string();
    if (!content) return invalid(param, "Missing required parameter: '" + param + "'.");
    if (content->is_string()) return std::string(content->get_string());
    if (!content->is_array()) return wrong_type(param, "a string or an array", *content);
    const auto& parts = content->get_array();
    std::string text;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        std::string part_param = param + "[" + std::to_string(i) + "]";
        const auto* part = parts[i].if_object();
        if (!part) return wrong_type(part_param, "an object", parts[i]);
        const json::value* type = member(*part, "type");
        if (!type || !type->is_string() || type->get_string() != "text") {
            return invalid(part_param + ".type",
                           "Only text content parts are supported (\"type\": \"text\").");
        }
        const json::value* part_text = member(*part, "text");
        if (!part_text) {
            return invalid(part_param + ".text",
                           "Missing required parameter: '" + part_param + ".text'.");
        }
        if (!part_text->is_string())
            return wrong_type(part_param + ".text", "a string", *part_text);
        if (i > 0) text += '\n';
        text += part_text->get_string();
    }
    return text;
}

Result<std::vector<domain::ChatTurn>> read_messages(const json::object& body) {
    const json::value* messages = member(body, "messages");
    if (!messages) return invalid("messages", "Missing required parameter: 'messages'.");
    if (!messages->is_array()) {
        return wrong_type("messages", "an array of objects", *messages);
    }
    const auto& list = messages->get_array();
    if (list.empty()) {
        return invalid("messages",
                       "Invalid 'messages': empty array. Expected an array with minimum length "
                       "1, but got an empty array instead.");
    }
    std::vector<domain::ChatTurn> turns;
    turns.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string param = "messages[" + std::to_string(i) + "]";
        const auto* message = list[i].if_object();
        if (!message) return wrong_type(param, "an object", list[i]);
        auto role = read_role(member(*message, "role"), param + ".role");
        if (!role) return role.error();
        auto content = read_content(member(*message, "content"), *role, param + ".content");
        if (!content) return content.error();
        turns.push_back({*role, std::move(*content)});
    }
    return turns;
}

/// A positive integer within `cap` (0: no cap), or nothing when absent.
Result<std::int64_t> read_max_tokens(const json::object& body, std::string_view name,
                                     std::int64_t cap) {
    const json::value* v = member(body, name);
    if (!v) return 0;
    std::string param(name);
    std::int64_t n = 0;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64()) {
        n = INT64_MAX;
    } else {
        return wrong_type(param, "an integer", *v);
    }
    if (n < 1) {
        return invalid(param, "Invalid '" + param +
                                  "': integer below minimum value. Expected a "
                                  "value >= 1, but got " +
                                  std::to_string(n) + " instead.");
    }
    if (cap > 0 && n > cap) {
        return invalid(param, param + " is too large: " + std::to_string(n) +
                                  ". This model supports at most " + std::to_string(cap) +
                                  " completion tokens, whereas you provided " + std::to_string(n) +
                                  ".");
    }
    return n;
}

json::object usage_object(const domain::TokenUsage& usage) {
    return {{"prompt_tokens", usage.prompt_tokens},
            {"completion_tokens", usage.completion_tokens},
            {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

json::object chunk(const CompletionHead& head, json::object delta, std::string_view finish_reason,
                   bool include_usage) {
    json::object choice{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}};
    if (finish_reason.empty()) {
        choice["finish_reason"] = nullptr;
    } else {
        choice["finish_reason"] = finish_reason;
    }
    json::object out{{"id", head.id},
                     {"object", "chat.completion.chunk"},
                     {"created", head.created},
                     {"model", head.model},
                     {"choices", json::array{std::move(choice)}}};
    if (include_usage) out["usage"] = nullptr;
    return out;
}

json::object model_object(const domain::ChatModel& model, std::int64_t created) {
    return {{"id", model.id},
            {"object", "model"},
            {"created", created},
            {"owned_by", model.owned_by.empty() ? std::string("chatgate") : model.owned_by}};
}

}  // namespace

Result<ChatCompletionRequest> parse_chat_completion_request(const json::value& body,
                                                            const domain::ModelCatalog& models) {
    const auto* object = body.if_object();
    if (!object) {
        return Error{
            ErrorCode::invalid_argument,
            "The request body must be a JSON object, but got " + std::string(type_name(body)) + ".",
            {}};
    }
    ChatCompletionRequest out;

    const json::value* model = member(*object, "model");
    if (!model) return invalid("model", "you must provide a model parameter");
    if (!model->is_string()) return wrong_type("model", "a string", *model);
    out.model = models.find(model->get_string());
    if (!out.model) {
        std::string message = "The model `" + std::string(model->get_string()) +
                              "` does not exist or you do not have access to it.";
        return Error{ErrorCode::not_found, message, {{"model", {message}}}};
    }

    auto turns = read_messages(*object);
    if (!turns) return turns.error();
    out.turns = std::move(*turns);

    if (const json::value* n = member(*object, "n")) {
        if (!n->is_int64() && !n->is_uint64()) return wrong_type("n", "an integer", *n);
        if (!n->is_int64() || n->get_int64() != 1) {
            return invalid("n", "Only one choice per request is supported: n must be 1.");
        }
    }

    std::int64_t cap = out.model->max_completion_tokens;
    auto max_completion = read_max_tokens(*object, "max_completion_tokens", cap);
    if (!max_completion) return max_completion.error();
    auto max_tokens = read_max_tokens(*object, "max_tokens", cap);
    if (!max_tokens) return max_tokens.error();
    // max_tokens is the deprecated spelling; the newer field wins when both are given.
    out.max_completion_tokens = *max_completion > 0 ? *max_completion
                                : *max_tokens > 0   ? *max_tokens
                                                    : cap;

    if (const json::value* stream = member(*object, "stream")) {
        if (!stream->is_bool()) return wrong_type("stream", "a boolean", *stream);
        out.stream = stream->get_bool();
    }
    if (const json::value* options = member(*object, "stream_options")) {
        if (!out.stream) {
            return invalid("stream_options",
                           "The 'stream_options' parameter is only allowed when 'stream' is "
                           "enabled.");
        }
        const auto* fields = options->if_object();
        if (!fields) return wrong_type("stream_options", "an object", *options);
        if (const json::value* usage = member(*fields, "include_usage")) {
            if (!usage->is_bool()) {
                return wrong_type("stream_options.include_usage", "a boolean", *usage);
            }
            out.include_usage = usage->get_bool();
        }
    }
    return out;
}

std::string new_completion_id() {
    return "chatcmpl-" + security::random_hex(12);
}

std::string completion_json(const CompletionHead& head, std::string_view text,
                            std::string_view finish_reason, const domain::TokenUsage& usage) {
    json::object message{{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
    json::object choice{{"index", 0},
                        {"message", std::move(message)},
                        {"logprobs", nullptr},
                        {"finish_reason", finish_reason}};
    return json::serialize(json::object{{"id", head.id},
                                        {"object", "chat.completion"},
                                        {"created", head.created},
                                        {"model", head.model},
                                        {"choices", json::array{std::move(choice)}},
                                        {"usage", usage_object(usage)}});
}

std::string role_chunk_json(const CompletionHead& head, bool include_usage) {
    return json::serialize(chunk(
        head, {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, {}, include_usage));
}

std::string content_chunk_json(const CompletionHead& head, std::string_view delta,
                               bool include_usage) {
    return json::serialize(chunk(head, {{"content", delta}}, {}, include_usage));
}

std::string finish_chunk_json(const CompletionHead& head, std::string_view finish_reason,
                              bool include_usage) {
    return json::serialize(chunk(head, {}, finish_reason, include_usage));
}

std::string usage_chunk_json(const CompletionHead& head, const domain::TokenUsage& usage) {
    return json::serialize(json::object{{"id", head.id},
                                        {"object", "chat.completion.chunk"},
                                        {"created", head.created},
                                        {"model", head.model},
                                        {"choices", json::array{}},
                                        {"usage", usage_object(usage)}});
}

std::string model_json(const domain::ChatModel& model, std::int64_t created) {
    return json::serialize(model_object(model, created));
}

std::string model_list_json(const domain::ModelCatalog& models, std::int64_t created) {
    json::array data;
    for (const auto& model : models.all()) data.push_back(model_object(model, created));
    return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

std::optional<std::string> decode_path_segment(std::string_view segment) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(segment.size());
    for (std::size_t i = 0; i < segment.size(); ++i) {
        if (segment[i] != '%') {
            out += segment[i];
            continue;
        }
        if (i + 2 >= segment.size()) return std::nullopt;
        int high = hex(segment[i + 1]);
        int low = hex(segment[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

}  // namespace chatgate::api::openai

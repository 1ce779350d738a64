#include "api/openai/openai_shapes.hpp"

#include "security/jwt.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

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
    json::array capabilities;
    for (auto name : domain::capability_names(model.capabilities)) {
        capabilities.push_back(json::string(name));
    }
    // Beyond OpenAI's four fields (which its libraries read), what chatgate's clients need to
    // choose a model: what it can do and what it costs in chatgate tokens.
    return {{"id", model.id},
            {"object", "model"},
            {"created", created},
            {"owned_by", model.owned_by.empty() ? std::string("chatgate") : model.owned_by},
            {"capabilities", std::move(capabilities)},
            {"pricing",
             {{"per_message", model.price.per_message},
              {"per_1k_prompt_tokens", model.price.per_1k_prompt_tokens},
              {"per_1k_completion_tokens", model.price.per_1k_completion_tokens}}}};
}

json::array tool_calls_array(const std::vector<domain::ToolCall>& calls) {
    json::array out;
    for (const auto& call : calls) {
        out.push_back(
            json::object{{"id", call.id},
                         {"type", "function"},
                         {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
    }
    return out;
}

/// OpenAI's streamed fragments: id, type and name only in the first piece of each call.
json::array tool_call_deltas(const std::vector<domain::ToolCallDelta>& pieces) {
    json::array out;
    for (const auto& piece : pieces) {
        json::object function{{"arguments", piece.arguments}};
        if (!piece.name.empty()) function["name"] = piece.name;
        json::object call{{"index", piece.index}};
        if (!piece.id.empty()) {
            call["id"] = piece.id;
            call["type"] = "function";
        }
        call["function"] = std::move(function);
        out.push_back(std::move(call));
    }
    return out;
}

}  // namespace

std::string new_completion_id() {
    return "chatcmpl-" + security::random_hex(12);
}

std::string completion_json(const CompletionHead& head, std::string_view text,
                            const std::vector<domain::ToolCall>& tool_calls,
                            std::string_view finish_reason, const domain::TokenUsage& usage) {
    json::object message{{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
    if (!tool_calls.empty()) {
        if (text.empty()) message["content"] = nullptr;  // as OpenAI answers a pure tool call
        message["tool_calls"] = tool_calls_array(tool_calls);
    }
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

std::string delta_chunk_json(const CompletionHead& head, const domain::ChatDelta& delta,
                             bool include_usage) {
    json::object fields;
    if (!delta.text.empty()) fields["content"] = delta.text;
    if (!delta.tool_calls.empty()) fields["tool_calls"] = tool_call_deltas(delta.tool_calls);
    return json::serialize(chunk(head, std::move(fields), {}, include_usage));
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

std::string model_list_json(const domain::ModelCatalog& models, std::int64_t created,
                            const domain::KeyGrant* key) {
    json::array data;
    for (const auto& model : models.all()) {
        if (!key || key->allows(model.id)) data.push_back(model_object(model, created));
    }
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

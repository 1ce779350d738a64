#include "api/anthropic/messages_request.hpp"

#include "api/openai/json_checks.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace chatgate::api::anthropic {
namespace {

namespace json = boost::json;
using openai::invalid;
using openai::member;
using openai::missing;
using openai::read_string;
using openai::wrong_type;

/// A member or null, by reference (a temporary would leave read_string's view dangling).
const json::value& field(const json::object& object, std::string_view key) {
    static const json::value null;
    const json::value* v = object.if_contains(key);
    return v ? *v : null;
}

std::string at(const std::string& param, std::size_t i) {
    return param + "[" + std::to_string(i) + "]";
}

Result<std::string> text_of_block(const json::object& block, const std::string& param) {
    const json::value* text = member(block, "text");
    if (!text) return missing(param + ".text");
    if (!text->is_string()) return wrong_type(param + ".text", "a string", *text);
    return std::string(text->get_string());
}

Result<json::value> image_part(const json::object& block, const std::string& param) {
    const json::value* source = member(block, "source");
    const auto* fields = source ? source->if_object() : nullptr;
    if (!fields) return missing(param + ".source");
    auto type = read_string(field(*fields, "type"), param + ".source.type", {"base64", "url"});
    if (!type) return type.error();
    std::string url;
    if (*type == "url") {
        auto text = read_string(field(*fields, "url"), param + ".source.url");
        if (!text) return text.error();
        url = std::string(*text);
    } else {
        auto media = read_string(field(*fields, "media_type"), param + ".source.media_type");
        if (!media) return media.error();
        auto data = read_string(field(*fields, "data"), param + ".source.data");
        if (!data) return data.error();
        url = "data:" + std::string(*media) + ";base64," + std::string(*data);
    }
    return json::object{{"type", "image_url"}, {"image_url", {{"url", url}}}};
}

/// A tool_result's content: a string or text blocks, as Chat Completions tool content.
Result<json::value> tool_result_content(const json::object& block, const std::string& param) {
    const json::value* content = member(block, "content");
    if (!content) return json::value("");
    if (content->is_string()) return *content;
    const auto* blocks = content->if_array();
    if (!blocks) return wrong_type(param + ".content", "a string or an array", *content);
    json::array parts;
    for (std::size_t i = 0; i < blocks->size(); ++i) {
        const auto* inner = (*blocks)[i].if_object();
        if (!inner || !inner->contains("type") || inner->at("type") != "text") {
            return invalid(at(param + ".content", i), "Tool results may hold text blocks only.");
        }
        auto text = text_of_block(*inner, at(param + ".content", i));
        if (!text) return text.error();
        parts.push_back(json::object{{"type", "text"}, {"text", *text}});
    }
    return parts;
}

/// One Anthropic message as Chat Completions messages (tool results become tool messages
/// ahead of the turn's other content).
Result<void> translate_message(const json::value& value, const std::string& param,
                               json::array& out) {
    const auto* message = value.if_object();
    if (!message) return wrong_type(param, "an object", value);
    const json::value* role = member(*message, "role");
    if (!role) return missing(param + ".role");
    auto name = read_string(*role, param + ".role", {"user", "assistant"});
    if (!name) return name.error();
    const json::value* content = member(*message, "content");
    if (!content) return missing(param + ".content");
    if (content->is_string()) {
        out.push_back(json::object{{"role", *name}, {"content", *content}});
        return {};
    }
    const auto* blocks = content->if_array();
    if (!blocks) return wrong_type(param + ".content", "a string or an array", *content);
    json::array parts;
    json::array calls;
    for (std::size_t i = 0; i < blocks->size(); ++i) {
        std::string p = at(param + ".content", i);
        const auto* block = (*blocks)[i].if_object();
        if (!block) return wrong_type(p, "an object", (*blocks)[i]);
        const json::value* type = member(*block, "type");
        if (!type) return missing(p + ".type");
        auto kind = read_string(*type, p + ".type");
        if (!kind) return kind.error();
        if (*kind == "text") {
            auto text = text_of_block(*block, p);
            if (!text) return text.error();
            parts.push_back(json::object{{"type", "text"}, {"text", *text}});
        } else if (*kind == "image" && *name == "user") {
            auto image = image_part(*block, p);
            if (!image) return image.error();
            parts.push_back(std::move(*image));
        } else if (*kind == "tool_use" && *name == "assistant") {
            const json::value* id = member(*block, "id");
            const json::value* tool = member(*block, "name");
            if (!id || !id->is_string()) return missing(p + ".id");
            if (!tool || !tool->is_string()) return missing(p + ".name");
            const json::value* input = member(*block, "input");
            std::string arguments = input ? json::serialize(*input) : "{}";
            calls.push_back(
                json::object{{"id", *id},
                             {"type", "function"},
                             {"function", {{"name", *tool}, {"arguments", arguments}}}});
        } else if (*kind == "tool_result" && *name == "user") {
            const json::value* id = member(*block, "tool_use_id");
            if (!id || !id->is_string()) return missing(p + ".tool_use_id");
            auto result = tool_result_content(*block, p);
            if (!result) return result.error();
            out.push_back(json::object{
                {"role", "tool"}, {"tool_call_id", *id}, {"content", std::move(*result)}});
        } else if (*kind == "thinking" || *kind == "redacted_thinking") {
            continue;  // a model's own notes: Chat Completions upstreams take none
        } else {
            return invalid(p + ".type", "Content blocks of type '" + std::string(*kind) +
                                            "' are not supported in " + std::string(*name) +
                                            " messages.");
        }
    }
    if (parts.empty() && calls.empty()) return {};
    json::object turn{{"role", *name}};
    turn["content"] = parts.empty() ? json::value(nullptr) : json::value(std::move(parts));
    if (!calls.empty()) turn["tool_calls"] = std::move(calls);
    out.push_back(std::move(turn));
    return {};
}

Result<json::value> translate_system(const json::value& system) {
    if (system.is_string()) return system;
    const auto* blocks = system.if_array();
    if (!blocks) return wrong_type("system", "a string or an array", system);
    std::string text;
    for (std::size_t i = 0; i < blocks->size(); ++i) {
        const auto* block = (*blocks)[i].if_object();
        if (!block) return wrong_type(at("system", i), "an object", (*blocks)[i]);
        auto piece = text_of_block(*block, at("system", i));
        if (!piece) return piece.error();
        if (!text.empty()) text += "\n";
        text += *piece;
    }
    return json::value(text);
}

Result<void> translate_tools(const json::object& body, json::object& chat) {
    const json::value* tools = member(body, "tools");
    if (tools) {
        const auto* list = tools->if_array();
        if (!list) return wrong_type("tools", "an array", *tools);
        json::array out;
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto* tool = (*list)[i].if_object();
            if (!tool) return wrong_type(at("tools", i), "an object", (*list)[i]);
            if (const json::value* type = member(*tool, "type"); type && *type != "custom") {
                return invalid(at("tools", i) + ".type",
                               "Only client tools (name, description, input_schema) are offered.");
            }
            json::object function;
            if (const json::value* v = member(*tool, "name")) function["name"] = *v;
            if (const json::value* v = member(*tool, "description")) function["description"] = *v;
            if (const json::value* v = member(*tool, "input_schema")) function["parameters"] = *v;
            out.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
        }
        if (!out.empty()) chat["tools"] = std::move(out);
    }
    const json::value* choice = member(body, "tool_choice");
    if (!choice) return {};
    const auto* fields = choice->if_object();
    if (!fields) return wrong_type("tool_choice", "an object", *choice);
    auto type =
        read_string(field(*fields, "type"), "tool_choice.type", {"auto", "any", "tool", "none"});
    if (!type) return type.error();
    if (*type == "tool") {
        const json::value* name = member(*fields, "name");
        if (!name) return missing("tool_choice.name");
        chat["tool_choice"] = json::object{{"type", "function"}, {"function", {{"name", *name}}}};
    } else {
        chat["tool_choice"] = *type == "any" ? "required" : *type;
    }
    if (const json::value* single = member(*fields, "disable_parallel_tool_use");
        single && single->is_bool() && single->get_bool() && chat.contains("tools")) {
        chat["parallel_tool_calls"] = false;
    }
    return {};
}

}  // namespace

Result<json::object> chat_body_from_messages(const json::object& body) {
    for (const auto& [key, value] : body) {
        if (value.is_null()) continue;
        std::string name(key);
        if (name == "top_k") return invalid(name, "top_k is not offered: use top_p.");
        if (name == "thinking") {
            const auto* thinking = value.if_object();
            if (thinking && thinking->contains("type") && thinking->at("type") == "disabled")
                continue;
            return invalid(name, "Extended thinking is not offered.");
        }
        static constexpr std::string_view kKnown[] = {
            "model", "messages", "system", "max_tokens",  "stop_sequences", "temperature",
            "top_p", "metadata", "tools",  "tool_choice", "stream",         "service_tier"};
        if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
            return invalid(name, name + ": Extra inputs are not permitted");
        }
    }
    json::object chat;
    if (const json::value* model = member(body, "model")) chat["model"] = *model;
    const json::value* max_tokens = member(body, "max_tokens");
    if (!max_tokens) return invalid("max_tokens", "max_tokens: Field required");
    chat["max_completion_tokens"] = *max_tokens;
    json::array messages;
    if (const json::value* system = member(body, "system")) {
        auto text = translate_system(*system);
        if (!text) return text.error();
        messages.push_back(json::object{{"role", "system"}, {"content", std::move(*text)}});
    }
    const json::value* list = member(body, "messages");
    if (!list) return invalid("messages", "messages: Field required");
    const auto* items = list->if_array();
    if (!items) return wrong_type("messages", "an array", *list);
    for (std::size_t i = 0; i < items->size(); ++i) {
        if (auto ok = translate_message((*items)[i], at("messages", i), messages); !ok) {
            return ok.error();
        }
    }
    chat["messages"] = std::move(messages);
    if (const json::value* stop = member(body, "stop_sequences")) chat["stop"] = *stop;
    for (auto key : {"temperature", "top_p", "stream"}) {
        if (const json::value* v = member(body, key)) chat[key] = *v;
    }
    if (const json::value* t = member(body, "temperature");
        t && t->is_number() && t->to_number<double>() > 1) {
        return invalid("temperature", "temperature: Input should be less than or equal to 1");
    }
    if (const json::value* metadata = member(body, "metadata")) {
        const auto* fields = metadata->if_object();
        if (!fields) return wrong_type("metadata", "an object", *metadata);
        if (const json::value* user = member(*fields, "user_id")) chat["user"] = *user;
    }
    if (auto ok = translate_tools(body, chat); !ok) return ok.error();
    return chat;
}

Result<openai::ChatCompletionRequest> parse_messages_request(const json::value& body,
                                                             const domain::ModelCatalog& models) {
    const auto* object = body.if_object();
    if (!object) return wrong_type("body", "an object", body);
    auto chat = chat_body_from_messages(*object);
    if (!chat) return chat.error();
    return openai::parse_chat_completion_request(*chat, models);
}

}  // namespace chatgate::api::anthropic

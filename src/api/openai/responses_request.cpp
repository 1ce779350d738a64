#include "api/openai/responses_request.hpp"

#include "api/openai/json_checks.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

std::string at(const std::string& param, std::size_t i) {
    return param + "[" + std::to_string(i) + "]";
}

/// One content part of an input message, as a Chat Completions part.
Result<json::value> translate_part(const json::value& value, const std::string& param) {
    const auto* part = value.if_object();
    if (!part) return wrong_type(param, "an object", value);
    const json::value* type = member(*part, "type");
    if (!type) return missing(param + ".type");
    auto name = read_string(*type, param + ".type");
    if (!name) return name.error();
    if (*name == "input_text" || *name == "output_text" || *name == "refusal") {
        const char* key = *name == "refusal" ? "refusal" : "text";
        const json::value* text = member(*part, key);
        if (!text) return missing(param + "." + key);
        if (!text->is_string()) return wrong_type(param + "." + key, "a string", *text);
        return json::object{{"type", "text"}, {"text", *text}};
    }
    if (*name == "input_image") {
        const json::value* url = member(*part, "image_url");
        if (!url) {
            return invalid(param + ".image_url",
                           "Images are taken by 'image_url' (a URL or a data URL); file ids "
                           "are not offered.");
        }
        if (!url->is_string()) return wrong_type(param + ".image_url", "a string", *url);
        json::object image{{"url", *url}};
        if (const json::value* detail = member(*part, "detail")) image["detail"] = *detail;
        return json::object{{"type", "image_url"}, {"image_url", std::move(image)}};
    }
    return not_one_of(param + ".type", *name,
                      {"input_text", "input_image", "output_text", "refusal"});
}

Result<json::value> translate_content(const json::value& content, const std::string& param) {
    if (content.is_string()) return content;
    const auto* parts = content.if_array();
    if (!parts) return wrong_type(param, "a string or an array", content);
    json::array out;
    for (std::size_t i = 0; i < parts->size(); ++i) {
        auto part = translate_part((*parts)[i], at(param, i));
        if (!part) return part.error();
        out.push_back(std::move(*part));
    }
    return out;
}

/// Builds the Chat Completions messages of `input` items, merging consecutive function calls
/// into one assistant message as Chat Completions has them.
class MessageBuilder {
public:
    json::array messages;

    Result<void> add(const json::value& value, const std::string& param) {
        const auto* item = value.if_object();
        if (!item) return wrong_type(param, "an object", value);
        std::string_view type = "message";
        if (const json::value* t = member(*item, "type")) {
            auto name = read_string(*t, param + ".type");
            if (!name) return name.error();
            type = *name;
        }
        if (type == "message") return add_message(*item, param);
        if (type == "function_call") return add_call(*item, param);
        if (type == "function_call_output") return add_output(*item, param);
        if (type == "reasoning") return {};  // an upstream's own notes: no Chat equivalent
        if (type == "item_reference") {
            return invalid(param,
                           "Item references need stored responses, which are not "
                           "offered: send the item itself.");
        }
        return not_one_of(param + ".type", type,
                          {"message", "function_call", "function_call_output", "reasoning"});
    }

private:
    Result<void> add_message(const json::object& item, const std::string& param) {
        const json::value* role = member(item, "role");
        if (!role) return missing(param + ".role");
        auto name =
            read_string(*role, param + ".role", {"user", "assistant", "system", "developer"});
        if (!name) return name.error();
        const json::value* content = member(item, "content");
        if (!content) return missing(param + ".content");
        auto translated = translate_content(*content, param + ".content");
        if (!translated) return translated.error();
        messages.push_back(json::object{{"role", *name}, {"content", std::move(*translated)}});
        return {};
    }

    Result<void> add_call(const json::object& item, const std::string& param) {
        json::object call{{"type", "function"}};
        json::object function;
        for (auto [key, target] :
             {std::pair{"call_id", "id"}, {"name", "name"}, {"arguments", "arguments"}}) {
            const json::value* v = member(item, key);
            if (!v) return missing(param + "." + key);
            if (!v->is_string()) return wrong_type(param + "." + key, "a string", *v);
            (std::string_view(target) == "id" ? call : function)[target] = *v;
        }
        call["function"] = std::move(function);
        // Calls made in one turn, and the text before them, are one assistant message.
        json::object* last = messages.empty() ? nullptr : messages.back().if_object();
        bool extend = last && last->at("role") == "assistant" && !last->contains("tool_call_id");
        if (!extend) {
            messages.push_back(json::object{{"role", "assistant"}, {"content", nullptr}});
            last = &messages.back().as_object();
        }
        if (!last->contains("tool_calls")) (*last)["tool_calls"] = json::array();
        (*last)["tool_calls"].as_array().push_back(std::move(call));
        return {};
    }

    Result<void> add_output(const json::object& item, const std::string& param) {
        const json::value* id = member(item, "call_id");
        if (!id) return missing(param + ".call_id");
        if (!id->is_string()) return wrong_type(param + ".call_id", "a string", *id);
        const json::value* output = member(item, "output");
        if (!output) return missing(param + ".output");
        auto content = translate_content(*output, param + ".output");
        if (!content) return content.error();
        messages.push_back(json::object{
            {"role", "tool"}, {"tool_call_id", *id}, {"content", std::move(*content)}});
        return {};
    }
};

Result<json::value> translate_tools(const json::value& tools) {
    const auto* list = tools.if_array();
    if (!list) return wrong_type("tools", "an array", tools);
    json::array out;
    for (std::size_t i = 0; i < list->size(); ++i) {
        std::string param = at("tools", i);
        const auto* tool = (*list)[i].if_object();
        if (!tool) return wrong_type(param, "an object", (*list)[i]);
        const json::value* type = member(*tool, "type");
        if (!type) return missing(param + ".type");
        auto name = read_string(*type, param + ".type");
        if (!name) return name.error();
        if (*name != "function") {
            return invalid(param + ".type", "Only function tools are offered; '" +
                                                std::string(*name) +
                                                "' is a tool of OpenAI's own.");
        }
        json::object function;
        for (auto key : {"name", "description", "parameters", "strict"}) {
            if (const json::value* v = member(*tool, key)) function[key] = *v;
        }
        out.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
    }
    return out;
}

Result<json::value> translate_tool_choice(const json::value& choice) {
    if (choice.is_string()) return choice;
    const auto* object = choice.if_object();
    if (!object) return wrong_type("tool_choice", "a string or an object", choice);
    const json::value* type = member(*object, "type");
    if (!type) return missing("tool_choice.type");
    if (auto ok = read_string(*type, "tool_choice.type", {"function"}); !ok) return ok.error();
    const json::value* name = member(*object, "name");
    if (!name) return missing("tool_choice.name");
    return json::object{{"type", "function"}, {"function", {{"name", *name}}}};
}

Result<json::value> translate_format(const json::value& format) {
    const auto* object = format.if_object();
    if (!object) return wrong_type("text.format", "an object", format);
    const json::value* type = member(*object, "type");
    if (!type) return missing("text.format.type");
    auto name = read_string(*type, "text.format.type", {"text", "json_object", "json_schema"});
    if (!name) return name.error();
    if (*name != "json_schema") return json::object{{"type", *name}};
    json::object schema;
    for (auto key : {"name", "description", "schema", "strict"}) {
        if (const json::value* v = member(*object, key)) schema[key] = *v;
    }
    return json::object{{"type", "json_schema"}, {"json_schema", std::move(schema)}};
}

/// Fields refused with their reason.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kRefused{{
    {"previous_response_id", "The previous response is resolved before the translation."},
    {"background", "Background responses are not offered."},
    {"conversation", "Conversations of the Responses API are not offered: send 'input'."},
    {"prompt", "Prompt templates are not offered."},
    {"max_tool_calls", "'max_tool_calls' is not offered."},
}};

/// Fields copied as they are (same name and meaning in both APIs).
constexpr std::array<std::string_view, 7> kSame{
    "model",        "temperature",      "top_p", "user", "parallel_tool_calls",
    "service_tier", "safety_identifier"};

Result<void> translate_settings(const json::object& body, json::object& chat) {
    for (auto key : kSame) {
        if (const json::value* v = member(body, key)) chat[key] = *v;
    }
    if (const json::value* v = member(body, "prompt_cache_key")) chat["prompt_cache_key"] = *v;
    if (const json::value* v = member(body, "max_output_tokens")) {
        chat["max_completion_tokens"] = *v;
    }
    if (const json::value* v = member(body, "stream")) chat["stream"] = *v;
    if (const json::value* tools = member(body, "tools")) {
        auto translated = translate_tools(*tools);
        if (!translated) return translated.error();
        if (!translated->as_array().empty()) chat["tools"] = std::move(*translated);
    }
    if (const json::value* choice = member(body, "tool_choice")) {
        auto translated = translate_tool_choice(*choice);
        if (!translated) return translated.error();
        chat["tool_choice"] = std::move(*translated);
    }
    if (const json::value* text = member(body, "text")) {
        const auto* fields = text->if_object();
        if (!fields) return wrong_type("text", "an object", *text);
        if (const json::value* format = member(*fields, "format")) {
            auto translated = translate_format(*format);
            if (!translated) return translated.error();
            chat["response_format"] = std::move(*translated);
        }
        if (const json::value* verbosity = member(*fields, "verbosity")) {
            chat["verbosity"] = *verbosity;
        }
    }
    if (const json::value* reasoning = member(body, "reasoning")) {
        const auto* fields = reasoning->if_object();
        if (!fields) return wrong_type("reasoning", "an object", *reasoning);
        if (const json::value* effort = member(*fields, "effort")) {
            chat["reasoning_effort"] = *effort;
        }
    }
    if (const json::value* top = member(body, "top_logprobs");
        top && !(top->is_int64() && top->get_int64() == 0)) {
        return invalid("top_logprobs", "Log probabilities are not relayed.");
    }
    return {};
}

/// The keys a Responses request may have (beyond these, OpenAI's own error).
constexpr std::array<std::string_view, 27> kKnown{"model",
                                                  "input",
                                                  "instructions",
                                                  "max_output_tokens",
                                                  "temperature",
                                                  "top_p",
                                                  "tools",
                                                  "tool_choice",
                                                  "parallel_tool_calls",
                                                  "text",
                                                  "reasoning",
                                                  "stream",
                                                  "stream_options",
                                                  "store",
                                                  "metadata",
                                                  "user",
                                                  "include",
                                                  "truncation",
                                                  "service_tier",
                                                  "safety_identifier",
                                                  "prompt_cache_key",
                                                  "top_logprobs",
                                                  "previous_response_id",
                                                  "background",
                                                  "conversation",
                                                  "prompt",
                                                  "max_tool_calls"};

}  // namespace

Result<json::object> chat_body_from_responses(const json::object& body) {
    for (const auto& field : body) {
        // (Named, not a structured binding: clang 14 cannot capture those in a lambda.)
        std::string_view key = field.key();
        const json::value& value = field.value();
        if (value.is_null()) continue;
        auto refused = std::find_if(kRefused.begin(), kRefused.end(),
                                    [&](const auto& entry) { return entry.first == key; });
        bool harmless = key == "background" && value.is_bool() && !value.get_bool();
        if (refused != kRefused.end() && !harmless) {
            return invalid(std::string(key), std::string(refused->second));
        }
        if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
            return invalid(std::string(key),
                           "Unrecognized request argument supplied: " + std::string(key));
        }
    }
    MessageBuilder builder;
    if (const json::value* instructions = member(body, "instructions")) {
        if (!instructions->is_string())
            return wrong_type("instructions", "a string", *instructions);
        builder.messages.push_back(json::object{{"role", "system"}, {"content", *instructions}});
    }
    const json::value* input = member(body, "input");
    if (!input) return missing("input");
    if (input->is_string()) {
        builder.messages.push_back(json::object{{"role", "user"}, {"content", *input}});
    } else if (const auto* items = input->if_array()) {
        for (std::size_t i = 0; i < items->size(); ++i) {
            if (auto ok = builder.add((*items)[i], at("input", i)); !ok) return ok.error();
        }
    } else {
        return wrong_type("input", "a string or an array", *input);
    }
    json::object chat;
    if (auto ok = translate_settings(body, chat); !ok) return ok.error();
    chat["messages"] = std::move(builder.messages);
    return chat;
}

Result<ResponsesRequest> parse_responses_request(const json::value& body,
                                                 const domain::ModelCatalog& models) {
    auto checked = body_object(body);
    if (!checked) return checked.error();
    const json::object* object = *checked;
    auto chat = chat_body_from_responses(*object);
    if (!chat) return chat.error();
    auto request = parse_chat_completion_request(*chat, models);
    if (!request) return request.error();
    ResponsesRequest out{std::move(*request), {}};
    for (auto key : {"instructions", "max_output_tokens", "temperature", "top_p", "tools",
                     "tool_choice", "parallel_tool_calls", "text", "reasoning", "metadata", "user",
                     "truncation", "service_tier"}) {
        if (const json::value* v = member(*object, key)) out.echo[key] = *v;
    }
    return out;
}

}  // namespace chatgate::api::openai

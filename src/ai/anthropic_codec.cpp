#include "ai/anthropic_codec.hpp"

#include <boost/json.hpp>

namespace chatgate::ai {
namespace {

namespace json = boost::json;

Error malformed(std::string why) {
    return Error{ErrorCode::upstream_unavailable, std::move(why), {}};
}

const json::value* member(const json::object& object, std::string_view key) {
    const json::value* v = object.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
}

std::string text_of(const json::object& object, std::string_view key) {
    const json::value* v = member(object, key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t count(const json::object& usage, std::string_view key) {
    const json::value* v = member(usage, key);
    return v && v->is_int64() ? std::max<std::int64_t>(0, v->get_int64()) : 0;
}

/// A Chat Completions message as parsed JSON (the turn's wire copy, or its role and text).
json::object message_of(const domain::ChatTurn& turn) {
    boost::system::error_code ec;
    json::value wire = turn.wire.empty() ? json::value() : json::parse(turn.wire, ec);
    if (!ec && wire.is_object()) return std::move(wire.get_object());
    return {{"role", domain::to_string(turn.role)}, {"content", turn.content}};
}

json::value image_block(const json::object& part) {
    const json::value* image = member(part, "image_url");
    std::string url = image && image->is_object() ? text_of(image->get_object(), "url") : "";
    if (url.starts_with("data:")) {
        auto semicolon = url.find(';');
        auto comma = url.find(',');
        if (semicolon != std::string::npos && comma != std::string::npos && semicolon < comma) {
            return json::object{{"type", "image"},
                                {"source",
                                 {{"type", "base64"},
                                  {"media_type", url.substr(5, semicolon - 5)},
                                  {"data", url.substr(comma + 1)}}}};
        }
    }
    return json::object{{"type", "image"}, {"source", {{"type", "url"}, {"url", url}}}};
}

/// Chat Completions content (a string or parts) as Anthropic content blocks.
json::array blocks_of(const json::value* content) {
    json::array blocks;
    if (!content) return blocks;
    if (content->is_string()) {
        if (!content->get_string().empty()) {
            blocks.push_back(json::object{{"type", "text"}, {"text", *content}});
        }
        return blocks;
    }
    if (!content->is_array()) return blocks;
    for (const auto& item : content->get_array()) {
        const auto* part = item.if_object();
        if (!part) continue;
        std::string type = text_of(*part, "type");
        if (type == "image_url") {
            blocks.push_back(image_block(*part));
        } else {
            std::string text = text_of(*part, type == "refusal" ? "refusal" : "text");
            if (!text.empty()) blocks.push_back(json::object{{"type", "text"}, {"text", text}});
        }
    }
    return blocks;
}

std::string text_only(const json::value* content) {
    std::string text;
    for (const auto& block : blocks_of(content)) {
        if (block.at("type") != "text") continue;
        if (!text.empty()) text += "\n";
        text += block.at("text").get_string();
    }
    return text;
}

/// Appends a block to the last message when it has `role`, else opens a message.
void append(json::array& messages, std::string_view role, json::value block) {
    json::object* last = messages.empty() ? nullptr : messages.back().if_object();
    if (!last || text_of(*last, "role") != role) {
        messages.push_back(json::object{{"role", role}, {"content", json::array()}});
        last = &messages.back().as_object();
    }
    (*last)["content"].as_array().push_back(std::move(block));
}

void add_message(const json::object& message, json::array& messages, std::string& system) {
    std::string role = text_of(message, "role");
    if (role == "system" || role == "developer") {
        std::string text = text_only(member(message, "content"));
        if (!system.empty() && !text.empty()) system += "\n\n";
        system += text;
        return;
    }
    if (role == "tool") {
        json::object result{{"type", "tool_result"},
                            {"tool_use_id", text_of(message, "tool_call_id")},
                            {"content", text_only(member(message, "content"))}};
        append(messages, "user", std::move(result));
        return;
    }
    std::string_view as = role == "assistant" ? "assistant" : "user";
    for (auto& block : blocks_of(member(message, "content")))
        append(messages, as, std::move(block));
    const json::value* calls = member(message, "tool_calls");
    if (!calls || !calls->is_array()) return;
    for (const auto& item : calls->get_array()) {
        const auto* call = item.if_object();
        const json::value* function = call ? member(*call, "function") : nullptr;
        if (!function || !function->is_object()) continue;
        boost::system::error_code ec;
        json::value input = json::parse(text_of(function->get_object(), "arguments"), ec);
        if (ec || !input.is_object()) input = json::object();
        append(messages, "assistant",
               json::object{{"type", "tool_use"},
                            {"id", text_of(*call, "id")},
                            {"name", text_of(function->get_object(), "name")},
                            {"input", std::move(input)}});
    }
}

json::value tool_choice_of(const json::value& choice, bool single) {
    json::object out{{"type", "auto"}};
    if (choice.is_string()) {
        std::string_view name = choice.get_string();
        out["type"] = name == "required" ? "any" : name == "none" ? "none" : "auto";
    } else if (const auto* object = choice.if_object()) {
        const json::value* function = member(*object, "function");
        out["type"] = "tool";
        out["name"] =
            function && function->is_object() ? text_of(function->get_object(), "name") : "";
    }
    if (single && out["type"] != "none") out["disable_parallel_tool_use"] = true;
    return out;
}

void add_options(const json::object& options, json::object& body, std::string& system) {
    for (auto key : {"temperature", "top_p"}) {
        if (const json::value* v = member(options, key)) body[key] = *v;
    }
    if (const json::value* stop = member(options, "stop")) {
        body["stop_sequences"] = stop->is_string() ? json::value(json::array{*stop}) : *stop;
    }
    if (const json::value* user = member(options, "user")) {
        body["metadata"] = json::object{{"user_id", *user}};
    }
    const json::value* tools = member(options, "tools");
    if (tools && tools->is_array()) {
        json::array out;
        for (const auto& tool : tools->get_array()) {
            const auto& f = tool.at("function").as_object();
            json::object entry{{"name", f.at("name")}};
            if (const json::value* d = member(f, "description")) entry["description"] = *d;
            const json::value* schema = member(f, "parameters");
            entry["input_schema"] =
                schema ? *schema : json::value(json::object{{"type", "object"}});
            out.push_back(std::move(entry));
        }
        body["tools"] = std::move(out);
        const json::value* parallel = member(options, "parallel_tool_calls");
        bool single = parallel && parallel->is_bool() && !parallel->get_bool();
        const json::value* choice = member(options, "tool_choice");
        if (choice || single)
            body["tool_choice"] = tool_choice_of(choice ? *choice : "auto", single);
    }
    if (const json::value* format = member(options, "response_format");
        format && format->is_object()) {
        std::string type = text_of(format->get_object(), "type");
        std::string instruction;
        if (type == "json_object") instruction = "Answer with one JSON object only, no other text.";
        if (type == "json_schema") {
            const json::value* spec = member(format->get_object(), "json_schema");
            const json::value* schema =
                spec && spec->is_object() ? member(spec->get_object(), "schema") : nullptr;
            instruction =
                "Answer with one JSON object only, no other text, that follows this "
                "JSON schema: " +
                (schema ? json::serialize(*schema) : std::string("{}"));
        }
        if (!instruction.empty()) system += (system.empty() ? "" : "\n\n") + instruction;
    }
}

}  // namespace

std::string anthropic_request_body(const domain::ChatPrompt& prompt, std::string_view model,
                                   std::int64_t max_tokens, bool stream) {
    json::array messages;
    std::string system;
    for (const auto& turn : prompt.turns) add_message(message_of(turn), messages, system);
    json::object body{{"model", model}, {"max_tokens", max_tokens > 0 ? max_tokens : 4096}};
    if (!prompt.options.empty()) {
        boost::system::error_code ec;
        json::value options = json::parse(prompt.options, ec);
        if (!ec && options.is_object()) add_options(options.get_object(), body, system);
    }
    if (!system.empty()) body["system"] = system;
    body["messages"] = std::move(messages);
    if (stream) body["stream"] = true;
    return json::serialize(body);
}

std::string finish_reason_from_anthropic(std::string_view stop_reason) {
    if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
        return "length";
    }
    if (stop_reason == "tool_use") return "tool_calls";
    if (stop_reason == "refusal") return "content_filter";
    return "stop";
}

Result<domain::ChatAnswer> parse_anthropic_message(std::string_view body) {
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object()) return malformed("the answer is not a JSON object");
    const json::object& message = doc.get_object();
    if (text_of(message, "type") == "error") return malformed("an error answer");
    const json::value* content = member(message, "content");
    if (!content || !content->is_array()) return malformed("the answer has no content");
    domain::ChatAnswer answer;
    for (const auto& item : content->get_array()) {
        const auto* block = item.if_object();
        if (!block) continue;
        std::string type = text_of(*block, "type");
        if (type == "text") {
            answer.text += text_of(*block, "text");
        } else if (type == "tool_use") {
            const json::value* input = member(*block, "input");
            answer.tool_calls.push_back({text_of(*block, "id"), text_of(*block, "name"),
                                         input ? json::serialize(*input) : "{}"});
        }
    }
    answer.finish_reason = finish_reason_from_anthropic(text_of(message, "stop_reason"));
    if (const json::value* usage = member(message, "usage"); usage && usage->is_object()) {
        const auto& u = usage->get_object();
        answer.usage = {count(u, "input_tokens") + count(u, "cache_creation_input_tokens") +
                            count(u, "cache_read_input_tokens"),
                        count(u, "output_tokens"), true};
    }
    return answer;
}

Result<void> AnthropicStreamDecoder::on_event(std::string_view data) {
    if (done_) return {};
    boost::system::error_code ec;
    json::value doc = json::parse(data, ec);
    if (ec || !doc.is_object()) return malformed("an SSE event is not a JSON object");
    const json::object& event = doc.get_object();
    std::string type = text_of(event, "type");
    auto usage_from = [&](const json::value* usage) {
        if (!usage || !usage->is_object()) return;
        const auto& u = usage->get_object();
        std::int64_t input = count(u, "input_tokens") + count(u, "cache_creation_input_tokens") +
                             count(u, "cache_read_input_tokens");
        if (input > 0) usage_.prompt_tokens = input;
        if (u.contains("output_tokens")) usage_.completion_tokens = count(u, "output_tokens");
        usage_.reported = true;
    };
    if (type == "error") {
        const json::value* error = member(event, "error");
        return malformed(error && error->is_object() ? text_of(error->get_object(), "message")
                                                     : "an error event");
    }
    if (type == "message_start") {
        const json::value* message = member(event, "message");
        if (message && message->is_object()) usage_from(member(message->get_object(), "usage"));
    } else if (type == "content_block_start") {
        const json::value* block = member(event, "content_block");
        if (block && block->is_object() && text_of(block->get_object(), "type") == "tool_use") {
            const json::value* index = member(event, "index");
            auto call = static_cast<std::int64_t>(tool_index_.size());
            tool_index_[index && index->is_int64() ? index->get_int64() : -1] = call;
            domain::ChatDelta delta;
            delta.tool_calls.push_back({call, text_of(block->get_object(), "id"),
                                        text_of(block->get_object(), "name"), ""});
            deltas_.push_back(std::move(delta));
        }
    } else if (type == "content_block_delta") {
        const json::value* delta = member(event, "delta");
        if (!delta || !delta->is_object()) return malformed("a content_block_delta has no delta");
        const auto& d = delta->get_object();
        std::string kind = text_of(d, "type");
        if (kind == "text_delta" && !text_of(d, "text").empty()) {
            deltas_.emplace_back(text_of(d, "text"));
        } else if (kind == "input_json_delta" && !text_of(d, "partial_json").empty()) {
            const json::value* index = member(event, "index");
            auto found = tool_index_.find(index && index->is_int64() ? index->get_int64() : -1);
            if (found == tool_index_.end()) return malformed("input_json_delta outside a tool_use");
            domain::ChatDelta piece;
            piece.tool_calls.push_back({found->second, {}, {}, text_of(d, "partial_json")});
            deltas_.push_back(std::move(piece));
        }
    } else if (type == "message_delta") {
        const json::value* delta = member(event, "delta");
        if (delta && delta->is_object()) {
            std::string reason = text_of(delta->get_object(), "stop_reason");
            if (!reason.empty()) finish_reason_ = finish_reason_from_anthropic(reason);
        }
        usage_from(member(event, "usage"));
    } else if (type == "message_stop") {
        done_ = true;
    }
    return {};
}

}  // namespace chatgate::ai

#include "api/anthropic/messages_shapes.hpp"

#include "api/wire/event_stream.hpp"
#include "security/jwt.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace chatgate::api::anthropic {
namespace {

namespace json = boost::json;

/// A tool call's arguments as the `input` object (an object even if the model wrote none).
json::value input_of(std::string_view arguments) {
    boost::system::error_code ec;
    json::value input = json::parse(arguments, ec);
    if (ec || !input.is_object()) return json::object();
    return input;
}

std::string event(std::string_view type, json::object data) {
    data["type"] = type;
    return sse_event(json::serialize(data), type);
}

json::object usage_of(const domain::TokenUsage& usage) {
    return {{"input_tokens", usage.prompt_tokens}, {"output_tokens", usage.completion_tokens}};
}

}  // namespace

std::string new_message_id() {
    return "msg_" + security::random_hex(12);
}

std::string_view stop_reason(std::string_view finish_reason) {
    if (finish_reason == "length") return "max_tokens";
    if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
    if (finish_reason == "content_filter") return "refusal";
    return "end_turn";
}

json::object message_object(std::string_view id, std::string_view model, std::string_view text,
                            const std::vector<domain::ToolCall>& calls,
                            std::string_view finish_reason, const domain::TokenUsage& usage) {
    json::array content;
    if (!text.empty()) content.push_back(json::object{{"type", "text"}, {"text", text}});
    for (const auto& call : calls) {
        content.push_back(json::object{{"type", "tool_use"},
                                       {"id", call.id},
                                       {"name", call.name},
                                       {"input", input_of(call.arguments)}});
    }
    return {{"id", id},
            {"type", "message"},
            {"role", "assistant"},
            {"model", model},
            {"content", std::move(content)},
            {"stop_reason", stop_reason(finish_reason)},
            {"stop_sequence", nullptr},
            {"usage", usage_of(usage)}};
}

MessageEventWriter::MessageEventWriter(std::string id, std::string model)
    : id_(std::move(id)), model_(std::move(model)) {}

std::string MessageEventWriter::start() {
    // The usage is known at the end only; message_delta carries it, and the stop reason.
    json::object message = message_object(id_, model_, "", {}, "", {});
    message["stop_reason"] = nullptr;
    return event("message_start", {{"message", std::move(message)}});
}

std::string MessageEventWriter::close_block() {
    if (!open_) return {};
    open_ = false;
    return event("content_block_stop", {{"index", blocks_ - 1}});
}

std::string MessageEventWriter::delta(const domain::ChatDelta& delta) {
    std::string out;
    if (!delta.text.empty()) {
        if (!open_ || !open_is_text_) {
            out += close_block();
            out +=
                event("content_block_start",
                      {{"index", blocks_++}, {"content_block", {{"type", "text"}, {"text", ""}}}});
            open_ = true;
            open_is_text_ = true;
        }
        out += event(
            "content_block_delta",
            {{"index", blocks_ - 1}, {"delta", {{"type", "text_delta"}, {"text", delta.text}}}});
    }
    for (const auto& piece : delta.tool_calls) {
        if (!open_ || open_is_text_ || piece.index != call_index_) {
            out += close_block();
            out += event("content_block_start", {{"index", blocks_++},
                                                 {"content_block",
                                                  {{"type", "tool_use"},
                                                   {"id", piece.id},
                                                   {"name", piece.name},
                                                   {"input", json::object()}}}});
            open_ = true;
            open_is_text_ = false;
            call_index_ = piece.index;
        }
        if (piece.arguments.empty()) continue;
        out +=
            event("content_block_delta",
                  {{"index", blocks_ - 1},
                   {"delta", {{"type", "input_json_delta"}, {"partial_json", piece.arguments}}}});
    }
    return out;
}

std::string MessageEventWriter::finish(std::string_view finish_reason,
                                       const domain::TokenUsage& usage) {
    std::string out = close_block();
    out +=
        event("message_delta",
              {{"delta", {{"stop_reason", stop_reason(finish_reason)}, {"stop_sequence", nullptr}}},
               {"usage", usage_of(usage)}});
    out += event("message_stop", {});
    return out;
}

std::string MessageEventWriter::fail(std::string_view type, std::string_view message) {
    return event("error", {{"error", {{"type", type}, {"message", message}}}});
}

}  // namespace chatgate::api::anthropic

#include "api/openai/responses_shapes.hpp"

#include "api/wire/event_stream.hpp"
#include "security/jwt.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

json::object message_item(std::string_view id, std::string_view text, std::string_view status) {
    json::array content;
    if (status == "completed" || !text.empty()) {
        content.push_back(json::object{{"type", "output_text"},
                                       {"text", text},
                                       {"annotations", json::array()},
                                       {"logprobs", json::array()}});
    }
    return {{"type", "message"},
            {"id", id},
            {"status", status},
            {"role", "assistant"},
            {"content", std::move(content)}};
}

json::object call_item(std::string_view id, std::string_view call_id, std::string_view name,
                       std::string_view arguments, std::string_view status) {
    return {{"type", "function_call"}, {"id", id},        {"call_id", call_id}, {"name", name},
            {"arguments", arguments},  {"status", status}};
}

/// The response's fields around its output, as OpenAI lists them.
json::object response_base(const ResponseHead& head, std::string_view status) {
    json::object out{{"id", head.id},
                     {"object", "response"},
                     {"created_at", head.created_at},
                     {"status", status},
                     {"error", nullptr},
                     {"incomplete_details", nullptr},
                     {"model", head.model},
                     {"output", json::array()},
                     {"parallel_tool_calls", true},
                     {"previous_response_id", nullptr},
                     {"store", false},
                     {"tool_choice", "auto"},
                     {"tools", json::array()},
                     {"text", {{"format", {{"type", "text"}}}}},
                     {"truncation", "disabled"},
                     {"metadata", json::object()},
                     {"usage", nullptr}};
    for (const auto& [key, value] : head.echo) out[key] = value;
    return out;
}

void set_outcome(json::object& response, std::string_view finish_reason) {
    if (finish_reason == "length" || finish_reason == "content_filter") {
        response["status"] = "incomplete";
        response["incomplete_details"] = {
            {"reason", finish_reason == "length" ? "max_output_tokens" : "content_filter"}};
    }
}

}  // namespace

std::string new_response_id() {
    return "resp_" + security::random_hex(24);
}

json::object response_usage(const domain::TokenUsage& usage) {
    return {{"input_tokens", usage.prompt_tokens},
            {"input_tokens_details", {{"cached_tokens", 0}}},
            {"output_tokens", usage.completion_tokens},
            {"output_tokens_details", {{"reasoning_tokens", 0}}},
            {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

json::object response_object(const ResponseHead& head, std::string_view text,
                             const std::vector<domain::ToolCall>& calls,
                             std::string_view finish_reason, const domain::TokenUsage& usage) {
    json::object out = response_base(head, "completed");
    json::array output;
    std::string suffix = head.id.substr(std::min<std::size_t>(5, head.id.size()));
    if (!text.empty() || calls.empty()) {
        output.push_back(message_item("msg_" + suffix, text, "completed"));
    }
    for (std::size_t i = 0; i < calls.size(); ++i) {
        output.push_back(call_item("fc_" + suffix + "_" + std::to_string(i), calls[i].id,
                                   calls[i].name, calls[i].arguments, "completed"));
    }
    out["output"] = std::move(output);
    out["usage"] = response_usage(usage);
    set_outcome(out, finish_reason);
    return out;
}

ResponseEventWriter::ResponseEventWriter(ResponseHead head, std::size_t limit_bytes)
    : head_(std::move(head)), limit_(limit_bytes) {}

std::string ResponseEventWriter::event(std::string_view type, json::object data) {
    data["type"] = type;
    data["sequence_number"] = sequence_++;
    return sse_event(json::serialize(data), type);
}

json::object ResponseEventWriter::item_json(const Item& item, bool done) const {
    std::string_view status = done ? "completed" : "in_progress";
    if (item.is_call) {
        return call_item(item.id, item.call_id, item.name, done ? item.text : "", status);
    }
    return message_item(item.id, done ? item.text : "", status);
}

json::object ResponseEventWriter::snapshot(std::string_view status) const {
    json::object out = response_base(head_, status);
    json::array output;
    if (status != "in_progress") {
        for (const auto& item : items_) output.push_back(item_json(item, true));
    }
    out["output"] = std::move(output);
    return out;
}

void ResponseEventWriter::keep(std::string& into, std::string_view piece) {
    std::size_t room = limit_ > kept_ ? limit_ - kept_ : 0;
    std::size_t take = std::min(room, piece.size());
    into.append(piece.substr(0, take));
    kept_ += take;
}

std::string ResponseEventWriter::start() {
    std::string out = event("response.created", {{"response", snapshot("in_progress")}});
    out += event("response.in_progress", {{"response", snapshot("in_progress")}});
    return out;
}

std::string ResponseEventWriter::open_text() {
    std::string out = close_item();
    std::string suffix = head_.id.substr(std::min<std::size_t>(5, head_.id.size()));
    items_.push_back({false, "msg_" + suffix + "_" + std::to_string(items_.size()), {}, {}, {}});
    open_ = true;
    auto index = static_cast<std::int64_t>(items_.size() - 1);
    out += event("response.output_item.added",
                 {{"output_index", index}, {"item", item_json(items_.back(), false)}});
    out +=
        event("response.content_part.added",
              {{"item_id", items_.back().id},
               {"output_index", index},
               {"content_index", 0},
               {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}}}});
    return out;
}

std::string ResponseEventWriter::open_call(const domain::ToolCallDelta& piece) {
    std::string out = close_item();
    std::string suffix = head_.id.substr(std::min<std::size_t>(5, head_.id.size()));
    items_.push_back(
        {true, "fc_" + suffix + "_" + std::to_string(items_.size()), piece.id, piece.name, {}});
    open_ = true;
    call_index_ = piece.index;
    auto index = static_cast<std::int64_t>(items_.size() - 1);
    out += event("response.output_item.added",
                 {{"output_index", index}, {"item", item_json(items_.back(), false)}});
    return out;
}

std::string ResponseEventWriter::close_item() {
    if (!open_) return {};
    open_ = false;
    const Item& item = items_.back();
    auto index = static_cast<std::int64_t>(items_.size() - 1);
    std::string out;
    if (item.is_call) {
        out += event("response.function_call_arguments.done",
                     {{"item_id", item.id}, {"output_index", index}, {"arguments", item.text}});
    } else {
        out += event("response.output_text.done", {{"item_id", item.id},
                                                   {"output_index", index},
                                                   {"content_index", 0},
                                                   {"text", item.text},
                                                   {"logprobs", json::array()}});
        out += event(
            "response.content_part.done",
            {{"item_id", item.id},
             {"output_index", index},
             {"content_index", 0},
             {"part",
              {{"type", "output_text"}, {"text", item.text}, {"annotations", json::array()}}}});
    }
    out += event("response.output_item.done",
                 {{"output_index", index}, {"item", item_json(item, true)}});
    return out;
}

std::string ResponseEventWriter::delta(const domain::ChatDelta& delta) {
    std::string out;
    if (!delta.text.empty()) {
        if (!open_ || items_.back().is_call) out += open_text();
        keep(items_.back().text, delta.text);
        auto index = static_cast<std::int64_t>(items_.size() - 1);
        out += event("response.output_text.delta", {{"item_id", items_.back().id},
                                                    {"output_index", index},
                                                    {"content_index", 0},
                                                    {"delta", delta.text},
                                                    {"logprobs", json::array()}});
    }
    for (const auto& piece : delta.tool_calls) {
        bool same = open_ && items_.back().is_call && piece.index == call_index_;
        if (!same) out += open_call(piece);
        if (piece.arguments.empty()) continue;
        keep(items_.back().text, piece.arguments);
        auto index = static_cast<std::int64_t>(items_.size() - 1);
        out += event(
            "response.function_call_arguments.delta",
            {{"item_id", items_.back().id}, {"output_index", index}, {"delta", piece.arguments}});
    }
    return out;
}

std::string ResponseEventWriter::finish(std::string_view finish_reason,
                                        const domain::TokenUsage& usage) {
    std::string out = close_item();
    json::object response = snapshot("completed");
    response["usage"] = response_usage(usage);
    set_outcome(response, finish_reason);
    bool complete = response.at("status") == "completed";
    final_ = response;
    out += event(complete ? "response.completed" : "response.incomplete",
                 {{"response", std::move(response)}});
    return out;
}

std::string ResponseEventWriter::fail(std::string_view code, std::string_view message) {
    json::object response = snapshot("failed");
    response["error"] = {{"code", code}, {"message", message}};
    return event("response.failed", {{"response", std::move(response)}});
}

}  // namespace chatgate::api::openai

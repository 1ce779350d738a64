#pragma once

#include "domain/chat/chat_provider.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// The Responses API's objects and streaming events, written from a chat exchange, as pure
/// functions and a pure event writer.
namespace chatgate::api::openai {

/// What every object and event of one response repeats.
struct ResponseHead {
    std::string id;               ///< "resp_..."
    std::int64_t created_at = 0;  ///< Unix seconds
    std::string model;            ///< the model id the client asked for
    boost::json::object echo;     ///< the request fields the response repeats
};

std::string new_response_id();

/// The `usage` of a response: input_tokens, output_tokens, their details and total_tokens.
boost::json::object response_usage(const domain::TokenUsage& usage);

/// The whole `response` object: its output items (a message with the text, when there is
/// text; a function_call item per tool call), `status` completed, or incomplete with its
/// reason when the answer stopped at the length cap or a content filter, and the usage.
boost::json::object response_object(const ResponseHead& head, std::string_view text,
                                    const std::vector<domain::ToolCall>& calls,
                                    std::string_view finish_reason,
                                    const domain::TokenUsage& usage);

/// Turns a streamed answer's deltas into the Responses API's events, in OpenAI's order:
/// response.created, response.in_progress; per output item response.output_item.added, then
/// for text content_part.added / output_text.delta ... / output_text.done / content_part.done,
/// for a call function_call_arguments.delta ... / function_call_arguments.done; then
/// output_item.done; at the end response.completed (or incomplete), or response.failed.
/// Each call returns the SSE frames to send. The text and arguments are kept for the .done
/// events and the final object, within `limit_bytes` in all (the completion cap bounds them).
class ResponseEventWriter {
public:
    ResponseEventWriter(ResponseHead head, std::size_t limit_bytes);

    std::string start();
    std::string delta(const domain::ChatDelta& delta);
    std::string finish(std::string_view finish_reason, const domain::TokenUsage& usage);
    std::string fail(std::string_view code, std::string_view message);
    /// The whole response object sent with response.completed (empty before `finish`).
    const boost::json::object& final_response() const { return final_; }

private:
    struct Item;
    std::string event(std::string_view type, boost::json::object data);
    std::string open_text();
    std::string open_call(const domain::ToolCallDelta& piece);
    std::string close_item();
    void keep(std::string& into, std::string_view piece);
    boost::json::object item_json(const Item& item, bool done) const;
    boost::json::object snapshot(std::string_view status) const;

    ResponseHead head_;
    boost::json::object final_;
    std::size_t limit_;
    std::size_t kept_ = 0;
    std::int64_t sequence_ = 0;
    std::vector<Item> items_;
    bool open_ = false;             ///< the last item is still receiving deltas
    std::int64_t call_index_ = -1;  ///< the Chat Completions index of the open call
};

struct ResponseEventWriter::Item {
    bool is_call = false;
    std::string id;       ///< msg_... or fc_...
    std::string call_id;  ///< the upstream's tool call id
    std::string name;
    std::string text;  ///< the message's text or the call's arguments
};

}  // namespace chatgate::api::openai

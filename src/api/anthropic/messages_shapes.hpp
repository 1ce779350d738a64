#pragma once

#include "domain/chat/chat_provider.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// Anthropic's Messages API answers, written from a chat exchange: the message object and the
/// streaming events, as pure functions and a pure event writer.
namespace chatgate::api::anthropic {

std::string new_message_id();

/// Chat Completions' finish reasons in Anthropic's words: end_turn, max_tokens, tool_use, ...
std::string_view stop_reason(std::string_view finish_reason);

/// The `message` object: text and tool_use content blocks, stop_reason and usage.
boost::json::object message_object(std::string_view id, std::string_view model,
                                   std::string_view text,
                                   const std::vector<domain::ToolCall>& calls,
                                   std::string_view finish_reason, const domain::TokenUsage& usage);

/// The streamed events, in Anthropic's order: message_start; per content block
/// content_block_start, content_block_delta (text_delta, or input_json_delta with the tool
/// call's arguments in pieces) ..., content_block_stop; then message_delta (stop_reason,
/// usage) and message_stop, or an `error` event. Holds nothing of the text.
class MessageEventWriter {
public:
    MessageEventWriter(std::string id, std::string model);

    std::string start();
    std::string delta(const domain::ChatDelta& delta);
    std::string finish(std::string_view finish_reason, const domain::TokenUsage& usage);
    static std::string fail(std::string_view type, std::string_view message);

private:
    std::string close_block();

    std::string id_;
    std::string model_;
    std::int64_t blocks_ = 0;  ///< content blocks opened so far
    bool open_ = false;        ///< the last block is still receiving deltas
    bool open_is_text_ = false;
    std::int64_t call_index_ = -1;  ///< the Chat Completions index of the open tool_use
};

}  // namespace chatgate::api::anthropic

#pragma once

#include "ai/upstream_codec.hpp"
#include "core/error.hpp"
#include "domain/chat/chat_provider.hpp"

#include <map>
#include <string>
#include <string_view>

/// Anthropic's Messages API as an upstream protocol: the request body translated from a chat
/// prompt (whose turns and options are Chat Completions JSON), the whole answer and the
/// streamed events translated back. Pure; no I/O.
namespace chatgate::ai {

/// The version sent in `anthropic-version`.
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

/// The JSON body of a Messages request: system turns joined into `system`; user and
/// assistant turns as content blocks (text, image from a data URL or URL, tool_use from tool
/// calls); tool results as tool_result blocks of a user turn (consecutive ones together);
/// temperature, top_p, stop (as stop_sequences), user (as metadata.user_id), tools,
/// tool_choice and parallel_tool_calls translated; a JSON response_format becomes an
/// instruction in `system` (Anthropic has no JSON mode). Fields Anthropic lacks (seed,
/// penalties, logit_bias, reasoning_effort, ...) are not sent. `max_tokens` is required by
/// Anthropic: 0 sends 4096.
std::string anthropic_request_body(const domain::ChatPrompt& prompt, std::string_view model,
                                   std::int64_t max_tokens, bool stream);

/// Reads a whole Messages answer: text blocks joined, tool_use blocks as tool calls (their
/// input serialized as the arguments), stop_reason as a Chat Completions finish reason, usage
/// (cache tokens counted as input). Errors: upstream_unavailable with what was wrong.
Result<domain::ChatAnswer> parse_anthropic_message(std::string_view body);

/// Anthropic's stop reasons in Chat Completions' words.
std::string finish_reason_from_anthropic(std::string_view stop_reason);

/// Turns Anthropic's streamed events into deltas: text_delta as text, a tool_use block's
/// start as a tool call fragment with its id and name, input_json_delta as more of its
/// arguments; message_start and message_delta give the usage, message_delta the stop reason,
/// message_stop ends the answer; an `error` event is an error.
class AnthropicStreamDecoder final : public StreamDecoder {
private:
    Result<void> on_event(std::string_view data) override;

    std::map<std::int64_t, std::int64_t> tool_index_;  ///< content block index -> call index
};

}  // namespace chatgate::ai

#pragma once

#include "api/openai/chat_request.hpp"

#include <boost/json/object.hpp>

/// Reading an Anthropic Messages request (POST /v1/messages) by translating it into the Chat
/// Completions request it means, which is then checked like one. Pure functions.
namespace chatgate::api::anthropic {

/// The Chat Completions body `body` means: `system` (a string or text blocks) as the first
/// system message; user and assistant `messages` whose content is a string or blocks (text,
/// image from base64 or a URL, tool_use in assistant turns, tool_result in user turns, which
/// become tool messages before the rest of the turn); `max_tokens` (required),
/// `stop_sequences`, `temperature`, `top_p`, `metadata.user_id`, `tools` ({name,
/// description, input_schema}) and `tool_choice` (auto, any, tool, none;
/// disable_parallel_tool_use), `stream`. Refused with a reason: `top_k` (Chat Completions has
/// none), extended `thinking`, server tools, documents. Errors: invalid_argument naming the
/// field.
Result<boost::json::object> chat_body_from_messages(const boost::json::object& body);

/// Translates and checks `body`. Errors as for chat_body_from_messages and
/// openai::parse_chat_completion_request.
Result<openai::ChatCompletionRequest> parse_messages_request(const boost::json::value& body,
                                                             const domain::ModelCatalog& models);

}  // namespace chatgate::api::anthropic

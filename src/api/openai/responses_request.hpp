#pragma once

#include "api/openai/chat_request.hpp"

#include <boost/json/object.hpp>

/// Reading a Responses API request (POST /v1/responses) by translating it into the Chat
/// Completions request it means, which is then checked like one. Pure functions.
namespace chatgate::api::openai {

struct ResponsesRequest {
    ChatCompletionRequest chat;  ///< what goes to the chat service
    /// The request's own fields that the response object repeats (instructions, tools,
    /// text, temperature, ...), in the Responses shape.
    boost::json::object echo;
};

/// Translates `body` (already parsed JSON): `input` a string or items (messages with
/// input_text / input_image / output_text parts, function_call, function_call_output;
/// reasoning items are skipped), `instructions` as the first system turn, `max_output_tokens`,
/// function `tools` and `tool_choice`, `text.format` (json_object, json_schema) and
/// `text.verbosity`, `reasoning.effort`, sampling fields. Refused with a reason:
/// `previous_response_id` and `item_reference` items (responses are not stored),
/// `background`, `conversation`, `prompt`, non-function tools. Errors: invalid_argument naming
/// the field (the Responses name where the translation found it; the Chat Completions name
/// for what its checks found); not_found for a model that is not configured.
Result<ResponsesRequest> parse_responses_request(const boost::json::value& body,
                                                 const domain::ModelCatalog& models);

/// The Chat Completions request body `body` means (exposed for tests).
Result<boost::json::object> chat_body_from_responses(const boost::json::object& body);

}  // namespace chatgate::api::openai

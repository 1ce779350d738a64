#pragma once

#include "core/error.hpp"
#include "domain/chat/chat_provider.hpp"
#include "domain/chat/model_catalog.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <vector>

/// Reading a Chat Completions request with OpenAI's rules, as a pure function.
namespace chatgate::api::openai {

/// A chat completion request, checked with OpenAI's rules.
struct ChatCompletionRequest {
    const domain::ChatModel* model = nullptr;  ///< never null after a successful parse
    std::vector<domain::ChatTurn> turns;       ///< oldest first, as the client sent them
    std::int64_t max_completion_tokens = 0;    ///< as asked, else the model's cap (0: none)
    bool stream = false;
    bool include_usage = false;  ///< stream_options.include_usage
    /// The other fields passed upstream (temperature, tools, response_format, ...) as one
    /// JSON object; empty when there are none.
    std::string options;
};

/// Checks `body` (already parsed JSON) as OpenAI does: `model` required and configured (and
/// able to chat), `messages` a non-empty array of system / developer / user / assistant (with
/// `tool_calls`) / tool messages, content a string or an array of parts (text; image_url on
/// a model with vision), `max_tokens` / `max_completion_tokens` a positive integer within the
/// model's cap, `n` absent or 1, `stream` a boolean, `stream_options` only with `stream`, and
/// every passed field (README, "Chat Completions fields") within OpenAI's ranges. Fields it
/// does not offer are refused, naming them, never dropped. A developer message becomes a
/// system turn. Errors: invalid_argument with one field (OpenAI's `param`, such as
/// "messages[1].role"); not_found with field "model" for a model that is not configured.
Result<ChatCompletionRequest> parse_chat_completion_request(const boost::json::value& body,
                                                            const domain::ModelCatalog& models);

/// The `tools` of a request (Chat Completions shape) checked, for readers of other surfaces
/// that translate to it: each {type: "function", function: {name, description?,
/// parameters?, strict?}}. `param` names the field in errors.
Result<void> check_tools(const boost::json::value& tools, const std::string& param);

/// "The model `m` does not support <capability>." naming `param`.
Error capability_missing(const domain::ChatModel& model, std::string_view capability,
                         std::string param);

}  // namespace chatgate::api::openai

#pragma once

#include "api/openai/chat_request.hpp"
#include "core/error.hpp"
#include "domain/chat/chat_provider.hpp"
#include "domain/chat/model_catalog.hpp"
#include "domain/keys/key_grant.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// OpenAI's Chat Completions wire format, as pure functions: reading a request into what the
/// chat service needs, and writing completions, stream chunks, model lists and SSE frames.
/// Used by the /v1 handlers; nothing here does I/O. Thread-safe (no shared state).
namespace chatgate::api::openai {

/// What every object of one completion repeats.
struct CompletionHead {
    std::string id;            ///< "chatcmpl-..."
    std::int64_t created = 0;  ///< Unix seconds
    std::string model;         ///< the model id the client asked for
};

/// A fresh, unguessable completion id: "chatcmpl-" and 24 hex digits.
std::string new_completion_id();

/// The `chat.completion` object of a non-streamed answer (content null when the answer is
/// only tool calls, as OpenAI sends it).
std::string completion_json(const CompletionHead& head, std::string_view text,
                            const std::vector<domain::ToolCall>& tool_calls,
                            std::string_view finish_reason, const domain::TokenUsage& usage);

/// The `chat.completion.chunk` objects of a streamed answer, in the order they are sent. With
/// `include_usage`, every chunk carries "usage": null and a last chunk with no choices carries
/// the usage, as OpenAI does.
std::string role_chunk_json(const CompletionHead& head, bool include_usage);
std::string content_chunk_json(const CompletionHead& head, std::string_view delta,
                               bool include_usage);
/// A chunk of text and/or tool call fragments (`delta.tool_calls` with each call's `index`).
std::string delta_chunk_json(const CompletionHead& head, const domain::ChatDelta& delta,
                             bool include_usage);
std::string finish_chunk_json(const CompletionHead& head, std::string_view finish_reason,
                              bool include_usage);
std::string usage_chunk_json(const CompletionHead& head, const domain::TokenUsage& usage);

/// One `model` object (with chatgate's `capabilities` and `pricing`), and the `list` of every
/// configured model, or of those an API key may use. `created` is shown as each model's
/// creation time (the catalog has none of its own).
std::string model_json(const domain::ChatModel& model, std::int64_t created);
std::string model_list_json(const domain::ModelCatalog& models, std::int64_t created,
                            const domain::KeyGrant* key = nullptr);

/// A path segment with its %XX escapes decoded ('+' stays '+'), or nothing when an escape is
/// broken. OpenAI's libraries escape model ids in paths, and upstream model ids often hold a
/// '/' ("meta-llama/Llama-3.1-8B").
std::optional<std::string> decode_path_segment(std::string_view segment);

/// The event that ends a successful stream.
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace chatgate::api::openai

#pragma once

#include "ai/sse_parser.hpp"
#include "core/error.hpp"
#include "domain/chat/chat_provider.hpp"

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::ai {

/// The JSON body of a Chat Completions request: the prompt's options, then its turns (each its
/// `wire` message when it has one), the model and the cap. `max_tokens` 0 sends no cap; a
/// streamed request asks for the usage chunk (`stream_options.include_usage`).
std::string completion_request_body(const domain::ChatPrompt& prompt, std::string_view model,
                                    std::int64_t max_tokens, bool stream);

/// Reads a non-streamed Chat Completions answer: choices[0].message.content and tool_calls,
/// finish_reason and usage. Errors: upstream_unavailable with what was wrong (for the log).
Result<domain::ChatAnswer> parse_completion(std::string_view body);

/// The JSON body of an Embeddings request: the prompt's fields and the model.
std::string embedding_request_body(const domain::EmbeddingPrompt& prompt, std::string_view model);

/// Reads an Embeddings answer: its `data` array (kept as JSON text) and usage.prompt_tokens.
/// Errors: upstream_unavailable with what was wrong (for the log).
Result<domain::EmbeddingAnswer> parse_embeddings(std::string_view body);

/// At most `limit` bytes of an upstream's error body for the log, with `secret` (the API key,
/// which some upstreams echo in part) masked and control characters replaced.
std::string loggable_upstream_text(std::string_view body, std::string_view secret,
                                   std::size_t limit = 300);

/// What reads a streamed answer's bytes into deltas, whatever the protocol: the SSE framing,
/// the queue of deltas (at most what one `feed` produced, so memory follows the chunk size), the
/// finish reason, the usage and the end. A protocol decodes one event's data in `on_event`.
/// Not thread-safe; one per stream.
class StreamDecoder {
public:
    virtual ~StreamDecoder() = default;
    /// Errors: upstream_unavailable (malformed SSE or JSON, an error event, oversize lines).
    Result<void> feed(std::string_view bytes);
    bool has_delta() const { return !deltas_.empty(); }
    domain::ChatDelta pop_delta();
    /// The protocol's end of the answer arrived.
    bool done() const { return done_; }
    const std::string& finish_reason() const { return finish_reason_; }
    const domain::TokenUsage& usage() const { return usage_; }

protected:
    virtual Result<void> on_event(std::string_view data) = 0;

    std::deque<domain::ChatDelta> deltas_;
    std::string finish_reason_;
    domain::TokenUsage usage_;
    bool done_ = false;  ///< set by `on_event`; what follows is ignored

private:
    SseParser sse_;
    std::vector<std::string> events_;
};

/// Turns the bytes of a streamed Chat Completions answer into deltas (text and tool call
/// fragments, passed on as they come: nothing is accumulated), the finish reason and the usage
/// chunk; `data: [DONE]` ends it.
class CompletionStreamDecoder final : public StreamDecoder {
private:
    Result<void> on_event(std::string_view data) override;
};

}  // namespace chatgate::ai

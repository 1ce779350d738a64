#pragma once

#include "core/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

enum class ChatRole { system, user, assistant, tool };
std::string_view to_string(ChatRole role);

/// A function call the model asked for; `arguments` is JSON text as the model wrote it.
struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments;
};

/// A piece of a streamed tool call, as Chat Completions streams them: the first piece of call
/// `index` carries its id and name, later ones more of its arguments.
struct ToolCallDelta {
    std::int64_t index = 0;
    std::string id;
    std::string name;
    std::string arguments;
};

struct ChatTurn {
    ChatRole role = ChatRole::user;
    std::string content;  ///< the turn's text (its text parts joined), as stored and shown
    /// The whole message as a Chat Completions message object (JSON text), already checked by
    /// the API layer: multi-part content, tool calls, tool results. Providers that speak that
    /// protocol send it as given, others translate it; empty: just `role` and `content`.
    std::string wire;
    /// Bytes the model reads beyond `content` (tool call names and arguments, call ids), for
    /// the prompt bound.
    std::int64_t extra_bytes = 0;
    std::int64_t image_parts = 0;  ///< images in the content, each bounded by the model
};

/// What a provider is asked: the conversation so far, oldest turn first, ending with the user's
/// new message (or a tool's result).
struct ChatPrompt {
    std::string upstream_model;  ///< the model name the upstream knows
    std::vector<ChatTurn> turns;
    std::int64_t max_completion_tokens = 0;  ///< 0: the provider's own default
    /// Further Chat Completions request fields as one JSON object (text), checked by the API
    /// layer: sampling, stop, response_format, tools, tool_choice, ... Empty: none.
    std::string options;
    std::int64_t image_token_bound = 0;  ///< tokens one image can cost at most, for the bound
};

/// Token counts as the upstream reported them; `reported` is false when it sent none.
struct TokenUsage {
    std::int64_t prompt_tokens = 0;
    std::int64_t completion_tokens = 0;
    bool reported = false;
};

struct ChatAnswer {
    std::string text;
    std::string finish_reason = "stop";  ///< OpenAI's values: stop, length, content_filter, ...
    TokenUsage usage;
    std::vector<ToolCall> tool_calls;  ///< the functions the model asked to call, in order
};

/// One piece of a streamed answer: text, tool call fragments, or both.
struct ChatDelta {
    std::string text;
    std::vector<ToolCallDelta> tool_calls;

    ChatDelta() = default;
    ChatDelta(std::string t) : text(std::move(t)) {}  // NOLINT: a text delta reads as its text
    bool empty() const { return text.empty() && tool_calls.empty(); }
    /// What the model produced in this piece, in bytes (for the estimate of a cut answer).
    std::int64_t bytes() const;
};

/// An answer arriving piece by piece. Used only on the executor that opened it, by one caller
/// at a time; destroying it closes the upstream exchange.
class ChatStream {
public:
    virtual ~ChatStream() = default;
    /// The next delta, or an empty optional once the answer is complete (then
    /// `finish_reason` and `usage` are final). Enforces the idle and total deadlines itself.
    /// Errors: upstream_unavailable, upstream_timeout.
    virtual boost::asio::awaitable<Result<std::optional<ChatDelta>>> next() = 0;
    virtual const std::string& finish_reason() const = 0;
    virtual TokenUsage usage() const = 0;
    /// Stops reading the upstream at once (any thread-safe context: call it on the stream's
    /// executor); a pending or later `next` fails with upstream_unavailable.
    virtual void cancel() = 0;
};

/// What an embedding model is asked: the request's fields for the upstream (input,
/// encoding_format, dimensions, user) as one JSON object, checked by the API layer.
struct EmbeddingPrompt {
    std::string upstream_model;
    std::string fields;
};

struct EmbeddingAnswer {
    std::string data;  ///< the upstream's `data` array (JSON text), passed on as it is
    TokenUsage usage;  ///< prompt tokens only
};

/// An AI model behind some protocol. Implementations never block the calling I/O thread and
/// report failures as values: upstream_unavailable (502), upstream_timeout (504),
/// rate_limited (429, with `retry_after_seconds` when the upstream said). Thread-safe.
class ChatProvider {
public:
    virtual ~ChatProvider() = default;
    /// The caller keeps `prompt` alive until the answer arrives. (A by-value aggregate parameter
    /// of a coroutine is miscompiled by GCC 12.)
    virtual boost::asio::awaitable<Result<ChatAnswer>> complete(const ChatPrompt& prompt) = 0;
    /// Opens a streamed answer; the returned stream no longer needs `prompt`. Retries (connect
    /// errors, 429, 5xx) happen only inside this call, before any delta has been returned.
    virtual boost::asio::awaitable<Result<std::unique_ptr<ChatStream>>> stream(
        const ChatPrompt& prompt) = 0;
    /// Embeds the prompt's input; by default the provider has no embeddings (upstream_unavailable).
    virtual boost::asio::awaitable<Result<EmbeddingAnswer>> embed(const EmbeddingPrompt& prompt);
};

}  // namespace chatgate::domain

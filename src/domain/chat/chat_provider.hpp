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

enum class ChatRole { system, user, assistant };
std::string_view to_string(ChatRole role);

struct ChatTurn {
    ChatRole role = ChatRole::user;
    std::string content;
};

/// What a provider is asked: the conversation so far, oldest turn first, ending with the user's
/// new message.
struct ChatPrompt {
    std::string upstream_model;  ///< the model name the upstream knows
    std::vector<ChatTurn> turns;
    std::int64_t max_completion_tokens = 0;  ///< 0: the provider's own default
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
};

/// An answer arriving piece by piece. Used only on the executor that opened it, by one caller
/// at a time; destroying it closes the upstream exchange.
class ChatStream {
public:
    virtual ~ChatStream() = default;
    /// The next text delta, or an empty optional once the answer is complete (then
    /// `finish_reason` and `usage` are final). Enforces the idle and total deadlines itself.
    /// Errors: upstream_unavailable, upstream_timeout.
    virtual boost::asio::awaitable<Result<std::optional<std::string>>> next() = 0;
    virtual const std::string& finish_reason() const = 0;
    virtual TokenUsage usage() const = 0;
    /// Stops reading the upstream at once (any thread-safe context: call it on the stream's
    /// executor); a pending or later `next` fails with upstream_unavailable.
    virtual void cancel() = 0;
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
};

}  // namespace chatgate::domain

#pragma once

#include "core/ids.hpp"
#include "domain/chat/chat_provider.hpp"
#include "domain/chat/model_catalog.hpp"

#include <cstdint>
#include <string>
#include <string_view>

/// The arithmetic of exact chat billing, free of I/O so every rule is unit-tested directly.
namespace chatgate::domain {

/// Sent upstream when neither the model nor the request sets a completion cap: the reservation
/// needs a bound, and the upstream must not be allowed past it.
inline constexpr std::int64_t kDefaultCompletionCap = 4096;
/// Earlier exchanges read for context at most (the character budget usually stops sooner).
inline constexpr std::int64_t kMaxContextExchanges = 200;
/// Tokens a chat turn adds beyond its text (role and separators); generous for every
/// tokenizer in use.
inline constexpr std::int64_t kTokensPerTurn = 8;
/// The stored copy of a streamed answer keeps at most this many bytes per completion token.
inline constexpr std::int64_t kStoredBytesPerToken = 8;

/// The completion cap sent upstream: the request's if it is positive and below the model's.
std::int64_t effective_completion_cap(std::int64_t model_cap, std::int64_t requested);

/// Bytes of a turn the model reads as text: its content and its tool calls or call id.
std::int64_t turn_bytes(const ChatTurn& turn);

/// A safe upper bound of the prompt's tokens: every BPE token covers at least one byte, so
/// bytes plus a per-turn overhead can never be exceeded; each image adds the model's bound for
/// one image (images are priced by their size, not their bytes), and the request's options
/// (tool definitions, response schema) count by their bytes.
std::int64_t prompt_token_bound(const ChatPrompt& prompt);

/// `per_1k` tokens-price applied to `tokens`, rounded up; saturates instead of overflowing.
TokenAmount price_per_1k(TokenAmount per_1k, std::int64_t tokens);

/// The most an exchange can cost: the fixed price plus both token prices at their bounds.
TokenAmount reservation_for(const ModelPrice& price, std::int64_t prompt_tokens,
                            std::int64_t completion_tokens);

/// The real cost of `usage`, never above `reserved`.
TokenAmount price_of(const ModelPrice& price, const TokenUsage& usage, TokenAmount reserved);

/// Usage estimated when the upstream reported none (or was cut short): one token per four
/// bytes, rounded up, as OpenAI's tokenizers average on English text. `reported` stays false.
TokenUsage estimate_usage(std::int64_t prompt_bytes, std::int64_t completion_bytes);

/// Bytes of a streamed answer kept for the conversation history.
std::size_t text_limit_bytes(std::int64_t completion_cap);

/// Text accumulated up to a byte limit, cut at a UTF-8 character boundary, so a stream's
/// memory stays bounded whatever the upstream sends.
class BoundedText {
public:
    explicit BoundedText(std::size_t limit) : limit_(limit) {}
    void append(std::string_view piece);
    std::string_view view() const { return text_; }
    bool empty() const { return text_.empty(); }
    bool truncated() const { return truncated_; }

private:
    std::size_t limit_;
    std::string text_;
    bool truncated_ = false;
};

}  // namespace chatgate::domain

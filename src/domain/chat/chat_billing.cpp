#include "domain/chat/chat_billing.hpp"

#include <algorithm>
#include <limits>

namespace chatgate::domain {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    return a > kMax - b ? kMax : a + b;
}

}  // namespace

std::int64_t effective_completion_cap(std::int64_t model_cap, std::int64_t requested) {
    std::int64_t cap = model_cap > 0 ? model_cap : kDefaultCompletionCap;
    return requested > 0 ? std::min(requested, cap) : cap;
}

std::int64_t turn_bytes(const ChatTurn& turn) {
    return saturating_add(static_cast<std::int64_t>(turn.content.size()),
                          std::max<std::int64_t>(0, turn.extra_bytes));
}

std::int64_t prompt_token_bound(const ChatPrompt& prompt) {
    std::int64_t tokens = kTokensPerTurn;  // the reply's own priming
    // Tool definitions and a response schema are rendered into the prompt: their JSON bytes
    // bound their tokens, plus one turn's overhead for the wrapping.
    if (!prompt.options.empty()) {
        tokens = saturating_add(tokens, static_cast<std::int64_t>(prompt.options.size()));
        tokens = saturating_add(tokens, kTokensPerTurn);
    }
    const std::int64_t per_image = std::max<std::int64_t>(0, prompt.image_token_bound);
    for (const auto& turn : prompt.turns) {
        tokens = saturating_add(tokens, turn_bytes(turn));
        tokens = saturating_add(tokens, kTokensPerTurn);
        const std::int64_t images = std::max<std::int64_t>(0, turn.image_parts);
        tokens = per_image > 0 && images > kMax / per_image
                     ? kMax
                     : saturating_add(tokens, images * per_image);
    }
    return tokens;
}

TokenAmount price_per_1k(TokenAmount per_1k, std::int64_t tokens) {
    if (per_1k <= 0 || tokens <= 0) return 0;
    if (tokens > (kMax - 999) / per_1k) return kMax;
    return (per_1k * tokens + 999) / 1000;
}

TokenAmount reservation_for(const ModelPrice& price, std::int64_t prompt_tokens,
                            std::int64_t completion_tokens) {
    TokenAmount total = std::max<TokenAmount>(0, price.per_message);
    total = saturating_add(total, price_per_1k(price.per_1k_prompt_tokens, prompt_tokens));
    return saturating_add(total, price_per_1k(price.per_1k_completion_tokens, completion_tokens));
}

TokenAmount price_of(const ModelPrice& price, const TokenUsage& usage, TokenAmount reserved) {
    return std::min(reserved, reservation_for(price, usage.prompt_tokens, usage.completion_tokens));
}

TokenUsage estimate_usage(std::int64_t prompt_bytes, std::int64_t completion_bytes) {
    return {(std::max<std::int64_t>(0, prompt_bytes) + 3) / 4,
            (std::max<std::int64_t>(0, completion_bytes) + 3) / 4, false};
}

std::size_t text_limit_bytes(std::int64_t completion_cap) {
    std::int64_t cap = std::max<std::int64_t>(1, completion_cap);
    return static_cast<std::size_t>(std::min(cap, kMax / kStoredBytesPerToken) *
                                    kStoredBytesPerToken);
}

void BoundedText::append(std::string_view piece) {
    if (truncated_) return;
    if (text_.size() + piece.size() <= limit_) {
        text_.append(piece);
        return;
    }
    truncated_ = true;
    text_.append(piece.substr(0, limit_ - text_.size()));
    // Drop a character cut in half: back up over continuation bytes to its lead byte.
    std::size_t end = text_.size();
    std::size_t lead = end;
    while (lead > 0 && (static_cast<unsigned char>(text_[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0) {
        auto byte = static_cast<unsigned char>(text_[lead - 1]);
        std::size_t length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
        if (end - (lead - 1) < length) text_.resize(lead - 1);
    }
}

}  // namespace chatgate::domain

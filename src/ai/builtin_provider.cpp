#include "ai/builtin_provider.hpp"

namespace chatgate::ai {
namespace {

/// Rough usage for the fixed reply, so per-token prices also apply to the builtin model: one
/// token per four bytes, as OpenAI's tokenizers average on English text.
domain::TokenUsage estimate_usage(const domain::ChatPrompt& prompt) {
    std::int64_t prompt_bytes = 0;
    for (const auto& turn : prompt.turns)
        prompt_bytes += static_cast<std::int64_t>(turn.content.size());
    return {(prompt_bytes + 3) / 4,
            (static_cast<std::int64_t>(BuiltinProvider::kReply.size()) + 3) / 4, true};
}

class WordStream final : public domain::ChatStream {
public:
    explicit WordStream(domain::TokenUsage usage) : usage_(usage) {}

    boost::asio::awaitable<Result<std::optional<domain::ChatDelta>>> next() override {
        if (cancelled_) co_return Error{ErrorCode::upstream_unavailable, "cancelled", {}};
        if (position_ >= BuiltinProvider::kReply.size())
            co_return std::optional<domain::ChatDelta>{};
        auto end = BuiltinProvider::kReply.find(' ', position_ + 1);
        if (end == std::string_view::npos) end = BuiltinProvider::kReply.size();
        std::string delta(BuiltinProvider::kReply.substr(position_, end - position_));
        position_ = end;
        co_return std::optional<domain::ChatDelta>(domain::ChatDelta(std::move(delta)));
    }
    const std::string& finish_reason() const override { return finish_reason_; }
    domain::TokenUsage usage() const override { return usage_; }
    void cancel() override { cancelled_ = true; }

private:
    domain::TokenUsage usage_;
    std::string finish_reason_ = "stop";
    std::size_t position_ = 0;
    bool cancelled_ = false;
};

}  // namespace

boost::asio::awaitable<Result<domain::ChatAnswer>> BuiltinProvider::complete(
    const domain::ChatPrompt& prompt) {
    co_return domain::ChatAnswer{std::string(kReply), "stop", estimate_usage(prompt)};
}

boost::asio::awaitable<Result<std::unique_ptr<domain::ChatStream>>> BuiltinProvider::stream(
    const domain::ChatPrompt& prompt) {
    std::unique_ptr<domain::ChatStream> stream =
        std::make_unique<WordStream>(estimate_usage(prompt));
    co_return stream;
}

}  // namespace chatgate::ai

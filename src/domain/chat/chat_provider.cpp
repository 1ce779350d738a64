#include "domain/chat/chat_provider.hpp"

namespace chatgate::domain {

std::string_view to_string(ChatRole role) {
    switch (role) {
        case ChatRole::system:
            return "system";
        case ChatRole::user:
            return "user";
        case ChatRole::assistant:
            return "assistant";
        case ChatRole::tool:
            return "tool";
    }
    return "user";
}

boost::asio::awaitable<Result<EmbeddingAnswer>> ChatProvider::embed(const EmbeddingPrompt&) {
    co_return Error{ErrorCode::upstream_unavailable, "This provider has no embeddings.", {}};
}

std::int64_t ChatDelta::bytes() const {
    auto total = static_cast<std::int64_t>(text.size());
    for (const auto& call : tool_calls) {
        total +=
            static_cast<std::int64_t>(call.id.size() + call.name.size() + call.arguments.size());
    }
    return total;
}

}  // namespace chatgate::domain

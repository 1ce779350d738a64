#pragma once

#include "domain/chat/chat_provider.hpp"

namespace chatgate::ai {

/// The offline default: answers every prompt with the fixed sentence the old app's clients
/// expect. Needs no network and no configuration. Streams the sentence word by word.
class BuiltinProvider final : public domain::ChatProvider {
public:
    static constexpr std::string_view kReply = "This is a dummy response.";

    boost::asio::awaitable<Result<domain::ChatAnswer>> complete(
        const domain::ChatPrompt& prompt) override;
    boost::asio::awaitable<Result<std::unique_ptr<domain::ChatStream>>> stream(
        const domain::ChatPrompt& prompt) override;
};

}  // namespace chatgate::ai

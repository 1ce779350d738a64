#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/chat/chat_provider.hpp"
#include "domain/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace chatgate::domain {

struct ChatPolicy {
    TokenAmount cost = 100;
    std::size_t max_message_chars = 10000;
};

struct ChatReply {
    std::string response;
    TokenAmount remaining_tokens = 0;
};

/// One paid exchange with the AI: check the message, charge atomically, ask the provider, then
/// store the exchange, or refund the charge with its own ledger row if the provider failed.
/// Thread-safe.
class ChatService {
public:
    ChatService(Store& store, ChatProvider& provider, DbPools db, ChatPolicy policy);

    /// Errors: invalid_argument (blank or too long), insufficient_tokens, user_not_found,
    /// user_inactive, upstream_unavailable (charge refunded).
    boost::asio::awaitable<Result<ChatReply>> send(UserId user, std::string message);

private:
    Store& store_;
    ChatProvider& provider_;
    DbPools db_;
    ChatPolicy policy_;
};

}  // namespace chatgate::domain

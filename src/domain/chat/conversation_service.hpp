#pragma once

#include "core/error.hpp"
#include "core/work_pool.hpp"
#include "domain/chat/chat_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <vector>

namespace chatgate::domain {

struct ConversationPage {
    std::int64_t count = 0;  ///< the user's conversations in all
    std::vector<ConversationSummary> conversations;
};

struct ConversationDetail {
    ConversationSummary summary;
    std::vector<StoredExchange> messages;  ///< oldest first, at most the newest `kMaxMessages`
};

/// A user's conversations: listing, reading and deleting. Another user's conversation is
/// not_found, exactly like a missing one. Thread-safe.
class ConversationService {
public:
    static constexpr std::int64_t kMaxMessages = 1000;

    ConversationService(ChatStore& chats, DbPools db);

    /// `page` counts from 1; a page past the end (other than an empty first page) is not_found.
    boost::asio::awaitable<Result<ConversationPage>> list(UserId user, std::int64_t page,
                                                          std::int64_t page_size);
    boost::asio::awaitable<Result<ConversationDetail>> get(UserId user,
                                                           ConversationId conversation);
    /// The ledger keeps the exchanges' rows.
    boost::asio::awaitable<Result<void>> remove(UserId user, ConversationId conversation);

private:
    ChatStore& chats_;
    DbPools db_;
};

}  // namespace chatgate::domain

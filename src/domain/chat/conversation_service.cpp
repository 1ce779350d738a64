#include "domain/chat/conversation_service.hpp"

namespace chatgate::domain {

ConversationService::ConversationService(ChatStore& chats, DbPools db) : chats_(chats), db_(db) {}

boost::asio::awaitable<Result<ConversationPage>> ConversationService::list(UserId user,
                                                                           std::int64_t page,
                                                                           std::int64_t page_size) {
    if (page < 1 || page_size < 1) co_return Error{ErrorCode::not_found, "Invalid page.", {}};
    auto loaded = co_await db_.reads.run([&] {
        ConversationPage out;
        out.count = chats_.count_conversations(user);
        out.conversations = chats_.list_conversations(user, (page - 1) * page_size, page_size);
        return out;
    });
    // DRF's paginator: only the first page may be empty.
    if (loaded.conversations.empty() && page > 1) {
        co_return Error{ErrorCode::not_found, "Invalid page.", {}};
    }
    co_return loaded;
}

boost::asio::awaitable<Result<ConversationDetail>> ConversationService::get(
    UserId user, ConversationId conversation) {
    auto loaded = co_await db_.reads.run([&] {
        std::optional<ConversationDetail> out;
        if (auto summary = chats_.find_conversation(user, conversation)) {
            out.emplace();
            out->summary = std::move(*summary);
            out->messages = chats_.conversation_messages(conversation, kMaxMessages);
        }
        return out;
    });
    if (!loaded) co_return Error{ErrorCode::not_found, "Not found.", {}};
    co_return std::move(*loaded);
}

boost::asio::awaitable<Result<void>> ConversationService::remove(UserId user,
                                                                 ConversationId conversation) {
    bool removed =
        co_await db_.writes.run([&] { return chats_.delete_conversation(user, conversation); });
    if (!removed) co_return Error{ErrorCode::not_found, "Not found.", {}};
    co_return Result<void>{};
}

}  // namespace chatgate::domain

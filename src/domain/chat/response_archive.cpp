#include "domain/chat/response_archive.hpp"

namespace chatgate::domain {

boost::asio::awaitable<void> ResponseArchive::save(const StoredResponse& response) {
    co_await db_.writes.run([&] { store_.save_response(response); });
}

boost::asio::awaitable<std::optional<StoredResponse>> ResponseArchive::find(UserId user,
                                                                            std::string id) {
    co_return co_await db_.reads.run([&] { return store_.find_response(user, id); });
}

boost::asio::awaitable<std::optional<std::string>> ResponseArchive::find_item(UserId user,
                                                                              std::string id) {
    co_return co_await db_.reads.run([&] { return store_.find_response_item(user, id); });
}

boost::asio::awaitable<bool> ResponseArchive::remove(UserId user, std::string id) {
    co_return co_await db_.writes.run([&] { return store_.delete_response(user, id); });
}

}  // namespace chatgate::domain

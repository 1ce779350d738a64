#pragma once

#include "core/work_pool.hpp"
#include "domain/chat/response_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace chatgate::domain {

/// The stored responses of the Responses API, per user, on the database pools. Thread-safe.
class ResponseArchive {
public:
    ResponseArchive(ResponseStore& store, DbPools db) : store_(store), db_(db) {}

    /// The caller keeps `response` alive until this returns.
    boost::asio::awaitable<void> save(const StoredResponse& response);
    boost::asio::awaitable<std::optional<StoredResponse>> find(UserId user, std::string id);
    boost::asio::awaitable<std::optional<std::string>> find_item(UserId user, std::string id);
    boost::asio::awaitable<bool> remove(UserId user, std::string id);

private:
    ResponseStore& store_;
    DbPools db_;
};

}  // namespace chatgate::domain

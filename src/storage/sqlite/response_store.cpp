#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/statements.hpp"
#include "storage/sqlite/store_scopes.hpp"

namespace chatgate::storage {

void SqliteStore::save_response(const domain::StoredResponse& response) {
    WriteScope tx(*this);
    writer_->prepare(sql::kInsertStoredResponse)
        .bind(1, response.id)
        .bind(2, response.user)
        .bind(3, response.body)
        .bind(4, response.history)
        .run();
    for (const auto& [id, message] : response.items) {
        writer_->prepare(sql::kInsertStoredResponseItem)
            .bind(1, id)
            .bind(2, response.id)
            .bind(3, response.user)
            .bind(4, message)
            .run();
    }
    tx.commit();
}

std::optional<domain::StoredResponse> SqliteStore::find_response(UserId user, std::string_view id) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindStoredResponse);
    stmt.bind(1, std::string(id)).bind(2, user);
    if (!stmt.step()) return std::nullopt;
    return domain::StoredResponse{std::string(id), user, stmt.text(0), stmt.text(1), {}};
}

std::optional<std::string> SqliteStore::find_response_item(UserId user, std::string_view id) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindStoredResponseItem);
    stmt.bind(1, std::string(id)).bind(2, user);
    if (!stmt.step()) return std::nullopt;
    return stmt.text(0);
}

bool SqliteStore::delete_response(UserId user, std::string_view id) {
    WriteScope tx(*this);
    writer_->prepare(sql::kDeleteStoredResponseItems).bind(1, std::string(id)).bind(2, user).run();
    {
        auto remove = writer_->prepare(sql::kDeleteStoredResponse);
        remove.bind(1, std::string(id)).bind(2, user);
        if (!remove.step()) return false;
    }
    tx.commit();
    return true;
}

}  // namespace chatgate::storage

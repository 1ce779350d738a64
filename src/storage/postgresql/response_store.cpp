// PgStore's domain::ResponseStore half: stored responses of the Responses API.

#include "storage/postgresql/pg_store.hpp"
#include "storage/postgresql/store_scopes.hpp"

namespace chatgate::storage::pg {

void PgStore::save_response(const domain::StoredResponse& response) {
    WriteScope tx(*this);
    tx.run(sql::kInsertStoredResponse,
           {response.id, response.user, response.body, response.history});
    for (const auto& [id, message] : response.items) {
        tx.run(sql::kInsertStoredResponseItem, {id, response.id, response.user, message});
    }
    tx.commit();
}

std::optional<domain::StoredResponse> PgStore::find_response(UserId user, std::string_view id) {
    auto db = read();
    auto rows = db->run(sql::kFindStoredResponse, {id, user});
    if (rows.empty()) return std::nullopt;
    return domain::StoredResponse{std::string(id), user, rows.text(0, 0), rows.text(0, 1), {}};
}

std::optional<std::string> PgStore::find_response_item(UserId user, std::string_view id) {
    auto db = read();
    auto rows = db->run(sql::kFindStoredResponseItem, {id, user});
    if (rows.empty()) return std::nullopt;
    return rows.text(0, 0);
}

bool PgStore::delete_response(UserId user, std::string_view id) {
    WriteScope tx(*this);
    tx.run(sql::kDeleteStoredResponseItems, {id, user});
    if (tx.run(sql::kDeleteStoredResponse, {id, user}).empty()) return false;
    tx.commit();
    return true;
}

}  // namespace chatgate::storage::pg

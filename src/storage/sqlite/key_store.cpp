// SqliteStore's domain::ApiKeyStore half.

#include "storage/column_text.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/store_scopes.hpp"

namespace chatgate::storage {
namespace {

std::optional<std::int64_t> optional_int(Statement& stmt, int column) {
    if (!stmt.optional_text(column)) return std::nullopt;
    return stmt.int64(column);
}

domain::ApiKeyInfo read_info(Statement& stmt) {
    return {stmt.int64(0),         stmt.text(1),
            stmt.text(2),          split_models(stmt.optional_text(3)),
            optional_int(stmt, 4), stmt.int64(5),
            stmt.text(6),          optional_int(stmt, 7),
            stmt.optional_text(8), stmt.optional_text(9)};
}

}  // namespace

Result<domain::ApiKeyId> SqliteStore::create_api_key(const domain::NewApiKey& key,
                                                     std::int64_t max_keys) {
    WriteScope tx(*this);
    {
        auto count = writer_->prepare(sql::kCountLiveKeys);
        count.bind(1, key.user);
        if (count.step() && count.int64(0) >= max_keys) {
            return Error{ErrorCode::already_exists, "too many keys", {}};
        }
    }
    domain::ApiKeyId id = 0;
    {
        auto insert = writer_->prepare(sql::kInsertApiKey);
        insert.bind(1, key.user)
            .bind(2, key.public_id)
            .bind(3, key.secret_digest)
            .bind(4, key.name)
            .bind(5, join_models(key.models))
            .bind(6, key.token_limit)
            .bind(7, key.expires_at);
        if (!insert.step()) throw StorageError("api key insert refused", insert.extended_error());
        id = insert.int64(0);
    }
    tx.commit();
    return id;
}

std::vector<domain::ApiKeyInfo> SqliteStore::list_api_keys(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kListApiKeys);
    stmt.bind(1, user);
    std::vector<domain::ApiKeyInfo> out;
    while (stmt.step()) out.push_back(read_info(stmt));
    return out;
}

std::optional<domain::ApiKeyInfo> SqliteStore::find_api_key_info(UserId user,
                                                                 domain::ApiKeyId key) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindApiKeyInfo);
    stmt.bind(1, user).bind(2, key);
    if (!stmt.step()) return std::nullopt;
    return read_info(stmt);
}

bool SqliteStore::revoke_api_key(UserId user, domain::ApiKeyId key) {
    WriteScope tx(*this);
    {
        auto revoke = writer_->prepare(sql::kRevokeApiKey);
        revoke.bind(1, user).bind(2, key);
        if (!revoke.step()) return false;
    }
    tx.commit();
    return true;
}

std::optional<domain::KeyRecord> SqliteStore::find_api_key(std::string_view public_id) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindApiKey);
    stmt.bind(1, public_id);
    if (!stmt.step()) return std::nullopt;
    return domain::KeyRecord{stmt.int64(0),         stmt.int64(1),
                             stmt.text(2),          split_models(stmt.optional_text(3)),
                             optional_int(stmt, 4), stmt.int64(5) != 0,
                             stmt.int64(6) != 0};
}

void SqliteStore::touch_api_key(domain::ApiKeyId key) {
    WriteScope tx(*this);
    writer_->prepare(sql::kTouchApiKey).bind(1, key).run();
    tx.commit();
}

}  // namespace chatgate::storage

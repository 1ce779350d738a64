// PgStore's domain::ApiKeyStore half.

#include "storage/column_text.hpp"
#include "storage/postgresql/pg_store.hpp"
#include "storage/postgresql/store_scopes.hpp"

namespace chatgate::storage::pg {
namespace {

domain::ApiKeyInfo read_info(const Rows& rows, int r) {
    return {rows.int64(r, 0),         rows.text(r, 1),
            rows.text(r, 2),          split_models(rows.optional_text(r, 3)),
            rows.optional_int(r, 4),  rows.int64(r, 5),
            rows.text(r, 6),          rows.optional_int(r, 7),
            rows.optional_text(r, 8), rows.optional_text(r, 9)};
}

}  // namespace

Result<domain::ApiKeyId> PgStore::create_api_key(const domain::NewApiKey& key,
                                                 std::int64_t max_keys) {
    WriteScope tx(*this);
    auto count = tx.run(sql::kCountLiveKeys, {key.user});
    if (!count.empty() && count.int64(0, 0) >= max_keys) {
        return Error{ErrorCode::already_exists, "too many keys", {}};
    }
    auto inserted =
        tx.run(sql::kInsertApiKey, {key.user, key.public_id, key.secret_digest, key.name,
                                    join_models(key.models), key.token_limit, key.expires_at});
    domain::ApiKeyId id = inserted.int64(0, 0);
    tx.commit();
    return id;
}

std::vector<domain::ApiKeyInfo> PgStore::list_api_keys(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kListApiKeys, {user});
    std::vector<domain::ApiKeyInfo> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(read_info(rows, r));
    return out;
}

std::optional<domain::ApiKeyInfo> PgStore::find_api_key_info(UserId user, domain::ApiKeyId key) {
    auto db = read();
    auto rows = db->run(sql::kFindApiKeyInfo, {user, key});
    if (rows.empty()) return std::nullopt;
    return read_info(rows, 0);
}

bool PgStore::revoke_api_key(UserId user, domain::ApiKeyId key) {
    WriteScope tx(*this);
    if (tx.run(sql::kRevokeApiKey, {user, key}).empty()) return false;
    tx.commit();
    return true;
}

std::optional<domain::KeyRecord> PgStore::find_api_key(std::string_view public_id) {
    auto db = read();
    auto rows = db->run(sql::kFindApiKey, {public_id});
    if (rows.empty()) return std::nullopt;
    return domain::KeyRecord{rows.int64(0, 0),        rows.int64(0, 1),
                             rows.text(0, 2),         split_models(rows.optional_text(0, 3)),
                             rows.optional_int(0, 4), rows.int64(0, 5) != 0,
                             rows.int64(0, 6) != 0};
}

void PgStore::touch_api_key(domain::ApiKeyId key) {
    WriteScope tx(*this);
    tx.run(sql::kTouchApiKey, {key});
    tx.commit();
}

}  // namespace chatgate::storage::pg

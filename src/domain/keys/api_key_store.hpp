#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"
#include "domain/keys/key_grant.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

/// A key to store: only the digest of its secret, never the secret.
struct NewApiKey {
    UserId user = 0;
    std::string public_id;
    std::string secret_digest;
    std::string name;
    std::optional<std::vector<std::string>> models;  ///< nothing: every model
    std::optional<TokenAmount> token_limit;          ///< nothing: no limit but the balance
    std::optional<std::int64_t> expires_at;          ///< unix seconds
};

/// A key as its owner (or an operator) sees it.
struct ApiKeyInfo {
    ApiKeyId id = 0;
    std::string public_id;
    std::string name;
    std::optional<std::vector<std::string>> models;
    std::optional<TokenAmount> token_limit;
    TokenAmount spent = 0;  ///< settled costs plus open reservations
    std::string created_at;
    std::optional<std::int64_t> expires_at;
    std::optional<std::string> last_used_at;
    std::optional<std::string> revoked_at;
};

/// What authenticating a key needs, read in one indexed lookup by public id.
struct KeyRecord {
    ApiKeyId id = 0;
    UserId user = 0;
    std::string secret_digest;
    std::optional<std::vector<std::string>> models;
    std::optional<std::int64_t> expires_at;
    bool revoked = false;
    bool user_active = false;
};

/// Persistence of API keys. Blocking and thread-safe like `Store`.
class ApiKeyStore {
public:
    virtual ~ApiKeyStore() = default;

    /// already_exists when the user has `max_keys` live keys (revoked ones do not count).
    virtual Result<ApiKeyId> create_api_key(const NewApiKey& key, std::int64_t max_keys) = 0;
    /// The user's keys, newest first, revoked ones included.
    virtual std::vector<ApiKeyInfo> list_api_keys(UserId user) = 0;
    virtual std::optional<ApiKeyInfo> find_api_key_info(UserId user, ApiKeyId key) = 0;
    /// False when the key is not the user's or was revoked before.
    virtual bool revoke_api_key(UserId user, ApiKeyId key) = 0;
    virtual std::optional<KeyRecord> find_api_key(std::string_view public_id) = 0;
    virtual void touch_api_key(ApiKeyId key) = 0;
};

}  // namespace chatgate::domain

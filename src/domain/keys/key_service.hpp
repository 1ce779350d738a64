#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/keys/api_key_store.hpp"
#include "domain/keys/key_crypto.hpp"
#include "domain/keys/key_grant.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chatgate::domain {

/// The user behind an accepted key.
struct KeyAccess {
    UserId user = 0;
    KeyGrant grant;
};

/// What a user asks for when creating a key (already checked field by field by the handler).
struct KeyRequest {
    std::string name;
    std::optional<std::vector<std::string>> models;
    std::optional<TokenAmount> token_limit;
    std::optional<std::int64_t> expires_at;  ///< unix seconds
};

struct CreatedKey {
    ApiKeyInfo info;
    std::string key;  ///< the whole key: shown once, never stored
};

/// Filled from the configuration by the composition root.
struct KeyPolicy {
    std::int64_t max_keys_per_user{};
    /// last_used_at is written at most this often per key, so a busy key costs no write per
    /// request.
    std::chrono::seconds last_used_resolution{};
};

/// API keys: `sk-cg-<public id>_<secret>`. Creation returns the whole key once and stores the
/// secret's digest; authentication is one indexed read by public id and a constant-time digest
/// comparison, so revocation, expiry and a deactivated owner take effect at the next request.
/// Thread-safe.
class KeyService {
public:
    static constexpr std::string_view kPrefix = "sk-cg-";

    KeyService(ApiKeyStore& store, const KeyCrypto& crypto, DbPools db, const Clock& clock,
               KeyPolicy policy);

    static bool looks_like_key(std::string_view token) { return token.starts_with(kPrefix); }

    /// Errors: invalid_argument (an expiry in the past), permission_denied (too many keys).
    boost::asio::awaitable<Result<CreatedKey>> create(UserId user, const KeyRequest& request);
    boost::asio::awaitable<std::vector<ApiKeyInfo>> list(UserId user);
    /// Errors: not_found (not the user's, or revoked already).
    boost::asio::awaitable<Result<void>> revoke(UserId user, ApiKeyId key);
    /// The key's user and grant. Errors: token_not_valid (malformed, unknown, wrong secret,
    /// revoked or expired: one answer for all), user_inactive.
    boost::asio::awaitable<Result<KeyAccess>> authenticate(std::string_view key);

private:
    bool due_for_touch(ApiKeyId key);

    ApiKeyStore& store_;
    const KeyCrypto& crypto_;
    DbPools db_;
    const Clock& clock_;
    KeyPolicy policy_;
    std::mutex touched_mutex_;
    std::unordered_map<ApiKeyId, std::chrono::system_clock::time_point> touched_;
};

}  // namespace chatgate::domain

#include "domain/keys/key_service.hpp"

#include <algorithm>

namespace chatgate::domain {
namespace {

constexpr std::size_t kPublicIdBytes = 9;  // 12 characters: unique enough to index by
constexpr std::size_t kSecretBytes = 32;
// The touch map forgets everything past this many keys (they are then touched once more).
constexpr std::size_t kMaxTouchedKeys = 100000;

Error invalid_key() {
    return {ErrorCode::token_not_valid, "Invalid, revoked or expired API key", {}};
}

struct ParsedKey {
    std::string_view public_id;
    std::string_view secret;
};

/// `sk-cg-<public id>_<secret>`; the random parts are URL-safe base64, whose alphabet has '_',
/// so the public id is the fixed-length part before the first separator after it.
std::optional<ParsedKey> parse_key(std::string_view key) {
    if (!key.starts_with(KeyService::kPrefix)) return std::nullopt;
    key.remove_prefix(KeyService::kPrefix.size());
    constexpr std::size_t id_chars = kPublicIdBytes * 4 / 3;
    if (key.size() <= id_chars + 1 || key[id_chars] != '_') return std::nullopt;
    return ParsedKey{key.substr(0, id_chars), key.substr(id_chars + 1)};
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

bool KeyGrant::allows(std::string_view model) const {
    return !models || std::find(models->begin(), models->end(), model) != models->end();
}

KeyService::KeyService(ApiKeyStore& store, const KeyCrypto& crypto, DbPools db, const Clock& clock,
                       KeyPolicy policy)
    : store_(store), crypto_(crypto), db_(db), clock_(clock), policy_(policy) {}

boost::asio::awaitable<Result<CreatedKey>> KeyService::create(UserId user,
                                                              const KeyRequest& request) {
    if (request.expires_at && *request.expires_at <= unix_seconds(clock_.now())) {
        co_return Error::fields_invalid({{"expires_at", {"The expiry must be in the future."}}});
    }
    std::string secret = crypto_.random_text(kSecretBytes);
    NewApiKey key{user,
                  crypto_.random_text(kPublicIdBytes),
                  crypto_.digest(secret),
                  request.name,
                  request.models,
                  request.token_limit,
                  request.expires_at};
    const std::int64_t max_keys = policy_.max_keys_per_user;
    auto created = co_await db_.writes.run([&] { return store_.create_api_key(key, max_keys); });
    if (!created) {
        co_return Error{ErrorCode::permission_denied,
                        "A user may have at most " + std::to_string(max_keys) + " API keys.",
                        {}};
    }
    const ApiKeyId id = *created;
    auto info = co_await db_.reads.run([&] { return store_.find_api_key_info(user, id); });
    if (!info) co_return Error{ErrorCode::internal, "created key not found", {}};
    co_return CreatedKey{std::move(*info),
                         std::string(kPrefix) + key.public_id + "_" + std::move(secret)};
}

boost::asio::awaitable<std::vector<ApiKeyInfo>> KeyService::list(UserId user) {
    co_return co_await db_.reads.run([&] { return store_.list_api_keys(user); });
}

boost::asio::awaitable<Result<void>> KeyService::revoke(UserId user, ApiKeyId key) {
    bool revoked = co_await db_.writes.run([&] { return store_.revoke_api_key(user, key); });
    if (!revoked) co_return Error{ErrorCode::not_found, "Not found.", {}};
    co_return Result<void>{};
}

boost::asio::awaitable<Result<KeyAccess>> KeyService::authenticate(std::string_view key) {
    auto parsed = parse_key(key);
    if (!parsed) co_return invalid_key();
    const std::string public_id(parsed->public_id);
    auto record = co_await db_.reads.run([&] { return store_.find_api_key(public_id); });
    // The digest is compared even for an unknown id, so timing tells nothing about which ids
    // exist.
    std::string presented = crypto_.digest(parsed->secret);
    bool matches = crypto_.same_digest(presented, record ? record->secret_digest : presented);
    if (!record || !matches || record->revoked) co_return invalid_key();
    if (record->expires_at && *record->expires_at <= unix_seconds(clock_.now())) {
        co_return invalid_key();
    }
    if (!record->user_active) co_return Error{ErrorCode::user_inactive, "User is inactive", {}};
    if (due_for_touch(record->id)) {
        const ApiKeyId id = record->id;
        co_await db_.writes.run([&] { store_.touch_api_key(id); });
    }
    co_return KeyAccess{record->user, KeyGrant{record->id, std::move(record->models)}};
}

bool KeyService::due_for_touch(ApiKeyId key) {
    auto now = clock_.now();
    std::lock_guard lock(touched_mutex_);
    if (touched_.size() >= kMaxTouchedKeys) touched_.clear();
    auto [it, inserted] = touched_.try_emplace(key, now);
    if (inserted) return true;
    if (now - it->second < policy_.last_used_resolution) return false;
    it->second = now;
    return true;
}

}  // namespace chatgate::domain

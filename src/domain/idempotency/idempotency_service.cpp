#include "domain/idempotency/idempotency_service.hpp"

namespace chatgate::domain {
namespace {

// Expired answers deleted per claim: keeps the table bounded without a sweeper thread, and a
// claim's transaction short.
constexpr std::int64_t kPurgePerClaim = 16;

/// The node part of an owner "<node>#<random>"; nothing for owners from before node names.
std::optional<std::string_view> node_of(std::string_view owner) {
    auto hash = owner.rfind('#');
    if (hash == std::string_view::npos) return std::nullopt;
    return owner.substr(0, hash);
}

}  // namespace

ClaimResult judge_claim(const std::optional<IdempotencyRecord>& holder,
                        const std::string& fingerprint, const std::string& owner) {
    if (!holder) return {ClaimOutcome::claimed, std::nullopt};
    if (holder->fingerprint != fingerprint) return {ClaimOutcome::mismatch, std::nullopt};
    if (holder->answer) return {ClaimOutcome::replay, holder->answer};
    if (holder->owner == owner) return {ClaimOutcome::in_flight, std::nullopt};
    auto holder_node = node_of(holder->owner);
    if (holder_node && holder_node != node_of(owner)) {
        return {ClaimOutcome::elsewhere, std::nullopt};
    }
    return {ClaimOutcome::abandoned, std::nullopt};
}

IdempotencyService::IdempotencyService(IdempotencyStore& store, DbPools db, const Clock& clock,
                                       IdempotencyPolicy policy, std::string owner)
    : store_(store), db_(db), clock_(clock), policy_(policy), owner_(std::move(owner)) {}

std::int64_t IdempotencyService::now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
        .count();
}

boost::asio::awaitable<ClaimResult> IdempotencyService::claim(UserId user, const std::string& key,
                                                              const std::string& fingerprint) {
    std::int64_t now = now_ms();
    IdempotencyClaim request{user,   key, fingerprint,
                             owner_, now, now + std::chrono::milliseconds(policy_.ttl).count()};
    auto holder = co_await db_.writes.run([&] {
        auto found = store_.claim_idempotency_key(request);
        store_.purge_idempotency_keys(now, kPurgePerClaim);
        return found;
    });
    co_return judge_claim(holder, request.fingerprint, owner_);
}

boost::asio::awaitable<void> IdempotencyService::complete(UserId user, const std::string& key,
                                                          const StoredAnswer& answer) {
    std::string key_copy = key;
    StoredAnswer answer_copy = answer;
    std::int64_t expires = now_ms() + std::chrono::milliseconds(policy_.ttl).count();
    co_await db_.writes.run(
        [&] { store_.complete_idempotency_key(user, key_copy, owner_, answer_copy, expires); });
}

boost::asio::awaitable<void> IdempotencyService::release(UserId user, const std::string& key) {
    std::string key_copy = key;
    co_await db_.writes.run([&] { store_.release_idempotency_key(user, key_copy, owner_); });
}

}  // namespace chatgate::domain

#pragma once

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/idempotency/idempotency_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace chatgate::domain {

/// Filled from the configuration by the composition root.
struct IdempotencyPolicy {
    std::chrono::seconds ttl{};  ///< how long an answer is replayed
};

enum class ClaimOutcome {
    claimed,    ///< the caller runs the request, then completes or releases the key
    replay,     ///< the first answer is known: send it again
    mismatch,   ///< the key was used with a different request
    in_flight,  ///< the first request is still running in this process
    elsewhere,  ///< the first request is held by another node (running there, or cut off)
    abandoned,  ///< its first request was cut off by a restart: the outcome is unknown
};

struct ClaimResult {
    ClaimOutcome outcome = ClaimOutcome::claimed;
    std::optional<StoredAnswer> answer;  ///< for replay
};

/// The rules of Idempotency-Key: per user, one request runs per key; its successful answer is
/// kept for `ttl` and replayed for the same request (same fingerprint); a different request
/// with the key is refused. Writes run on the database writer. Thread-safe.
///
/// A claim left by a process that stopped mid-request (not this `owner`) is not taken over
/// until it expires: whether that request charged is unknown, so running it again could
/// charge twice. Owners are "<node>#<random>": a claim of an earlier run of this node is
/// abandoned, one of another node is `elsewhere` (most likely still running there: the caller
/// polls until it has an answer or a deadline passes).
class IdempotencyService {
public:
    IdempotencyService(IdempotencyStore& store, DbPools db, const Clock& clock,
                       IdempotencyPolicy policy, std::string owner);

    boost::asio::awaitable<ClaimResult> claim(UserId user, const std::string& key,
                                              const std::string& fingerprint);
    /// Keeps the answer for replay.
    boost::asio::awaitable<void> complete(UserId user, const std::string& key,
                                          const StoredAnswer& answer);
    /// Frees the key (the request failed without effect), so a retry runs again.
    boost::asio::awaitable<void> release(UserId user, const std::string& key);

private:
    std::int64_t now_ms() const;

    IdempotencyStore& store_;
    DbPools db_;
    const Clock& clock_;
    IdempotencyPolicy policy_;
    std::string owner_;
};

/// The rule behind claim, on the record that holds the key (nothing: the claim was taken).
ClaimResult judge_claim(const std::optional<IdempotencyRecord>& holder,
                        const std::string& fingerprint, const std::string& owner);

}  // namespace chatgate::domain

#pragma once

#include "core/ids.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace chatgate::domain {

/// The first answer to a request, kept to be replayed.
struct StoredAnswer {
    int status = 0;
    std::string content_type;
    std::string body;
};

/// A key as stored: an answer, or a request still running in process `owner`.
struct IdempotencyRecord {
    std::string fingerprint;
    std::string owner;
    std::optional<StoredAnswer> answer;
    std::int64_t expires_at_ms = 0;
};

struct IdempotencyClaim {
    UserId user = 0;
    std::string key;
    std::string fingerprint;
    std::string owner;
    std::int64_t now_ms = 0;
    std::int64_t expires_at_ms = 0;  ///< for the claim itself, should its owner vanish
};

/// Persistence of idempotency keys. Every call blocks (run writes on the writer pool) and is
/// atomic; implementations are thread-safe and throw only on unexpected failures.
class IdempotencyStore {
public:
    virtual ~IdempotencyStore() = default;

    /// Takes the key for `claim.owner` unless a live record holds it: first drops the key's
    /// record if it has expired and is an answer or another process's claim, then inserts.
    /// Nothing when the claim was taken; otherwise the record that holds the key.
    virtual std::optional<IdempotencyRecord> claim_idempotency_key(
        const IdempotencyClaim& claim) = 0;
    /// Stores the answer on the owner's claim; it is replayed until `expires_at_ms`.
    virtual void complete_idempotency_key(UserId user, const std::string& key,
                                          const std::string& owner, const StoredAnswer& answer,
                                          std::int64_t expires_at_ms) = 0;
    /// Drops the owner's unfinished claim, so the key can be used again.
    virtual void release_idempotency_key(UserId user, const std::string& key,
                                         const std::string& owner) = 0;
    /// At start-up, after the open chat reservations were refunded: drops the unfinished claims
    /// of earlier processes whose requests left no lasting change to their user's balance
    /// (since the claim, the user's ledger holds only chat charges refunded in full and their
    /// refunds), so a retry with the key runs afresh. Claims that may have moved tokens stay
    /// (409, outcome unknown). Owners are "<node>#<random>": only the claims of this `node`'s
    /// earlier runs, of nodes whose lease had expired at `now_ms`, and of owners from before
    /// node names are considered, never those of another live node. Returns how many were
    /// dropped.
    virtual std::int64_t release_abandoned_idempotency_keys(const std::string& owner,
                                                            const std::string& node,
                                                            std::int64_t now_ms) = 0;
    /// Deletes up to `limit` expired answers; returns how many.
    virtual std::int64_t purge_idempotency_keys(std::int64_t now_ms, std::int64_t limit) = 0;
};

}  // namespace chatgate::domain

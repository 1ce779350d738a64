#pragma once

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "domain/accounts/session_store.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace chatgate::domain {

/// What the per-request session check read lately, so most authenticated requests skip the
/// database. Correctness rests on invalidation, not on expiry: every change this process makes
/// to a session or to a user's epoch or is_active (logout, refresh reuse, password change)
/// calls `forget_*` after its commit and before it answers, so the next request reads again.
/// A read that raced with such a change is not stored (each shard counts its invalidations;
/// `store` refuses a state read before the latest one). Expiry only bounds changes made
/// outside this process (a direct database edit, another node): those take effect within
/// `ttl`. A store shared by several nodes would publish its epoch changes and have each node
/// call `forget_user` / `forget_session` on hearing one. Thread-safe.
class SessionCache {
public:
    struct Options {
        std::chrono::milliseconds ttl{};  ///< 0: nothing is kept, every check reads
        std::size_t max_entries = 0;      ///< in all; a full shard is emptied
    };
    /// Taken before the read whose result is stored.
    struct Ticket {
        std::size_t shard = 0;
        std::uint64_t invalidations = 0;
    };

    SessionCache(const Clock& clock, Options options);

    bool enabled() const noexcept { return options_.ttl.count() > 0; }
    /// The state kept for this session while fresh; otherwise nothing, and `ticket` is set for
    /// storing what the caller reads next.
    std::optional<AccessState> find(UserId user, SessionId session, Ticket& ticket);
    /// Keeps `state` unless the user's shard was invalidated since `ticket` was taken.
    void store(UserId user, SessionId session, const AccessState& state, const Ticket& ticket);
    /// The session was revoked.
    void forget_session(UserId user, SessionId session);
    /// The user's epoch or is_active changed (every session of the user).
    void forget_user(UserId user);

private:
    struct Entry {
        SessionId session = 0;
        AccessState state;
        std::chrono::system_clock::time_point expires;
    };
    struct Shard {
        std::mutex mutex;
        std::unordered_map<UserId, std::vector<Entry>> users;
        std::size_t entries = 0;
        std::uint64_t invalidations = 0;
    };
    static constexpr std::size_t kShards = 16;

    Shard& shard_of(UserId user, std::size_t* index = nullptr);

    const Clock& clock_;
    Options options_;
    std::array<Shard, kShards> shards_;
};

}  // namespace chatgate::domain

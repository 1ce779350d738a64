#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/accounts/session_cache.hpp"
#include "domain/accounts/session_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>

namespace chatgate::domain {

/// Filled from the configuration by the composition root.
struct SessionPolicy {
    /// How long a family's tokens can outlive its last login or refresh (the longer of the two
    /// token lifetimes); families unused for longer are purged.
    std::chrono::seconds token_lifetime{};
    /// Off only for benchmarks: access tokens are then not checked against revocations or
    /// deactivation at all (the composition root logs that as unsafe).
    bool check_access{};
    /// Called when a used refresh token comes back (its family has just been revoked): a sign
    /// that a token was stolen, worth an operator's attention. Never given the token itself.
    std::function<void(UserId, SessionId)> on_reuse;
    /// How long a checked session's state may be reused without a read (0: every request
    /// reads), and how many are kept. See SessionCache for why revocations are still immediate.
    std::chrono::milliseconds cache_ttl{};
    std::size_t cache_max_entries = 0;
};

/// The session rules: a login starts a family; a refresh token may be used once (rotation),
/// and a second use revokes its whole family (reuse detection); logout revokes the family;
/// every authenticated request checks its token's family, the user's session epoch and
/// is_active. Reads run on the database read pool, changes on the writer. Thread-safe.
///
/// The per-request check reads through a SessionCache: a database read costs a hop to the read
/// pool and back, 15-20% of a GET /api/tokens/. Each revocation here forgets what the cache
/// holds before it answers, so a revoked token is refused at its next request; a change made
/// outside this process (a direct database edit) takes effect within the cache's ttl.
class SessionService {
public:
    SessionService(SessionStore& store, DbPools db, const Clock& clock, SessionPolicy policy);

    /// A new family for a user who has just authenticated. Errors: invalid_credentials (the
    /// user was deactivated meanwhile).
    boost::asio::awaitable<Result<SessionGrant>> start(UserId user);
    /// The grant for the next pair of tokens, when `generation` is the family's current one.
    /// Errors: refresh_token_not_valid ("Token is blacklisted" for a revoked family or a reused
    /// token, which revokes the family), no_active_account.
    boost::asio::awaitable<Result<SessionGrant>> rotate(UserId user, SessionId session,
                                                        std::int64_t generation,
                                                        std::int64_t epoch);
    /// Revokes the family (logout). Idempotent: a revoked or unknown family is no error.
    boost::asio::awaitable<void> end(UserId user, SessionId session);
    /// Whether an access token may be used. `session` 0: a token issued before sessions
    /// existed, checked against the epoch only. Errors: token_not_valid ("Token is
    /// blacklisted"), user_not_found, user_inactive.
    boost::asio::awaitable<Result<UserId>> check_access(UserId user, SessionId session,
                                                        std::int64_t epoch);
    /// Call after any other change to a user's session epoch or is_active (a password change,
    /// a deactivation), before answering: the next check reads the database again.
    void user_changed(UserId user);

private:
    std::int64_t now_seconds() const;

    SessionStore& store_;
    DbPools db_;
    const Clock& clock_;
    SessionPolicy policy_;
    SessionCache cache_;
};

/// The rule behind check_access, on a state already read.
Result<UserId> judge_access(UserId user, SessionId session, std::int64_t epoch,
                            const std::optional<AccessState>& state);

}  // namespace chatgate::domain

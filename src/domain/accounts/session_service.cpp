#include "domain/accounts/session_service.hpp"

namespace chatgate::domain {
namespace {

constexpr const char* kBlacklisted = "Token is blacklisted";
constexpr const char* kInvalid = "Token is invalid or expired";

}  // namespace

Result<UserId> judge_access(UserId user, SessionId session, std::int64_t epoch,
                            const std::optional<AccessState>& state) {
    if (!state) return Error{ErrorCode::user_not_found, "User not found", {}};
    if (!state->is_active) return Error{ErrorCode::user_inactive, "User is inactive", {}};
    if (state->epoch != epoch || (session != 0 && !state->session_live)) {
        return Error{ErrorCode::token_not_valid, kBlacklisted, {}};
    }
    return user;
}

SessionService::SessionService(SessionStore& store, DbPools db, const Clock& clock,
                               SessionPolicy policy)
    : store_(store),
      db_(db),
      clock_(clock),
      policy_(policy),
      cache_(clock, {.ttl = policy.cache_ttl, .max_entries = policy.cache_max_entries}) {}

std::int64_t SessionService::now_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch())
        .count();
}

boost::asio::awaitable<Result<SessionGrant>> SessionService::start(UserId user) {
    std::int64_t now = now_seconds();
    std::int64_t purge_before = now - policy_.token_lifetime.count();
    auto started =
        co_await db_.writes.run([&] { return store_.start_session(user, now, purge_before); });
    if (started.status != StartStatus::started) {
        co_return Error{ErrorCode::invalid_credentials,
                        "No active account found with the given credentials",
                        {}};
    }
    co_return started.grant;
}

boost::asio::awaitable<Result<SessionGrant>> SessionService::rotate(UserId user, SessionId session,
                                                                    std::int64_t generation,
                                                                    std::int64_t epoch) {
    RotateRequest request{user, session, generation, epoch, now_seconds()};
    auto rotated = co_await db_.writes.run([&] { return store_.rotate_session(request); });
    switch (rotated.status) {
        case RotateStatus::rotated:
            co_return rotated.grant;
        case RotateStatus::no_account:
            cache_.forget_user(user);
            co_return Error{ErrorCode::no_active_account, {}, {}};
        case RotateStatus::unknown:
            co_return Error{ErrorCode::refresh_token_not_valid, kInvalid, {}};
        case RotateStatus::reused:
            cache_.forget_session(user, session);  // the store has just revoked the family
            if (policy_.on_reuse) policy_.on_reuse(user, session);
            break;
        case RotateStatus::revoked:
            cache_.forget_session(user, session);
            break;
    }
    co_return Error{ErrorCode::refresh_token_not_valid, kBlacklisted, {}};
}

boost::asio::awaitable<void> SessionService::end(UserId user, SessionId session) {
    std::int64_t now = now_seconds();
    co_await db_.writes.run([&] { store_.revoke_session(user, session, now); });
    cache_.forget_session(user, session);
}

boost::asio::awaitable<Result<UserId>> SessionService::check_access(UserId user, SessionId session,
                                                                    std::int64_t epoch) {
    if (!policy_.check_access) co_return user;
    SessionCache::Ticket ticket;
    if (auto cached = cache_.find(user, session, ticket)) {
        co_return judge_access(user, session, epoch, cached);
    }
    auto state = co_await db_.reads.run([&] { return store_.access_state(user, session); });
    auto judged = judge_access(user, session, epoch, state);
    // Only a session that passes is kept: a refusal is read again next time, so that a user
    // reactivated from another process (the command line) is let back in at once.
    if (judged) cache_.store(user, session, *state, ticket);
    co_return judged;
}

void SessionService::user_changed(UserId user) {
    cache_.forget_user(user);
}

}  // namespace chatgate::domain

#pragma once

#include "core/ids.hpp"

#include <cstdint>
#include <optional>

namespace chatgate::domain {

using SessionId = std::int64_t;

/// What the tokens of a session carry: the family, the generation of the one refresh token that
/// may be used next, and the user's session epoch when they were issued.
struct SessionGrant {
    SessionId id = 0;
    std::int64_t generation = 0;
    std::int64_t epoch = 0;
};

enum class StartStatus { started, no_user, inactive };

struct StartResult {
    StartStatus status = StartStatus::no_user;
    SessionGrant grant;
};

/// A refresh token's claims, presented for rotation.
struct RotateRequest {
    UserId user = 0;
    SessionId session = 0;
    std::int64_t generation = 0;
    std::int64_t epoch = 0;
    std::int64_t now = 0;  ///< unix seconds
};

enum class RotateStatus {
    rotated,
    no_account,  ///< the user is gone or inactive
    unknown,     ///< no such family (never existed, or purged after its tokens expired)
    revoked,     ///< the family (or every session of the user) was revoked earlier
    reused,      ///< an already-used refresh token: the family has just been revoked
};

struct RotateResult {
    RotateStatus status = RotateStatus::unknown;
    SessionGrant grant;  ///< the new generation when rotated
};

/// What an authenticated request needs to know about its token's user and session.
struct AccessState {
    bool is_active = false;
    std::int64_t epoch = 0;
    bool session_live = false;  ///< the family exists, belongs to the user and is not revoked
};

/// Persistence of session families. Every call blocks (run it on the database pools) and is
/// atomic; implementations are thread-safe and throw only on unexpected failures.
class SessionStore {
public:
    virtual ~SessionStore() = default;

    /// A new family for an active user. Also deletes the user's families unused since before
    /// `purge_before` (their tokens have all expired).
    virtual StartResult start_session(UserId user, std::int64_t now, std::int64_t purge_before) = 0;
    /// Moves the family to the next generation if the request names the current one; revokes
    /// the family when it names an older one.
    virtual RotateResult rotate_session(const RotateRequest& request) = 0;
    /// Revokes the family if it is the user's and still live; does nothing otherwise.
    virtual void revoke_session(UserId user, SessionId session, std::int64_t now) = 0;
    /// One indexed read; `session` 0 asks about the user only. Nothing when the user is unknown.
    virtual std::optional<AccessState> access_state(UserId user, SessionId session) = 0;
};

}  // namespace chatgate::domain

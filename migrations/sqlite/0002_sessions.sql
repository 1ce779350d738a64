-- Sessions (refresh-token families), the per-user session epoch, and idempotency keys.
--
-- A login starts a family; each refresh moves its generation on by one and hands out the only
-- refresh token that may be used next. Presenting an older generation is reuse: the family is
-- revoked, and with it every access token carrying its id (`sid`). A password change bumps the
-- user's session_epoch and revokes all the user's families, so tokens that predate it (even
-- ones issued before families existed) stop working at once.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TABLE sessions (
    -- AUTOINCREMENT: an id is never reused after a purge, so an old token can never name a
    -- newer family.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    generation    INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0),
    created_at    INTEGER NOT NULL,  -- unix seconds
    last_used_at  INTEGER NOT NULL,  -- unix seconds of the login or the latest refresh
    revoked_at    INTEGER,           -- unix seconds; NULL while the family is live
    revoke_reason TEXT CHECK (revoke_reason IN ('logout', 'reuse', 'password_change'))
);
CREATE INDEX sessions_by_user ON sessions (user_id, last_used_at);

-- The first answer to a request sent with an Idempotency-Key, per user and key. A row without
-- a status is a request still running in process `owner` (random per process start).
CREATE TABLE idempotency_keys (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    key           TEXT    NOT NULL,
    fingerprint   TEXT    NOT NULL,  -- SHA-256 of method, route, content type and body
    owner         TEXT    NOT NULL,
    status        INTEGER,
    content_type  TEXT,
    body          TEXT,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at_ms);

-- Operators: API keys, admin balance changes, usage per exchange and the audit log.
-- Runs with foreign keys off (the runner checks them before COMMIT), as SQLite's documented
-- procedure for changing a table's constraints asks.

-- The ledger gains the kinds of an operator's grant and deduction. A CHECK can only change by
-- rebuilding the table: inside this one transaction every row is copied verbatim, the append-only
-- triggers and the index are recreated, and the copy must sum exactly like the original.
CREATE TABLE ledger_rebuilt (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    delta         INTEGER NOT NULL CHECK (delta <> 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('signup_grant', 'chat_charge', 'chat_refund', 'top_up',
                                  'admin_grant', 'admin_deduct')),
    reference     TEXT,
    created_at    TEXT    NOT NULL
);
INSERT INTO ledger_rebuilt (id, user_id, delta, balance_after, kind, reference, created_at)
    SELECT id, user_id, delta, balance_after, kind, reference, created_at FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_rebuilt RENAME TO ledger;
CREATE INDEX ledger_by_user ON ledger (user_id, id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;

-- Sessions gain the revocation reason of an operator's "revoke all". Rebuilt like the ledger;
-- the AUTOINCREMENT counter is carried over, so no id is ever handed out twice.
CREATE TABLE sessions_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    generation    INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT CHECK (revoke_reason IN ('logout', 'reuse', 'password_change', 'admin'))
);
INSERT INTO sessions_rebuilt (id, user_id, generation, created_at, last_used_at, revoked_at,
                              revoke_reason)
    SELECT id, user_id, generation, created_at, last_used_at, revoked_at, revoke_reason
    FROM sessions;
DELETE FROM sqlite_sequence WHERE name = 'sessions_rebuilt';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'sessions_rebuilt', seq FROM sqlite_sequence WHERE name = 'sessions';
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (user_id, last_used_at);

-- API keys: "sk-cg-<public_id>_<secret>". Only the SHA-256 of the secret is kept (the secret
-- is 32 random bytes, so a slow hash adds nothing). `spent` counts settled costs plus open
-- reservations made with the key, so the CHECK refuses any reservation that would pass
-- token_limit, however many run at once.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    public_id    TEXT    NOT NULL UNIQUE,
    secret_hash  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    models       TEXT,     -- model ids, one per line; NULL: every model
    token_limit  INTEGER CHECK (token_limit IS NULL OR token_limit >= 0),
    spent        INTEGER NOT NULL DEFAULT 0
                 CHECK (spent >= 0 AND (token_limit IS NULL OR spent <= token_limit)),
    created_at   TEXT    NOT NULL,
    expires_at   INTEGER,  -- unix seconds; NULL: never
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, id);

-- What each exchange was, for usage reports and key limits. Rows from before keep NULLs.
ALTER TABLE chat_reservations ADD COLUMN api_key_id INTEGER REFERENCES api_keys (id);
ALTER TABLE chat_reservations ADD COLUMN model TEXT;
ALTER TABLE chat_reservations ADD COLUMN prompt_tokens INTEGER;
ALTER TABLE chat_reservations ADD COLUMN completion_tokens INTEGER;
-- Covering indexes: usage per day and model, and per user, are read from the index alone.
CREATE INDEX chat_reservations_usage
    ON chat_reservations (settled_at, model, user_id, prompt_tokens, completion_tokens, cost)
    WHERE cost IS NOT NULL;
CREATE INDEX chat_reservations_user_usage
    ON chat_reservations (user_id, settled_at, model, prompt_tokens, completion_tokens, cost)
    WHERE cost IS NOT NULL;

-- Every operator action, append-only. The actor is a staff user, or an operating-system user
-- for the command line (actor_user_id NULL).
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    created_at     TEXT    NOT NULL,
    actor_user_id  INTEGER REFERENCES users (id),
    actor          TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    target_user_id INTEGER REFERENCES users (id),
    before         TEXT,   -- JSON object
    after          TEXT,   -- JSON object
    reason         TEXT,
    request_id     TEXT
);
CREATE INDEX audit_log_by_target ON audit_log (target_user_id, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_user_id, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- The admin user list sorts and filters on these.
CREATE INDEX users_by_joined ON users (date_joined, id);
CREATE INDEX users_by_tokens ON users (tokens, id);

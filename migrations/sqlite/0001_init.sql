-- Accounts, the token ledger and the chat history.
-- users.tokens is the balance; it always equals the sum of the user's ledger deltas because
-- both change in one transaction, and the CHECKs keep it from going negative.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,  -- BINARY collation: case-sensitive, as in Django
    password_hash TEXT    NOT NULL,
    tokens        INTEGER NOT NULL DEFAULT 0 CHECK (tokens >= 0),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    is_staff      INTEGER NOT NULL DEFAULT 0 CHECK (is_staff IN (0, 1)),
    is_superuser  INTEGER NOT NULL DEFAULT 0 CHECK (is_superuser IN (0, 1)),
    date_joined   TEXT    NOT NULL
);

CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    delta         INTEGER NOT NULL CHECK (delta <> 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('signup_grant', 'chat_charge', 'chat_refund', 'top_up')),
    reference     TEXT,
    created_at    TEXT    NOT NULL
);
CREATE INDEX ledger_by_user ON ledger (user_id, id);

-- The ledger is append-only: history is corrected by new rows, never by edits.
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;

CREATE TABLE chat_messages (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    message         TEXT    NOT NULL,
    response        TEXT    NOT NULL,
    cost            INTEGER NOT NULL CHECK (cost >= 0),
    charge_entry_id INTEGER REFERENCES ledger (id),
    created_at      TEXT    NOT NULL
);
CREATE INDEX chat_messages_by_user ON chat_messages (user_id, id);

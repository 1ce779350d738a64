-- Selling tokens: redemption codes, a payment provider's checkouts and webhook events, and the
-- debt a refund can leave. Runs with foreign keys off (the runner checks them before COMMIT).

-- The ledger gains the kinds of a redeemed code, a payment, a refund and a debt paid off. A
-- CHECK can only change by rebuilding the table, as migration 0004 did: every row copied
-- verbatim inside this one transaction, the append-only triggers and the index recreated.
CREATE TABLE ledger_rebuilt (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    delta         INTEGER NOT NULL CHECK (delta <> 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('signup_grant', 'chat_charge', 'chat_refund', 'top_up',
                                  'admin_grant', 'admin_deduct', 'code_redeem',
                                  'payment_credit', 'payment_refund', 'debt_repayment')),
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

-- A batch of codes made by one operator action.
CREATE TABLE code_batches (
    id         INTEGER PRIMARY KEY,
    tokens     INTEGER NOT NULL CHECK (tokens > 0),
    max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
    expires_at INTEGER,  -- unix seconds; NULL: never
    created_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);

-- One code: only the SHA-256 of its canonical text is kept. Tokens, limit and expiry are copied
-- from the batch so that the claim is one conditional UPDATE on this row alone; the CHECK backs
-- the claim up: no code is ever used more often than allowed.
CREATE TABLE redemption_codes (
    id         INTEGER PRIMARY KEY,
    batch_id   INTEGER NOT NULL REFERENCES code_batches (id),
    code_hash  TEXT    NOT NULL UNIQUE,
    tokens     INTEGER NOT NULL CHECK (tokens > 0),
    max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
    uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX redemption_codes_by_batch ON redemption_codes (batch_id, id);

-- Who redeemed what: one user redeems a code once.
CREATE TABLE code_redemptions (
    code_id    INTEGER NOT NULL REFERENCES redemption_codes (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    ledger_id  INTEGER NOT NULL REFERENCES ledger (id),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (code_id, user_id)
);

-- The checkouts chatgate created at the provider, so a paid session is credited to the user
-- who started it, with the tokens of the price it was made for.
CREATE TABLE payment_checkouts (
    session_id   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    price_id     TEXT    NOT NULL,
    tokens       INTEGER NOT NULL CHECK (tokens > 0),
    state        TEXT    NOT NULL CHECK (state IN ('open', 'credited')),
    created_at   TEXT    NOT NULL
);
CREATE INDEX payment_checkouts_by_user ON payment_checkouts (user_id);

-- Every webhook event that changed something: the event id is the idempotency of the webhook.
CREATE TABLE payment_events (
    event_id    TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- Each payment credited: what a later refund may take back, proportionally.
CREATE TABLE payment_credits (
    payment_intent  TEXT    PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    session_id      TEXT    NOT NULL REFERENCES payment_checkouts (session_id),
    amount          INTEGER NOT NULL CHECK (amount >= 0),  -- minor units; 0: a 100% coupon
    tokens          INTEGER NOT NULL CHECK (tokens > 0),
    tokens_refunded INTEGER NOT NULL DEFAULT 0
                    CHECK (tokens_refunded >= 0 AND tokens_refunded <= tokens)
);

-- Tokens a refund could not take back because they were spent; later paid credits pay it first.
CREATE TABLE user_debts (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    tokens  INTEGER NOT NULL CHECK (tokens >= 0)
);

-- Conversations, and the reservations that make chat billing exact.
-- (Version 2 is another migration's number; versions are applied one by one, not by maximum.)

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    title      TEXT    NOT NULL,  -- the start of its first message
    model      TEXT    NOT NULL,  -- the model of its first exchange
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX conversations_by_user ON conversations (user_id, updated_at, id);

-- Exchanges of /api/chat/ belong to a conversation; older rows keep NULL.
ALTER TABLE chat_messages ADD COLUMN conversation_id INTEGER REFERENCES conversations (id);
ALTER TABLE chat_messages ADD COLUMN model TEXT;
ALTER TABLE chat_messages ADD COLUMN finish_reason TEXT;
CREATE INDEX chat_messages_by_conversation ON chat_messages (conversation_id, id);

-- The most an exchange can cost is taken from the balance (a chat_charge ledger row, reference
-- 'chat reservation') before the AI is asked; settling records the real cost and refunds the
-- rest (a chat_refund row, reference 'settles chat charge <its ledger id>'), in one
-- transaction. The ledger's own kinds are
-- reused instead of new ones: its CHECK on kind could only change by rebuilding the table, and
-- the append-only triggers cannot protect a table being dropped and copied.
CREATE TABLE chat_reservations (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    amount          INTEGER NOT NULL CHECK (amount >= 0),
    charge_entry_id INTEGER REFERENCES ledger (id),  -- NULL when amount is 0
    balance_after   INTEGER NOT NULL,  -- the balance the charge left, reported if nothing returns
    created_at      TEXT    NOT NULL,
    cost            INTEGER CHECK (cost BETWEEN 0 AND amount),  -- NULL while open
    settled_at      TEXT,
    CHECK ((cost IS NULL) = (settled_at IS NULL))
);
CREATE INDEX chat_reservations_open ON chat_reservations (id) WHERE cost IS NULL;

-- Settled exactly once, and never removed.
CREATE TRIGGER chat_reservations_settle_once BEFORE UPDATE OF cost, amount, user_id
ON chat_reservations WHEN OLD.cost IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a reservation is settled once');
END;
CREATE TRIGGER chat_reservations_no_delete BEFORE DELETE ON chat_reservations
BEGIN
    SELECT RAISE(ABORT, 'reservations are kept');
END;

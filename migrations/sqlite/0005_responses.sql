-- Stored responses of the Responses API (POST /v1/responses with store, the default), for
-- GET / DELETE /v1/responses/{id}, previous_response_id and item references. Per user; no
-- money is kept here (the exchange was billed through chat_reservations).

CREATE TABLE stored_responses (
    id         TEXT    PRIMARY KEY,  -- resp_...
    user_id    INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,     -- the response object as it was answered
    history    TEXT    NOT NULL,     -- the conversation up to and with it: Chat Completions messages
    created_at TEXT    NOT NULL
);
CREATE INDEX stored_responses_by_user ON stored_responses (user_id, id);

-- Each output item, as the Chat Completions message it stands for, for item_reference.
CREATE TABLE stored_response_items (
    id          TEXT    PRIMARY KEY,  -- msg_... or fc_...
    response_id TEXT    NOT NULL REFERENCES stored_responses (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    message     TEXT    NOT NULL
);
CREATE INDEX stored_response_items_by_response ON stored_response_items (response_id);

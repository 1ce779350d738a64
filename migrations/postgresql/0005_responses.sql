-- Stored responses of the Responses API; see migrations/sqlite/0005_responses.sql.

CREATE TABLE stored_responses (
    id         text COLLATE "C" PRIMARY KEY,  -- resp_...
    user_id    bigint NOT NULL REFERENCES users (id),
    body       text   NOT NULL,
    history    text   NOT NULL,
    created_at text COLLATE "C" NOT NULL
);
CREATE INDEX stored_responses_by_user ON stored_responses (user_id, id);

CREATE TABLE stored_response_items (
    id          text COLLATE "C" PRIMARY KEY,  -- msg_... or fc_...
    response_id text COLLATE "C" NOT NULL REFERENCES stored_responses (id),
    user_id     bigint NOT NULL REFERENCES users (id),
    message     text   NOT NULL
);
CREATE INDEX stored_response_items_by_response ON stored_response_items (response_id);

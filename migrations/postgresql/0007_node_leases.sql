-- Node leases and the node of each reservation; see migrations/sqlite/0007_node_leases.sql.
CREATE TABLE node_leases (
    node          text COLLATE "C" PRIMARY KEY,
    expires_at_ms bigint NOT NULL  -- unix milliseconds
);

ALTER TABLE chat_reservations ADD COLUMN node text COLLATE "C";  -- NULL: made before leases
CREATE INDEX chat_reservations_open_by_node ON chat_reservations (node, id) WHERE cost IS NULL;

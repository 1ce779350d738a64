-- Several nodes on one database: each reservation records the node that made it, and each node
-- holds a lease here that it renews every few seconds. The open reservations of a node whose
-- lease has expired (killed, or cut off) are refunded by whichever node notices first; the
-- settlement's own guard (cost IS NULL) makes that exactly once, also when two notice together.
-- (Version 6 is another migration's number; versions are applied one by one, not by maximum.)
CREATE TABLE node_leases (
    node          TEXT    PRIMARY KEY,
    expires_at_ms INTEGER NOT NULL  -- unix milliseconds
) WITHOUT ROWID;

ALTER TABLE chat_reservations ADD COLUMN node TEXT;  -- NULL: made before leases
CREATE INDEX chat_reservations_open_by_node ON chat_reservations (node, id) WHERE cost IS NULL;

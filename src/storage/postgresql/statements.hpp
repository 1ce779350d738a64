#pragma once

/// Every SQL statement the PostgreSQL store runs, in one place: the same statements as
/// storage/sqlite/statements.hpp in PostgreSQL's dialect. Each is prepared once per connection
/// (PQprepare) and run with bound parameters (PQexecPrepared); nothing is ever spliced into SQL
/// text. Parameters carry their types (`$1::bigint`), so none is left for the server to guess.
/// Flags are integers 0/1 like SQLite's, so both stores read rows the same way.
namespace chatgate::storage::pg::sql {

inline constexpr const char* kBegin = "BEGIN";
inline constexpr const char* kCommit = "COMMIT";
inline constexpr const char* kRollback = "ROLLBACK";
inline constexpr const char* kSavepoint = "SAVEPOINT operation";
inline constexpr const char* kRelease = "RELEASE SAVEPOINT operation";
inline constexpr const char* kRollbackTo = "ROLLBACK TO SAVEPOINT operation";

// Migrations: one node applies them while the others wait on the lock (any 64-bit number
// chatgate alone uses), each version in its own transaction.
inline constexpr const char* kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
inline constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7263008391)";
inline constexpr const char* kCurrentVersion =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
inline constexpr const char* kVersionApplied =
    "SELECT 1 FROM schema_migrations WHERE version = $1::bigint";
inline constexpr const char* kRecordVersion =
    "INSERT INTO schema_migrations (version) VALUES ($1::bigint)";

inline constexpr const char* kInsertUser =
    "INSERT INTO users (username, password_hash, tokens, is_staff, is_superuser, date_joined)"
    " VALUES ($1::text, $2::text, $3::bigint, $4::bigint, $5::bigint, chatgate_now())"
    " ON CONFLICT (username) DO NOTHING RETURNING id";
inline constexpr const char* kFindCredentials =
    "SELECT id, password_hash, is_active FROM users WHERE username = $1::text";
inline constexpr const char* kFindAccount =
    "SELECT id, tokens, is_active FROM users WHERE id = $1::bigint";

/// The whole balance rule in one statement (see the SQLite store). Under READ COMMITTED a
/// change waiting for another transaction's row lock re-checks the WHERE on the committed row,
/// so concurrent changes from any connection or node cannot overdraw.
inline constexpr const char* kApplyChange =
    "UPDATE users SET tokens = tokens + $2::bigint"
    " WHERE id = $1::bigint AND ($3::bigint = 0 OR is_active = 1)"
    " AND tokens + $2::bigint BETWEEN 0 AND $4::bigint RETURNING tokens";
inline constexpr const char* kInsertLedger =
    "INSERT INTO ledger (user_id, delta, balance_after, kind, reference, created_at)"
    " VALUES ($1::bigint, $2::bigint, $3::bigint, $4::text, $5::text, chatgate_now())"
    " RETURNING id";

inline constexpr const char* kCountLedger =
    "SELECT count(*) FROM ledger WHERE user_id = $1::bigint";
inline constexpr const char* kListLedger =
    "SELECT id, delta, balance_after, kind, reference, created_at FROM ledger"
    " WHERE user_id = $1::bigint ORDER BY id DESC LIMIT $2::bigint OFFSET $3::bigint";
inline constexpr const char* kLedgerSum =
    "SELECT coalesce(sum(delta), 0) FROM ledger WHERE user_id = $1::bigint";
inline constexpr const char* kPing = "SELECT 1";

// Password changes and sessions (migration 0002).
inline constexpr const char* kFindLogin =
    "SELECT id, username, password_hash, is_active FROM users WHERE id = $1::bigint";
inline constexpr const char* kReplacePassword =
    "UPDATE users SET password_hash = $3::text, session_epoch = session_epoch + 1"
    " WHERE id = $1::bigint AND password_hash = $2::text RETURNING session_epoch";
inline constexpr const char* kRehashPassword =
    "UPDATE users SET password_hash = $3::text WHERE id = $1::bigint"
    " AND password_hash = $2::text RETURNING id";
inline constexpr const char* kRevokeUserSessions =
    "UPDATE sessions SET revoked_at = extract(epoch FROM clock_timestamp())::bigint,"
    " revoke_reason = 'password_change' WHERE user_id = $1::bigint AND revoked_at IS NULL";
inline constexpr const char* kSessionUser =
    "SELECT is_active, session_epoch FROM users WHERE id = $1::bigint";
inline constexpr const char* kPurgeSessions =
    "DELETE FROM sessions WHERE user_id = $1::bigint AND last_used_at < $2::bigint";
inline constexpr const char* kInsertSession =
    "INSERT INTO sessions (user_id, generation, created_at, last_used_at)"
    " VALUES ($1::bigint, 0, $2::bigint, $2::bigint) RETURNING id";
inline constexpr const char* kRotateSession =
    "UPDATE sessions SET generation = generation + 1, last_used_at = $5::bigint"
    " WHERE id = $2::bigint AND user_id = $1::bigint AND generation = $3::bigint"
    " AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM users WHERE id = $1::bigint"
    " AND is_active = 1 AND session_epoch = $4::bigint) RETURNING generation";
inline constexpr const char* kSessionState =
    "SELECT u.is_active, u.session_epoch, (s.id IS NOT NULL)::int, s.generation,"
    " (s.revoked_at IS NOT NULL)::int"
    " FROM users u LEFT JOIN sessions s ON s.id = $2::bigint AND s.user_id = u.id"
    " WHERE u.id = $1::bigint";
inline constexpr const char* kRevokeSession =
    "UPDATE sessions SET revoked_at = $3::bigint, revoke_reason = $4::text"
    " WHERE id = $2::bigint AND user_id = $1::bigint AND revoked_at IS NULL";
inline constexpr const char* kAccessState =
    "SELECT is_active, session_epoch, EXISTS (SELECT 1 FROM sessions WHERE id = $2::bigint"
    " AND user_id = $1::bigint AND revoked_at IS NULL)::int FROM users WHERE id = $1::bigint";

// Idempotency keys (migration 0002).
inline constexpr const char* kDropStaleIdempotencyKey =
    "DELETE FROM idempotency_keys WHERE user_id = $1::bigint AND key = $2::text"
    " AND expires_at_ms <= $3::bigint AND (status IS NOT NULL OR owner <> $4::text)";
inline constexpr const char* kInsertIdempotencyKey =
    "INSERT INTO idempotency_keys (user_id, key, fingerprint, owner, created_at_ms,"
    " expires_at_ms) VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::bigint, $6::bigint)"
    " ON CONFLICT DO NOTHING RETURNING 1";
inline constexpr const char* kFindIdempotencyKey =
    "SELECT fingerprint, owner, status, content_type, body, expires_at_ms"
    " FROM idempotency_keys WHERE user_id = $1::bigint AND key = $2::text";
inline constexpr const char* kCompleteIdempotencyKey =
    "UPDATE idempotency_keys SET status = $4::bigint, content_type = $5::text, body = $6::text,"
    " expires_at_ms = $7::bigint WHERE user_id = $1::bigint AND key = $2::text"
    " AND owner = $3::text AND status IS NULL";
inline constexpr const char* kReleaseIdempotencyKey =
    "DELETE FROM idempotency_keys WHERE user_id = $1::bigint AND key = $2::text"
    " AND owner = $3::text AND status IS NULL";
// As in the SQLite store: a claim of a dead process (this node's earlier run, a node whose
// lease expired, or from before node names) whose user's ledger shows no lasting change since
// it was made.
inline constexpr const char* kReleaseAbandonedIdempotencyKeys = R"(
DELETE FROM idempotency_keys AS k
WHERE k.status IS NULL AND k.owner <> $1::text
  AND (strpos(k.owner, '#') = 0
       OR substr(k.owner, 1, length($2::text) + 1) = $2::text || '#'
       OR NOT EXISTS (SELECT 1 FROM node_leases AS n
                      WHERE substr(k.owner, 1, length(n.node) + 1) = n.node || '#'
                        AND n.expires_at_ms >= $3::bigint))
  AND NOT EXISTS (
    SELECT 1 FROM ledger AS l
    WHERE l.user_id = k.user_id
      AND l.created_at >= chatgate_ms_text(k.created_at_ms)
      AND NOT (l.kind = 'chat_charge' AND EXISTS (
          SELECT 1 FROM chat_reservations AS r WHERE r.charge_entry_id = l.id AND r.cost = 0))
      AND NOT (l.kind = 'chat_refund' AND EXISTS (
          SELECT 1 FROM chat_reservations AS r
          WHERE r.user_id = k.user_id AND r.cost = 0
            AND l.reference = 'settles chat charge ' || r.charge_entry_id)))
)";
inline constexpr const char* kPurgeIdempotencyKeys =
    "DELETE FROM idempotency_keys WHERE (user_id, key) IN (SELECT user_id, key"
    " FROM idempotency_keys WHERE expires_at_ms <= $1::bigint AND status IS NOT NULL"
    " LIMIT $2::bigint)";

// Stored responses (migration 0005).
inline constexpr const char* kInsertStoredResponse =
    "INSERT INTO stored_responses (id, user_id, body, history, created_at)"
    " VALUES ($1::text, $2::bigint, $3::text, $4::text, chatgate_now())";
inline constexpr const char* kInsertStoredResponseItem =
    "INSERT INTO stored_response_items (id, response_id, user_id, message)"
    " VALUES ($1::text, $2::text, $3::bigint, $4::text) ON CONFLICT DO NOTHING";
inline constexpr const char* kFindStoredResponse =
    "SELECT body, history FROM stored_responses WHERE id = $1::text AND user_id = $2::bigint";
inline constexpr const char* kFindStoredResponseItem =
    "SELECT message FROM stored_response_items WHERE id = $1::text AND user_id = $2::bigint";
inline constexpr const char* kDeleteStoredResponseItems =
    "DELETE FROM stored_response_items WHERE response_id = $1::text AND user_id = $2::bigint";
inline constexpr const char* kDeleteStoredResponse =
    "DELETE FROM stored_responses WHERE id = $1::text AND user_id = $2::bigint RETURNING id";

// Chat reservations and conversations (migration 0003).
inline constexpr const char* kInsertReservation =
    "INSERT INTO chat_reservations (user_id, amount, charge_entry_id, balance_after, created_at,"
    " api_key_id, model, node) VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint,"
    " chatgate_now(), $5::bigint, $6::text, $7::text) RETURNING id";
/// The exactly-once guard: only an open reservation is closed, and the caller learns whether
/// this statement was the one that closed it.
inline constexpr const char* kCloseReservation =
    "UPDATE chat_reservations SET cost = least(greatest($2::bigint, 0), amount),"
    " settled_at = chatgate_now(), prompt_tokens = $3::bigint, completion_tokens = $4::bigint"
    " WHERE id = $1::bigint AND cost IS NULL"
    " RETURNING user_id, amount, cost, coalesce(charge_entry_id, 0), balance_after,"
    " coalesce(api_key_id, 0)";
inline constexpr const char* kOpenReservations =
    "SELECT id FROM chat_reservations WHERE cost IS NULL AND (node IS NULL OR node = $1::text)"
    " ORDER BY id";

// Node leases (migration 0007).
// Shared rate limits (migration 0008): GCRA, one statement per check. The conditional upsert
// takes a request when the TAT leaves room (a refusal updates nothing and returns no row from
// `taken`); the second branch then reports the TAT as found.
inline constexpr const char* kTakeRate =
    "WITH taken AS (INSERT INTO rate_limit_state AS s (key, tat_ns)"
    " VALUES ($1::text, $2::bigint + $3::bigint) ON CONFLICT (key) DO UPDATE"
    " SET tat_ns = GREATEST(s.tat_ns, $2::bigint) + $3::bigint"
    " WHERE GREATEST(s.tat_ns, $2::bigint) + $3::bigint - $2::bigint <= $4::bigint"
    " RETURNING tat_ns)"
    " SELECT 1, tat_ns FROM taken UNION ALL SELECT 0, tat_ns FROM rate_limit_state"
    " WHERE key = $1::text AND NOT EXISTS (SELECT 1 FROM taken)";
inline constexpr const char* kGiveBackRate =
    "UPDATE rate_limit_state SET tat_ns = tat_ns - $2::bigint WHERE key = $1::text";
inline constexpr const char* kPurgeRates =
    "DELETE FROM rate_limit_state WHERE key IN (SELECT key FROM rate_limit_state"
    " WHERE tat_ns < $1::bigint LIMIT $2::bigint)";

inline constexpr const char* kRenewLease =
    "INSERT INTO node_leases (node, expires_at_ms) VALUES ($1::text, $2::bigint)"
    " ON CONFLICT (node) DO UPDATE SET expires_at_ms = excluded.expires_at_ms";
inline constexpr const char* kOrphanedReservations =
    "SELECT r.id FROM chat_reservations r WHERE r.cost IS NULL AND r.node IS NOT NULL"
    " AND r.node <> $1::text AND NOT EXISTS (SELECT 1 FROM node_leases l"
    " WHERE l.node = r.node AND l.expires_at_ms >= $2::bigint) ORDER BY r.id LIMIT $3::bigint";

inline constexpr const char* kInsertConversation =
    "INSERT INTO conversations (user_id, title, model, created_at, updated_at)"
    " VALUES ($1::bigint, substr($2::text, 1, 80), $3::text, chatgate_now(), chatgate_now())"
    " RETURNING id";
inline constexpr const char* kTouchConversation =
    "UPDATE conversations SET updated_at = chatgate_now()"
    " WHERE id = $1::bigint AND user_id = $2::bigint RETURNING id";
inline constexpr const char* kInsertExchange =
    "INSERT INTO chat_messages (user_id, message, response, cost, charge_entry_id, created_at,"
    " conversation_id, model, finish_reason) VALUES ($1::bigint, $2::text, $3::text,"
    " $4::bigint, $5::bigint, chatgate_now(), $6::bigint, $7::text, $8::text)";
inline constexpr const char* kOwnsConversation =
    "SELECT 1 FROM conversations WHERE id = $1::bigint AND user_id = $2::bigint";
inline constexpr const char* kConversationContext =
    "SELECT message, response FROM chat_messages WHERE conversation_id = $1::bigint"
    " ORDER BY id DESC LIMIT $2::bigint";
inline constexpr const char* kCountConversations =
    "SELECT count(*) FROM conversations WHERE user_id = $1::bigint";
inline constexpr const char* kListConversations =
    "SELECT c.id, c.title, c.model,"
    " (SELECT count(*) FROM chat_messages m WHERE m.conversation_id = c.id),"
    " c.created_at, c.updated_at FROM conversations c WHERE c.user_id = $1::bigint"
    " ORDER BY c.updated_at DESC, c.id DESC LIMIT $2::bigint OFFSET $3::bigint";
inline constexpr const char* kFindConversation =
    "SELECT c.id, c.title, c.model,"
    " (SELECT count(*) FROM chat_messages m WHERE m.conversation_id = c.id),"
    " c.created_at, c.updated_at FROM conversations c"
    " WHERE c.id = $1::bigint AND c.user_id = $2::bigint";
inline constexpr const char* kConversationMessages =
    "SELECT id, message, response, coalesce(model, ''), coalesce(finish_reason, ''), cost,"
    " created_at FROM (SELECT * FROM chat_messages WHERE conversation_id = $1::bigint"
    " ORDER BY id DESC LIMIT $2::bigint) AS newest ORDER BY id";
inline constexpr const char* kDeleteConversationMessages =
    "DELETE FROM chat_messages WHERE conversation_id ="
    " (SELECT id FROM conversations WHERE id = $1::bigint AND user_id = $2::bigint)";
inline constexpr const char* kDeleteConversation =
    "DELETE FROM conversations WHERE id = $1::bigint AND user_id = $2::bigint RETURNING id";

// API keys (migration 0004).
inline constexpr const char* kCountLiveKeys =
    "SELECT count(*) FROM api_keys WHERE user_id = $1::bigint AND revoked_at IS NULL";
inline constexpr const char* kInsertApiKey =
    "INSERT INTO api_keys (user_id, public_id, secret_hash, name, models, token_limit,"
    " expires_at, created_at) VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text,"
    " $6::bigint, $7::bigint, chatgate_now()) RETURNING id";
inline constexpr const char* kListApiKeys =
    "SELECT id, public_id, name, models, token_limit, spent, created_at, expires_at,"
    " last_used_at, revoked_at FROM api_keys WHERE user_id = $1::bigint"
    " ORDER BY id DESC LIMIT 1000";
inline constexpr const char* kFindApiKeyInfo =
    "SELECT id, public_id, name, models, token_limit, spent, created_at, expires_at,"
    " last_used_at, revoked_at FROM api_keys WHERE user_id = $1::bigint AND id = $2::bigint";
inline constexpr const char* kRevokeApiKey =
    "UPDATE api_keys SET revoked_at = chatgate_now()"
    " WHERE id = $2::bigint AND user_id = $1::bigint AND revoked_at IS NULL RETURNING id";
inline constexpr const char* kFindApiKey =
    "SELECT k.id, k.user_id, k.secret_hash, k.models, k.expires_at,"
    " (k.revoked_at IS NOT NULL)::int, u.is_active FROM api_keys k"
    " JOIN users u ON u.id = k.user_id WHERE k.public_id = $1::text";
inline constexpr const char* kTouchApiKey =
    "UPDATE api_keys SET last_used_at = chatgate_now() WHERE id = $1::bigint";
inline constexpr const char* kReserveOnKey =
    "UPDATE api_keys SET spent = spent + $2::bigint WHERE id = $1::bigint"
    " AND revoked_at IS NULL AND (token_limit IS NULL OR spent + $2::bigint <= token_limit)"
    " RETURNING spent";
inline constexpr const char* kRefundOnKey =
    "UPDATE api_keys SET spent = spent - $2::bigint WHERE id = $1::bigint";

// The admin API and the command line (migration 0004).
inline constexpr const char* kStaffRole =
    "SELECT is_staff, is_superuser, username FROM users WHERE id = $1::bigint";
inline constexpr const char* kExportUserLedger =
    "SELECT l.id, l.delta, l.balance_after, l.kind, l.reference, l.created_at, l.user_id,"
    " u.username FROM ledger l JOIN users u ON u.id = l.user_id"
    " WHERE l.user_id = $1::bigint AND l.id > $2::bigint AND l.created_at >= $3::text"
    " AND l.created_at < ($4::date + 1)::text ORDER BY l.id LIMIT $5::bigint";
inline constexpr const char* kExportAllLedger =
    "SELECT l.id, l.delta, l.balance_after, l.kind, l.reference, l.created_at, l.user_id,"
    " u.username FROM ledger l JOIN users u ON u.id = l.user_id"
    " WHERE l.id > $2::bigint AND l.created_at >= $3::text"
    " AND l.created_at < ($4::date + 1)::text AND $1::bigint IS NULL"
    " ORDER BY l.id LIMIT $5::bigint";
/// $1 a LIKE pattern ('' for everyone), $2/$3 the is_active/is_staff filters (NULL: either),
/// $4 the sort column by name, $5 1 for descending; the sort keys are bound, never spliced.
#define CHATGATE_USER_FILTER                                       \
    " WHERE ($1::text = '' OR username LIKE $1::text ESCAPE '\\')" \
    " AND ($2::bigint IS NULL OR is_active = $2::bigint)"          \
    " AND ($3::bigint IS NULL OR is_staff = $3::bigint)"
inline constexpr const char* kCountUsers = "SELECT count(*) FROM users" CHATGATE_USER_FILTER;
inline constexpr const char* kListUsers =
    "SELECT id, username, tokens, is_active, is_staff, is_superuser, date_joined FROM "
    "users" CHATGATE_USER_FILTER
    " ORDER BY"
    " CASE WHEN $5::bigint = 0 THEN CASE $4::text WHEN 'username' THEN username"
    " WHEN 'date_joined' THEN date_joined END END ASC,"
    " CASE WHEN $5::bigint = 1 THEN CASE $4::text WHEN 'username' THEN username"
    " WHEN 'date_joined' THEN date_joined END END DESC,"
    " CASE WHEN $5::bigint = 0 AND $4::text = 'tokens' THEN tokens END ASC,"
    " CASE WHEN $5::bigint = 1 AND $4::text = 'tokens' THEN tokens END DESC,"
    " CASE WHEN $5::bigint = 0 THEN id END ASC, CASE WHEN $5::bigint = 1 THEN id END DESC"
    " LIMIT $6::bigint OFFSET $7::bigint";
#undef CHATGATE_USER_FILTER
inline constexpr const char* kFindUserRow =
    "SELECT id, username, tokens, is_active, is_staff, is_superuser, date_joined FROM users"
    " WHERE id = $1::bigint";
inline constexpr const char* kFindUserRowByName =
    "SELECT id, username, tokens, is_active, is_staff, is_superuser, date_joined FROM users"
    " WHERE username = $1::text";
inline constexpr const char* kListSessions =
    "SELECT id, created_at, last_used_at, revoked_at, revoke_reason FROM sessions"
    " WHERE user_id = $1::bigint ORDER BY last_used_at DESC, id DESC LIMIT $2::bigint";
inline constexpr const char* kSpendPerModel =
    "SELECT coalesce(model, 'unknown'), count(*), coalesce(sum(prompt_tokens), 0),"
    " coalesce(sum(completion_tokens), 0), sum(cost) FROM chat_reservations"
    " WHERE user_id = $1::bigint AND cost IS NOT NULL GROUP BY 1 ORDER BY 5 DESC, 1 LIMIT 1000";
inline constexpr const char* kUsageByDay =
    "SELECT substr(settled_at, 1, 10), coalesce(model, 'unknown'), count(*),"
    " coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), sum(cost)"
    " FROM chat_reservations WHERE cost IS NOT NULL AND settled_at >= $1::text"
    " AND settled_at < ($2::date + 1)::text GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $3::bigint";
inline constexpr const char* kTopSpenders =
    "SELECT r.user_id, u.username, r.requests, r.charged FROM"
    " (SELECT user_id, count(*) AS requests, sum(cost) AS charged FROM chat_reservations"
    "  WHERE cost IS NOT NULL AND settled_at >= $1::text AND settled_at < ($2::date + 1)::text"
    "  GROUP BY user_id ORDER BY charged DESC, user_id LIMIT $3::bigint) r"
    " JOIN users u ON u.id = r.user_id ORDER BY r.charged DESC, r.user_id";
inline constexpr const char* kSetActive =
    "UPDATE users SET is_active = $2::bigint WHERE id = $1::bigint RETURNING id";
inline constexpr const char* kSetStaff =
    "UPDATE users SET is_staff = $2::bigint WHERE id = $1::bigint RETURNING id";
inline constexpr const char* kBumpEpoch =
    "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1::bigint RETURNING id";
inline constexpr const char* kAdminRevokeSessions =
    "UPDATE sessions SET revoked_at = extract(epoch FROM clock_timestamp())::bigint,"
    " revoke_reason = 'admin' WHERE user_id = $1::bigint AND revoked_at IS NULL";
inline constexpr const char* kRevokeUserKeys =
    "UPDATE api_keys SET revoked_at = chatgate_now()"
    " WHERE user_id = $1::bigint AND revoked_at IS NULL";
inline constexpr const char* kSetPassword =
    "UPDATE users SET password_hash = $2::text, session_epoch = session_epoch + 1"
    " WHERE id = $1::bigint RETURNING id";
inline constexpr const char* kInsertAudit =
    "INSERT INTO audit_log (created_at, actor_user_id, actor, action, target_user_id, before,"
    " after, reason, request_id) VALUES (chatgate_now(), $1::bigint, $2::text, $3::text,"
    " $4::bigint, $5::text, $6::text, $7::text, $8::text)";
#define CHATGATE_AUDIT_FILTER                                   \
    " WHERE ($1::bigint IS NULL OR actor_user_id = $1::bigint)" \
    " AND ($2::bigint IS NULL OR target_user_id = $2::bigint)"  \
    " AND ($3::text IS NULL OR action = $3::text)"
inline constexpr const char* kCountAudit = "SELECT count(*) FROM audit_log" CHATGATE_AUDIT_FILTER;
inline constexpr const char* kListAudit =
    "SELECT id, created_at, actor_user_id, actor, action, target_user_id, before, after, reason,"
    " request_id FROM audit_log" CHATGATE_AUDIT_FILTER
    " ORDER BY id DESC LIMIT $4::bigint OFFSET $5::bigint";
#undef CHATGATE_AUDIT_FILTER

// Redemption codes and payments (migration 0006).
inline constexpr const char* kInsertCodeBatch =
    "INSERT INTO code_batches (tokens, max_uses, expires_at, created_by, created_at)"
    " VALUES ($1::bigint, $2::bigint, $3::bigint, $4::text, chatgate_now()) RETURNING id";
inline constexpr const char* kInsertCode =
    "INSERT INTO redemption_codes (batch_id, code_hash, tokens, max_uses, expires_at)"
    " VALUES ($1::bigint, $2::text, $3::bigint, $4::bigint, $5::bigint)";
inline constexpr const char* kCountCodeBatches = "SELECT count(*) FROM code_batches";
inline constexpr const char* kListCodeBatches =
    "SELECT b.id, b.tokens, b.max_uses, b.expires_at, b.created_by, b.created_at,"
    " count(c.id), coalesce(sum(c.uses), 0), count(c.revoked_at)"
    " FROM code_batches b LEFT JOIN redemption_codes c ON c.batch_id = b.id"
    " GROUP BY b.id ORDER BY b.id DESC LIMIT $1::bigint OFFSET $2::bigint";
inline constexpr const char* kFindCodeBatch = "SELECT id FROM code_batches WHERE id = $1::bigint";
/// Codes with uses left; $3 narrows it to one code (NULL: the whole batch).
inline constexpr const char* kRevokeCodes =
    "UPDATE redemption_codes SET revoked_at = $2::bigint WHERE batch_id = $1::bigint"
    " AND revoked_at IS NULL AND uses < max_uses AND ($3::text IS NULL OR code_hash = $3::text)";
/// The claim in one statement: a racing claim waits for the row lock and re-checks the WHERE
/// on the committed row, so of any number of redemptions only `max_uses` find it.
inline constexpr const char* kClaimCode =
    "UPDATE redemption_codes SET uses = uses + 1 WHERE code_hash = $1::text AND uses < max_uses"
    " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2::bigint)"
    " RETURNING id, tokens";
/// A second claim by the same user waits on the primary key, then inserts nothing.
inline constexpr const char* kInsertRedemption =
    "INSERT INTO code_redemptions (code_id, user_id, ledger_id, created_at)"
    " VALUES ($1::bigint, $2::bigint, $3::bigint, chatgate_now())"
    " ON CONFLICT DO NOTHING RETURNING code_id";
inline constexpr const char* kFindRedemption =
    "SELECT 1 FROM code_redemptions WHERE code_id = $1::bigint AND user_id = $2::bigint";

inline constexpr const char* kInsertCheckout =
    "INSERT INTO payment_checkouts (session_id, user_id, price_id, tokens, state, created_at)"
    " VALUES ($1::text, $2::bigint, $3::text, $4::bigint, 'open', chatgate_now())";
/// An open checkout moves to credited once, whichever event (or replay) gets there first.
inline constexpr const char* kCreditCheckout =
    "UPDATE payment_checkouts SET state = 'credited' WHERE session_id = $1::text"
    " AND state = 'open' RETURNING user_id, tokens";
inline constexpr const char* kFindCheckoutUser =
    "SELECT user_id FROM payment_checkouts WHERE session_id = $1::text";
/// The event's id is the webhook's idempotency: a replay inserts nothing and changes nothing
/// (a concurrent one waits for the first's commit on the primary key).
inline constexpr const char* kInsertEvent =
    "INSERT INTO payment_events (event_id, type, received_at)"
    " VALUES ($1::text, $2::text, chatgate_now()) ON CONFLICT DO NOTHING RETURNING event_id";
/// No row back: the payment was credited before (a failed statement would end the
/// transaction in PostgreSQL, so the conflict is asked for instead of caught).
inline constexpr const char* kInsertPaymentCredit =
    "INSERT INTO payment_credits (payment_intent, user_id, session_id, amount, tokens)"
    " VALUES ($1::text, $2::bigint, $3::text, $4::bigint, $5::bigint)"
    " ON CONFLICT DO NOTHING RETURNING payment_intent";
/// Locked: two refunds of one payment (on two nodes) take turns, each reading the other's count.
inline constexpr const char* kFindPaymentCredit =
    "SELECT user_id, amount, tokens, tokens_refunded FROM payment_credits"
    " WHERE payment_intent = $1::text FOR UPDATE";
/// The balance a refund splits into a deduction and a debt, locked until the refund commits
/// (every debt change holds its user's row, so the debt is read under the same lock).
inline constexpr const char* kLockAccount =
    "SELECT id, tokens, is_active FROM users WHERE id = $1::bigint FOR UPDATE";
/// Moves the refunded count from what was read ($2) to the new cumulative count ($3).
inline constexpr const char* kMarkRefunded =
    "UPDATE payment_credits SET tokens_refunded = $3::bigint"
    " WHERE payment_intent = $1::text AND tokens_refunded = $2::bigint RETURNING payment_intent";
inline constexpr const char* kFindDebt = "SELECT tokens FROM user_debts WHERE user_id = $1::bigint";
inline constexpr const char* kAddDebt =
    "INSERT INTO user_debts (user_id, tokens) VALUES ($1::bigint, $2::bigint)"
    " ON CONFLICT (user_id) DO UPDATE SET tokens = user_debts.tokens + excluded.tokens";
/// Pays off $2 tokens of debt, only if that much is owed.
inline constexpr const char* kPayDebt =
    "UPDATE user_debts SET tokens = tokens - $2::bigint"
    " WHERE user_id = $1::bigint AND tokens >= $2::bigint RETURNING tokens";

}  // namespace chatgate::storage::pg::sql

#include "storage/postgresql/pg_store.hpp"

#include "assets/assets.hpp"
#include "storage/postgresql/connection.hpp"
#include "storage/postgresql/statements.hpp"
#include "storage/postgresql/store_scopes.hpp"

#include <array>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

namespace chatgate::storage::pg {
namespace {

struct Migration {
    std::int64_t version;
    const char* asset;
};

// The same versions as the SQLite store's, applied in order at start-up; a released migration
// is never edited, only followed.
constexpr std::array kMigrations{
    Migration{1, "migrations/postgresql/0001_init.sql"},
    Migration{2, "migrations/postgresql/0002_sessions.sql"},
    Migration{3, "migrations/postgresql/0003_conversations.sql"},
    Migration{4, "migrations/postgresql/0004_operators.sql"},
    Migration{5, "migrations/postgresql/0005_responses.sql"},
    Migration{6, "migrations/postgresql/0006_payments.sql"},
    Migration{7, "migrations/postgresql/0007_node_leases.sql"},
    Migration{8, "migrations/postgresql/0008_shared_rate_limits.sql"},
};

// A batch that lost a deadlock to another node runs again this many times in all, after a
// pause of a few milliseconds (the writer thread waits; a deadlock costs far more).
constexpr int kBatchAttempts = 5;
constexpr int kMinRetryPauseUs = 1000;
constexpr int kMaxRetryPauseUs = 20000;

}  // namespace

domain::LedgerKind parse_kind(const std::string& text) {
    if (auto kind = domain::ledger_kind_from(text)) return *kind;
    throw DatabaseError("unknown ledger kind in the database: " + text, "XX000");
}

PgStore::PgStore(PgSettings settings)
    : settings_(std::move(settings)),
      writer_(std::make_unique<Connection>(settings_.url, settings_.password)) {
    migrate();
}

PgStore::~PgStore() = default;

PgStore::Reader PgStore::read() {
    std::unique_ptr<Connection> conn;
    {
        std::lock_guard lock(readers_mutex_);
        if (!idle_readers_.empty()) {
            conn = std::move(idle_readers_.back());
            idle_readers_.pop_back();
        }
    }
    if (conn) {
        Reader reader(*this, std::move(conn));
        reader->ensure();
        return reader;
    }
    return Reader(*this, std::make_unique<Connection>(settings_.url, settings_.password, false));
}

void PgStore::migrate() {
    // Several nodes may start at once: each version is applied in its own transaction under a
    // transaction-scoped advisory lock, so one node applies it and the others then see it done.
    std::lock_guard lock(writer_mutex_);
    for (const auto& migration : kMigrations) {
        writer_->exec(sql::kBegin);
        try {
            writer_->run(sql::kMigrationLock);
            writer_->exec(sql::kCreateVersionTable);
            // Versions are checked one by one, not against the highest: branches reserve
            // numbers, so a lower version may arrive after a higher one was applied.
            if (writer_->run(sql::kVersionApplied, {migration.version}).empty()) {
                std::string text(assets::find(migration.asset));
                writer_->exec(text.c_str());
                writer_->run(sql::kRecordVersion, {migration.version});
            }
            writer_->exec(sql::kCommit);
        } catch (...) {
            try {
                writer_->exec(sql::kRollback);
            } catch (const std::exception&) {
                // The connection is gone; so is the transaction.
            }
            throw;
        }
    }
}

std::int64_t PgStore::schema_version() {
    auto db = read();
    auto rows = db->run(sql::kCurrentVersion);
    return rows.empty() ? 0 : rows.int64(0, 0);
}

void PgStore::begin_batch() {
    writer_mutex_.lock();
    try {
        writer_->ensure();
        writer_->exec(sql::kBegin);
    } catch (...) {
        writer_mutex_.unlock();
        throw;
    }
    writer_->clear_conflict();
    batch_thread_ = std::this_thread::get_id();
}

void PgStore::commit_batch() {
    // An operation lost a deadlock: the batch runs again from the start (see batch_retryable).
    if (writer_->conflicted()) throw WriteConflict();
    // The connection was lost: every caller of the batch must hear that it failed.
    if (!writer_->in_transaction()) throw StorageUnavailable();
    writer_->exec(sql::kCommit);  // on failure the caller calls rollback_batch
    batch_thread_ = std::thread::id{};
    writer_mutex_.unlock();
}

void PgStore::rollback_batch() noexcept {
    try {
        if (writer_->in_transaction()) writer_->exec(sql::kRollback);
    } catch (const std::exception&) {
        // The connection is gone; so is the transaction.
    }
    writer_->clear_conflict();
    batch_thread_ = std::thread::id{};
    writer_mutex_.unlock();
}

int PgStore::batch_attempts() const noexcept {
    return kBatchAttempts;
}

bool PgStore::batch_retryable(const std::exception_ptr& failure) const noexcept {
    try {
        std::rethrow_exception(failure);
    } catch (const WriteConflict&) {
        // A short random pause first, so that the two transactions do not meet again at once.
        thread_local std::minstd_rand random(std::random_device{}());
        std::uniform_int_distribution<int> pause_us(kMinRetryPauseUs, kMaxRetryPauseUs);
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us(random)));
        return true;
    } catch (...) {
        return false;
    }
}

Result<UserId> PgStore::create_user(const domain::NewUser& user) {
    WriteScope tx(*this);
    auto inserted =
        tx.run(sql::kInsertUser, {user.username, user.password_hash, user.signup_grant,
                                  std::int64_t{user.is_staff}, std::int64_t{user.is_superuser}});
    if (inserted.empty()) return Error{ErrorCode::already_exists, "username taken", {}};
    UserId id = inserted.int64(0, 0);
    if (user.signup_grant > 0) {
        tx.run(sql::kInsertLedger,
               {id, user.signup_grant, user.signup_grant,
                domain::to_string(domain::LedgerKind::signup_grant), std::nullopt});
    }
    tx.commit();
    return id;
}

std::optional<domain::Credentials> PgStore::find_credentials(std::string_view username) {
    auto db = read();
    auto rows = db->run(sql::kFindCredentials, {username});
    if (rows.empty()) return std::nullopt;
    return domain::Credentials{rows.int64(0, 0), rows.text(0, 1), rows.int64(0, 2) != 0};
}

std::optional<domain::Account> PgStore::find_account(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kFindAccount, {user});
    if (rows.empty()) return std::nullopt;
    return domain::Account{rows.int64(0, 0), rows.int64(0, 1), rows.int64(0, 2) != 0};
}

domain::ChangeResult PgStore::change_balance(const domain::BalanceChange& change) {
    WriteScope tx(*this);
    auto result = apply_balance_change(change);
    if (result.status == domain::ChangeStatus::applied) tx.commit();
    return result;
}

domain::ChangeResult PgStore::apply_balance_change(const domain::BalanceChange& change) {
    using domain::ChangeStatus;
    Connection& db = *writer_;
    auto updated = db.run(sql::kApplyChange, {change.user, change.delta,
                                              std::int64_t{change.require_active}, change.cap});
    if (updated.empty()) {
        // Nothing changed; find out why for the caller (same transaction).
        auto account = db.run(sql::kFindAccount, {change.user});
        if (account.empty()) return {ChangeStatus::no_user, 0, 0};
        if (change.require_active && account.int64(0, 2) == 0) {
            return {ChangeStatus::inactive, 0, 0};
        }
        TokenAmount current = account.int64(0, 1);
        return {current + change.delta < 0 ? ChangeStatus::insufficient : ChangeStatus::over_cap,
                current, 0};
    }
    TokenAmount balance = updated.int64(0, 0);
    auto ledger = db.run(sql::kInsertLedger, {change.user, change.delta, balance,
                                              domain::to_string(change.kind), change.reference});
    return {ChangeStatus::applied, balance, ledger.int64(0, 0)};
}

std::int64_t PgStore::count_ledger(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kCountLedger, {user});
    return rows.empty() ? 0 : rows.int64(0, 0);
}

std::vector<domain::LedgerEntry> PgStore::list_ledger(UserId user, std::int64_t offset,
                                                      std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kListLedger, {user, limit, offset});
    std::vector<domain::LedgerEntry> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({rows.int64(r, 0), rows.int64(r, 1), rows.int64(r, 2),
                       parse_kind(rows.text(r, 3)), rows.optional_text(r, 4), rows.text(r, 5)});
    }
    return out;
}

TokenAmount PgStore::ledger_sum(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kLedgerSum, {user});
    return rows.empty() ? 0 : rows.int64(0, 0);
}

bool PgStore::ping() {
    try {
        auto db = read();
        auto rows = db->run(sql::kPing);
        return !rows.empty() && rows.int64(0, 0) == 1;
    } catch (const StorageUnavailable&) {
        return false;
    }
}

// ---- password changes and sessions ---------------------------------------------------------

std::optional<domain::Login> PgStore::find_login(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kFindLogin, {user});
    if (rows.empty()) return std::nullopt;
    return domain::Login{rows.int64(0, 0), rows.text(0, 1), rows.text(0, 2), rows.int64(0, 3) != 0};
}

bool PgStore::replace_password(UserId user, const std::string& current_hash,
                               const std::string& new_hash) {
    WriteScope tx(*this);
    if (tx.run(sql::kReplacePassword, {user, current_hash, new_hash}).empty()) return false;
    tx.run(sql::kRevokeUserSessions, {user});
    tx.commit();
    return true;
}

bool PgStore::rehash_password(UserId user, const std::string& current_hash,
                              const std::string& new_hash) {
    WriteScope tx(*this);
    bool changed = !tx.run(sql::kRehashPassword, {user, current_hash, new_hash}).empty();
    tx.commit();
    return changed;
}

domain::StartResult PgStore::start_session(UserId user, std::int64_t now,
                                           std::int64_t purge_before) {
    using domain::StartStatus;
    WriteScope tx(*this);
    auto account = tx.run(sql::kSessionUser, {user});
    if (account.empty()) return {StartStatus::no_user, {}};
    if (account.int64(0, 0) == 0) return {StartStatus::inactive, {}};
    std::int64_t epoch = account.int64(0, 1);
    tx.run(sql::kPurgeSessions, {user, purge_before});
    auto inserted = tx.run(sql::kInsertSession, {user, now});
    domain::SessionId id = inserted.int64(0, 0);
    tx.commit();
    return {StartStatus::started, {id, 0, epoch}};
}

domain::RotateResult PgStore::rotate_session(const domain::RotateRequest& request) {
    using domain::RotateStatus;
    WriteScope tx(*this);
    auto rotated = tx.run(sql::kRotateSession, {request.user, request.session, request.generation,
                                                request.epoch, request.now});
    if (!rotated.empty()) {
        domain::SessionGrant grant{request.session, rotated.int64(0, 0), request.epoch};
        tx.commit();
        return {RotateStatus::rotated, grant};
    }
    // Refused: find out why (same transaction).
    auto state = tx.run(sql::kSessionState, {request.user, request.session});
    if (state.empty() || state.int64(0, 0) == 0) return {RotateStatus::no_account, {}};
    if (state.int64(0, 2) == 0) return {RotateStatus::unknown, {}};
    if (state.int64(0, 4) != 0 || state.int64(0, 1) != request.epoch) {
        return {RotateStatus::revoked, {}};
    }
    // A live family at another generation: this refresh token was used before. Whoever holds
    // it, the family can no longer be trusted.
    tx.run(sql::kRevokeSession, {request.user, request.session, request.now, "reuse"});
    tx.commit();
    return {RotateStatus::reused, {}};
}

void PgStore::revoke_session(UserId user, domain::SessionId session, std::int64_t now) {
    WriteScope tx(*this);
    tx.run(sql::kRevokeSession, {user, session, now, "logout"});
    tx.commit();
}

std::optional<domain::AccessState> PgStore::access_state(UserId user, domain::SessionId session) {
    auto db = read();
    auto rows = db->run(sql::kAccessState, {user, session});
    if (rows.empty()) return std::nullopt;
    return domain::AccessState{rows.int64(0, 0) != 0, rows.int64(0, 1), rows.int64(0, 2) != 0};
}

// ---- idempotency keys ------------------------------------------------------------------------

std::optional<domain::IdempotencyRecord> PgStore::claim_idempotency_key(
    const domain::IdempotencyClaim& claim) {
    WriteScope tx(*this);
    tx.run(sql::kDropStaleIdempotencyKey, {claim.user, claim.key, claim.now_ms, claim.owner});
    auto inserted = tx.run(
        sql::kInsertIdempotencyKey,
        {claim.user, claim.key, claim.fingerprint, claim.owner, claim.now_ms, claim.expires_at_ms});
    if (!inserted.empty()) {
        tx.commit();
        return std::nullopt;
    }
    auto found = tx.run(sql::kFindIdempotencyKey, {claim.user, claim.key});
    if (found.empty()) {
        // Inserted by another node and gone again between the two statements: tell the caller
        // to try later rather than guess.
        throw WriteConflict();
    }
    domain::IdempotencyRecord record{found.text(0, 0), found.text(0, 1), std::nullopt,
                                     found.int64(0, 5)};
    if (!found.null(0, 2)) {
        record.answer = domain::StoredAnswer{static_cast<int>(found.int64(0, 2)), found.text(0, 3),
                                             found.text(0, 4)};
    }
    tx.commit();
    return record;
}

void PgStore::complete_idempotency_key(UserId user, const std::string& key,
                                       const std::string& owner, const domain::StoredAnswer& answer,
                                       std::int64_t expires_at_ms) {
    WriteScope tx(*this);
    tx.run(sql::kCompleteIdempotencyKey, {user, key, owner, std::int64_t{answer.status},
                                          answer.content_type, answer.body, expires_at_ms});
    tx.commit();
}

void PgStore::release_idempotency_key(UserId user, const std::string& key,
                                      const std::string& owner) {
    WriteScope tx(*this);
    tx.run(sql::kReleaseIdempotencyKey, {user, key, owner});
    tx.commit();
}

std::int64_t PgStore::release_abandoned_idempotency_keys(const std::string& owner,
                                                         const std::string& node,
                                                         std::int64_t now_ms) {
    WriteScope tx(*this);
    std::int64_t released =
        tx.run(sql::kReleaseAbandonedIdempotencyKeys, {owner, node, now_ms}).affected();
    tx.commit();
    return released;
}

std::int64_t PgStore::purge_idempotency_keys(std::int64_t now_ms, std::int64_t limit) {
    WriteScope tx(*this);
    std::int64_t purged = tx.run(sql::kPurgeIdempotencyKeys, {now_ms, limit}).affected();
    tx.commit();
    return purged;
}

}  // namespace chatgate::storage::pg

#include "storage/sqlite/sqlite_store.hpp"

#include "assets/assets.hpp"
#include "storage/sqlite/checkpointer.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/statements.hpp"
#include "storage/sqlite/store_scopes.hpp"

#include <sqlite3.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <sys/statvfs.h>
#include <utility>

namespace chatgate::storage {
namespace {

struct Migration {
    std::int64_t version;
    const char* asset;
};

// Applied in order at start-up; a released migration is never edited, only followed.
constexpr std::array kMigrations{
    Migration{1, "migrations/sqlite/0001_init.sql"},
    Migration{2, "migrations/sqlite/0002_sessions.sql"},
    Migration{3, "migrations/sqlite/0003_conversations.sql"},
    Migration{4, "migrations/sqlite/0004_operators.sql"},
    Migration{5, "migrations/sqlite/0005_responses.sql"},
    Migration{6, "migrations/sqlite/0006_payments.sql"},
    Migration{7, "migrations/sqlite/0007_node_leases.sql"},
    Migration{8, "migrations/sqlite/0008_shared_rate_limits.sql"},
};

// SQLite's own automatic checkpoint threshold; the checkpoint now runs off the writer's thread.
constexpr std::int64_t kCheckpointPages = 1000;

}  // namespace

domain::LedgerKind parse_kind(const std::string& text) {
    if (auto kind = domain::ledger_kind_from(text)) return *kind;
    throw StorageError("unknown ledger kind in the database: " + text, SQLITE_CORRUPT);
}

SqliteStore::SqliteStore(std::string path)
    : path_(std::move(path)),
      in_memory_(path_ == ":memory:"),
      writer_(std::make_unique<Connection>(path_, Connection::Mode::read_write)) {
    migrate();
    if (!in_memory_) {
        checkpointer_ = std::make_unique<Checkpointer>(path_, kCheckpointPages);
        writer_->on_wal_commit(
            [this](std::int64_t pages) { return checkpointer_->committed(pages); });
    }
}

SqliteStore::~SqliteStore() = default;

SqliteStore::Reader SqliteStore::read() {
    if (in_memory_) return Reader(*this, nullptr);
    std::unique_ptr<Connection> conn;
    {
        std::lock_guard lock(readers_mutex_);
        if (!idle_readers_.empty()) {
            conn = std::move(idle_readers_.back());
            idle_readers_.pop_back();
        }
    }
    if (!conn) conn = std::make_unique<Connection>(path_, Connection::Mode::read_only);
    return Reader(*this, std::move(conn));
}

void SqliteStore::migrate() {
    {
        std::lock_guard lock(writer_mutex_);
        writer_->exec(sql::kCreateVersionTable);
        // Off for the migrations (it cannot change inside a transaction), as SQLite's procedure
        // for rebuilding a table asks; the references are checked before the COMMIT instead.
        writer_->exec(sql::kForeignKeysOff);
    }
    try {
        apply_migrations();
    } catch (...) {
        std::lock_guard lock(writer_mutex_);
        writer_->exec(sql::kForeignKeysOn);
        throw;
    }
    std::lock_guard lock(writer_mutex_);
    writer_->exec(sql::kForeignKeysOn);
}

void SqliteStore::apply_migrations() {
    WriteScope tx(*this);
    for (const auto& migration : kMigrations) {
        // Versions are checked one by one, not against the highest: branches reserve numbers,
        // so a lower version may arrive after a higher one was applied.
        auto applied = writer_->prepare(sql::kVersionApplied);
        if (applied.bind(1, migration.version).step()) continue;
        std::string text(assets::find(migration.asset));
        writer_->exec(text.c_str());
        writer_->prepare(sql::kRecordVersion).bind(1, migration.version).run();
    }
    if (writer_->prepare(sql::kForeignKeyCheck).step()) {
        throw StorageError("a migration left a dangling reference", SQLITE_CONSTRAINT);
    }
    tx.commit();
}

std::int64_t SqliteStore::schema_version() {
    auto db = read();
    auto stmt = db->prepare(sql::kCurrentVersion);
    return stmt.step() ? stmt.int64(0) : 0;
}

void SqliteStore::begin_batch() {
    writer_mutex_.lock();
    try {
        writer_->exec(sql::kBegin);
    } catch (...) {
        writer_mutex_.unlock();
        throw;
    }
    batch_thread_ = std::this_thread::get_id();
}

void SqliteStore::commit_batch() {
    // If SQLite rolled the batch back on its own, earlier operations of the batch are gone too:
    // every caller of the batch must hear that it failed.
    if (!writer_->in_transaction()) throw StorageError(kBatchLost, SQLITE_ABORT);
    writer_->exec(sql::kCommit);  // on failure the caller calls rollback_batch
    batch_thread_ = std::thread::id{};
    writer_mutex_.unlock();
}

void SqliteStore::rollback_batch() noexcept {
    try {
        writer_->exec(sql::kRollback);
    } catch (const StorageError&) {
        // A failed COMMIT may already have rolled back; the transaction is over either way.
    }
    batch_thread_ = std::thread::id{};
    writer_mutex_.unlock();
}

Result<UserId> SqliteStore::create_user(const domain::NewUser& user) {
    WriteScope tx(*this);
    UserId id = 0;
    {
        auto insert = writer_->prepare(sql::kInsertUser);
        insert.bind(1, user.username)
            .bind(2, user.password_hash)
            .bind(3, user.signup_grant)
            .bind(4, std::int64_t{user.is_staff})
            .bind(5, std::int64_t{user.is_superuser});
        bool inserted = insert.step();
        if (!inserted) {
            if (insert.extended_error() == SQLITE_CONSTRAINT_UNIQUE) {
                return Error{ErrorCode::already_exists, "username taken", {}};
            }
            throw StorageError("user insert failed", insert.extended_error());
        }
        id = insert.int64(0);
    }
    if (user.signup_grant > 0) {
        auto ledger = writer_->prepare(sql::kInsertLedger);
        ledger.bind(1, id)
            .bind(2, user.signup_grant)
            .bind(3, user.signup_grant)
            .bind(4, domain::to_string(domain::LedgerKind::signup_grant))
            .bind(5, std::optional<std::string>{})
            .run();
        if (ledger.constraint_failed()) {
            throw StorageError("sign-up ledger row refused", ledger.extended_error());
        }
    }
    tx.commit();
    return id;
}

std::optional<domain::Credentials> SqliteStore::find_credentials(std::string_view username) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindCredentials);
    stmt.bind(1, username);
    if (!stmt.step()) return std::nullopt;
    return domain::Credentials{stmt.int64(0), stmt.text(1), stmt.int64(2) != 0};
}

std::optional<domain::Account> SqliteStore::find_account(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindAccount);
    stmt.bind(1, user);
    if (!stmt.step()) return std::nullopt;
    return domain::Account{stmt.int64(0), stmt.int64(1), stmt.int64(2) != 0};
}

domain::ChangeResult SqliteStore::change_balance(const domain::BalanceChange& change) {
    WriteScope tx(*this);
    auto result = apply_balance_change(change);
    if (result.status == domain::ChangeStatus::applied) tx.commit();
    return result;
}

domain::ChangeResult SqliteStore::apply_balance_change(const domain::BalanceChange& change) {
    using domain::ChangeStatus;
    TokenAmount balance = 0;
    bool applied = false;
    {
        auto update = writer_->prepare(sql::kApplyChange);
        update.bind(1, change.user)
            .bind(2, change.delta)
            .bind(3, std::int64_t{change.require_active})
            .bind(4, change.cap);
        applied = update.step();
        if (update.constraint_failed()) {
            throw StorageError("balance update violated a constraint", update.extended_error());
        }
        if (applied) balance = update.int64(0);
    }
    if (!applied) {
        // Nothing changed; find out why for the caller (same transaction, same snapshot).
        auto account = writer_->prepare(sql::kFindAccount);
        account.bind(1, change.user);
        if (!account.step()) return {ChangeStatus::no_user, 0, 0};
        if (change.require_active && account.int64(2) == 0) return {ChangeStatus::inactive, 0, 0};
        TokenAmount current = account.int64(1);
        return {current + change.delta < 0 ? ChangeStatus::insufficient : ChangeStatus::over_cap,
                current, 0};
    }
    LedgerEntryId entry = 0;
    {
        auto ledger = writer_->prepare(sql::kInsertLedger);
        ledger.bind(1, change.user)
            .bind(2, change.delta)
            .bind(3, balance)
            .bind(4, domain::to_string(change.kind))
            .bind(5, change.reference);
        if (!ledger.step()) throw StorageError("ledger row refused", ledger.extended_error());
        entry = ledger.int64(0);
    }
    return {ChangeStatus::applied, balance, entry};
}

std::int64_t SqliteStore::count_ledger(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kCountLedger);
    stmt.bind(1, user);
    return stmt.step() ? stmt.int64(0) : 0;
}

std::vector<domain::LedgerEntry> SqliteStore::list_ledger(UserId user, std::int64_t offset,
                                                          std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kListLedger);
    stmt.bind(1, user).bind(2, limit).bind(3, offset);
    std::vector<domain::LedgerEntry> out;
    while (stmt.step()) {
        out.push_back({stmt.int64(0), stmt.int64(1), stmt.int64(2), parse_kind(stmt.text(3)),
                       stmt.optional_text(4), stmt.text(5)});
    }
    return out;
}

TokenAmount SqliteStore::ledger_sum(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kLedgerSum);
    stmt.bind(1, user);
    return stmt.step() ? stmt.int64(0) : 0;
}

bool SqliteStore::ping() {
    if (!room_to_write()) return false;
    auto db = read();
    auto stmt = db->prepare(sql::kPing);
    return stmt.step() && stmt.int64(0) == 1;
}

bool SqliteStore::room_to_write() const {
    if (in_memory_) return true;
    // Not ready while writes fail for want of space: a write refused that recently, or less
    // free space than a busy minute of writes needs. Both pass by themselves once space returns.
    constexpr auto kFullFor = std::chrono::seconds(5);
    constexpr std::uint64_t kMinFreeBytes = 1024 * 1024;
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    auto full_at = std::chrono::nanoseconds(last_storage_full_ns());
    if (full_at.count() != 0 && now - full_at < kFullFor) return false;
    struct statvfs fs {};
    auto dir = std::filesystem::path(path_).parent_path();
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &fs) != 0) return true;  // cannot tell
    return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize >= kMinFreeBytes;
}

// ---- password changes and sessions ---------------------------------------------------------

std::optional<domain::Login> SqliteStore::find_login(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindLogin);
    stmt.bind(1, user);
    if (!stmt.step()) return std::nullopt;
    return domain::Login{stmt.int64(0), stmt.text(1), stmt.text(2), stmt.int64(3) != 0};
}

bool SqliteStore::replace_password(UserId user, const std::string& current_hash,
                                   const std::string& new_hash) {
    WriteScope tx(*this);
    {
        auto update = writer_->prepare(sql::kReplacePassword);
        update.bind(1, user).bind(2, current_hash).bind(3, new_hash);
        if (!update.step()) return false;
    }
    writer_->prepare(sql::kRevokeUserSessions).bind(1, user).run();
    tx.commit();
    return true;
}

bool SqliteStore::rehash_password(UserId user, const std::string& current_hash,
                                  const std::string& new_hash) {
    WriteScope tx(*this);
    bool changed = false;
    {
        auto update = writer_->prepare(sql::kRehashPassword);
        update.bind(1, user).bind(2, current_hash).bind(3, new_hash);
        changed = update.step();
    }
    tx.commit();
    return changed;
}

domain::StartResult SqliteStore::start_session(UserId user, std::int64_t now,
                                               std::int64_t purge_before) {
    using domain::StartStatus;
    WriteScope tx(*this);
    std::int64_t epoch = 0;
    {
        auto account = writer_->prepare(sql::kSessionUser);
        account.bind(1, user);
        if (!account.step()) return {StartStatus::no_user, {}};
        if (account.int64(0) == 0) return {StartStatus::inactive, {}};
        epoch = account.int64(1);
    }
    writer_->prepare(sql::kPurgeSessions).bind(1, user).bind(2, purge_before).run();
    domain::SessionId id = 0;
    {
        auto insert = writer_->prepare(sql::kInsertSession);
        insert.bind(1, user).bind(2, now);
        if (!insert.step()) throw StorageError("session insert refused", insert.extended_error());
        id = insert.int64(0);
    }
    tx.commit();
    return {StartStatus::started, {id, 0, epoch}};
}

domain::RotateResult SqliteStore::rotate_session(const domain::RotateRequest& request) {
    using domain::RotateStatus;
    WriteScope tx(*this);
    {
        auto rotate = writer_->prepare(sql::kRotateSession);
        rotate.bind(1, request.user)
            .bind(2, request.session)
            .bind(3, request.generation)
            .bind(4, request.epoch)
            .bind(5, request.now);
        if (rotate.step()) {
            domain::SessionGrant grant{request.session, rotate.int64(0), request.epoch};
            rotate.run();
            tx.commit();
            return {RotateStatus::rotated, grant};
        }
    }
    // Refused: find out why (same transaction, same snapshot).
    auto state = writer_->prepare(sql::kSessionState);
    state.bind(1, request.user).bind(2, request.session);
    if (!state.step() || state.int64(0) == 0) return {RotateStatus::no_account, {}};
    bool exists = state.int64(2) != 0;
    if (!exists) return {RotateStatus::unknown, {}};
    if (state.int64(4) != 0 || state.int64(1) != request.epoch) {
        return {RotateStatus::revoked, {}};
    }
    // A live family at another generation: this refresh token was used before. Whoever holds
    // it, the family can no longer be trusted.
    writer_->prepare(sql::kRevokeSession)
        .bind(1, request.user)
        .bind(2, request.session)
        .bind(3, request.now)
        .bind(4, std::string_view("reuse"))
        .run();
    tx.commit();
    return {RotateStatus::reused, {}};
}

void SqliteStore::revoke_session(UserId user, domain::SessionId session, std::int64_t now) {
    WriteScope tx(*this);
    writer_->prepare(sql::kRevokeSession)
        .bind(1, user)
        .bind(2, session)
        .bind(3, now)
        .bind(4, std::string_view("logout"))
        .run();
    tx.commit();
}

std::optional<domain::AccessState> SqliteStore::access_state(UserId user,
                                                             domain::SessionId session) {
    auto db = read();
    auto stmt = db->prepare(sql::kAccessState);
    stmt.bind(1, user).bind(2, session);
    if (!stmt.step()) return std::nullopt;
    return domain::AccessState{stmt.int64(0) != 0, stmt.int64(1), stmt.int64(2) != 0};
}

// ---- idempotency keys ------------------------------------------------------------------------

std::optional<domain::IdempotencyRecord> SqliteStore::claim_idempotency_key(
    const domain::IdempotencyClaim& claim) {
    WriteScope tx(*this);
    writer_->prepare(sql::kDropStaleIdempotencyKey)
        .bind(1, claim.user)
        .bind(2, claim.key)
        .bind(3, claim.now_ms)
        .bind(4, claim.owner)
        .run();
    {
        auto insert = writer_->prepare(sql::kInsertIdempotencyKey);
        insert.bind(1, claim.user)
            .bind(2, claim.key)
            .bind(3, claim.fingerprint)
            .bind(4, claim.owner)
            .bind(5, claim.now_ms)
            .bind(6, claim.expires_at_ms);
        bool inserted = insert.step();
        if (insert.constraint_failed()) {
            throw StorageError("idempotency key insert refused", insert.extended_error());
        }
        if (inserted) {
            insert.run();
            tx.commit();
            return std::nullopt;
        }
    }
    auto find = writer_->prepare(sql::kFindIdempotencyKey);
    find.bind(1, claim.user).bind(2, claim.key);
    if (!find.step()) throw StorageError("idempotency key vanished inside a transaction", 0);
    domain::IdempotencyRecord record{find.text(0), find.text(1), std::nullopt, find.int64(5)};
    if (find.optional_text(2)) {
        record.answer =
            domain::StoredAnswer{static_cast<int>(find.int64(2)), find.text(3), find.text(4)};
    }
    tx.commit();
    return record;
}

void SqliteStore::complete_idempotency_key(UserId user, const std::string& key,
                                           const std::string& owner,
                                           const domain::StoredAnswer& answer,
                                           std::int64_t expires_at_ms) {
    WriteScope tx(*this);
    writer_->prepare(sql::kCompleteIdempotencyKey)
        .bind(1, user)
        .bind(2, key)
        .bind(3, owner)
        .bind(4, std::int64_t{answer.status})
        .bind(5, answer.content_type)
        .bind(6, answer.body)
        .bind(7, expires_at_ms)
        .run();
    tx.commit();
}

void SqliteStore::release_idempotency_key(UserId user, const std::string& key,
                                          const std::string& owner) {
    WriteScope tx(*this);
    writer_->prepare(sql::kReleaseIdempotencyKey).bind(1, user).bind(2, key).bind(3, owner).run();
    tx.commit();
}

std::int64_t SqliteStore::release_abandoned_idempotency_keys(const std::string& owner,
                                                             const std::string& node,
                                                             std::int64_t now_ms) {
    WriteScope tx(*this);
    writer_->prepare(sql::kReleaseAbandonedIdempotencyKeys)
        .bind(1, owner)
        .bind(2, node)
        .bind(3, now_ms)
        .run();
    std::int64_t released = writer_->changes();
    tx.commit();
    return released;
}

std::int64_t SqliteStore::purge_idempotency_keys(std::int64_t now_ms, std::int64_t limit) {
    WriteScope tx(*this);
    writer_->prepare(sql::kPurgeIdempotencyKeys).bind(1, now_ms).bind(2, limit).run();
    std::int64_t purged = writer_->changes();
    tx.commit();
    return purged;
}

}  // namespace chatgate::storage

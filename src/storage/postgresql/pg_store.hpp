#pragma once

#include "storage/database.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace chatgate::storage::pg {

class Connection;

/// Where the PostgreSQL store connects: a libpq URL (`postgresql://user@host:port/db`,
/// `postgresql:///db?host=/socket/dir`) and the password, when it is not in the URL.
struct PgSettings {
    std::string url;
    std::optional<std::string> password;
};

/// The domain's Store on PostgreSQL, shared by any number of chatgate nodes. Writes go through
/// one writer connection under a mutex (the writer thread's group commit: one transaction per
/// batch, a savepoint per operation, as in the SQLite store); reads use a pool of connections,
/// one per reading thread. Every balance change is one conditional UPDATE plus its ledger row
/// in one transaction, so the guarantees hold across connections and nodes. A lost connection
/// fails its operations with StorageUnavailable (503) and reconnects at its next use.
/// Thread-safe.
class PgStore final : public Database, public guards::SharedRateStore {
public:
    /// Connects and applies pending migrations (one node at a time). DatabaseError if the
    /// database cannot be reached.
    explicit PgStore(PgSettings settings);
    ~PgStore() override;

    // storage::Database
    std::int64_t schema_version() override;
    void begin_batch() override;
    void commit_batch() override;
    void rollback_batch() noexcept override;
    int batch_attempts() const noexcept override;
    bool batch_retryable(const std::exception_ptr& failure) const noexcept override;
    guards::SharedRateStore* shared_rates() noexcept override { return this; }

    // guards::SharedRateStore, in rate_store.cpp.
    Taken take_rate(std::string_view key, std::int64_t now_ns, std::int64_t interval_ns,
                    std::int64_t tolerance_ns) override;
    void give_back_rate(std::string_view key, std::int64_t interval_ns) override;
    std::int64_t purge_rates(std::int64_t now_ns, std::int64_t limit) override;

    Result<UserId> create_user(const domain::NewUser& user) override;
    std::optional<domain::Credentials> find_credentials(std::string_view username) override;
    std::optional<domain::Account> find_account(UserId user) override;
    domain::ChangeResult change_balance(const domain::BalanceChange& change) override;
    std::int64_t count_ledger(UserId user) override;
    std::vector<domain::LedgerEntry> list_ledger(UserId user, std::int64_t offset,
                                                 std::int64_t limit) override;
    TokenAmount ledger_sum(UserId user) override;
    /// The database answers a query: false while it is unreachable (reconnecting by itself).
    bool ping() override;
    std::optional<domain::Login> find_login(UserId user) override;
    bool rehash_password(UserId user, const std::string& current_hash,
                         const std::string& new_hash) override;
    bool replace_password(UserId user, const std::string& current_hash,
                          const std::string& new_hash) override;

    // domain::SessionStore
    domain::StartResult start_session(UserId user, std::int64_t now,
                                      std::int64_t purge_before) override;
    domain::RotateResult rotate_session(const domain::RotateRequest& request) override;
    void revoke_session(UserId user, domain::SessionId session, std::int64_t now) override;
    std::optional<domain::AccessState> access_state(UserId user,
                                                    domain::SessionId session) override;

    // domain::IdempotencyStore
    std::optional<domain::IdempotencyRecord> claim_idempotency_key(
        const domain::IdempotencyClaim& claim) override;
    void complete_idempotency_key(UserId user, const std::string& key, const std::string& owner,
                                  const domain::StoredAnswer& answer,
                                  std::int64_t expires_at_ms) override;
    void release_idempotency_key(UserId user, const std::string& key,
                                 const std::string& owner) override;
    std::int64_t release_abandoned_idempotency_keys(const std::string& owner,
                                                    const std::string& node,
                                                    std::int64_t now_ms) override;
    std::int64_t purge_idempotency_keys(std::int64_t now_ms, std::int64_t limit) override;

    // domain::ChatStore, in chat_store.cpp.
    domain::Reservation reserve(const domain::ReservationRequest& request) override;
    domain::Settlement settle(const domain::SettlementRequest& request) override;
    std::vector<domain::ReservationId> open_reservations(const std::string& node) override;
    void renew_lease(const std::string& node, std::int64_t expires_at_ms) override;
    std::vector<domain::ReservationId> orphaned_reservations(const std::string& node,
                                                             std::int64_t now_ms,
                                                             std::int64_t limit) override;
    std::optional<std::vector<domain::ChatTurn>> conversation_context(
        UserId user, domain::ConversationId conversation, std::int64_t budget_chars,
        std::int64_t max_exchanges) override;
    std::int64_t count_conversations(UserId user) override;
    std::vector<domain::ConversationSummary> list_conversations(UserId user, std::int64_t offset,
                                                                std::int64_t limit) override;
    std::optional<domain::ConversationSummary> find_conversation(
        UserId user, domain::ConversationId conversation) override;
    std::vector<domain::StoredExchange> conversation_messages(domain::ConversationId conversation,
                                                              std::int64_t limit) override;
    bool delete_conversation(UserId user, domain::ConversationId conversation) override;

    // ResponseStore (response_store.cpp)
    void save_response(const domain::StoredResponse& response) override;
    std::optional<domain::StoredResponse> find_response(UserId user, std::string_view id) override;
    std::optional<std::string> find_response_item(UserId user, std::string_view id) override;
    bool delete_response(UserId user, std::string_view id) override;
    // domain::ApiKeyStore, in key_store.cpp.
    Result<domain::ApiKeyId> create_api_key(const domain::NewApiKey& key,
                                            std::int64_t max_keys) override;
    std::vector<domain::ApiKeyInfo> list_api_keys(UserId user) override;
    std::optional<domain::ApiKeyInfo> find_api_key_info(UserId user, domain::ApiKeyId key) override;
    bool revoke_api_key(UserId user, domain::ApiKeyId key) override;
    std::optional<domain::KeyRecord> find_api_key(std::string_view public_id) override;
    void touch_api_key(domain::ApiKeyId key) override;

    // domain::AdminStore, in admin_store.cpp.
    domain::StaffRole staff_role(UserId user) override;
    std::int64_t count_users(const domain::UserQuery& query) override;
    std::vector<domain::UserRow> list_users(const domain::UserQuery& query) override;
    std::optional<domain::UserRow> find_user(UserId user) override;
    std::optional<domain::UserRow> find_user_by_name(std::string_view username) override;
    std::vector<domain::SessionRow> list_sessions(UserId user, std::int64_t limit) override;
    std::vector<domain::UsageRow> spend_per_model(UserId user) override;
    std::vector<domain::UsageRow> usage_by_day(const domain::DayRange& range,
                                               std::int64_t limit) override;
    std::vector<domain::SpenderRow> top_spenders(const domain::DayRange& range,
                                                 std::int64_t limit) override;
    std::vector<domain::LedgerExportRow> export_ledger(
        const domain::LedgerExportQuery& query) override;
    domain::ChangeResult admin_change_balance(const domain::BalanceChange& change,
                                              domain::AuditEntry audit) override;
    bool set_active(UserId user, bool active, domain::AuditEntry audit) override;
    bool set_staff(UserId user, bool staff, domain::AuditEntry audit) override;
    std::optional<domain::RevokeCounts> revoke_all(UserId user, domain::AuditEntry audit) override;
    bool set_password(UserId user, const std::string& hash, domain::AuditEntry audit) override;
    void append_audit(const domain::AuditEntry& audit) override;
    std::int64_t count_audit(const domain::AuditQuery& query) override;
    std::vector<domain::AuditRecord> list_audit(const domain::AuditQuery& query) override;

    // domain::PaymentStore, in payment_store.cpp.
    domain::CodeBatchId create_code_batch(const domain::NewCodeBatch& batch,
                                          domain::AuditEntry audit) override;
    std::int64_t count_code_batches() override;
    std::vector<domain::CodeBatchRow> list_code_batches(std::int64_t offset,
                                                        std::int64_t limit) override;
    std::optional<std::int64_t> revoke_codes(domain::CodeBatchId batch,
                                             const std::optional<std::string>& code_digest,
                                             std::int64_t now, domain::AuditEntry audit) override;
    domain::Redemption redeem_code(const domain::CodeClaim& claim) override;
    void save_checkout(const domain::NewCheckout& checkout) override;
    domain::EventResult credit_checkout(const domain::PaidCheckout& paid) override;
    domain::EventResult refund_charge(const domain::RefundedCharge& refund) override;
    bool record_event(const std::string& event_id, const std::string& type) override;
    TokenAmount debt(UserId user) override;

private:
    class Reader;
    class WriteScope;
    Reader read();
    bool in_batch() const noexcept { return batch_thread_.load() == std::this_thread::get_id(); }
    void migrate();
    void insert_audit(const domain::AuditEntry& audit);
    domain::ChangeResult apply_balance_change(const domain::BalanceChange& change);
    /// A paid credit inside the caller's write scope: the credit's ledger row, then the part
    /// that pays off the user's debt as its own row. Writes nothing unless applied.
    domain::ChangeResult apply_paid_credit(const domain::BalanceChange& credit);
    bool insert_event(const std::string& event_id, const std::string& type);
    TokenAmount debt_in_transaction(UserId user);

    PgSettings settings_;
    std::mutex writer_mutex_;
    std::atomic<std::thread::id> batch_thread_{};
    std::unique_ptr<Connection> writer_;
    std::mutex readers_mutex_;
    std::vector<std::unique_ptr<Connection>> idle_readers_;
};

}  // namespace chatgate::storage::pg

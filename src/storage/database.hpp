#pragma once

#include "domain/accounts/session_store.hpp"
#include "domain/admin/admin_store.hpp"
#include "domain/chat/chat_store.hpp"
#include "domain/chat/response_store.hpp"
#include "domain/idempotency/idempotency_store.hpp"
#include "domain/keys/api_key_store.hpp"
#include "domain/payments/payment_store.hpp"
#include "domain/store.hpp"
#include "guards/shared_rate_store.hpp"

#include <cstdint>
#include <exception>

namespace chatgate::storage {

/// What the composition root needs of a store: every port the domain has, the group commit of
/// the single writer thread, and the schema version. SqliteStore and PgStore are the two.
class Database : public domain::Store,
                 public domain::ChatStore,
                 public domain::SessionStore,
                 public domain::IdempotencyStore,
                 public domain::ResponseStore,
                 public domain::ApiKeyStore,
                 public domain::AdminStore,
                 public domain::PaymentStore {
public:
    ~Database() override = default;

    /// Where rate limits shared by every node on this store are counted; nothing when the
    /// store serves one process (SQLite), whose in-process limiter is the whole count.
    virtual guards::SharedRateStore* shared_rates() noexcept { return nullptr; }

    /// Highest migration applied.
    virtual std::int64_t schema_version() = 0;

    /// Group commit, for the single database-writer thread (see WorkPool's BatchHooks): writes
    /// made by this thread between `begin_batch` and `commit_batch` share one transaction, each
    /// inside its own savepoint, so one failed operation never undoes another. `rollback_batch`
    /// never throws.
    virtual void begin_batch() = 0;
    virtual void commit_batch() = 0;
    virtual void rollback_batch() noexcept = 0;
    /// How many times in all the writer runs a batch whose failure is `batch_retryable`.
    virtual int batch_attempts() const noexcept { return 1; }
    /// True when a batch that failed this way may succeed if run again from the start (a
    /// deadlock with another node's transaction, say).
    virtual bool batch_retryable(const std::exception_ptr& failure) const noexcept {
        (void)failure;
        return false;
    }
};

}  // namespace chatgate::storage

#pragma once

#include "core/ids.hpp"
#include "domain/admin/admin_store.hpp"
#include "domain/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chatgate::domain {

using CodeBatchId = std::int64_t;

/// A batch of redemption codes to store: only the codes' digests.
struct NewCodeBatch {
    TokenAmount tokens = 0;
    std::int64_t max_uses = 1;
    std::optional<std::int64_t> expires_at;  ///< unix seconds
    std::vector<std::string> code_digests;
    std::string created_by;  ///< the actor's name
};

struct CodeBatchRow {
    CodeBatchId id = 0;
    TokenAmount tokens = 0;
    std::int64_t max_uses = 1;
    std::optional<std::int64_t> expires_at;
    std::string created_by;
    std::string created_at;
    std::int64_t codes = 0;
    std::int64_t uses = 0;     ///< redemptions over all its codes
    std::int64_t revoked = 0;  ///< codes revoked
};

/// A user's claim of one code, credited in the claim's transaction.
struct CodeClaim {
    UserId user = 0;
    std::string code_digest;
    std::int64_t now = 0;  ///< unix seconds, for the expiry
    TokenAmount cap = INT64_MAX;
};

/// `refused`: no such code, used up, expired, revoked, or already redeemed by this user: one
/// answer for all. `not_credited`: the claim held but the balance change was refused (cap).
enum class RedeemStatus { credited, refused, not_credited };

struct Redemption {
    RedeemStatus status = RedeemStatus::refused;
    TokenAmount balance = 0;
};

/// A checkout created at the payment provider for one user.
struct NewCheckout {
    std::string session_id;
    UserId user = 0;
    std::string price_id;
    TokenAmount tokens = 0;
};

/// A `checkout.session.completed` event with payment_status "paid".
struct PaidCheckout {
    std::string event_id;
    std::string session_id;
    std::optional<UserId> claimed_user;  ///< client_reference_id / metadata, cross-checked
    std::string payment_intent;          ///< empty: the session id stands in for it
    std::int64_t amount = 0;             ///< amount_total, in the currency's minor unit
};

/// A `charge.refunded` event: `amount_refunded` is cumulative, as the provider sends it.
struct RefundedCharge {
    std::string event_id;
    std::string payment_intent;
    std::int64_t amount_refunded = 0;
};

/// `duplicate`: the event was processed before (nothing moved). `ignored`: recorded, nothing to
/// do (an unknown or already credited session, a user mismatch, nothing left to refund).
/// `unknown_payment`: a refund of no payment chatgate credited (not recorded).
enum class EventOutcome { applied, duplicate, ignored, unknown_payment };

struct EventResult {
    EventOutcome outcome = EventOutcome::ignored;
    UserId user = 0;
    TokenAmount credited = 0;  ///< tokens added (a payment) or taken back (a refund)
    TokenAmount debt = 0;      ///< the user's debt afterwards
};

/// Persistence of redemption codes and payments. Every call that moves tokens does it in one
/// transaction with its claim (the code's use, the event row, the checkout's state), through the
/// store's one conditional balance UPDATE and its ledger row. Blocking and thread-safe.
class PaymentStore {
public:
    virtual ~PaymentStore() = default;

    /// The batch, its codes and the audit row (its id and count filled in), in one transaction.
    virtual CodeBatchId create_code_batch(const NewCodeBatch& batch, AuditEntry audit) = 0;
    virtual std::int64_t count_code_batches() = 0;
    /// Newest first.
    virtual std::vector<CodeBatchRow> list_code_batches(std::int64_t offset,
                                                        std::int64_t limit) = 0;
    /// Revokes the batch's codes with uses left (or only the one with `code_digest`) and writes
    /// the audit row. Nothing when there is no such batch.
    virtual std::optional<std::int64_t> revoke_codes(CodeBatchId batch,
                                                     const std::optional<std::string>& code_digest,
                                                     std::int64_t now, AuditEntry audit) = 0;
    virtual Redemption redeem_code(const CodeClaim& claim) = 0;

    virtual void save_checkout(const NewCheckout& checkout) = 0;
    virtual EventResult credit_checkout(const PaidCheckout& paid) = 0;
    virtual EventResult refund_charge(const RefundedCharge& refund) = 0;
    /// Records an event with nothing to do; false when it was recorded before.
    virtual bool record_event(const std::string& event_id, const std::string& type) = 0;
    virtual TokenAmount debt(UserId user) = 0;
};

}  // namespace chatgate::domain

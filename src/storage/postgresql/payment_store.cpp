// PgStore's domain::PaymentStore half: redemption codes, checkouts, webhook events, debt, as in
// the SQLite store. Each money operation is one write scope: its claim, the conditional balance
// UPDATE and the ledger rows commit together or not at all. Across nodes every claim is a
// conditional UPDATE or an INSERT ... ON CONFLICT DO NOTHING: a racing transaction waits for
// the row or key lock and then finds the claim taken.

#include "domain/payments/debt.hpp"
#include "storage/postgresql/pg_store.hpp"
#include "storage/postgresql/store_scopes.hpp"

namespace chatgate::storage::pg {
namespace {

using domain::ChangeStatus;
using domain::EventOutcome;
using domain::Facts;

}  // namespace

// The rows these operations read and then change in one transaction are held under their
// user's row lock, so a conditional write that finds nothing there is never expected: it fails
// as a WriteConflict (a 503 when it reaches a caller) and nothing of it is kept.

domain::CodeBatchId PgStore::create_code_batch(const domain::NewCodeBatch& batch,
                                               domain::AuditEntry audit) {
    WriteScope tx(*this);
    auto inserted = tx.run(sql::kInsertCodeBatch,
                           {batch.tokens, batch.max_uses, batch.expires_at, batch.created_by});
    domain::CodeBatchId id = inserted.int64(0, 0);
    for (const auto& digest : batch.code_digests) {
        tx.run(sql::kInsertCode, {id, digest, batch.tokens, batch.max_uses, batch.expires_at});
    }
    Facts after;
    after.add("batch_id", id)
        .add("codes", static_cast<std::int64_t>(batch.code_digests.size()))
        .add("tokens", batch.tokens)
        .add("max_uses", batch.max_uses);
    if (batch.expires_at) after.add("expires_at", *batch.expires_at);
    audit.after = after.json();
    insert_audit(audit);
    tx.commit();
    return id;
}

std::int64_t PgStore::count_code_batches() {
    auto db = read();
    auto rows = db->run(sql::kCountCodeBatches);
    return rows.empty() ? 0 : rows.int64(0, 0);
}

std::vector<domain::CodeBatchRow> PgStore::list_code_batches(std::int64_t offset,
                                                             std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kListCodeBatches, {limit, offset});
    std::vector<domain::CodeBatchRow> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({rows.int64(r, 0), rows.int64(r, 1), rows.int64(r, 2),
                       rows.optional_int(r, 3), rows.text(r, 4), rows.text(r, 5), rows.int64(r, 6),
                       rows.int64(r, 7), rows.int64(r, 8)});
    }
    return out;
}

std::optional<std::int64_t> PgStore::revoke_codes(domain::CodeBatchId batch,
                                                  const std::optional<std::string>& code_digest,
                                                  std::int64_t now, domain::AuditEntry audit) {
    WriteScope tx(*this);
    if (tx.run(sql::kFindCodeBatch, {batch}).empty()) return std::nullopt;
    std::int64_t revoked = tx.run(sql::kRevokeCodes, {batch, now, code_digest}).affected();
    audit.after = Facts()
                      .add("batch_id", batch)
                      .add_bool("one_code", code_digest.has_value())
                      .add("revoked", revoked)
                      .json();
    insert_audit(audit);
    tx.commit();
    return revoked;
}

domain::Redemption PgStore::redeem_code(const domain::CodeClaim& claim) {
    using domain::RedeemStatus;
    WriteScope tx(*this);
    auto claimed = tx.run(sql::kClaimCode, {claim.code_digest, claim.now});
    if (claimed.empty()) return {RedeemStatus::refused, 0};
    std::int64_t code = claimed.int64(0, 0);
    TokenAmount tokens = claimed.int64(0, 1);
    // Checked before the credit so that a second try by the same user writes nothing.
    if (!tx.run(sql::kFindRedemption, {code, claim.user}).empty()) {
        return {RedeemStatus::refused, 0};
    }
    domain::BalanceChange credit{
        claim.user, tokens, domain::LedgerKind::code_redeem, "code " + std::to_string(code),
        claim.cap,  true};
    auto result = apply_paid_credit(credit);
    if (result.status != ChangeStatus::applied) return {RedeemStatus::not_credited, 0};
    // Two racing claims by one user: the second waits here, inserts nothing and rolls back.
    if (tx.run(sql::kInsertRedemption, {code, claim.user, result.entry}).empty()) {
        return {RedeemStatus::refused, 0};
    }
    tx.commit();
    return {RedeemStatus::credited, result.balance};
}

domain::ChangeResult PgStore::apply_paid_credit(const domain::BalanceChange& credit) {
    auto result = apply_balance_change(credit);
    if (result.status != ChangeStatus::applied) return result;
    TokenAmount repay = domain::debt_repayment(debt_in_transaction(credit.user), credit.delta);
    if (repay == 0) return result;
    if (writer_->run(sql::kPayDebt, {credit.user, repay}).empty()) throw WriteConflict();
    domain::BalanceChange repayment{credit.user,
                                    -repay,
                                    domain::LedgerKind::debt_repayment,
                                    "debt paid from ledger " + std::to_string(result.entry),
                                    INT64_MAX,
                                    false};
    auto paid = apply_balance_change(repayment);
    if (paid.status != ChangeStatus::applied) throw WriteConflict();
    return paid;
}

TokenAmount PgStore::debt_in_transaction(UserId user) {
    auto rows = writer_->run(sql::kFindDebt, {user});
    return rows.empty() ? 0 : rows.int64(0, 0);
}

TokenAmount PgStore::debt(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kFindDebt, {user});
    return rows.empty() ? 0 : rows.int64(0, 0);
}

void PgStore::save_checkout(const domain::NewCheckout& checkout) {
    WriteScope tx(*this);
    tx.run(sql::kInsertCheckout,
           {checkout.session_id, checkout.user, checkout.price_id, checkout.tokens});
    tx.commit();
}

bool PgStore::insert_event(const std::string& event_id, const std::string& type) {
    return !writer_->run(sql::kInsertEvent, {event_id, type}).empty();
}

bool PgStore::record_event(const std::string& event_id, const std::string& type) {
    WriteScope tx(*this);
    if (!insert_event(event_id, type)) return false;
    tx.commit();
    return true;
}

domain::EventResult PgStore::credit_checkout(const domain::PaidCheckout& paid) {
    WriteScope tx(*this);
    if (!insert_event(paid.event_id, "checkout.session")) return {EventOutcome::duplicate};
    auto ignored = [&](UserId user) {
        tx.commit();  // the event stays recorded: a replay is a duplicate
        return domain::EventResult{EventOutcome::ignored, user};
    };
    // The user comes from the row chatgate stored; what the event claims must agree.
    auto owner = tx.run(sql::kFindCheckoutUser, {paid.session_id});
    if (owner.empty()) return ignored(0);
    if (paid.claimed_user && *paid.claimed_user != owner.int64(0, 0)) {
        return ignored(owner.int64(0, 0));
    }
    auto credited = tx.run(sql::kCreditCheckout, {paid.session_id});
    if (credited.empty()) return ignored(0);  // credited by an earlier event
    UserId user = credited.int64(0, 0);
    TokenAmount tokens = credited.int64(0, 1);
    std::string intent = paid.payment_intent.empty() ? paid.session_id : paid.payment_intent;
    if (tx.run(sql::kInsertPaymentCredit, {intent, user, paid.session_id, paid.amount, tokens})
            .empty()) {
        return {EventOutcome::ignored, user};  // that payment was credited: all rolled back
    }
    // Money was received: no balance cap refuses it, and a deactivated user is still credited.
    domain::BalanceChange credit{
        user, tokens, domain::LedgerKind::payment_credit, "payment " + intent, INT64_MAX, false};
    auto result = apply_paid_credit(credit);
    if (result.status != ChangeStatus::applied) return {EventOutcome::ignored, user};
    TokenAmount debt_after = debt_in_transaction(user);
    tx.commit();
    return {EventOutcome::applied, user, tokens, debt_after};
}

domain::EventResult PgStore::refund_charge(const domain::RefundedCharge& refund) {
    WriteScope tx(*this);
    auto found = tx.run(sql::kFindPaymentCredit, {refund.payment_intent});
    if (found.empty()) return {EventOutcome::unknown_payment};
    UserId user = found.int64(0, 0);
    std::int64_t amount = found.int64(0, 1);
    TokenAmount tokens = found.int64(0, 2);
    TokenAmount refunded_before = found.int64(0, 3);
    if (!insert_event(refund.event_id, "charge.refunded")) return {EventOutcome::duplicate};
    TokenAmount refunded = domain::refunded_tokens(tokens, amount, refund.amount_refunded);
    TokenAmount owed = refunded - refunded_before;
    if (owed <= 0) {
        tx.commit();
        return {EventOutcome::ignored, user};
    }
    if (tx.run(sql::kMarkRefunded, {refund.payment_intent, refunded_before, refunded}).empty()) {
        throw WriteConflict();
    }
    auto account = tx.run(sql::kLockAccount, {user});
    TokenAmount balance = account.empty() ? 0 : account.int64(0, 1);
    auto split = domain::split_refund(balance, owed);
    if (split.deducted > 0) {
        domain::BalanceChange deduct{user,
                                     -split.deducted,
                                     domain::LedgerKind::payment_refund,
                                     "refund of payment " + refund.payment_intent,
                                     INT64_MAX,
                                     false};
        if (apply_balance_change(deduct).status != ChangeStatus::applied) {
            throw WriteConflict();
        }
    }
    if (split.debt > 0) tx.run(sql::kAddDebt, {user, split.debt});
    TokenAmount debt_after = debt_in_transaction(user);
    tx.commit();
    return {EventOutcome::applied, user, split.deducted, debt_after};
}

}  // namespace chatgate::storage::pg

// SqliteStore's domain::PaymentStore half: redemption codes, checkouts, webhook events, debt.
// Each money operation is one write scope: its claim, the conditional balance UPDATE and the
// ledger rows commit together or not at all.

#include "domain/payments/debt.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/store_scopes.hpp"

namespace chatgate::storage {
namespace {

using domain::ChangeStatus;
using domain::EventOutcome;
using domain::Facts;

std::optional<std::int64_t> optional_int(Statement& stmt, int column) {
    if (!stmt.optional_text(column)) return std::nullopt;
    return stmt.int64(column);
}

}  // namespace

domain::CodeBatchId SqliteStore::create_code_batch(const domain::NewCodeBatch& batch,
                                                   domain::AuditEntry audit) {
    WriteScope tx(*this);
    domain::CodeBatchId id = 0;
    {
        auto insert = writer_->prepare(sql::kInsertCodeBatch);
        insert.bind(1, batch.tokens)
            .bind(2, batch.max_uses)
            .bind(3, batch.expires_at)
            .bind(4, batch.created_by);
        if (!insert.step()) throw StorageError("code batch refused", insert.extended_error());
        id = insert.int64(0);
    }
    for (const auto& digest : batch.code_digests) {
        auto insert = writer_->prepare(sql::kInsertCode);
        insert.bind(1, id)
            .bind(2, digest)
            .bind(3, batch.tokens)
            .bind(4, batch.max_uses)
            .bind(5, batch.expires_at);
        insert.run();
        if (insert.constraint_failed()) throw StorageError("code refused", insert.extended_error());
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

std::int64_t SqliteStore::count_code_batches() {
    auto db = read();
    auto stmt = db->prepare(sql::kCountCodeBatches);
    return stmt.step() ? stmt.int64(0) : 0;
}

std::vector<domain::CodeBatchRow> SqliteStore::list_code_batches(std::int64_t offset,
                                                                 std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kListCodeBatches);
    stmt.bind(1, limit).bind(2, offset);
    std::vector<domain::CodeBatchRow> out;
    while (stmt.step()) {
        out.push_back({stmt.int64(0), stmt.int64(1), stmt.int64(2), optional_int(stmt, 3),
                       stmt.text(4), stmt.text(5), stmt.int64(6), stmt.int64(7), stmt.int64(8)});
    }
    return out;
}

std::optional<std::int64_t> SqliteStore::revoke_codes(domain::CodeBatchId batch,
                                                      const std::optional<std::string>& code_digest,
                                                      std::int64_t now, domain::AuditEntry audit) {
    WriteScope tx(*this);
    {
        auto find = writer_->prepare(sql::kFindCodeBatch);
        find.bind(1, batch);
        if (!find.step()) return std::nullopt;
    }
    writer_->prepare(sql::kRevokeCodes).bind(1, batch).bind(2, now).bind(3, code_digest).run();
    std::int64_t revoked = writer_->changes();
    audit.after = Facts()
                      .add("batch_id", batch)
                      .add_bool("one_code", code_digest.has_value())
                      .add("revoked", revoked)
                      .json();
    insert_audit(audit);
    tx.commit();
    return revoked;
}

domain::Redemption SqliteStore::redeem_code(const domain::CodeClaim& claim) {
    using domain::RedeemStatus;
    WriteScope tx(*this);
    std::int64_t code = 0;
    TokenAmount tokens = 0;
    {
        auto claim_code = writer_->prepare(sql::kClaimCode);
        claim_code.bind(1, claim.code_digest).bind(2, claim.now);
        if (!claim_code.step()) return {RedeemStatus::refused, 0};
        code = claim_code.int64(0);
        tokens = claim_code.int64(1);
    }
    {
        // Checked before the credit so that a second try by the same user writes nothing.
        auto seen = writer_->prepare(sql::kFindRedemption);
        seen.bind(1, code).bind(2, claim.user);
        if (seen.step()) return {RedeemStatus::refused, 0};
    }
    domain::BalanceChange credit{
        claim.user, tokens, domain::LedgerKind::code_redeem, "code " + std::to_string(code),
        claim.cap,  true};
    auto result = apply_paid_credit(credit);
    if (result.status != ChangeStatus::applied) return {RedeemStatus::not_credited, 0};
    {
        auto insert = writer_->prepare(sql::kInsertRedemption);
        insert.bind(1, code).bind(2, claim.user).bind(3, result.entry);
        if (!insert.step()) return {RedeemStatus::refused, 0};  // rolled back with the credit
    }
    tx.commit();
    return {RedeemStatus::credited, result.balance};
}

domain::ChangeResult SqliteStore::apply_paid_credit(const domain::BalanceChange& credit) {
    auto result = apply_balance_change(credit);
    if (result.status != ChangeStatus::applied) return result;
    TokenAmount repay = domain::debt_repayment(debt_in_transaction(credit.user), credit.delta);
    if (repay == 0) return result;
    {
        auto pay = writer_->prepare(sql::kPayDebt);
        pay.bind(1, credit.user).bind(2, repay);
        if (!pay.step()) throw StorageError("debt changed inside its transaction", SQLITE_ABORT);
    }
    domain::BalanceChange repayment{credit.user,
                                    -repay,
                                    domain::LedgerKind::debt_repayment,
                                    "debt paid from ledger " + std::to_string(result.entry),
                                    INT64_MAX,
                                    false};
    auto paid = apply_balance_change(repayment);
    if (paid.status != ChangeStatus::applied) {
        throw StorageError("debt repayment refused after its credit", SQLITE_ABORT);
    }
    return paid;
}

TokenAmount SqliteStore::debt_in_transaction(UserId user) {
    auto stmt = writer_->prepare(sql::kFindDebt);
    stmt.bind(1, user);
    return stmt.step() ? stmt.int64(0) : 0;
}

TokenAmount SqliteStore::debt(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindDebt);
    stmt.bind(1, user);
    return stmt.step() ? stmt.int64(0) : 0;
}

void SqliteStore::save_checkout(const domain::NewCheckout& checkout) {
    WriteScope tx(*this);
    auto insert = writer_->prepare(sql::kInsertCheckout);
    insert.bind(1, checkout.session_id)
        .bind(2, checkout.user)
        .bind(3, checkout.price_id)
        .bind(4, checkout.tokens);
    insert.run();
    if (insert.constraint_failed())
        throw StorageError("checkout row refused", insert.extended_error());
    tx.commit();
}

bool SqliteStore::insert_event(const std::string& event_id, const std::string& type) {
    auto insert = writer_->prepare(sql::kInsertEvent);
    insert.bind(1, event_id).bind(2, type);
    return insert.step();
}

bool SqliteStore::record_event(const std::string& event_id, const std::string& type) {
    WriteScope tx(*this);
    if (!insert_event(event_id, type)) return false;
    tx.commit();
    return true;
}

domain::EventResult SqliteStore::credit_checkout(const domain::PaidCheckout& paid) {
    WriteScope tx(*this);
    if (!insert_event(paid.event_id, "checkout.session")) {
        return {EventOutcome::duplicate};
    }
    auto ignored = [&](UserId user) {
        tx.commit();  // the event stays recorded: a replay is a duplicate
        return domain::EventResult{EventOutcome::ignored, user};
    };
    {
        // The user comes from the row chatgate stored; what the event claims must agree.
        auto owner = writer_->prepare(sql::kFindCheckoutUser);
        owner.bind(1, paid.session_id);
        if (!owner.step()) return ignored(0);
        UserId user = owner.int64(0);
        if (paid.claimed_user && *paid.claimed_user != user) return ignored(user);
    }
    UserId user = 0;
    TokenAmount tokens = 0;
    {
        auto credit = writer_->prepare(sql::kCreditCheckout);
        credit.bind(1, paid.session_id);
        if (!credit.step()) return ignored(0);  // credited by an earlier event
        user = credit.int64(0);
        tokens = credit.int64(1);
    }
    std::string intent = paid.payment_intent.empty() ? paid.session_id : paid.payment_intent;
    {
        auto insert = writer_->prepare(sql::kInsertPaymentCredit);
        insert.bind(1, intent)
            .bind(2, user)
            .bind(3, paid.session_id)
            .bind(4, paid.amount)
            .bind(5, tokens);
        insert.run();
        if (insert.constraint_failed()) return {EventOutcome::ignored, user};  // all rolled back
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

domain::EventResult SqliteStore::refund_charge(const domain::RefundedCharge& refund) {
    WriteScope tx(*this);
    UserId user = 0;
    std::int64_t amount = 0;
    TokenAmount tokens = 0;
    TokenAmount refunded_before = 0;
    {
        auto find = writer_->prepare(sql::kFindPaymentCredit);
        find.bind(1, refund.payment_intent);
        if (!find.step()) return {EventOutcome::unknown_payment};
        user = find.int64(0);
        amount = find.int64(1);
        tokens = find.int64(2);
        refunded_before = find.int64(3);
    }
    if (!insert_event(refund.event_id, "charge.refunded")) return {EventOutcome::duplicate};
    TokenAmount refunded = domain::refunded_tokens(tokens, amount, refund.amount_refunded);
    TokenAmount owed = refunded - refunded_before;
    if (owed <= 0) {
        tx.commit();
        return {EventOutcome::ignored, user};
    }
    {
        auto mark = writer_->prepare(sql::kMarkRefunded);
        mark.bind(1, refund.payment_intent).bind(2, refunded_before).bind(3, refunded);
        if (!mark.step())
            throw StorageError("refund count changed in its transaction", SQLITE_ABORT);
    }
    TokenAmount balance = 0;
    {
        auto account = writer_->prepare(sql::kFindAccount);
        account.bind(1, user);
        if (account.step()) balance = account.int64(1);
    }
    auto split = domain::split_refund(balance, owed);
    if (split.deducted > 0) {
        domain::BalanceChange deduct{user,
                                     -split.deducted,
                                     domain::LedgerKind::payment_refund,
                                     "refund of payment " + refund.payment_intent,
                                     INT64_MAX,
                                     false};
        if (apply_balance_change(deduct).status != ChangeStatus::applied) {
            throw StorageError("refund deduction refused in its transaction", SQLITE_ABORT);
        }
    }
    if (split.debt > 0) writer_->prepare(sql::kAddDebt).bind(1, user).bind(2, split.debt).run();
    TokenAmount debt_after = debt_in_transaction(user);
    tx.commit();
    return {EventOutcome::applied, user, split.deducted, debt_after};
}

}  // namespace chatgate::storage

// PgStore's domain::ChatStore half: chat reservations and conversations.

#include "domain/accounts/credential_rules.hpp"
#include "storage/postgresql/pg_store.hpp"
#include "storage/postgresql/store_scopes.hpp"

#include <algorithm>

namespace chatgate::storage::pg {

using domain::ChangeStatus;

namespace {

std::optional<std::int64_t> nonzero(std::int64_t value) {
    return value != 0 ? std::optional<std::int64_t>(value) : std::nullopt;
}

domain::ConversationSummary read_summary(const Rows& rows, int r) {
    return {rows.int64(r, 0), rows.text(r, 1), rows.text(r, 2),
            rows.int64(r, 3), rows.text(r, 4), rows.text(r, 5)};
}

}  // namespace

domain::Reservation PgStore::reserve(const domain::ReservationRequest& request) {
    WriteScope tx(*this);
    std::optional<LedgerEntryId> charge_entry;
    TokenAmount balance = 0;
    if (request.api_key != 0) {
        // Nothing is committed unless the balance covers it too (the scope rolls back).
        if (tx.run(sql::kReserveOnKey, {request.api_key, request.amount}).empty()) {
            return {ChangeStatus::key_limit, 0, 0};
        }
    }
    if (request.amount == 0) {
        // Free models charge nothing, but the user must still be allowed to chat.
        auto account = tx.run(sql::kFindAccount, {request.user});
        if (account.empty()) return {ChangeStatus::no_user, 0, 0};
        if (account.int64(0, 2) == 0) return {ChangeStatus::inactive, 0, 0};
        balance = account.int64(0, 1);
    } else {
        domain::BalanceChange charge{
            request.user,       -request.amount, domain::LedgerKind::chat_charge,
            "chat reservation", INT64_MAX,       true};
        auto charged = apply_balance_change(charge);
        if (charged.status != ChangeStatus::applied) return {charged.status, 0, charged.balance};
        charge_entry = charged.entry;
        balance = charged.balance;
    }
    auto inserted =
        tx.run(sql::kInsertReservation,
               {request.user, request.amount, charge_entry, balance, nonzero(request.api_key),
                request.model, request.node.empty() ? std::optional<std::string>() : request.node});
    domain::ReservationId id = inserted.int64(0, 0);
    tx.commit();
    return {ChangeStatus::applied, id, balance};
}

domain::Settlement PgStore::settle(const domain::SettlementRequest& request) {
    WriteScope tx(*this);
    auto closed = tx.run(
        sql::kCloseReservation,
        {request.reservation, request.cost, request.prompt_tokens, request.completion_tokens});
    if (closed.empty()) return {};  // settled before: the guard that makes it exactly once
    UserId user = closed.int64(0, 0);
    TokenAmount amount = closed.int64(0, 1);
    TokenAmount cost = closed.int64(0, 2);
    std::optional<LedgerEntryId> charge_entry = nonzero(closed.int64(0, 3));
    std::int64_t api_key = closed.int64(0, 5);
    // Nothing to give back: the balance this exchange left is its charge's.
    domain::Settlement out{true, 0, closed.int64(0, 4), 0};
    out.cost = cost;
    if (amount > cost) {
        // The refund lands even if the user was deactivated meanwhile, and is never refused
        // for the balance cap: it only gives back what the reservation took.
        domain::BalanceChange refund{user,
                                     amount - cost,
                                     domain::LedgerKind::chat_refund,
                                     "settles chat charge " + std::to_string(*charge_entry),
                                     INT64_MAX,
                                     false};
        auto refunded = apply_balance_change(refund);
        if (refunded.status != ChangeStatus::applied) {
            throw DatabaseError("chat refund refused", "23514");
        }
        out.balance = refunded.balance;
        if (api_key != 0) tx.run(sql::kRefundOnKey, {api_key, amount - cost});
    }

    if (const auto& exchange = request.exchange) {
        std::optional<domain::ConversationId> conversation;
        if (exchange->conversation) {
            // Deleted meanwhile: the money still settles; the exchange has nowhere to go.
            auto touched = tx.run(sql::kTouchConversation, {*exchange->conversation, user});
            if (!touched.empty()) conversation = touched.int64(0, 0);
        } else {
            auto inserted =
                tx.run(sql::kInsertConversation, {user, exchange->message, exchange->model});
            conversation = inserted.int64(0, 0);
        }
        if (conversation) {
            tx.run(sql::kInsertExchange,
                   {user, exchange->message, exchange->response, cost, charge_entry, *conversation,
                    exchange->model, exchange->finish_reason});
            out.conversation = *conversation;
        }
    }
    tx.commit();
    return out;
}

std::vector<domain::ReservationId> PgStore::open_reservations(const std::string& node) {
    auto db = read();
    auto rows = db->run(sql::kOpenReservations, {node});
    std::vector<domain::ReservationId> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(rows.int64(r, 0));
    return out;
}

void PgStore::renew_lease(const std::string& node, std::int64_t expires_at_ms) {
    WriteScope tx(*this);
    tx.run(sql::kRenewLease, {node, expires_at_ms});
    tx.commit();
}

std::vector<domain::ReservationId> PgStore::orphaned_reservations(const std::string& node,
                                                                  std::int64_t now_ms,
                                                                  std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kOrphanedReservations, {node, now_ms, limit});
    std::vector<domain::ReservationId> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(rows.int64(r, 0));
    return out;
}

std::optional<std::vector<domain::ChatTurn>> PgStore::conversation_context(
    UserId user, domain::ConversationId conversation, std::int64_t budget_chars,
    std::int64_t max_exchanges) {
    auto db = read();
    if (db->run(sql::kOwnsConversation, {conversation, user}).empty()) return std::nullopt;
    std::vector<domain::ChatTurn> newest_first;
    auto rows = db->run(sql::kConversationContext, {conversation, max_exchanges});
    std::int64_t used = 0;
    for (int r = 0; r < rows.size(); ++r) {
        std::string message = rows.text(r, 0);
        std::string response = rows.text(r, 1);
        used +=
            static_cast<std::int64_t>(domain::count_chars(message) + domain::count_chars(response));
        if (used > budget_chars) break;
        newest_first.push_back({domain::ChatRole::assistant, std::move(response)});
        newest_first.push_back({domain::ChatRole::user, std::move(message)});
    }
    std::reverse(newest_first.begin(), newest_first.end());
    return newest_first;
}

std::int64_t PgStore::count_conversations(UserId user) {
    auto db = read();
    auto rows = db->run(sql::kCountConversations, {user});
    return rows.empty() ? 0 : rows.int64(0, 0);
}

std::vector<domain::ConversationSummary> PgStore::list_conversations(UserId user,
                                                                     std::int64_t offset,
                                                                     std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kListConversations, {user, limit, offset});
    std::vector<domain::ConversationSummary> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(read_summary(rows, r));
    return out;
}

std::optional<domain::ConversationSummary> PgStore::find_conversation(
    UserId user, domain::ConversationId conversation) {
    auto db = read();
    auto rows = db->run(sql::kFindConversation, {conversation, user});
    if (rows.empty()) return std::nullopt;
    return read_summary(rows, 0);
}

std::vector<domain::StoredExchange> PgStore::conversation_messages(
    domain::ConversationId conversation, std::int64_t limit) {
    auto db = read();
    auto rows = db->run(sql::kConversationMessages, {conversation, limit});
    std::vector<domain::StoredExchange> out;
    for (int r = 0; r < rows.size(); ++r) {
        out.push_back({rows.int64(r, 0), rows.text(r, 1), rows.text(r, 2), rows.text(r, 3),
                       rows.text(r, 4), rows.int64(r, 5), rows.text(r, 6)});
    }
    return out;
}

bool PgStore::delete_conversation(UserId user, domain::ConversationId conversation) {
    WriteScope tx(*this);
    tx.run(sql::kDeleteConversationMessages, {conversation, user});
    if (tx.run(sql::kDeleteConversation, {conversation, user}).empty()) return false;
    tx.commit();
    return true;
}

}  // namespace chatgate::storage::pg

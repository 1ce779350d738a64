// SqliteStore's domain::ChatStore half: chat reservations and conversations.

#include "domain/accounts/credential_rules.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/store_scopes.hpp"

#include <algorithm>

namespace chatgate::storage {

using domain::ChangeStatus;

domain::Reservation SqliteStore::reserve(const domain::ReservationRequest& request) {
    // Few statements: the single writer thread runs every chat's reservation and settlement.
    WriteScope tx(*this);
    std::optional<LedgerEntryId> charge_entry;
    TokenAmount balance = 0;
    if (request.api_key != 0) {
        // Nothing is committed unless the balance covers it too (the scope rolls back).
        auto on_key = writer_->prepare(sql::kReserveOnKey);
        on_key.bind(1, request.api_key).bind(2, request.amount);
        if (!on_key.step()) return {ChangeStatus::key_limit, 0, 0};
    }
    if (request.amount == 0) {
        // Free models charge nothing, but the user must still be allowed to chat.
        auto account = writer_->prepare(sql::kFindAccount);
        account.bind(1, request.user);
        if (!account.step()) return {ChangeStatus::no_user, 0, 0};
        if (account.int64(2) == 0) return {ChangeStatus::inactive, 0, 0};
        balance = account.int64(1);
    } else {
        domain::BalanceChange charge{
            request.user,       -request.amount, domain::LedgerKind::chat_charge,
            "chat reservation", INT64_MAX,       true};
        auto charged = apply_balance_change(charge);
        if (charged.status != ChangeStatus::applied) return {charged.status, 0, charged.balance};
        charge_entry = charged.entry;
        balance = charged.balance;
    }
    domain::ReservationId id = 0;
    {
        auto insert = writer_->prepare(sql::kInsertReservation);
        insert.bind(1, request.user).bind(2, request.amount).bind(4, balance);
        insert
            .bind(5, request.api_key != 0 ? std::optional<std::int64_t>(request.api_key)
                                          : std::nullopt)
            .bind(6, request.model)
            .bind(7, request.node.empty() ? std::optional<std::string>() : request.node);
        if (charge_entry) {
            insert.bind(3, *charge_entry);
        } else {
            insert.bind(3, std::optional<std::string>{});
        }
        if (!insert.step()) throw StorageError("reservation refused", insert.extended_error());
        id = insert.int64(0);
    }
    tx.commit();
    return {ChangeStatus::applied, id, balance};
}

domain::Settlement SqliteStore::settle(const domain::SettlementRequest& request) {
    WriteScope tx(*this);
    UserId user = 0;
    TokenAmount amount = 0;
    TokenAmount cost = 0;
    std::optional<LedgerEntryId> charge_entry;
    std::int64_t api_key = 0;
    domain::Settlement out{true, 0, 0, 0};
    {
        auto close = writer_->prepare(sql::kCloseReservation);
        close.bind(1, request.reservation)
            .bind(2, request.cost)
            .bind(3, request.prompt_tokens)
            .bind(4, request.completion_tokens);
        if (!close.step()) return {};  // settled before: the guard that makes it exactly once
        user = close.int64(0);
        amount = close.int64(1);
        cost = close.int64(2);
        if (close.int64(3) != 0) charge_entry = close.int64(3);
        // Nothing to give back: the balance this exchange left is its charge's, so concurrent
        // exchanges each report their own step of the ledger.
        out.balance = close.int64(4);
        api_key = close.int64(5);
    }
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
            throw StorageError("chat refund refused", SQLITE_CONSTRAINT);
        }
        out.balance = refunded.balance;
        // The key's limit gets back what its reservation held beyond the cost.
        if (api_key != 0) {
            writer_->prepare(sql::kRefundOnKey).bind(1, api_key).bind(2, amount - cost).run();
        }
    }

    if (const auto& exchange = request.exchange) {
        std::optional<domain::ConversationId> conversation;
        if (exchange->conversation) {
            // Deleted meanwhile: the money still settles; the exchange has nowhere to go.
            auto touch = writer_->prepare(sql::kTouchConversation);
            touch.bind(1, *exchange->conversation).bind(2, user);
            if (touch.step()) conversation = touch.int64(0);
        } else {
            auto insert = writer_->prepare(sql::kInsertConversation);
            insert.bind(1, user).bind(2, exchange->message).bind(3, exchange->model);
            if (!insert.step()) throw StorageError("conversation refused", insert.extended_error());
            conversation = insert.int64(0);
        }
        if (conversation) {
            auto insert = writer_->prepare(sql::kInsertExchange);
            insert.bind(1, user)
                .bind(2, exchange->message)
                .bind(3, exchange->response)
                .bind(4, cost);
            if (charge_entry) {
                insert.bind(5, *charge_entry);
            } else {
                insert.bind(5, std::optional<std::string>{});
            }
            insert.bind(6, *conversation)
                .bind(7, exchange->model)
                .bind(8, exchange->finish_reason)
                .run();
            if (insert.constraint_failed()) {
                throw StorageError("chat exchange refused", insert.extended_error());
            }
            out.conversation = *conversation;
        }
    }
    tx.commit();
    return out;
}

std::vector<domain::ReservationId> SqliteStore::open_reservations(const std::string& node) {
    auto db = read();
    auto stmt = db->prepare(sql::kOpenReservations);
    stmt.bind(1, node);
    std::vector<domain::ReservationId> out;
    while (stmt.step()) out.push_back(stmt.int64(0));
    return out;
}

void SqliteStore::renew_lease(const std::string& node, std::int64_t expires_at_ms) {
    WriteScope tx(*this);
    writer_->prepare(sql::kRenewLease).bind(1, node).bind(2, expires_at_ms).run();
    tx.commit();
}

std::vector<domain::ReservationId> SqliteStore::orphaned_reservations(const std::string& node,
                                                                      std::int64_t now_ms,
                                                                      std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kOrphanedReservations);
    stmt.bind(1, node).bind(2, now_ms).bind(3, limit);
    std::vector<domain::ReservationId> out;
    while (stmt.step()) out.push_back(stmt.int64(0));
    return out;
}

std::optional<std::vector<domain::ChatTurn>> SqliteStore::conversation_context(
    UserId user, domain::ConversationId conversation, std::int64_t budget_chars,
    std::int64_t max_exchanges) {
    auto db = read();
    {
        auto owns = db->prepare(sql::kOwnsConversation);
        owns.bind(1, conversation).bind(2, user);
        if (!owns.step()) return std::nullopt;
    }
    std::vector<domain::ChatTurn> newest_first;
    auto stmt = db->prepare(sql::kConversationContext);
    stmt.bind(1, conversation).bind(2, max_exchanges);
    std::int64_t used = 0;
    while (stmt.step()) {
        std::string message = stmt.text(0);
        std::string response = stmt.text(1);
        used +=
            static_cast<std::int64_t>(domain::count_chars(message) + domain::count_chars(response));
        if (used > budget_chars) break;
        newest_first.push_back({domain::ChatRole::assistant, std::move(response)});
        newest_first.push_back({domain::ChatRole::user, std::move(message)});
    }
    std::reverse(newest_first.begin(), newest_first.end());
    return newest_first;
}

std::int64_t SqliteStore::count_conversations(UserId user) {
    auto db = read();
    auto stmt = db->prepare(sql::kCountConversations);
    stmt.bind(1, user);
    return stmt.step() ? stmt.int64(0) : 0;
}

namespace {

domain::ConversationSummary read_summary(Statement& stmt) {
    return {stmt.int64(0), stmt.text(1), stmt.text(2), stmt.int64(3), stmt.text(4), stmt.text(5)};
}

}  // namespace

std::vector<domain::ConversationSummary> SqliteStore::list_conversations(UserId user,
                                                                         std::int64_t offset,
                                                                         std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kListConversations);
    stmt.bind(1, user).bind(2, limit).bind(3, offset);
    std::vector<domain::ConversationSummary> out;
    while (stmt.step()) out.push_back(read_summary(stmt));
    return out;
}

std::optional<domain::ConversationSummary> SqliteStore::find_conversation(
    UserId user, domain::ConversationId conversation) {
    auto db = read();
    auto stmt = db->prepare(sql::kFindConversation);
    stmt.bind(1, conversation).bind(2, user);
    if (!stmt.step()) return std::nullopt;
    return read_summary(stmt);
}

std::vector<domain::StoredExchange> SqliteStore::conversation_messages(
    domain::ConversationId conversation, std::int64_t limit) {
    auto db = read();
    auto stmt = db->prepare(sql::kConversationMessages);
    stmt.bind(1, conversation).bind(2, limit);
    std::vector<domain::StoredExchange> out;
    while (stmt.step()) {
        out.push_back({stmt.int64(0), stmt.text(1), stmt.text(2), stmt.text(3), stmt.text(4),
                       stmt.int64(5), stmt.text(6)});
    }
    return out;
}

bool SqliteStore::delete_conversation(UserId user, domain::ConversationId conversation) {
    WriteScope tx(*this);
    writer_->prepare(sql::kDeleteConversationMessages).bind(1, conversation).bind(2, user).run();
    {
        auto remove = writer_->prepare(sql::kDeleteConversation);
        remove.bind(1, conversation).bind(2, user);
        if (!remove.step()) return false;
    }
    tx.commit();
    return true;
}

}  // namespace chatgate::storage

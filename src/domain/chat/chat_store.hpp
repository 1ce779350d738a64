#pragma once

#include "core/ids.hpp"
#include "domain/chat/chat_provider.hpp"
#include "domain/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chatgate::domain {

using ConversationId = std::int64_t;
using ReservationId = std::int64_t;

/// Takes `amount` from the balance and opens a reservation row for it, in one transaction.
struct ReservationRequest {
    UserId user = 0;
    TokenAmount amount = 0;  ///< the most the exchange can cost; 0 still checks the user
    /// The API key the request came with (0: none): the amount counts against its limit too.
    std::int64_t api_key = 0;
    std::string model;  ///< the catalog id, kept for usage reports
    std::string node;   ///< the node making it (see `renew_lease`); empty: none recorded
};

struct Reservation {
    ChangeStatus status = ChangeStatus::no_user;  ///< applied, insufficient, no_user, inactive,
                                                  ///< key_limit
    ReservationId id = 0;
    TokenAmount balance = 0;  ///< after the charge
};

/// The exchange stored with a settlement.
struct ExchangeRecord {
    std::optional<ConversationId> conversation;  ///< empty: start a new conversation
    std::string model;
    std::string message;  ///< the user's turn
    std::string response;
    std::string finish_reason;
};

/// Closes a reservation at its final cost: the unused part is refunded, and the exchange (if
/// any) stored, in the same transaction.
struct SettlementRequest {
    ReservationId reservation = 0;
    TokenAmount cost = 0;  ///< clamped to [0, reserved amount]
    std::optional<ExchangeRecord> exchange;
    std::int64_t prompt_tokens = 0;  ///< as reported or estimated, for usage reports
    std::int64_t completion_tokens = 0;
};

struct Settlement {
    bool applied = false;     ///< false: it was settled before (nothing changed now)
    TokenAmount cost = 0;     ///< as charged, after clamping
    TokenAmount balance = 0;  ///< after the refund, or after the charge if nothing came back
    ConversationId conversation = 0;  ///< where the exchange went; 0 if not stored
};

struct ConversationSummary {
    ConversationId id = 0;
    std::string title;  ///< the start of its first message
    std::string model;
    std::int64_t message_count = 0;
    std::string created_at;
    std::string updated_at;
};

struct StoredExchange {
    std::int64_t id = 0;
    std::string message;
    std::string response;
    std::string model;
    std::string finish_reason;
    TokenAmount cost = 0;
    std::string created_at;
};

/// Persistence of reservations and conversations. Blocking and thread-safe like `Store`: run
/// writes on the writer pool, reads on the read pool.
class ChatStore {
public:
    virtual ~ChatStore() = default;

    virtual Reservation reserve(const ReservationRequest& request) = 0;
    /// Exactly once per reservation: a second call (or a racing one) changes nothing.
    virtual Settlement settle(const SettlementRequest& request) = 0;
    /// Reservations never settled that `node` made (in a run before this one) or that record
    /// no node, oldest first.
    virtual std::vector<ReservationId> open_reservations(const std::string& node) = 0;

    /// Several nodes on one database: each keeps a lease by renewing it before it expires.
    virtual void renew_lease(const std::string& node, std::int64_t expires_at_ms) = 0;
    /// Open reservations of other nodes whose lease had expired at `now_ms`, oldest first, at
    /// most `limit`: theirs to refund (settling is exactly once, whoever else tries too).
    virtual std::vector<ReservationId> orphaned_reservations(const std::string& node,
                                                             std::int64_t now_ms,
                                                             std::int64_t limit) = 0;

    /// The conversation's latest stored turns, oldest first: taken newest first while their
    /// characters fit in `budget_chars` (at most `max_exchanges` exchanges); nullopt when the
    /// conversation is not the user's.
    virtual std::optional<std::vector<ChatTurn>> conversation_context(
        UserId user, ConversationId conversation, std::int64_t budget_chars,
        std::int64_t max_exchanges) = 0;

    virtual std::int64_t count_conversations(UserId user) = 0;
    /// Most recently updated first.
    virtual std::vector<ConversationSummary> list_conversations(UserId user, std::int64_t offset,
                                                                std::int64_t limit) = 0;
    virtual std::optional<ConversationSummary> find_conversation(UserId user,
                                                                 ConversationId conversation) = 0;
    /// Oldest first, the newest `limit` exchanges.
    virtual std::vector<StoredExchange> conversation_messages(ConversationId conversation,
                                                              std::int64_t limit) = 0;
    /// Removes the conversation and its messages (the ledger keeps its rows); false when it is
    /// not the user's.
    virtual bool delete_conversation(UserId user, ConversationId conversation) = 0;
};

}  // namespace chatgate::domain

#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/chat/chat_provider.hpp"
#include "domain/chat/chat_store.hpp"
#include "domain/chat/model_catalog.hpp"
#include "domain/keys/key_grant.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

/// Filled from the configuration by the composition root.
/// How a reservation ended: the answer billed whole, billed in part (cut short upstream or by
/// the client), refunded in full (no text), or refunded at start-up (left by a killed process).
enum class SettledAs { full, partial, refunded, recovered };

/// What a settlement reports to the policy's observer (the metrics).
struct SettledChat {
    std::string_view model;  ///< empty for `recovered`
    SettledAs outcome = SettledAs::full;
    TokenUsage usage;  ///< as billed (reported or estimated); zero when refunded
    TokenAmount charged = 0;
};

struct ChatPolicy {
    std::size_t max_message_chars{};  ///< per turn
    /// This node's name, recorded with each reservation; stable across its restarts (so a
    /// restart refunds what the previous run left open) and unique among the nodes sharing
    /// the database.
    std::string node;
    /// Called when a settlement running in the background (an exchange dropped before its
    /// stream began) fails; its reservation is then refunded at the next start. May be empty.
    std::function<void(std::string_view what)> on_background_failure;
    /// Told of each reservation made and each one settled (for the metrics). May be empty.
    std::function<void()> on_reserved;
    std::function<void(const SettledChat&)> on_settled;
};

/// One request for an answer.
struct ChatInput {
    UserId user = 0;
    std::string model;  ///< a catalog id; empty: the catalog's default model
    /// The new turns, oldest first, ending with the user's message. With `conversation_id` the
    /// conversation's stored turns come before them (trimmed to the model's context budget).
    std::vector<ChatTurn> turns;
    std::optional<ConversationId> conversation_id;  ///< continue this conversation (the user's)
    /// Store the exchange in a conversation (a new one unless `conversation_id`). /api/chat/
    /// keeps history; the OpenAI-compatible surface does not (its clients send the history).
    bool keep_history = true;
    std::int64_t max_completion_tokens = 0;  ///< 0 or above the model's cap: the model's cap
    std::string options;  ///< further request fields for the provider (ChatPrompt::options)
    /// The API key the request came with: its `models` limit the choice, and its token_limit
    /// is reserved against like the balance. Nothing for an access token.
    std::optional<KeyGrant> key;
};

/// One request for embeddings.
struct EmbeddingInput {
    UserId user = 0;
    std::string model;   ///< a catalog id with the embeddings capability
    std::string fields;  ///< EmbeddingPrompt::fields
    /// A bound of the input's tokens (its bytes; one per token id): what is reserved for.
    std::int64_t input_token_bound = 0;
    std::optional<KeyGrant> key;  ///< as ChatInput::key
};

struct EmbeddingOutcome {
    std::string data;  ///< the upstream's `data` array (JSON text)
    std::string model;
    TokenUsage usage;  ///< as reported, or the bound when the upstream reported none
    TokenAmount cost = 0;
};

/// How an exchange ended, after it was billed.
struct ChatOutcome {
    std::string text;  ///< the whole answer from `complete`; empty from `pump` (already sent)
    std::vector<ToolCall> tool_calls;  ///< idem
    std::string finish_reason;         ///< stop, length, ...; "error" or "cancelled" if cut short
    std::string model;                 ///< the catalog id that answered
    TokenUsage usage;                  ///< as reported, or estimated when `usage.reported` is false
    TokenAmount cost = 0;              ///< what was finally charged
    TokenAmount remaining_tokens = 0;
    ConversationId conversation_id = 0;  ///< 0 when the exchange was not kept
};

/// Where a streamed answer's deltas go (the SSE writer of a handler).
class ChatSink {
public:
    virtual ~ChatSink() = default;
    /// Sends one delta (text, tool call fragments or both; never empty) to the client; false
    /// when the client is gone (the exchange then stops reading the upstream and bills what it
    /// had produced).
    virtual boost::asio::awaitable<bool> deliver(const ChatDelta& delta) = 0;
};

class ChatService;

/// A streamed exchange whose cost is reserved and whose first text has already arrived, so
/// every failure up to that point was an ordinary error of `open_stream`. Used on the executor
/// that opened it, by one caller at a time; the owner keeps it alive while `pump` runs.
/// Settled exactly once: by `pump`, or, if it is destroyed before `pump` ran, in the background
/// on its executor, billed like a client that left (the fixed price and what was produced).
class ChatExchange {
public:
    ~ChatExchange();
    ChatExchange(const ChatExchange&) = delete;
    ChatExchange& operator=(const ChatExchange&) = delete;

    const std::string& model() const { return model_->id; }
    /// The conversation continued, or 0 for a new one (its id comes with the outcome).
    ConversationId conversation_id() const { return conversation_; }

    /// Sends every delta to `sink` as it arrives, then settles: the upstream's usage (or, when
    /// it reported none or the answer was cut short, an estimate of what it produced) priced
    /// and capped at the reservation; the unused part refunded; the exchange stored. An
    /// upstream failure midway still settles (billing what was delivered) and returns the
    /// error, which the caller reports as a stream event; a client gone is not an error.
    /// Errors after settlement: upstream_unavailable, upstream_timeout; the outcome is then
    /// available from `settled()`.
    boost::asio::awaitable<Result<ChatOutcome>> pump(ChatSink& sink);

    /// The client is gone: stops reading the upstream now. `pump` then settles for what the
    /// upstream had produced and returns. Safe to call at any time on the exchange's executor.
    void cancel();

    /// The billing result once `pump` has settled (also when it returned an error).
    const std::optional<ChatOutcome>& settled() const { return outcome_; }

private:
    friend class ChatService;
    struct Parts;
    explicit ChatExchange(std::unique_ptr<Parts> parts);
    /// Takes ownership of `parts` (a raw pointer: GCC 12 mishandles by-value class parameters
    /// of coroutines).
    static boost::asio::awaitable<void> settle_abandoned(Parts* parts);

    std::unique_ptr<Parts> parts_;
    const ChatModel* model_ = nullptr;
    ConversationId conversation_ = 0;
    std::optional<ChatOutcome> outcome_;
};

/// Chats with the catalog's models, billed exactly: the most a request can cost is reserved
/// before the provider is asked (refused with insufficient_tokens when the balance cannot
/// cover it), then settled to the real cost in one transaction that also stores the exchange.
/// See docs/architecture.md ("The money path") for every failure's rule. Thread-safe.
class ChatService {
public:
    ChatService(ChatStore& chats, const ModelCatalog& catalog, DbPools db, ChatPolicy policy);

    /// Settles every reservation this node left open when it was killed mid-request (full
    /// refund: the exchange was never stored). Blocks; call once at start-up before serving.
    /// Returns how many were settled.
    std::int64_t recover_open_reservations();

    /// Renews this node's lease until `expires_at_ms`, then refunds in full the open
    /// reservations of nodes whose lease had expired at `now_ms` (killed, or cut off from the
    /// database); each exactly once, also when several nodes notice together. Returns how
    /// many this call settled. Run it on every node well within the lease time.
    boost::asio::awaitable<std::int64_t> keep_lease(std::int64_t now_ms,
                                                    std::int64_t expires_at_ms);

    /// Asks for the whole answer at once. Errors: invalid_argument (blank or too long
    /// message; unknown model as a `model` field error), not_found (conversation),
    /// permission_denied (a model the API key may not use), insufficient_tokens,
    /// key_limit_reached, user_not_found, user_inactive, upstream_unavailable,
    /// upstream_timeout, rate_limited; every error refunds the reservation in full.
    boost::asio::awaitable<Result<ChatOutcome>> complete(const ChatInput& input);

    /// Reserves, opens the upstream stream and waits for the first delta. Errors as for
    /// `complete` (all refunded in full). The input is not needed after this returns.
    boost::asio::awaitable<Result<std::unique_ptr<ChatExchange>>> open_stream(
        const ChatInput& input);

    /// Embeds `input`, billed like a chat: the model's per-message price and its per-1000
    /// prompt-token price on the input's bound are reserved first, then settled to the
    /// upstream's usage (capped at the reservation); any failure refunds in full. Errors:
    /// invalid_argument (model unknown or without embeddings, as a `model` field error),
    /// insufficient_tokens, user_not_found, user_inactive, upstream_unavailable,
    /// upstream_timeout, rate_limited.
    boost::asio::awaitable<Result<EmbeddingOutcome>> embed(const EmbeddingInput& input);

    /// The most `input` can cost on `model` (what is reserved), and the cost of an answer
    /// with `usage`, capped at `reserved`. Exposed for tests and the model listing.
    static TokenAmount max_cost(const ChatModel& model, const ChatPrompt& prompt);
    static TokenAmount cost_of(const ModelPrice& price, const TokenUsage& usage,
                               TokenAmount reserved);

    const ModelCatalog& catalog() const { return catalog_; }

private:
    friend class ChatExchange;
    struct Prepared;
    boost::asio::awaitable<Result<Prepared>> prepare(const ChatInput& input);
    /// Charges `usage` (capped at the reservation), refunds the rest and, when the exchange
    /// keeps history and `store` is set, stores it; all in one transaction.
    boost::asio::awaitable<ChatOutcome> settle(const Prepared& prepared, const TokenUsage& usage,
                                               std::string_view text,
                                               std::string_view finish_reason, bool store);
    boost::asio::awaitable<void> refund_in_full(const Prepared& prepared);
    boost::asio::awaitable<void> refund_in_full(ReservationId reservation, const ChatModel& model);
    void report(const SettledChat& settled) const;

    ChatStore& chats_;
    const ModelCatalog& catalog_;
    DbPools db_;
    ChatPolicy policy_;
};

}  // namespace chatgate::domain

#include "domain/chat/chat_service.hpp"

#include "domain/accounts/credential_rules.hpp"
#include "domain/chat/chat_billing.hpp"
#include "domain/ledger/ledger_service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <cctype>
#include <exception>

namespace chatgate::domain {
namespace {

bool is_blank(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

/// A turn the model can answer: text, an image, a tool's result or the model's own calls.
bool has_content(const ChatTurn& turn) {
    return !is_blank(turn.content) || turn.image_parts > 0 || turn.role == ChatRole::tool ||
           turn.extra_bytes > 0;
}

std::int64_t answer_bytes(const ChatAnswer& answer) {
    auto total = static_cast<std::int64_t>(answer.text.size());
    for (const auto& call : answer.tool_calls) {
        total +=
            static_cast<std::int64_t>(call.id.size() + call.name.size() + call.arguments.size());
    }
    return total;
}

/// The client-facing error for a provider failure: its kind (and Retry-After) is kept, its
/// words are not (they may carry upstream detail).
Error provider_error(const Error& error, bool midway) {
    Error out{error.code, {}, {}, error.retry_after_seconds, error.retried};
    switch (error.code) {
        case ErrorCode::upstream_timeout:
            out.message = midway
                              ? "The AI provider stopped answering; the delivered part was billed."
                              : "The AI provider did not answer in time; no tokens were charged.";
            return out;
        case ErrorCode::rate_limited:
            out.message = "The AI provider is busy; no tokens were charged. Try again later.";
            return out;
        default:
            out.code = ErrorCode::upstream_unavailable;
            out.message = midway ? "The AI provider failed midway; the delivered part was billed."
                                 : "The AI provider could not answer; no tokens were charged.";
            return out;
    }
}

}  // namespace

struct ChatService::Prepared {
    UserId user = 0;
    const ChatModel* model = nullptr;
    ChatPrompt prompt;
    std::int64_t prompt_bytes = 0;
    TokenAmount reserved = 0;
    ReservationId reservation = 0;
    std::optional<ConversationId> conversation;
    bool keep_history = true;
    std::string message;  ///< the user's new turn, stored with the answer
};

struct ChatExchange::Parts {
    ChatService& service;
    ChatService::Prepared prepared;
    std::unique_ptr<ChatStream> stream;
    std::optional<ChatDelta> first;  ///< the delta read by open_stream, not yet delivered
    boost::asio::any_io_executor executor;
    BoundedText text;
    std::int64_t produced_bytes = 0;  ///< read from the upstream (the first delta included)
    bool cancelled = false;
    bool pumping = false;
};

ChatService::ChatService(ChatStore& chats, const ModelCatalog& catalog, DbPools db,
                         ChatPolicy policy)
    : chats_(chats), catalog_(catalog), db_(db), policy_(policy) {}

TokenAmount ChatService::max_cost(const ChatModel& model, const ChatPrompt& prompt) {
    return reservation_for(model.price, prompt_token_bound(prompt), prompt.max_completion_tokens);
}

TokenAmount ChatService::cost_of(const ModelPrice& price, const TokenUsage& usage,
                                 TokenAmount reserved) {
    return price_of(price, usage, reserved);
}

std::int64_t ChatService::recover_open_reservations() {
    std::int64_t settled = 0;
    for (ReservationId id : chats_.open_reservations(policy_.node)) {
        // A killed process stored no exchange, so nothing the user can see was billed: refund
        // in full.
        if (chats_.settle({id, 0, std::nullopt}).applied) {
            ++settled;
            report({{}, SettledAs::recovered, {}, 0});
        }
    }
    return settled;
}

boost::asio::awaitable<std::int64_t> ChatService::keep_lease(std::int64_t now_ms,
                                                             std::int64_t expires_at_ms) {
    constexpr std::int64_t kPerRound = 500;  // the next round takes the rest
    const std::string& node = policy_.node;
    co_await db_.writes.run([&] { chats_.renew_lease(node, expires_at_ms); });
    auto orphans = co_await db_.reads.run(
        [&] { return chats_.orphaned_reservations(node, now_ms, kPerRound); });
    std::int64_t settled = 0;
    for (ReservationId id : orphans) {
        SettlementRequest refund{id, 0, std::nullopt};
        auto done = co_await db_.writes.run([&] { return chats_.settle(refund); });
        if (done.applied) {
            ++settled;
            report({{}, SettledAs::recovered, {}, 0});
        }
    }
    co_return settled;
}

boost::asio::awaitable<Result<ChatService::Prepared>> ChatService::prepare(const ChatInput& input) {
    if (input.turns.empty() || !has_content(input.turns.back())) {
        co_return Error{ErrorCode::invalid_argument, "Message is required", {}};
    }
    for (const auto& turn : input.turns) {
        if (count_chars(turn.content) > policy_.max_message_chars) {
            co_return Error{ErrorCode::invalid_argument,
                            "Message is too long (at most " +
                                std::to_string(policy_.max_message_chars) + " characters).",
                            {}};
        }
    }
    const ChatModel* model =
        input.model.empty() ? &catalog_.default_model() : catalog_.find(input.model);
    if (!model) {
        co_return Error::fields_invalid(
            {{"model", {"\"" + input.model + "\" is not a valid choice."}}});
    }
    if (!model->capabilities.chat) {
        co_return Error::fields_invalid(
            {{"model", {"The model `" + model->id + "` does not support chat."}}});
    }

    if (input.key && !input.key->allows(model->id)) {
        co_return Error{ErrorCode::permission_denied,
                        "This API key may not use the model \"" + model->id + "\".",
                        {}};
    }

    Prepared out;
    out.user = input.user;
    out.model = model;
    out.conversation = input.conversation_id;
    out.keep_history = input.keep_history;
    out.message = input.turns.back().content;
    out.prompt.upstream_model = model->upstream_model;
    out.prompt.max_completion_tokens =
        effective_completion_cap(model->max_completion_tokens, input.max_completion_tokens);
    out.prompt.options = input.options;
    out.prompt.image_token_bound = model->image_token_bound;
    if (input.conversation_id) {
        const UserId user = input.user;
        const ConversationId conversation = *input.conversation_id;
        const std::int64_t budget = model->context_budget_chars;
        auto context = co_await db_.reads.run([&] {
            return chats_.conversation_context(user, conversation, budget, kMaxContextExchanges);
        });
        if (!context) co_return Error{ErrorCode::not_found, "Not found.", {}};
        out.prompt.turns = std::move(*context);
    }
    out.prompt.turns.insert(out.prompt.turns.end(), input.turns.begin(), input.turns.end());
    out.prompt_bytes = static_cast<std::int64_t>(out.prompt.options.size());
    for (const auto& turn : out.prompt.turns) out.prompt_bytes += turn_bytes(turn);
    out.reserved = max_cost(*model, out.prompt);

    ReservationRequest request{input.user, out.reserved, input.key ? input.key->id : 0, model->id,
                               policy_.node};
    auto reservation = co_await db_.writes.run([&] { return chats_.reserve(request); });
    if (reservation.status != ChangeStatus::applied) co_return change_error(reservation.status);
    out.reservation = reservation.id;
    if (policy_.on_reserved) policy_.on_reserved();
    co_return out;
}

boost::asio::awaitable<ChatOutcome> ChatService::settle(const Prepared& prepared,
                                                        const TokenUsage& usage,
                                                        std::string_view text,
                                                        std::string_view finish_reason,
                                                        bool store) {
    SettlementRequest request{prepared.reservation,
                              price_of(prepared.model->price, usage, prepared.reserved),
                              std::nullopt, usage.prompt_tokens, usage.completion_tokens};
    if (prepared.keep_history && store) {
        request.exchange =
            ExchangeRecord{prepared.conversation, prepared.model->id, prepared.message,
                           std::string(text), std::string(finish_reason)};
    }
    auto settled = co_await db_.writes.run([&] { return chats_.settle(request); });
    bool whole = finish_reason != "error" && finish_reason != "cancelled";
    if (settled.applied) {
        report({prepared.model->id, whole ? SettledAs::full : SettledAs::partial, usage,
                settled.cost});
    }
    ChatOutcome outcome;
    outcome.finish_reason = std::string(finish_reason);
    outcome.model = prepared.model->id;
    outcome.usage = usage;
    outcome.cost = settled.cost;
    outcome.remaining_tokens = settled.balance;
    outcome.conversation_id = settled.conversation;
    co_return outcome;
}

boost::asio::awaitable<void> ChatService::refund_in_full(const Prepared& prepared) {
    co_await refund_in_full(prepared.reservation, *prepared.model);
}

boost::asio::awaitable<void> ChatService::refund_in_full(ReservationId reservation,
                                                         const ChatModel& model) {
    SettlementRequest request{reservation, 0, std::nullopt};
    auto settled = co_await db_.writes.run([&] { return chats_.settle(request); });
    if (settled.applied) report({model.id, SettledAs::refunded, {}, 0});
}

void ChatService::report(const SettledChat& settled) const {
    if (policy_.on_settled) policy_.on_settled(settled);
}

boost::asio::awaitable<Result<ChatOutcome>> ChatService::complete(const ChatInput& input) {
    auto prepared = co_await prepare(input);
    if (!prepared) co_return prepared.error();

    // A provider that throws must not keep the reservation either; the exception is rethrown
    // after the refund so the dispatcher still reports it.
    Result<ChatAnswer> answer = Error{ErrorCode::upstream_unavailable, "no answer", {}};
    std::exception_ptr failure;
    try {
        answer = co_await prepared->model->provider->complete(prepared->prompt);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure || !answer) {
        co_await refund_in_full(*prepared);
        if (failure) std::rethrow_exception(failure);
        co_return provider_error(answer.error(), false);
    }

    TokenUsage usage = answer->usage;
    if (!usage.reported) {
        usage = estimate_usage(prepared->prompt_bytes, answer_bytes(*answer));
    }
    ChatOutcome outcome =
        co_await settle(*prepared, usage, answer->text, answer->finish_reason, true);
    outcome.text = std::move(answer->text);
    outcome.tool_calls = std::move(answer->tool_calls);
    co_return outcome;
}

boost::asio::awaitable<Result<EmbeddingOutcome>> ChatService::embed(const EmbeddingInput& input) {
    const ChatModel* model = catalog_.find(input.model);
    if (!model || !model->capabilities.embeddings) {
        co_return Error::fields_invalid(
            {{"model", {"The model `" + input.model + "` does not support embeddings."}}});
    }
    if (input.key && !input.key->allows(model->id)) {
        co_return Error{ErrorCode::permission_denied,
                        "This API key may not use the model \"" + model->id + "\".",
                        {}};
    }
    const TokenAmount reserved =
        reservation_for(model->price, std::max<std::int64_t>(1, input.input_token_bound), 0);
    ReservationRequest request{input.user, reserved, input.key ? input.key->id : 0, model->id,
                               policy_.node};
    auto reservation = co_await db_.writes.run([&] { return chats_.reserve(request); });
    if (reservation.status != ChangeStatus::applied) co_return change_error(reservation.status);
    if (policy_.on_reserved) policy_.on_reserved();

    EmbeddingPrompt prompt{model->upstream_model, input.fields};
    Result<EmbeddingAnswer> answer = Error{ErrorCode::upstream_unavailable, "no answer", {}};
    std::exception_ptr failure;
    try {
        answer = co_await model->provider->embed(prompt);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure || !answer) {
        co_await refund_in_full(reservation.id, *model);
        if (failure) std::rethrow_exception(failure);
        co_return provider_error(answer.error(), false);
    }
    TokenUsage usage = answer->usage;
    // Without a count, the bound is what the input can have cost at most.
    if (!usage.reported) usage = {input.input_token_bound, 0, false};
    usage.completion_tokens = 0;
    SettlementRequest settlement{reservation.id, price_of(model->price, usage, reserved),
                                 std::nullopt};
    auto settled = co_await db_.writes.run([&] { return chats_.settle(settlement); });
    if (settled.applied) report({model->id, SettledAs::full, usage, settled.cost});
    co_return EmbeddingOutcome{std::move(answer->data), model->id, usage, settled.cost};
}

boost::asio::awaitable<Result<std::unique_ptr<ChatExchange>>> ChatService::open_stream(
    const ChatInput& input) {
    auto prepared = co_await prepare(input);
    if (!prepared) co_return prepared.error();

    Result<std::unique_ptr<ChatStream>> opened =
        Error{ErrorCode::upstream_unavailable, "no stream", {}};
    Result<std::optional<ChatDelta>> first = Error{ErrorCode::upstream_unavailable, "", {}};
    std::exception_ptr failure;
    try {
        opened = co_await prepared->model->provider->stream(prepared->prompt);
        // Waiting for the first delta here keeps every failure before any text an ordinary
        // error answer instead of an event inside a stream that already said 200.
        // (Empty deltas, such as OpenAI's opening role chunk, are not text yet.)
        if (opened) first = co_await (*opened)->next();
        while (opened && first && *first && (*first)->empty()) {
            first = co_await (*opened)->next();
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure || !opened || !first) {
        if (opened) opened->reset();
        co_await refund_in_full(*prepared);
        if (failure) std::rethrow_exception(failure);
        co_return provider_error(opened ? first.error() : opened.error(), false);
    }

    auto executor = co_await boost::asio::this_coro::executor;
    std::size_t limit = text_limit_bytes(prepared->prompt.max_completion_tokens);
    auto parts = std::unique_ptr<ChatExchange::Parts>(
        new ChatExchange::Parts{*this, std::move(*prepared), std::move(*opened), std::move(*first),
                                executor, BoundedText(limit)});
    if (parts->first) parts->produced_bytes = parts->first->bytes();
    std::unique_ptr<ChatExchange> exchange(new ChatExchange(std::move(parts)));
    co_return exchange;
}

ChatExchange::ChatExchange(std::unique_ptr<Parts> parts)
    : parts_(std::move(parts)),
      model_(parts_->prepared.model),
      conversation_(parts_->prepared.conversation.value_or(0)) {}

void ChatExchange::cancel() {
    if (!parts_ || outcome_) return;
    parts_->cancelled = true;
    if (parts_->stream) parts_->stream->cancel();
}

boost::asio::awaitable<Result<ChatOutcome>> ChatExchange::pump(ChatSink& sink) {
    if (outcome_ || parts_->pumping) {
        co_return Error{ErrorCode::internal, "a chat exchange is pumped once", {}};
    }
    Parts& p = *parts_;
    p.pumping = true;
    std::optional<ChatDelta> delta = std::move(p.first);
    p.first.reset();
    std::optional<Error> failed;
    bool finished = false;
    while (!p.cancelled) {
        if (!delta) {
            finished = true;
            break;
        }
        if (!delta->empty()) {
            bool sent = co_await sink.deliver(*delta);
            if (!sent) {
                cancel();
                break;
            }
            p.text.append(delta->text);
        }
        auto next = co_await p.stream->next();
        if (!next) {
            if (!p.cancelled) failed = next.error();
            break;
        }
        delta = std::move(*next);
        if (delta) p.produced_bytes += delta->bytes();
    }

    const ChatService::Prepared& prepared = p.prepared;
    TokenUsage usage = p.stream->usage();
    std::string finish_reason = p.stream->finish_reason();
    p.stream.reset();  // closes the upstream exchange before the database round trip
    if (failed && p.produced_bytes == 0) {
        // Failed before any text: nothing to bill.
        co_await p.service.refund_in_full(prepared);
        ChatOutcome refunded;
        refunded.finish_reason = "error";
        refunded.model = prepared.model->id;
        outcome_ = std::move(refunded);
        co_return provider_error(*failed, false);
    }
    if (!finished) {
        // Cut short (upstream failure or client gone): usage, if any, is not final, so what
        // the upstream produced is estimated. The upstream's error text never counts.
        usage = estimate_usage(prepared.prompt_bytes, p.produced_bytes);
        finish_reason = failed ? "error" : "cancelled";
    } else if (!usage.reported) {
        usage = estimate_usage(prepared.prompt_bytes, p.produced_bytes);
    }
    outcome_ = co_await p.service.settle(prepared, usage, p.text.view(), finish_reason,
                                         !p.text.empty() || finished);
    if (failed) co_return provider_error(*failed, true);
    co_return *outcome_;
}

boost::asio::awaitable<void> ChatExchange::settle_abandoned(Parts* raw) {
    std::unique_ptr<Parts> parts(raw);
    if (parts->stream) {
        parts->stream->cancel();
        parts->stream.reset();
    }
    // Billed like a disconnect: the fixed price and what the upstream had produced.
    const ChatService::Prepared& prepared = parts->prepared;
    TokenUsage usage = estimate_usage(prepared.prompt_bytes, parts->produced_bytes);
    co_await parts->service.settle(prepared, usage, parts->text.view(), "cancelled",
                                   !parts->text.empty());
}

ChatExchange::~ChatExchange() {
    if (!parts_ || outcome_) return;
    // pump() never ran or its coroutine was destroyed. Settle in the background; if the
    // executor never runs it (shutdown), start-up recovery refunds the reservation.
    auto executor = parts_->executor;
    auto report = parts_->service.policy_.on_background_failure;
    Parts* raw = parts_.release();
    boost::asio::co_spawn(executor, settle_abandoned(raw), [report](std::exception_ptr failure) {
        if (!failure || !report) return;
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            report(e.what());
        } catch (...) {
            report("unknown exception");
        }
    });
}

}  // namespace chatgate::domain

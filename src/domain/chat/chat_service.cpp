#include "domain/chat/chat_service.hpp"

#include "domain/accounts/account_service.hpp"
#include "domain/accounts/credential_rules.hpp"
#include "domain/ledger/ledger_service.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

namespace chatgate::domain {
namespace {

bool is_blank(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

}  // namespace

ChatService::ChatService(Store& store, ChatProvider& provider, DbPools db, ChatPolicy policy)
    : store_(store), provider_(provider), db_(db), policy_(policy) {}

boost::asio::awaitable<Result<ChatReply>> ChatService::send(UserId user, std::string message) {
    if (is_blank(message)) co_return Error{ErrorCode::invalid_argument, "Message is required", {}};
    if (count_chars(message) > policy_.max_message_chars) {
        co_return Error{ErrorCode::invalid_argument,
                        "Message is too long (at most " +
                            std::to_string(policy_.max_message_chars) + " characters).",
                        {}};
    }

    BalanceChange charge{user,         -policy_.cost, LedgerKind::chat_charge,
                         std::nullopt, INT64_MAX,     true};
    ChangeResult charged{ChangeStatus::applied, 0, 0};
    if (policy_.cost > 0) {
        charged = co_await db_.writes.run([&] { return store_.change_balance(charge); });
        if (charged.status != ChangeStatus::applied) co_return change_error(charged.status);
    } else {
        auto account = co_await db_.reads.run([&] { return store_.find_account(user); });
        auto active = require_active(account);
        if (!active) co_return active.error();
        charged.balance = active->balance;
    }

    // A provider that throws must not keep the charge either; the exception is rethrown after
    // the refund so the dispatcher still reports it.
    Result<ChatAnswer> answer = Error{ErrorCode::upstream_unavailable, "no answer", {}};
    std::exception_ptr failure;
    ChatPrompt prompt{{}, {ChatTurn{ChatRole::user, message}}, 0};
    try {
        answer = co_await provider_.complete(prompt);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure || !answer) {
        if (policy_.cost > 0) {
            // The refund must land even if the user was deactivated meanwhile.
            BalanceChange refund{user,
                                 policy_.cost,
                                 LedgerKind::chat_refund,
                                 "refund of ledger entry " + std::to_string(charged.entry),
                                 INT64_MAX,
                                 false};
            co_await db_.writes.run([&] { return store_.change_balance(refund); });
        }
        if (failure) std::rethrow_exception(failure);
        // Providers log their own detail; the client gets one clear, safe answer that keeps
        // the kind of failure (502, 504, or 429 with the upstream's Retry-After).
        Error error{ErrorCode::upstream_unavailable,
                    "The AI provider could not answer; no tokens were charged.",
                    {}};
        if (answer.error().code == ErrorCode::upstream_timeout) {
            error = {ErrorCode::upstream_timeout,
                     "The AI provider did not answer in time; no tokens were charged.",
                     {}};
        } else if (answer.error().code == ErrorCode::rate_limited) {
            error = {ErrorCode::rate_limited,
                     "The AI provider is busy; no tokens were charged. Try again later.",
                     {},
                     answer.error().retry_after_seconds};
        }
        co_return error;
    }

    ChatRecord record{user, std::move(message), std::move(answer->text), policy_.cost,
                      charged.entry};
    co_await db_.writes.run([&] { store_.record_chat(record); });
    co_return ChatReply{std::move(record.response), charged.balance};
}

}  // namespace chatgate::domain

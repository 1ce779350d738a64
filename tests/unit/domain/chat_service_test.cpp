#include "domain/chat/chat_service.hpp"

#include "domain/chat/chat_billing.hpp"
#include "domain/chat/conversation_service.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <thread>
#include <variant>

namespace chatgate {
namespace {

namespace net = boost::asio;
using domain::ChatExchange;
using domain::ChatInput;
using domain::ChatOutcome;
using domain::ChatRole;
using domain::LedgerKind;

/// One step of a scripted stream: a delta, a failure, or a wait that only `cancel` ends.
struct Wait {};
using Step = std::variant<std::string, Error, Wait>;

class ScriptedStream final : public domain::ChatStream {
public:
    ScriptedStream(std::deque<Step> steps, domain::TokenUsage usage, std::atomic<int>& cancels)
        : steps_(std::move(steps)), usage_(usage), cancels_(cancels) {}

    net::awaitable<Result<std::optional<domain::ChatDelta>>> next() override {
        if (cancelled_) co_return Error{ErrorCode::upstream_unavailable, "cancelled", {}};
        if (steps_.empty()) co_return std::optional<domain::ChatDelta>{};
        Step step = std::move(steps_.front());
        steps_.pop_front();
        if (auto* error = std::get_if<Error>(&step)) co_return *error;
        if (std::holds_alternative<Wait>(step)) {
            timer_.emplace(co_await net::this_coro::executor);
            timer_->expires_after(std::chrono::hours(1));
            boost::system::error_code ec;
            co_await timer_->async_wait(net::redirect_error(net::use_awaitable, ec));
            co_return Error{ErrorCode::upstream_unavailable, "cancelled while waiting", {}};
        }
        co_return std::optional<domain::ChatDelta>(domain::ChatDelta(std::get<std::string>(step)));
    }
    const std::string& finish_reason() const override { return finish_reason_; }
    domain::TokenUsage usage() const override { return usage_; }
    void cancel() override {
        ++cancels_;
        cancelled_ = true;
        if (timer_) timer_->cancel();
    }

private:
    std::deque<Step> steps_;
    domain::TokenUsage usage_;
    std::atomic<int>& cancels_;
    std::string finish_reason_ = "stop";
    bool cancelled_ = false;
    std::optional<net::steady_timer> timer_;
};

/// A provider whose answers the test scripts; it records the prompts it was given.
class ScriptedProvider final : public domain::ChatProvider {
public:
    std::string answer = "Hello there";
    domain::TokenUsage usage{500, 250, true};
    std::optional<Error> fail;
    bool throw_instead = false;
    std::deque<Step> steps;
    std::vector<domain::ChatPrompt> prompts;
    std::atomic<int> cancels{0};

    net::awaitable<Result<domain::ChatAnswer>> complete(const domain::ChatPrompt& prompt) override {
        prompts.push_back(prompt);
        if (throw_instead) throw std::runtime_error("provider bug");
        if (fail) co_return *fail;
        co_return domain::ChatAnswer{answer, "stop", usage};
    }
    net::awaitable<Result<std::unique_ptr<domain::ChatStream>>> stream(
        const domain::ChatPrompt& prompt) override {
        prompts.push_back(prompt);
        if (fail) co_return *fail;
        std::unique_ptr<domain::ChatStream> out =
            std::make_unique<ScriptedStream>(steps, usage, cancels);
        co_return out;
    }
};

/// Collects deltas; reports the client gone after `accept` of them.
class CollectingSink final : public domain::ChatSink {
public:
    std::size_t accept = SIZE_MAX;
    std::vector<std::string> deltas;
    net::awaitable<bool> deliver(const domain::ChatDelta& delta) override {
        if (deltas.size() >= accept) co_return false;
        deltas.emplace_back(delta.text);
        co_return true;
    }
};

class ChatServiceTest : public ::testing::Test {
protected:
    // Per-1k prices large enough that the reservation and the real cost differ visibly.
    static constexpr domain::ModelPrice kPrice{100, 10, 20};
    static constexpr std::int64_t kCap = 1000;

    void SetUp() override {
        path_ = ::testing::TempDir() + "chatgate-chat-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite3";
        remove_files();
        store_ = std::make_unique<storage::SqliteStore>(path_);
        domain::ChatModel model{"scripted", "tests", &provider, "up", kCap, 40, kPrice};
        domain::ChatModel free_model{"free", "tests", &provider, "up", kCap, 40, {0, 0, 0}};
        catalog_ = std::make_unique<domain::ModelCatalog>(
            std::vector<domain::ChatModel>{model, free_model});
        chat_ = std::make_unique<domain::ChatService>(*store_, *catalog_, db(),
                                                      domain::ChatPolicy{200});
        conversations_ = std::make_unique<domain::ConversationService>(*store_, db());
    }
    void TearDown() override {
        io.restart();
        io.run();  // background settlements
        chat_.reset();
        reads.join();
        writes.join();
        store_.reset();
        remove_files();
    }
    void remove_files() {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }
    UserId make_user(const std::string& name, TokenAmount grant = 4000) {
        auto id = store_->create_user({name, "hash", grant, false, false});
        EXPECT_TRUE(id);
        return *id;
    }
    TokenAmount balance(UserId user) { return store_->find_account(user)->balance; }
    void expect_consistent(UserId user) {
        EXPECT_EQ(store_->ledger_sum(user), balance(user));
        EXPECT_TRUE(store_->open_reservations("").empty());
    }
    std::vector<std::pair<LedgerKind, TokenAmount>> ledger(UserId user) {
        std::vector<std::pair<LedgerKind, TokenAmount>> out;
        for (const auto& e : store_->list_ledger(user, 0, 100)) out.emplace_back(e.kind, e.delta);
        std::reverse(out.begin(), out.end());
        return out;
    }
    /// Runs `task` on the fixture's io_context, which outlives any exchange it opens.
    template <class T>
    T run(net::awaitable<T> task) {
        std::optional<T> out;
        std::exception_ptr failure;
        net::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
            failure = e;
            if (!e) out.emplace(std::move(value));
        });
        io.restart();
        io.run();
        if (failure) std::rethrow_exception(failure);
        return std::move(*out);
    }
    ChatInput input(UserId user, std::string message, std::string model = {}) {
        ChatInput in;
        in.user = user;
        in.model = std::move(model);
        in.turns.push_back({ChatRole::user, std::move(message)});
        return in;
    }
    TokenAmount reservation_of(const std::vector<domain::ChatTurn>& turns) {
        return domain::reservation_for(kPrice, domain::prompt_token_bound({"up", turns, kCap}),
                                       kCap);
    }

    DbPools db() { return {reads, writes}; }
    net::io_context io;
    std::string path_;
    std::unique_ptr<storage::SqliteStore> store_;
    WorkPool reads{"test-db-read", {.threads = 2}};
    WorkPool writes{
        "test-db-write",
        {.threads = 1,
         .max_batch = 16,
         .hooks = {[this] { store_->begin_batch(); }, [this] { store_->commit_batch(); },
                   [this] { store_->rollback_batch(); }}}};
    ScriptedProvider provider;
    std::unique_ptr<domain::ModelCatalog> catalog_;
    std::unique_ptr<domain::ChatService> chat_;
    std::unique_ptr<domain::ConversationService> conversations_;
};

TEST_F(ChatServiceTest, ReservesTheMostThenSettlesToTheReportedUsage) {
    auto user = make_user("alice");
    auto outcome = run(chat_->complete(input(user, "hello")));
    ASSERT_TRUE(outcome);
    // 100 per message + 500 prompt tokens at 10/1k + 250 completion tokens at 20/1k.
    EXPECT_EQ(outcome->cost, 110);
    EXPECT_EQ(outcome->text, "Hello there");
    EXPECT_EQ(outcome->remaining_tokens, 3890);
    EXPECT_EQ(balance(user), 3890);
    TokenAmount reserved = reservation_of({{ChatRole::user, "hello"}});
    EXPECT_EQ(ledger(user), (std::vector<std::pair<LedgerKind, TokenAmount>>{
                                {LedgerKind::signup_grant, 4000},
                                {LedgerKind::chat_charge, -reserved},
                                {LedgerKind::chat_refund, reserved - 110}}));
    EXPECT_EQ(provider.prompts.at(0).max_completion_tokens, kCap);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, CostIsCappedAtTheReservation) {
    auto user = make_user("bob");
    provider.usage = {1'000'000, 1'000'000, true};  // an upstream reporting nonsense
    auto outcome = run(chat_->complete(input(user, "hello")));
    ASSERT_TRUE(outcome);
    TokenAmount reserved = reservation_of({{ChatRole::user, "hello"}});
    EXPECT_EQ(outcome->cost, reserved);
    EXPECT_EQ(balance(user), 4000 - reserved);
    EXPECT_EQ(ledger(user).size(), 2u);  // nothing to refund, so no refund row
    expect_consistent(user);
}

TEST_F(ChatServiceTest, MissingUsageIsEstimatedFromTheText) {
    auto user = make_user("carol");
    provider.usage = {};
    provider.answer = std::string(4000, 'x');  // 1000 estimated completion tokens
    auto outcome = run(chat_->complete(input(user, "12345678")));  // 2 prompt tokens
    ASSERT_TRUE(outcome);
    EXPECT_FALSE(outcome->usage.reported);
    EXPECT_EQ(outcome->usage.completion_tokens, 1000);
    EXPECT_EQ(outcome->cost, 100 + 1 + 20);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, RefusesWhatTheBalanceCannotCoverBeforeAskingTheProvider) {
    auto user = make_user("dave", 120);  // covers the real cost, not the reservation
    auto outcome = run(chat_->complete(input(user, "hello")));
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::insufficient_tokens);
    EXPECT_EQ(outcome.error().message, "Insufficient tokens");
    EXPECT_TRUE(provider.prompts.empty());
    EXPECT_EQ(balance(user), 120);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, MessageModelAndConversationAreCheckedBeforeTheBalance) {
    auto user = make_user("erin", 0);
    EXPECT_EQ(run(chat_->complete(input(user, "  \n "))).error().message, "Message is required");
    EXPECT_EQ(run(chat_->complete(input(user, std::string(201, 'x')))).error().code,
              ErrorCode::invalid_argument);
    auto unknown = run(chat_->complete(input(user, "hi", "gpt-9")));
    ASSERT_FALSE(unknown);
    ASSERT_EQ(unknown.error().fields.size(), 1u);
    EXPECT_EQ(unknown.error().fields[0].field, "model");
    auto in = input(user, "hi");
    in.conversation_id = 12345;
    EXPECT_EQ(run(chat_->complete(in)).error().code, ErrorCode::not_found);
    EXPECT_EQ(run(chat_->complete(input(user, "hi"))).error().code, ErrorCode::insufficient_tokens);
    auto free = run(chat_->complete(input(user, "hi", "free")));
    ASSERT_TRUE(free);  // a free model needs no balance
    EXPECT_EQ(free->cost, 0);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, ProviderFailureBeforeAnyTextIsRefundedInFull) {
    auto user = make_user("frank");
    provider.fail = Error{ErrorCode::upstream_timeout, "secret upstream detail", {}};
    auto outcome = run(chat_->complete(input(user, "hello")));
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::upstream_timeout);
    EXPECT_EQ(outcome.error().message.find("secret"), std::string::npos);
    auto streamed = run(chat_->open_stream(input(user, "hello")));
    ASSERT_FALSE(streamed);
    EXPECT_EQ(balance(user), 4000);
    auto rows = ledger(user);
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[1].second + rows[2].second, 0);
    EXPECT_EQ(rows[3].second + rows[4].second, 0);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, StreamFailingBeforeItsFirstDeltaIsAnOrdinaryErrorAndRefunded) {
    auto user = make_user("gina");
    // An opening empty delta (OpenAI's role chunk) is not text yet.
    provider.steps = {std::string(), Error{ErrorCode::upstream_unavailable, "reset", {}}};
    auto opened = run(chat_->open_stream(input(user, "hello")));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, ErrorCode::upstream_unavailable);
    EXPECT_EQ(balance(user), 4000);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, ProviderExceptionIsRefundedAndRethrown) {
    auto user = make_user("hank");
    provider.throw_instead = true;
    EXPECT_THROW(run(chat_->complete(input(user, "hello"))), std::runtime_error);
    EXPECT_EQ(balance(user), 4000);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, StreamDeliversEveryDeltaThenSettlesOnce) {
    auto user = make_user("iris");
    provider.steps = {std::string("Hel"), std::string("lo")};
    auto opened = run(chat_->open_stream(input(user, "hello")));
    ASSERT_TRUE(opened);
    auto exchange = std::move(*opened);
    CollectingSink sink;
    auto outcome = run(exchange->pump(sink));
    ASSERT_TRUE(outcome);
    EXPECT_EQ(sink.deltas, (std::vector<std::string>{"Hel", "lo"}));
    EXPECT_EQ(outcome->cost, 110);
    EXPECT_TRUE(outcome->text.empty());  // already sent; the stream never holds it twice
    EXPECT_NE(outcome->conversation_id, 0);
    EXPECT_FALSE(run(exchange->pump(sink)));  // a second pump bills nothing
    exchange.reset();
    io.restart();
    io.run();
    EXPECT_EQ(balance(user), 3890);
    EXPECT_EQ(ledger(user).size(), 3u);
    auto detail = run(conversations_->get(user, outcome->conversation_id));
    ASSERT_TRUE(detail);
    ASSERT_EQ(detail->messages.size(), 1u);
    EXPECT_EQ(detail->messages[0].response, "Hello");
    expect_consistent(user);
}

TEST_F(ChatServiceTest, FailureMidwayBillsWhatWasDelivered) {
    auto user = make_user("jack");
    provider.steps = {std::string(40, 'a'), Error{ErrorCode::upstream_unavailable, "boom", {}}};
    auto exchange = *run(chat_->open_stream(input(user, "12345678")));
    CollectingSink sink;
    auto outcome = run(exchange->pump(sink));
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::upstream_unavailable);
    ASSERT_TRUE(exchange->settled());
    // The fixed price, 2 estimated prompt tokens, 10 estimated completion tokens.
    EXPECT_EQ(exchange->settled()->cost, 100 + 1 + 1);
    EXPECT_EQ(exchange->settled()->finish_reason, "error");
    EXPECT_EQ(balance(user), 4000 - 102);
    auto detail = run(conversations_->get(user, exchange->settled()->conversation_id));
    ASSERT_TRUE(detail);
    EXPECT_EQ(detail->messages.at(0).response, std::string(40, 'a'));
    expect_consistent(user);
}

TEST_F(ChatServiceTest, ClientGoneCancelsTheUpstreamAndBillsWhatWasProduced) {
    auto user = make_user("kate");
    provider.steps = {std::string(8, 'a'), std::string(8, 'b'), std::string(8, 'c')};
    auto exchange = *run(chat_->open_stream(input(user, "12345678")));
    CollectingSink sink;
    sink.accept = 1;  // the client leaves while the second delta is being written
    auto outcome = run(exchange->pump(sink));
    ASSERT_TRUE(outcome);
    EXPECT_EQ(provider.cancels.load(), 1);
    EXPECT_EQ(outcome->finish_reason, "cancelled");
    // Produced: 16 bytes (4 tokens); the third delta was never read.
    EXPECT_EQ(outcome->cost, 100 + 1 + 1);
    exchange->cancel();  // late cancels change nothing
    exchange.reset();
    io.restart();
    io.run();
    EXPECT_EQ(balance(user), 4000 - 102);
    EXPECT_EQ(ledger(user).size(), 3u);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, CancelEndsAStalledUpstreamAtOnce) {
    auto user = make_user("liam");
    provider.steps = {std::string("first"), Wait{}};
    auto exchange = *run(chat_->open_stream(input(user, "hello")));
    CollectingSink sink;
    std::optional<Result<ChatOutcome>> outcome;
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { outcome = co_await exchange->pump(sink); },
        net::detached);
    io.restart();
    // Runs until the pump waits on the stalled upstream (the first delta is delivered).
    while (sink.deltas.empty()) io.run_one();
    io.poll();
    EXPECT_FALSE(outcome);
    auto started = std::chrono::steady_clock::now();
    exchange->cancel();  // what the transport does when the client disconnects
    io.run();
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_EQ((*outcome)->finish_reason, "cancelled");
    EXPECT_EQ(ledger(user).size(), 3u);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, AnExchangeDroppedBeforeItsPumpIsSettledInTheBackground) {
    auto user = make_user("mia");
    provider.steps = {std::string("never sent")};
    auto exchange = *run(chat_->open_stream(input(user, "hello")));
    EXPECT_EQ(store_->open_reservations("").size(), 1u);
    exchange.reset();
    io.restart();
    io.run();
    EXPECT_EQ(provider.cancels.load(), 1);
    EXPECT_LT(balance(user), 4000);  // the fixed price and what was produced
    expect_consistent(user);
}

TEST_F(ChatServiceTest, StartUpRecoveryRefundsReservationsLeftOpen) {
    auto user = make_user("noah");
    // A process killed mid-request leaves its reservations open.
    auto first = store_->reserve({user, 300});
    auto second = store_->reserve({user, 200});
    ASSERT_EQ(first.status, domain::ChangeStatus::applied);
    ASSERT_EQ(second.status, domain::ChangeStatus::applied);
    EXPECT_EQ(balance(user), 3500);
    domain::ChatService restarted(*store_, *catalog_, db(), domain::ChatPolicy{200});
    EXPECT_EQ(restarted.recover_open_reservations(), 2);
    EXPECT_EQ(restarted.recover_open_reservations(), 0);
    EXPECT_EQ(balance(user), 4000);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, ASettlementHappensOnceUnderRaces) {
    auto user = make_user("olga");
    for (int round = 0; round < 20; ++round) {
        auto reservation = store_->reserve({user, 300});
        ASSERT_EQ(reservation.status, domain::ChangeStatus::applied);
        std::atomic<int> applied{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 6; ++t) {
            threads.emplace_back([&, t] {
                // Racing settlements with different costs: only the first one counts.
                if (store_->settle({reservation.id, 50 * t, std::nullopt}).applied) ++applied;
            });
        }
        for (auto& thread : threads) thread.join();
        EXPECT_EQ(applied.load(), 1);
    }
    // The grant, then per round one charge and one refund (every racing cost is below 300).
    EXPECT_EQ(store_->count_ledger(user), 1 + 20 + 20);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, ConcurrentChatsThroughGroupCommitAreExact) {
    auto user = make_user("pete", 0);
    TokenAmount reserved = reservation_of({{ChatRole::user, "hello"}});
    // Enough for exactly 20 reservations; each settles at 110 and frees the rest.
    store_->change_balance(
        {user, 20 * reserved, LedgerKind::top_up, std::nullopt, INT64_MAX, true});
    provider.usage = {1'000'000, 1'000'000, true};  // every answer costs its whole reservation
    int answered = 0, refused = 0;
    for (int i = 0; i < 50; ++i) {
        net::co_spawn(
            io,
            [&]() -> net::awaitable<void> {
                auto in = input(user, "hello");
                auto outcome = co_await chat_->complete(in);
                ++(outcome ? answered : refused);
            },
            net::detached);
    }
    io.restart();
    io.run();
    EXPECT_EQ(answered, 20);
    EXPECT_EQ(refused, 30);
    EXPECT_EQ(balance(user), 0);
    expect_consistent(user);
}

TEST_F(ChatServiceTest, ConversationsCarryTheirHistoryTrimmedNewestFirst) {
    auto user = make_user("quinn");
    auto other = make_user("rose");
    provider.answer = "012345678901234";
    auto first = run(chat_->complete(input(user, "first-msg")));  // 9 + 15 characters
    ASSERT_TRUE(first);
    auto in = input(user, "second-msg");
    in.conversation_id = first->conversation_id;
    auto second = run(chat_->complete(in));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->conversation_id, first->conversation_id);
    ASSERT_EQ(provider.prompts.at(1).turns.size(), 3u);
    EXPECT_EQ(provider.prompts[1].turns[0].content, "first-msg");
    EXPECT_EQ(provider.prompts[1].turns[1].role, ChatRole::assistant);
    EXPECT_EQ(provider.prompts[1].turns[2].content, "second-msg");

    // The budget is 40 characters: the third call fits only the newest exchange (25).
    in.turns.back().content = "third-msg";
    ASSERT_TRUE(run(chat_->complete(in)));
    ASSERT_EQ(provider.prompts.at(2).turns.size(), 3u);
    EXPECT_EQ(provider.prompts[2].turns[0].content, "second-msg");

    auto foreign = input(other, "hi");
    foreign.conversation_id = first->conversation_id;
    EXPECT_EQ(run(chat_->complete(foreign)).error().code, ErrorCode::not_found);
    EXPECT_EQ(run(conversations_->get(other, first->conversation_id)).error().code,
              ErrorCode::not_found);
    EXPECT_FALSE(run(conversations_->remove(other, first->conversation_id)));

    auto page = run(conversations_->list(user, 1, 10));
    ASSERT_TRUE(page);
    EXPECT_EQ(page->count, 1);
    EXPECT_EQ(page->conversations.at(0).message_count, 3);
    EXPECT_EQ(page->conversations.at(0).title, "first-msg");
    std::int64_t rows_before = store_->count_ledger(user);
    EXPECT_TRUE(run(conversations_->remove(user, first->conversation_id)));
    EXPECT_EQ(run(conversations_->list(user, 1, 10))->count, 0);
    EXPECT_EQ(store_->count_ledger(user), rows_before);  // the ledger keeps its rows
    // Continuing a deleted conversation is not found, and costs nothing.
    EXPECT_EQ(run(chat_->complete(in)).error().code, ErrorCode::not_found);
    expect_consistent(user);
    expect_consistent(other);
}

}  // namespace
}  // namespace chatgate

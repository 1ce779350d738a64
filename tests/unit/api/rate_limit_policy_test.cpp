#include "api/pipeline/rate_limit_policy.hpp"

#include "api/routes.hpp"
#include "app/edge_guards.hpp"
#include "app/settings.hpp"
#include "core/work_pool.hpp"
#include "support/manual_clock.hpp"
#include "support/run_sync.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

namespace chatgate::api {
namespace {

using namespace std::chrono_literals;
using guards::ClientAddressResolver;
using guards::parse_cidr_list;
using guards::RateTable;

const Route& route_at(std::string_view path, http::Method method) {
    for (const auto& route : routes()) {
        if (route.path == path && route.method == method) return route;
    }
    throw std::logic_error("no such route");
}

TEST(RateTable, ParsesOverABase) {
    auto base = RateTable::parse("read=100/1m, login=10/m, chat=5/15m");
    ASSERT_TRUE(base) << base.error().message;
    EXPECT_EQ(base->find("read")->limit, 100);
    EXPECT_EQ(base->find("read")->period, 60s);
    EXPECT_EQ(base->find("chat")->period, 900s);
    EXPECT_TRUE(base->find("write")->unlimited());
    auto table = RateTable::parse("login=3/1h,chat=off,read=2/30s", *base);
    ASSERT_TRUE(table);
    EXPECT_EQ(table->find("login")->limit, 3);
    EXPECT_EQ(table->find("login")->period, 3600s);
    EXPECT_TRUE(table->find("chat")->unlimited());
    EXPECT_EQ(table->find("read")->period, 30s);
    EXPECT_FALSE(table->find("nonsense"));
    EXPECT_EQ(RateTable::parse("top_up=1/1d")->find("top_up")->period, 86400s);
}

TEST(RateTable, RefusesBadSyntaxSayingWhat) {
    for (auto bad : {"read", "read=", "read=10", "read=10/", "read=0/1m", "read=-1/1m",
                     "read=10/1x", "read=x/1m", "read=10/0m", "reed=10/1m", "read=2000000000/1s"}) {
        auto table = RateTable::parse(bad);
        EXPECT_FALSE(table) << bad;
        if (!table) {
            EXPECT_FALSE(table.error().message.empty());
        }
    }
}

TEST(RateTable, EveryDefaultNameIsKnown) {
    auto table = RateTable::parse(Config{}.rate_limits);  // the defaults name every class
    ASSERT_TRUE(table);
    for (auto name : RateTable::kNames) EXPECT_FALSE(table->find(name)->unlimited()) << name;
}

class RateLimitsTest : public ::testing::Test {
protected:
    RateLimitPolicy make(std::string_view spec, std::string_view proxies = "") {
        return RateLimitPolicy(clock, *RateTable::parse(spec),
                               ClientAddressResolver(*parse_cidr_list(proxies)), 1000,
                               app::json_limits(Config{}));
    }

    http::Request request(std::string_view peer, std::string_view body = "") {
        http::Request r;
        r.remote_address = peer;
        r.body = body;
        r.headers.push_back({"Content-Type", "application/json"});
        return r;
    }

    /// Runs the hook as the dispatcher does; the handler "answers" `outcome`.
    http::Response run(RateLimitPolicy& limits, const Route& route, const http::Request& r,
                       UserId user, Result<http::Response> outcome = http::Response{}) {
        RateTicket ticket;
        Result<http::Response> result = outcome;
        if (auto refusal = limits.admit(route, r, user, ticket)) result = *refusal;
        http::Response response;
        if (result) {
            response = *result;
        } else {
            response.status = result.error().code == ErrorCode::rate_limited ? 429 : 401;
            last_error = result.error();
        }
        limits.settle(ticket, result, response);
        return response;
    }

    static std::string header(const http::Response& response, std::string_view name) {
        for (const auto& [n, v] : response.headers) {
            if (n == name) return v;
        }
        return "<absent>";
    }

    testing::ManualClock clock;
    Error last_error;
    const Route& tokens = route_at("/api/tokens/", http::Method::get);
    const Route& login = route_at("/api/login/", http::Method::post);
    const Route& healthz = route_at("/healthz", http::Method::get);
    const Route& redeem = route_at("/api/redeem/", http::Method::post);
    const Error wrong_code{
        ErrorCode::invalid_argument, {}, {{"code", {"This code is not valid."}}}};
    const Error wrong_password{ErrorCode::invalid_credentials, "No active account", {}};
};

TEST_F(RateLimitsTest, AuthenticatedRoutesCountPerUserNotPerAddress) {
    auto limits = make("read=2/1m");
    auto from_a = request("198.51.100.1");
    auto from_b = request("198.51.100.2");
    EXPECT_EQ(run(limits, tokens, from_a, 7).status, 200);
    EXPECT_EQ(run(limits, tokens, from_b, 7).status, 200);
    EXPECT_EQ(run(limits, tokens, from_a, 7).status, 429) << "same user, other address";
    EXPECT_EQ(run(limits, tokens, from_a, 8).status, 200) << "other user, same address";
}

TEST_F(RateLimitsTest, AnonymousRoutesCountPerAddress) {
    auto limits = make("login=2/1m");
    EXPECT_EQ(run(limits, login, request("198.51.100.1"), 0).status, 200);
    EXPECT_EQ(run(limits, login, request("198.51.100.1"), 0).status, 200);
    EXPECT_EQ(run(limits, login, request("198.51.100.1"), 0).status, 429);
    EXPECT_EQ(run(limits, login, request("198.51.100.2"), 0).status, 200);
}

TEST_F(RateLimitsTest, HeadersOnSuccessAndOnRefusal) {
    auto limits = make("read=3/1m");
    auto ok = run(limits, tokens, request("198.51.100.1"), 7);
    EXPECT_EQ(header(ok, "RateLimit-Limit"), "3");
    EXPECT_EQ(header(ok, "RateLimit-Remaining"), "2");
    EXPECT_EQ(header(ok, "RateLimit-Reset"), "20");
    run(limits, tokens, request("198.51.100.1"), 7);
    run(limits, tokens, request("198.51.100.1"), 7);
    clock.advance(5s);
    auto refused = run(limits, tokens, request("198.51.100.1"), 7);
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(header(refused, "RateLimit-Remaining"), "0");
    EXPECT_EQ(header(refused, "RateLimit-Reset"), "55");
    EXPECT_EQ(last_error.retry_after_seconds, 15);
    EXPECT_NE(last_error.message.find("15 seconds"), std::string::npos) << last_error.message;
    EXPECT_EQ(header(run(limits, healthz, request("198.51.100.1"), 0), "RateLimit-Limit"),
              "<absent>")
        << "unlimited routes carry no headers";
}

TEST_F(RateLimitsTest, OpenAiRoutesAlsoSendOpenAisHeaders) {
    auto limits = make("read=3/1m");
    const Route& models = route_at("/v1/models", http::Method::get);
    auto ok = run(limits, models, request("198.51.100.1"), 7);
    EXPECT_EQ(header(ok, "RateLimit-Limit"), "3");
    EXPECT_EQ(header(ok, "x-ratelimit-limit-requests"), "3");
    EXPECT_EQ(header(ok, "x-ratelimit-remaining-requests"), "2");
    EXPECT_EQ(header(ok, "x-ratelimit-reset-requests"), "20s");
    EXPECT_EQ(header(run(limits, tokens, request("198.51.100.1"), 7), "x-ratelimit-limit-requests"),
              "<absent>")
        << "only the OpenAI-compatible surface";
}

TEST(OpenAiDuration, WritesSpansAsOpenAiDoes) {
    EXPECT_EQ(openai_duration(0s), "0s");
    EXPECT_EQ(openai_duration(1ms), "1s");
    EXPECT_EQ(openai_duration(59s), "59s");
    EXPECT_EQ(openai_duration(360s), "6m0s");
    EXPECT_EQ(openai_duration(3723s), "1h2m3s");
    EXPECT_EQ(openai_duration(-5s), "0s");
}

TEST_F(RateLimitsTest, ForwardedForCountsOnlyBehindATrustedProxy) {
    auto limits = make("login=1/1m", "10.0.0.0/8");
    auto via_proxy = [&](std::string_view peer, std::string_view xff) {
        auto r = request(peer);
        r.headers.push_back({"X-Forwarded-For", xff});
        return run(limits, login, r, 0).status;
    };
    EXPECT_EQ(via_proxy("10.0.0.1", "198.51.100.1"), 200);
    EXPECT_EQ(via_proxy("10.0.0.2", "198.51.100.2"), 200) << "other client, same proxy";
    EXPECT_EQ(via_proxy("10.0.0.1", "198.51.100.1"), 429);
    EXPECT_EQ(via_proxy("203.0.113.5", "198.51.100.3"), 200);
    EXPECT_EQ(via_proxy("203.0.113.5", "198.51.100.4"), 429) << "untrusted peer: XFF ignored";
}

TEST_F(RateLimitsTest, FailedRedemptionsLockTheUserAndOnlySuccessGivesTheReservationBack) {
    auto limits = make("failed_redeem_user=2/1h,failed_redeem_address=100/1h");
    auto from = request("198.51.100.1");
    // A redeemed code costs nothing: its reservation is given back.
    for (int i = 0; i < 5; ++i) EXPECT_EQ(run(limits, redeem, from, 7).status, 200);
    EXPECT_EQ(run(limits, redeem, from, 7, wrong_code).status, 401);  // the handler's 400
    EXPECT_EQ(run(limits, redeem, from, 7, wrong_code).status, 401);
    // Locked: even a right code waits, so a guesser cannot tell by trying one it knows.
    EXPECT_EQ(run(limits, redeem, from, 7).status, 429);
    EXPECT_GT(last_error.retry_after_seconds, 0);
    EXPECT_NE(last_error.message.find("redemption"), std::string::npos) << last_error.message;
    EXPECT_EQ(run(limits, redeem, from, 8).status, 200) << "another user";
}

TEST_F(RateLimitsTest, FailedRedemptionsPerAddressAcrossUsers) {
    auto limits = make("failed_redeem_user=100/1h,failed_redeem_address=3/1h");
    auto from = request("198.51.100.1");
    for (UserId user : {1, 2, 3})
        EXPECT_EQ(run(limits, redeem, from, user, wrong_code).status, 401);
    EXPECT_EQ(run(limits, redeem, from, 4).status, 429);
    EXPECT_EQ(run(limits, redeem, request("198.51.100.99"), 4).status, 200);
}

TEST_F(RateLimitsTest, FailedLoginsLockTheUsernameEvenForTheRightPassword) {
    auto limits = make("failed_login_user=2/15m");
    auto as_alice = [&](std::string_view peer) {
        return request(peer, R"({"username":" alice ","password":"x"})");
    };
    EXPECT_EQ(run(limits, login, as_alice("198.51.100.1"), 0).status, 200) << "success is free";
    EXPECT_EQ(run(limits, login, as_alice("198.51.100.1"), 0).status, 200);
    EXPECT_EQ(run(limits, login, as_alice("198.51.100.1"), 0).status, 200);
    EXPECT_EQ(run(limits, login, as_alice("198.51.100.1"), 0, wrong_password).status, 401);
    EXPECT_EQ(run(limits, login, as_alice("198.51.100.2"), 0, wrong_password).status, 401);
    auto locked = run(limits, login, as_alice("198.51.100.3"), 0);
    EXPECT_EQ(locked.status, 429) << "right password, other address, still locked";
    EXPECT_NE(last_error.message.find("failed login"), std::string::npos);
    EXPECT_EQ(last_error.retry_after_seconds, 450);
    EXPECT_EQ(header(locked, "RateLimit-Limit"), "2");
    auto bob = request("198.51.100.1", R"({"username":"bob","password":"x"})");
    EXPECT_EQ(run(limits, login, bob, 0).status, 200) << "other usernames are not locked";
    clock.advance(450s);
    EXPECT_EQ(run(limits, login, as_alice("198.51.100.1"), 0).status, 200);
}

TEST_F(RateLimitsTest, FailedLoginsPerAddressAcrossUsernames) {
    auto limits = make("failed_login_address=2/10m");
    auto attempt = [&](std::string_view user, std::string_view peer, Result<http::Response> r) {
        std::string body = R"({"username":")" + std::string(user) + R"(","password":"x"})";
        auto req = request(peer, body);
        return run(limits, login, req, 0, std::move(r)).status;
    };
    EXPECT_EQ(attempt("u1", "198.51.100.1", wrong_password), 401);
    EXPECT_EQ(attempt("u2", "198.51.100.1", wrong_password), 401);
    EXPECT_EQ(attempt("u3", "198.51.100.1", http::Response{}), 429);
    EXPECT_EQ(attempt("u3", "198.51.100.2", http::Response{}), 200);
    // Bodies without a username still count against the address.
    auto limits2 = make("failed_login_address=1/10m");
    auto junk = request("198.51.100.9", "{not json");
    EXPECT_EQ(run(limits2, login, junk, 0, wrong_password).status, 401);
    EXPECT_EQ(run(limits2, login, junk, 0).status, 429);
}

TEST_F(RateLimitsTest, ABusyLoginCountsAgainstItsAddressButNotTheUsername) {
    auto limits = make("failed_login_user=1/15m,failed_login_address=2/15m");
    auto from_a = request("198.51.100.1", R"({"username":"alice","password":"x"})");
    auto from_b = request("198.51.100.2", R"({"username":"alice","password":"x"})");
    Error busy{ErrorCode::busy, "busy", {}};
    Error other{ErrorCode::invalid_argument, "bad", {}};
    for (int i = 0; i < 3; ++i) run(limits, login, from_b, 0, other);  // other errors: nothing
    run(limits, login, from_a, 0, busy);
    run(limits, login, from_a, 0, busy);
    EXPECT_EQ(run(limits, login, from_a, 0).status, 429) << "a flooding address is limited";
    // The username was never charged: its one failure is still there, from elsewhere.
    EXPECT_EQ(run(limits, login, from_b, 0, wrong_password).status, 401);
    EXPECT_EQ(run(limits, login, from_b, 0).status, 429);
}

/// The shared store's rule as the PostgreSQL statement applies it, in memory; `down` makes
/// every call throw, as a lost database does.
class MemorySharedRates : public guards::SharedRateStore {
public:
    Taken take_rate(std::string_view key, std::int64_t now, std::int64_t interval,
                    std::int64_t tolerance) override {
        std::lock_guard lock(mutex);
        check();
        auto [it, fresh] = tat.try_emplace(std::string(key), now);
        std::int64_t next = std::max(it->second, now) + interval;
        if (next - now > tolerance) return {false, it->second};
        it->second = next;
        return {true, next};
    }
    void give_back_rate(std::string_view key, std::int64_t interval) override {
        std::lock_guard lock(mutex);
        check();
        if (auto it = tat.find(std::string(key)); it != tat.end()) it->second -= interval;
    }
    std::int64_t purge_rates(std::int64_t, std::int64_t) override { return 0; }
    void check() const {
        if (down) throw std::runtime_error("database unreachable");
    }

    std::mutex mutex;
    std::map<std::string, std::int64_t> tat;
    bool down = false;
};

class SharedRateLimitsTest : public RateLimitsTest {
protected:
    void TearDown() override { pool.join(); }
    http::Response run_shared(RateLimitPolicy& limits, const Route& route, const http::Request& r,
                              UserId user, Result<http::Response> outcome = http::Response{}) {
        RateTicket ticket;
        Result<http::Response> result = outcome;
        if (auto refusal = limits.admit(route, r, user, ticket)) {
            result = *refusal;
        } else if (!ticket.taken.empty()) {
            if (auto shared = testing::run_sync(limits.admit_shared(ticket))) result = *shared;
        }
        http::Response response;
        if (result) {
            response = *result;
        } else {
            response.status = result.error().code == ErrorCode::rate_limited ? 429 : 401;
            last_error = result.error();
        }
        if (ticket.shared) {
            testing::run_sync(limits.settle_shared(ticket, result, response));
        } else {
            limits.settle(ticket, result, response);
        }
        return response;
    }

    static RateClasses all() {
        RateClasses classes{};
        classes.fill(true);
        return classes;
    }

    MemorySharedRates store;
    WorkPool pool{"test-rates", {.threads = 1}};
};

TEST_F(SharedRateLimitsTest, NodesSharingTheStoreShareOneQuota) {
    auto node_a = make("read=4/1m");
    auto node_b = make("read=4/1m");
    node_a.share(store, pool, all());
    node_b.share(store, pool, all());
    auto r = request("198.51.100.1");
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200);
    EXPECT_EQ(run_shared(node_b, tokens, r, 7).status, 200);
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200);
    auto last = run_shared(node_b, tokens, r, 7);
    EXPECT_EQ(last.status, 200);
    EXPECT_EQ(header(last, "RateLimit-Remaining"), "0") << "the shared count, not node B's";
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 429) << "node A has taken only two";
    EXPECT_EQ(last_error.retry_after_seconds, 15);
    EXPECT_EQ(run_shared(node_b, tokens, r, 7).status, 429);
    clock.advance(15s);
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200);
    EXPECT_EQ(run_shared(node_b, tokens, r, 7).status, 429);
}

TEST_F(SharedRateLimitsTest, AFailedLoginLockoutHoldsOnEveryNodeAndSuccessesAreFree) {
    auto node_a = make("failed_login_user=2/15m");
    auto node_b = make("failed_login_user=2/15m");
    node_a.share(store, pool, all());
    node_b.share(store, pool, all());
    auto alice = request("198.51.100.1", R"({"username":"alice","password":"x"})");
    EXPECT_EQ(run_shared(node_a, login, alice, 0).status, 200);
    EXPECT_EQ(run_shared(node_b, login, alice, 0).status, 200) << "successes are handed back";
    EXPECT_EQ(run_shared(node_a, login, alice, 0, wrong_password).status, 401);
    EXPECT_EQ(run_shared(node_b, login, alice, 0, wrong_password).status, 401);
    EXPECT_EQ(run_shared(node_a, login, alice, 0).status, 429) << "two failures, one per node";
    EXPECT_NE(last_error.message.find("failed login"), std::string::npos);
    EXPECT_EQ(run_shared(node_b, login, alice, 0).status, 429);
}

TEST(SharedRateLimitsConfig, NamesTheLimitsAndRefusesUnknownOnes) {
    testing::ManualClock clock;
    Config config;
    auto guards = app::make_edge_guards(config, clock);
    ASSERT_TRUE(guards);
    for (bool shared : guards->shared_classes) EXPECT_TRUE(shared);  // "*" by default
    config.shared_rate_limits = "chat,failed_login_user";
    guards = app::make_edge_guards(config, clock);
    ASSERT_TRUE(guards);
    EXPECT_TRUE(guards->shared_classes[RateTable::index(guards::RateClass::chat)]);
    EXPECT_TRUE(guards->shared_classes[RateTable::index(guards::RateClass::failed_login_user)]);
    EXPECT_FALSE(guards->shared_classes[RateTable::index(guards::RateClass::read)]);
    config.shared_rate_limits = "";
    guards = app::make_edge_guards(config, clock);
    ASSERT_TRUE(guards);
    EXPECT_FALSE(guards->shared_classes[RateTable::index(guards::RateClass::chat)]);
    config.shared_rate_limits = "chat, reed";
    auto bad = app::make_edge_guards(config, clock);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("shared_rate_limits"), std::string::npos);
    EXPECT_NE(bad.error().message.find("reed"), std::string::npos);
}

TEST_F(SharedRateLimitsTest, OnlyTheChosenLimitsAreShared) {
    RateClasses chat_only{};
    chat_only[RateTable::index(guards::RateClass::chat)] = true;
    auto node_a = make("read=2/1m");
    node_a.share(store, pool, chat_only);
    auto r = request("198.51.100.1");
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200);
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200);
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 429) << "counted by the node alone";
    EXPECT_TRUE(store.tat.empty());
}

TEST_F(SharedRateLimitsTest, WithTheStoreUnreachableEachNodeLimitsAloneThenSharesAgain) {
    auto node_a = make("read=2/1m");
    node_a.share(store, pool, all());
    store.down = true;
    auto r = request("198.51.100.1");
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200) << "never refused for the outage";
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200);
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 429) << "the node's own limit holds";
    store.down = false;
    clock.advance(60s);  // past the retry pause, and the local quota whole again
    EXPECT_EQ(run_shared(node_a, tokens, r, 7).status, 200);
    EXPECT_EQ(store.tat.size(), 1u) << "counted in the shared store again";
}

}  // namespace
}  // namespace chatgate::api

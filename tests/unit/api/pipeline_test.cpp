// The request pipeline in process: the real dispatcher, route table, services and an in-memory
// SQLite store, driven with requests and no sockets. Each case checks one step of the order
// documented at api::Dispatcher.
#include "ai/model_factory.hpp"
#include "api/pipeline/dispatcher.hpp"
#include "app/edge_guards.hpp"
#include "app/settings.hpp"
#include "assets/assets.hpp"
#include "domain/accounts/credential_rules.hpp"
#include "domain/idempotency/idempotency_service.hpp"
#include "security/key_crypto.hpp"
#include "security/password_hasher.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "support/manual_clock.hpp"
#include "support/run_sync.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace chatgate::api {
namespace {

using namespace std::chrono_literals;

/// Everything Application::serve builds, on ":memory:" and one test thread.
class PipelineTest : public ::testing::Test {
protected:
    explicit PipelineTest(Config config = base_config()) : config_(std::move(config)) {}

    /// Django's common-password list takes a while to load: once for every case.
    static const domain::PasswordRules& password_rules() {
        static const domain::PasswordRules rules(std::string(assets::find("common-passwords.txt")));
        return rules;
    }

    static Config base_config() {
        Config config;
        config.models = default_models(config.chat_cost_tokens);
        config.rate_limits = "read=3/1m";
        config.cors_allowed_origins = "https://app.example";
        return config;
    }

    void SetUp() override {
        user_ = *store_.create_user({"alice", "not-a-hash", 4000, false, false});
        auto session = testing::run_sync(sessions_.start(user_));
        ASSERT_TRUE(session);
        security::SessionClaims claims{session->id, session->generation, session->epoch};
        access_ = jwt_.issue(user_, security::TokenType::access, 30min, claims);
    }

    void TearDown() override {
        writes_.join();
        reads_.join();
        hashes_.join();
    }

    http::Request request(http::Method method, std::string_view method_text, std::string_view path,
                          std::string_view body = {}) {
        http::Request r;
        r.method = method;
        r.method_text = method_text;
        r.target = path;
        r.path = path;
        r.body = body;
        r.remote_address = "192.0.2.7";
        r.headers.push_back({"Content-Type", "application/json"});
        return r;
    }
    http::Request authorized(http::Request r) {
        bearer_ = "Bearer " + access_;
        r.headers.push_back({"Authorization", bearer_});
        return r;
    }
    http::Response handle(const http::Request& r) {
        return testing::run_sync(dispatcher_.handle(r));
    }

    static std::string header(const http::Response& response, std::string_view name) {
        for (const auto& [n, v] : response.headers) {
            if (http::iequals(n, name)) return v;
        }
        return "<absent>";
    }
    static boost::json::value json(const http::Response& response) {
        return boost::json::parse(response.payload());
    }
    TokenAmount balance() { return store_.find_account(user_)->balance; }
    /// The money invariant: the balance is never negative and equals the sum of its ledger.
    void expect_ledger_matches_balance() {
        EXPECT_GE(balance(), 0);
        EXPECT_EQ(store_.ledger_sum(user_), balance());
    }

    Config config_;
    testing::ManualClock clock_;
    storage::SqliteStore store_{":memory:"};
    WorkPool reads_{"test-db-read", {.threads = 1}};
    WorkPool writes_{"test-db-write", {.threads = 1}};
    WorkPool hashes_{"test-hash", {.threads = 1}};
    DbPools db_{reads_, writes_};
    security::Argon2PasswordHasher hasher_{1, 8};  // libsodium's minimum (t=1, 8 KiB): fast
    security::JwtCodec jwt_{std::string(32, 'k'), clock_};
    ai::ModelRegistry models_{config_.models};
    domain::AccountService accounts_{store_, hasher_, password_rules(), db_, hashes_, 4000};
    domain::LedgerService ledger_{store_, db_, app::top_up_policy(config_)};
    domain::ChatService chat_{store_, models_.catalog(), db_, app::chat_policy(config_)};
    domain::ConversationService conversations_{store_, db_};
    domain::ResponseArchive responses_{store_, db_};
    domain::SessionService sessions_{store_, db_, clock_, app::session_policy(config_)};
    domain::IdempotencyService keys_{store_, db_, clock_, app::idempotency_policy(config_), "t"};
    security::SodiumKeyCrypto key_crypto_;
    domain::KeyService api_keys_{store_, key_crypto_, db_, clock_, app::key_policy(config_)};
    domain::AdminService admin_{
        store_,           store_,      store_, api_keys_, hasher_,
        password_rules(), key_crypto_, db_,    hashes_,   app::admin_policy(config_)};
    domain::CodeService codes_{store_, key_crypto_, db_, clock_, app::code_policy(config_)};
    domain::PaymentService payments_{
        store_, nullptr, nullptr, key_crypto_, db_, clock_, app::payment_policy(config_)};
    Services services_{.accounts = accounts_,
                       .sessions = sessions_,
                       .ledger = ledger_,
                       .chat = chat_,
                       .conversations = conversations_,
                       .responses = responses_,
                       .keys = api_keys_,
                       .admin = admin_,
                       .codes = codes_,
                       .payments = payments_,
                       .jwt = jwt_,
                       .store = store_,
                       .db_pool = reads_,
                       .settings = app::handler_settings(config_),
                       .schema_yaml = {}};
    Idempotency idempotency_{keys_, 2s, services_.settings.json};
    app::EdgeGuards guards_ = *app::make_edge_guards(config_, clock_);
    Dispatcher dispatcher_{services_, idempotency_, guards_.policies()};

    UserId user_ = 0;
    std::string access_;
    std::string bearer_;
};

TEST_F(PipelineTest, EveryAnswerCarriesTheRequestIdAndSecurityHeaders) {
    auto r = request(http::Method::get, "GET", "/healthz");
    r.headers.push_back({"X-Request-Id", "trace-42"});
    auto response = handle(r);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(header(response, "X-Request-Id"), "trace-42");
    EXPECT_NE(response.fixed_headers.find("X-Content-Type-Options: nosniff"), std::string::npos);

    auto generated = handle(request(http::Method::get, "GET", "/nowhere"));
    EXPECT_EQ(generated.status, 404);
    EXPECT_NE(header(generated, "X-Request-Id"), "<absent>");
    EXPECT_NE(header(generated, "X-Request-Id"), "trace-42");
}

TEST_F(PipelineTest, PagesCarryTheirContentSecurityPolicyAndApiAnswersNone) {
    auto chat_page = handle(request(http::Method::get, "GET", "/"));
    EXPECT_EQ(chat_page.status, 200);
    EXPECT_NE(chat_page.fixed_headers.find("X-Frame-Options: DENY"), std::string::npos);
    EXPECT_NE(chat_page.fixed_headers.find("Content-Security-Policy: default-src 'self'; "
                                           "script-src 'self'; style-src 'self'; "),
              std::string::npos);
    EXPECT_EQ(chat_page.fixed_headers.find("unsafe-inline"), std::string::npos);
    auto console = handle(request(http::Method::get, "GET", "/admin/"));
    EXPECT_EQ(console.status, 200);
    EXPECT_EQ(console.fixed_headers, chat_page.fixed_headers);

    auto docs = handle(request(http::Method::get, "GET", "/api/docs/"));
    EXPECT_NE(docs.fixed_headers.find("style-src 'self' 'unsafe-inline'"), std::string::npos);
    auto script = handle(request(http::Method::get, "GET", "/static/web/chat.js"));
    EXPECT_EQ(script.fixed_headers.find("Content-Security-Policy"), std::string::npos);
    EXPECT_EQ(header(script, "Cache-Control"), "no-cache");
    auto library = handle(request(http::Method::get, "GET", "/static/vendor/marked.esm.js"));
    EXPECT_EQ(header(library, "Cache-Control"), "public, max-age=86400");
    auto refused = handle(request(http::Method::get, "GET", "/api/tokens/"));
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(refused.fixed_headers.find("Content-Security-Policy"), std::string::npos);
}

TEST_F(PipelineTest, AnAssetTheBrowserHasIsA304WithoutABody) {
    auto first = handle(request(http::Method::get, "GET", "/static/web/chat.js"));
    ASSERT_EQ(first.status, 200);
    std::string tag = header(first, "ETag");
    ASSERT_EQ(tag.size(), 18u);
    EXPECT_FALSE(first.payload().empty());

    auto again = request(http::Method::get, "GET", "/static/web/chat.js");
    again.headers.push_back({"If-None-Match", tag});
    auto cached = handle(again);
    EXPECT_EQ(cached.status, 304);
    EXPECT_TRUE(cached.payload().empty());
    EXPECT_EQ(header(cached, "ETag"), tag);

    auto other = request(http::Method::get, "GET", "/static/web/api.js");
    other.headers.push_back({"If-None-Match", tag});
    EXPECT_EQ(handle(other).status, 200);  // another file's tag
}

TEST_F(PipelineTest, AProtectedRouteWithoutATokenIs401) {
    auto response = handle(request(http::Method::get, "GET", "/api/tokens/"));
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(json(response).at("detail"), "Authentication credentials were not provided.");
    EXPECT_EQ(response.route, "/api/tokens/");
}

TEST_F(PipelineTest, AWrongMethodIs405WithAllow) {
    auto response = handle(request(http::Method::put, "PUT", "/api/tokens/"));
    EXPECT_EQ(response.status, 405);
    EXPECT_EQ(header(response, "Allow"), "GET, HEAD, OPTIONS");
    EXPECT_EQ(json(response).at("detail"), "Method \"PUT\" not allowed.");
}

TEST_F(PipelineTest, OptionsAnswersThePreflightForAnAllowedOrigin) {
    auto r = request(http::Method::options, "OPTIONS", "/api/chat/");
    r.headers.push_back({"Origin", "https://app.example"});
    r.headers.push_back({"Access-Control-Request-Method", "POST"});
    auto response = handle(r);
    EXPECT_EQ(response.status, 204);
    EXPECT_EQ(header(response, "Allow"), "POST, OPTIONS");
    EXPECT_EQ(header(response, "Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_NE(header(response, "Access-Control-Allow-Methods"), "<absent>");

    auto other = request(http::Method::options, "OPTIONS", "/api/chat/");
    other.headers.push_back({"Origin", "https://evil.example"});
    EXPECT_EQ(header(handle(other), "Access-Control-Allow-Origin"), "<absent>");
}

TEST_F(PipelineTest, RateLimitsCountPerUserAndRefuseWith429AndRetryAfter) {
    auto r = authorized(request(http::Method::get, "GET", "/api/tokens/"));
    for (int i = 0; i < 3; ++i) {
        auto ok = handle(r);
        ASSERT_EQ(ok.status, 200);
        EXPECT_EQ(header(ok, "RateLimit-Limit"), "3");
        EXPECT_EQ(header(ok, "RateLimit-Remaining"), std::to_string(2 - i));
    }
    auto refused = handle(r);
    EXPECT_EQ(refused.status, 429);
    EXPECT_NE(header(refused, "Retry-After"), "<absent>");
    EXPECT_EQ(header(refused, "RateLimit-Remaining"), "0");
    EXPECT_EQ(refused.user_id, 0) << "a refused request is not the user's";
}

TEST_F(PipelineTest, ARevokedSessionIsRefusedOnTheNextRequest) {
    auto r = authorized(request(http::Method::get, "GET", "/api/tokens/"));
    EXPECT_EQ(handle(r).status, 200);
    auto claims = jwt_.verify(access_, security::TokenType::access);
    ASSERT_TRUE(claims);
    testing::run_sync(sessions_.end(user_, claims->session_id));
    auto response = handle(r);
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(json(response).at("code"), "token_not_valid");
}

TEST_F(PipelineTest, AnIllTypedPathParameterIs404BeforeTheHandler) {
    auto response = handle(authorized(request(http::Method::get, "GET", "/api/conversations/x/")));
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(json(response).at("detail"), "Not found.");
    auto anonymous = handle(request(http::Method::get, "GET", "/api/conversations/x/"));
    EXPECT_EQ(anonymous.status, 401) << "authentication comes before the path types";
}

TEST_F(PipelineTest, AnIdempotentRepeatReplaysTheFirstAnswerAndMovesNoTokens) {
    auto r = authorized(request(http::Method::post, "POST", "/api/top-up/", R"({"tokens": 50})"));
    r.headers.push_back({"Idempotency-Key", "top-up-1"});
    auto first = handle(r);
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(header(first, "Idempotent-Replayed"), "<absent>");
    auto again = handle(r);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(header(again, "Idempotent-Replayed"), "true");
    EXPECT_EQ(again.payload(), first.payload());
    EXPECT_EQ(balance(), 4050);

    auto other =
        authorized(request(http::Method::post, "POST", "/api/top-up/", R"({"tokens": 7})"));
    other.headers.push_back({"Idempotency-Key", "top-up-1"});
    EXPECT_EQ(handle(other).status, 422);
    EXPECT_EQ(balance(), 4050);
    expect_ledger_matches_balance();
}

TEST_F(PipelineTest, AStreamedChatWithAnIdempotencyKeyIsRefusedAndCostsNothing) {
    auto r = authorized(
        request(http::Method::post, "POST", "/api/chat/", R"({"message": "hi", "stream": true})"));
    r.headers.push_back({"Idempotency-Key", "stream-1"});
    auto response = handle(r);
    EXPECT_EQ(response.status, 400);
    EXPECT_FALSE(response.stream);
    EXPECT_EQ(balance(), 4000);
    expect_ledger_matches_balance();
}

TEST_F(PipelineTest, ErrorsUnderV1UseOpenAisShape) {
    auto response = handle(request(http::Method::post, "POST", "/v1/chat/completions", "{}"));
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(json(response).at("error").at("code"), "invalid_api_key");
    auto missing = handle(request(http::Method::get, "GET", "/v1/nothing"));
    EXPECT_EQ(missing.status, 404);
    EXPECT_TRUE(json(missing).at("error").is_object());
}

}  // namespace
}  // namespace chatgate::api

// ---- API keys and staff routes ----------------------------------------------------------------

namespace chatgate::api {
namespace {

class OperatorPipelineTest : public PipelineTest {
protected:
    http::Request with_bearer(http::Request r, const std::string& credential) {
        bearer_ = "Bearer " + credential;
        r.headers.push_back({"Authorization", bearer_});
        return r;
    }
    std::string new_key() {
        auto created = testing::run_sync(api_keys_.create(user_, {"k", {}, {}, {}}));
        EXPECT_TRUE(created);
        key_id_ = created->info.id;
        return created->key;
    }
    domain::ApiKeyId key_id_ = 0;
};

TEST_F(OperatorPipelineTest, AKeyAuthenticatesLikeATokenUntilItIsRevoked) {
    std::string key = new_key();
    auto ok = handle(with_bearer(request(http::Method::get, "GET", "/api/tokens/"), key));
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.user_id, user_);
    ASSERT_TRUE(testing::run_sync(api_keys_.revoke(user_, key_id_)));
    auto refused = handle(with_bearer(request(http::Method::get, "GET", "/api/tokens/"), key));
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(json(refused).at("code"), "token_not_valid");
}

TEST_F(OperatorPipelineTest, AKeyCannotMakeKeysOrReachTheAdminApi) {
    std::string key = new_key();
    auto make = handle(
        with_bearer(request(http::Method::post, "POST", "/api/keys/", R"({"name":"again"})"), key));
    EXPECT_EQ(make.status, 403);
    auto admin = handle(with_bearer(request(http::Method::get, "GET", "/api/admin/users/"), key));
    EXPECT_EQ(admin.status, 403);
}

TEST_F(OperatorPipelineTest, StaffRoutesAskTheDatabaseOnEveryRequest) {
    auto refused = handle(authorized(request(http::Method::get, "GET", "/api/admin/users/")));
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(json(refused).at("error"), "You do not have permission to perform this action.");
    domain::Actor cli{std::nullopt, "os:test", ""};
    ASSERT_TRUE(testing::run_sync(admin_.set_staff(cli, user_, true)));
    auto allowed = handle(authorized(request(http::Method::get, "GET", "/api/admin/users/")));
    EXPECT_EQ(allowed.status, 200);
    ASSERT_TRUE(testing::run_sync(admin_.set_staff(cli, user_, false)));
    EXPECT_EQ(handle(authorized(request(http::Method::get, "GET", "/api/admin/users/"))).status,
              403);
}

TEST_F(OperatorPipelineTest, AnAdminGrantMovesTheBalanceWithItsLedgerRow) {
    domain::Actor cli{std::nullopt, "os:test", ""};
    ASSERT_TRUE(testing::run_sync(admin_.set_staff(cli, user_, true)));
    auto granted = handle(authorized(
        request(http::Method::post, "POST", "/api/admin/users/" + std::to_string(user_) + "/grant/",
                R"({"tokens": 25, "reason": "test"})")));
    EXPECT_EQ(granted.status, 200);
    EXPECT_EQ(balance(), 4025);
    expect_ledger_matches_balance();
}

}  // namespace
}  // namespace chatgate::api

#include "app/application.hpp"

#include "ai/model_factory.hpp"
#include "api/ops/metrics_handlers.hpp"
#include "api/pages/docs_handlers.hpp"
#include "api/pipeline/dispatcher.hpp"
#include "app/core_services.hpp"
#include "app/edge_guards.hpp"
#include "app/metrics_wiring.hpp"
#include "app/settings.hpp"
#include "assets/assets.hpp"
#include "core/clock.hpp"
#include "core/work_pool.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/accounts/session_service.hpp"
#include "domain/chat/chat_service.hpp"
#include "domain/chat/conversation_service.hpp"
#include "domain/idempotency/idempotency_service.hpp"
#include "domain/ledger/ledger_service.hpp"
#include "http/server.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "payments/stripe_client.hpp"
#include "security/jwt.hpp"
#include "security/key_crypto.hpp"
#include "security/password_hasher.hpp"
#include "security/signing_key.hpp"
#include "security/stripe_signature.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <sys/stat.h>
#include <thread>

namespace chatgate::app {
namespace {

namespace net = boost::asio;

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Renews this node's lease every third of its time and refunds the open reservations of nodes
/// whose lease expired. A round that fails (the database away) is logged; the next one tries
/// again.
net::awaitable<void> keep_lease(domain::ChatService& chat, std::chrono::milliseconds lease) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        std::int64_t now = unix_ms();
        try {
            auto refunded = co_await chat.keep_lease(now, now + lease.count());
            if (refunded > 0) {
                log::warn("refunded the open chat reservations of a node whose lease expired",
                          {{"count", refunded}});
            }
        } catch (const std::exception& e) {
            log::warn("cannot renew this node's lease", {{"error", e.what()}});
        }
        timer.expires_after(lease / 3);
        boost::system::error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return;
    }
}

// How long a repeated Idempotency-Key request waits for the first one's answer before a 409.
constexpr std::chrono::seconds kIdempotencyWait{25};

std::size_t cores() {
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

Application::Application(Config config) : config_(std::move(config)) {
    // Everything chatgate creates (the data directory, the database and its -wal and -shm
    // files, the JWT key) is its user's alone.
    ::umask(077);
    log::Level level = log::Level::info;
    log::parse_level(config_.log_level, level);
    log::set_level(level);
}

int Application::migrate() {
    prepare_data_dir(config_);
    auto store = open_store(config_);
    std::cout << "database "
              << (config_.uses_postgresql() ? masked_database_url(config_.database_url)
                                            : config_.effective_database_path())
              << " is at schema version " << store->schema_version() << std::endl;
    return 0;
}

int Application::create_superuser(const std::string& username, const std::string& password) {
    prepare_data_dir(config_);
    Core core(config_);
    net::io_context io;
    domain::UserFlags flags{.is_staff = true, .is_superuser = true};
    auto created =
        net::co_spawn(io, core.accounts.register_user(username, password, flags), net::use_future);
    io.run();
    auto result = created.get();
    if (!result) {
        for (const auto& field : result.error().fields) {
            for (const auto& message : field.messages) {
                std::cerr << "Error (" << field.field << "): " << message << "\n";
            }
        }
        if (result.error().fields.empty()) std::cerr << "Error: " << result.error().message << "\n";
        return 1;
    }
    std::cout << "Superuser created successfully." << std::endl;
    return 0;
}

int Application::serve() {
    log::info("starting", {{"config", describe(config_)}});
    prepare_data_dir(config_);
    // Counting costs little, but nothing counts unless someone can read it.
    metrics::set_enabled(!config_.metrics_listen.empty() || !config_.metrics_token.empty());
    Core core(config_);
    collect_pool_depths(core.db_reads, core.db_writes, core.hash_pool);
    const Clock& clock = core.clock;
    security::JwtCodec jwt(security::load_signing_key(config_), clock);
    ai::ModelRegistry models(config_.models);
    domain::LedgerService ledger(core.store, core.db(), top_up_policy(config_));
    domain::ChatPolicy chats = chat_policy(config_);
    observe_chats(chats);
    domain::ChatService chat(core.store, models.catalog(), core.db(), chats);
    // Before the first reservation: a reservation of a node without a live lease is the other
    // nodes' to refund.
    const std::chrono::milliseconds lease = std::chrono::seconds(config_.node_lease_seconds);
    core.store.renew_lease(chats.node, unix_ms() + lease.count());
    // Before serving: a reservation this node left open when it was killed is refunded.
    if (auto recovered = chat.recover_open_reservations(); recovered > 0) {
        log::warn("refunded chat reservations left open", {{"count", recovered}});
    }
    // Then a retry of a request cut short by the crash runs afresh when nothing of it lasted.
    std::string idempotency_owner = chats.node + "#" + security::random_hex(8);
    if (auto released =
            core.store.release_abandoned_idempotency_keys(idempotency_owner, chats.node, unix_ms());
        released > 0) {
        log::warn("freed Idempotency-Keys of interrupted requests that moved no tokens",
                  {{"count", released}});
    }
    domain::ConversationService conversations(core.store, core.db());
    domain::ResponseArchive responses(core.store, core.db());
    domain::SessionService sessions(core.store, core.db(), clock, session_policy(config_));
    if (!config_.session_check_enabled) {
        log::warn(
            "UNSAFE: session_check_enabled is false; revoked tokens and deactivated users "
            "are accepted (a benchmark/testing setting, never for production)");
    }
    domain::IdempotencyService idempotency_keys(core.store, core.db(), clock,
                                                idempotency_policy(config_), idempotency_owner);
    // Payments: only with a `stripe` configuration (its secrets were read and checked at load).
    std::unique_ptr<security::StripeWebhookVerifier> webhook_verifier;
    std::unique_ptr<payments::StripeCheckoutClient> checkout_client;
    if (config_.stripe.enabled) {
        const auto& stripe = config_.stripe;
        webhook_verifier = std::make_unique<security::StripeWebhookVerifier>(
            stripe.webhook_secret, stripe.webhook_tolerance_seconds);
        checkout_client =
            std::make_unique<payments::StripeCheckoutClient>(payments::StripeClientSettings{
                stripe.url, stripe.secret_key, stripe.success_url, stripe.cancel_url,
                stripe.connect_timeout_ms, stripe.total_timeout_ms});
        if (config_.top_up_enabled) {
            log::warn(
                "selling tokens while POST /api/top-up/ gives them away free; set "
                "top_up_enabled=false");
        }
    }
    domain::PaymentService payment_service(core.store, webhook_verifier.get(),
                                           checkout_client.get(), core.key_crypto, core.db(), clock,
                                           payment_policy(config_));
    api::Services services{.accounts = core.accounts,
                           .sessions = sessions,
                           .ledger = ledger,
                           .chat = chat,
                           .conversations = conversations,
                           .responses = responses,
                           .keys = core.keys,
                           .admin = core.admin,
                           .codes = core.codes,
                           .payments = payment_service,
                           .jwt = jwt,
                           .store = core.store,
                           .db_pool = core.db_reads,
                           .settings = handler_settings(config_),
                           .schema_yaml = api::to_yaml(boost::json::parse(api::openapi_json()))};
    api::Idempotency idempotency(idempotency_keys, kIdempotencyWait, services.settings.json);
    auto guards = make_edge_guards(config_, clock);
    if (!guards) {
        std::cerr << "chatgate: " << guards.error().message << "\n";
        return 2;
    }
    if (auto* shared_rates = core.store.shared_rates(); guards->limits && shared_rates) {
        guards->limits->share(*shared_rates, core.db_reads, guards->shared_classes);
    }
    api::Dispatcher dispatcher(services, idempotency, guards->policies());

    std::size_t io_threads =
        config_.io_threads > 0 ? static_cast<std::size_t>(config_.io_threads) : cores();
    // One single-threaded io_context per I/O thread: connections need no strands or locks.
    std::vector<std::unique_ptr<net::io_context>> contexts;
    std::vector<net::io_context*> context_ptrs;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
    for (std::size_t i = 0; i < io_threads; ++i) {
        contexts.push_back(std::make_unique<net::io_context>(1));
        context_ptrs.push_back(contexts.back().get());
        keep_running.push_back(net::make_work_guard(*contexts.back()));
    }
    auto stop_all = [&contexts] {
        for (auto& context : contexts) context->stop();
    };
    net::io_context& io = *contexts.front();
    http::Server server(context_ptrs, dispatcher, server_limits(config_));
    std::string bound;
    try {
        bound = server.listen(config_.listen_host(), config_.listen_port());
    } catch (const std::exception& e) {
        log::error("cannot listen", {{"listen", config_.listen}, {"error", e.what()}});
        log::flush();
        std::cerr << "chatgate: cannot listen on " << config_.listen << ": " << e.what() << "\n";
        return 1;
    }
    // The metrics listener: GET /metrics only, on an address of its own.
    api::MetricsEndpoint metrics_endpoint;
    std::unique_ptr<http::Server> metrics_server;
    std::string metrics_bound;
    if (!config_.metrics_listen.empty()) {
        metrics_server =
            std::make_unique<http::Server>(context_ptrs, metrics_endpoint, server_limits(config_));
        try {
            metrics_bound = metrics_server->listen(config_.metrics_host(), config_.metrics_port());
        } catch (const std::exception& e) {
            log::error("cannot listen", {{"listen", config_.metrics_listen}, {"error", e.what()}});
            log::flush();
            std::cerr << "chatgate: cannot listen on " << config_.metrics_listen << ": " << e.what()
                      << "\n";
            return 1;
        }
        metrics_server->start();
    }
    server.start();
    net::co_spawn(*contexts.front(), keep_lease(chat, lease), net::detached);

    net::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(boost::system::error_code, int)> on_signal;
    bool draining = false;
    on_signal = [&](boost::system::error_code ec, int signal) {
        if (ec) return;
        if (draining) {  // a second signal: stop waiting for in-flight requests
            log::warn("second signal; stopping now", {{"signal", signal}});
            stop_all();
            return;
        }
        draining = true;
        log::info("shutting down", {{"signal", signal}});
        if (metrics_server) metrics_server->shutdown(std::chrono::milliseconds(0), [] {});
        server.shutdown(std::chrono::seconds(config_.shutdown_grace_seconds), stop_all);
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);

    // Before "listening on", which is what scripts wait for.
    if (metrics_server) std::cout << "metrics on http://" << metrics_bound << std::endl;
    std::cout << "listening on http://" << bound << std::endl;
    log::info("listening", {{"address", bound}, {"io_threads", io_threads}});

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < io_threads; ++i) {
        threads.emplace_back([context = contexts[i].get()] { context->run(); });
    }
    io.run();
    for (auto& t : threads) t.join();
    models.close_idle_connections();
    core.db_reads.join();
    core.db_writes.join();
    core.hash_pool.join();
    log::info("stopped");
    log::flush();
    return 0;
}

}  // namespace chatgate::app

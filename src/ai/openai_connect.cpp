// The OpenAI client's connections: the TLS context, resolving and connecting (TCP, then TLS),
// and the idle pool, per execution context.
#include "ai/anthropic_codec.hpp"
#include "ai/openai_transport.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace chatgate::ai {

using namespace openai;

OpenAiProvider::Impl::Impl(OpenAiSettings s)
    : settings(std::move(s)), tls_context(ssl::context::tls_client) {
    tls_context.set_default_verify_paths();
    tls_context.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls_context.native_handle(), TLS1_2_VERSION);
    target = settings.url.target("/chat/completions");
    embeddings_target = settings.url.target("/embeddings");
    host_header = settings.url.host_header();
    if (settings.protocol == UpstreamProtocol::anthropic) {
        target = settings.url.target("/messages");
        protocol_headers.emplace_back("anthropic-version", kAnthropicVersion);
        if (!settings.api_key.empty()) protocol_headers.emplace_back("x-api-key", settings.api_key);
    } else if (!settings.api_key.empty()) {
        authorization = "Bearer " + settings.api_key;
    }
}

std::unique_ptr<Connection> OpenAiProvider::Impl::take_idle(net::execution_context* context) {
    std::lock_guard lock(mutex);
    auto it = idle.find(context);
    if (it == idle.end()) return nullptr;
    auto& list = it->second;
    while (!list.empty()) {
        std::unique_ptr<Connection> connection = std::move(list.back());
        list.pop_back();
        if (Clock::now() - connection->idle_since < kMaxIdleAge && !connection->looks_closed()) {
            connection->reused = true;
            return connection;
        }
    }
    return nullptr;
}

void OpenAiProvider::Impl::put_idle(net::execution_context* context,
                                    std::unique_ptr<Connection> connection) {
    if (connection->buffer.size() != 0) return;  // unread bytes: not a clean boundary
    connection->idle_since = Clock::now();
    std::lock_guard lock(mutex);
    auto& list = idle[context];
    if (list.size() >= settings.max_idle_connections_per_thread) list.erase(list.begin());
    list.push_back(std::move(connection));
}

net::awaitable<std::unique_ptr<Connection>> OpenAiProvider::Impl::connect(AttemptFailure& failure,
                                                                          Clock::time_point end) {
    auto executor = co_await net::this_coro::executor;
    auto connection = std::make_unique<Connection>(executor, tls_context, settings.url.tls);
    milliseconds deadline = phase(settings.timeouts_ms.connect, end);
    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code ec;
    auto address = net::ip::make_address(settings.url.host, ec);
    bool by_address = !ec;
    if (by_address) {
        endpoints.emplace_back(address, settings.url.port);
    } else {
        // The resolver has no deadline of its own: a timer cancels it.
        tcp::resolver resolver(executor);
        net::steady_timer timer(executor, deadline);
        timer.async_wait([&resolver](boost::system::error_code wait_ec) {
            if (!wait_ec) resolver.cancel();
        });
        std::string port = std::to_string(settings.url.port);
        auto [resolve_ec, results] =
            co_await resolver.async_resolve(settings.url.host, port, kUseTuple);
        timer.cancel();
        if (resolve_ec) {
            // A resolver timeout is a connect error too: retried like one.
            failure = {Failure::connect, 0, std::nullopt, "resolve: " + resolve_ec.message()};
            co_return nullptr;
        }
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    connection->tcp().expires_after(deadline);
    auto [connect_ec, endpoint] = co_await connection->tcp().async_connect(endpoints, kUseTuple);
    if (connect_ec) {
        failure = {Failure::connect, 0, std::nullopt, "connect: " + connect_ec.message()};
        co_return nullptr;
    }
    connection->tcp().socket().set_option(tcp::no_delay(true));
    if (settings.url.tls) {
        // SNI carries names only; a literal address is matched against the certificate's IP
        // entries by the same verification callback.
        if (!by_address) {
            SSL_set_tlsext_host_name(connection->stream.native_handle(), settings.url.host.c_str());
        }
        connection->stream.set_verify_callback(ssl::host_name_verification(settings.url.host));
        auto [handshake_ec] =
            co_await connection->stream.async_handshake(ssl::stream_base::client, kUseTuple);
        if (handshake_ec) {
            failure = {Failure::connect, 0, std::nullopt,
                       "TLS handshake: " + handshake_ec.message()};
            co_return nullptr;
        }
    }
    co_return connection;
}

}  // namespace chatgate::ai

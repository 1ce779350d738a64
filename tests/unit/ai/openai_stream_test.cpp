// The OpenAI client against a scripted HTTP server on a real loopback socket: what arrives
// split at odd places, cut, malformed, late or never, and what the client sends.
#include "ai/openai_provider.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>

namespace chatgate::ai {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

struct Piece {
    std::string bytes;
    milliseconds delay{0};
};

/// What the server does with one request.
struct Script {
    std::vector<Piece> pieces;
    bool hold_open = false;  ///< then wait for the client to close
    bool close = false;      ///< close right after the pieces
};

std::string chunk(std::string_view data) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + std::string(data) + "\r\n";
}

const std::string kSseHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string delta_event(std::string_view text) {
    return "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + std::string(text) +
           "\"},\"finish_reason\":null}]}\n\n";
}

/// A loopback HTTP/1.1 server that answers request i with `script(i)`.
class ScriptedServer {
public:
    ScriptedServer(net::io_context& io, std::function<Script(std::size_t)> script)
        : io_(io),
          acceptor_(io, {net::ip::make_address("127.0.0.1"), 0}),
          script_(std::move(script)) {
        net::co_spawn(io_, accept_loop(), net::detached);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    std::vector<std::string> requests;
    int connections = 0;
    int closed_by_client = 0;

private:
    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
            if (ec) co_return;
            ++connections;
            socket.set_option(tcp::no_delay(true));
            net::co_spawn(io_, serve(new tcp::socket(std::move(socket))), net::detached);
        }
    }

    net::awaitable<void> serve(tcp::socket* raw) {
        std::unique_ptr<tcp::socket> socket(raw);
        std::string buffer;
        for (;;) {
            auto [ec, n] = co_await net::async_read_until(*socket, net::dynamic_buffer(buffer),
                                                          "\r\n\r\n", kTuple);
            if (ec) co_return;
            std::string head = buffer.substr(0, n);
            std::size_t length = 0;
            if (auto at = head.find("Content-Length: "); at != std::string::npos) {
                length = std::stoul(head.substr(at + 16));
            }
            while (buffer.size() < n + length) {
                char more[4096];
                auto [read_ec, got] = co_await socket->async_read_some(net::buffer(more), kTuple);
                if (read_ec) co_return;
                buffer.append(more, got);
            }
            requests.push_back(buffer.substr(0, n + length));
            buffer.erase(0, n + length);
            Script script = script_(requests.size() - 1);
            for (const auto& piece : script.pieces) {
                if (piece.delay.count() > 0) {
                    net::steady_timer timer(io_, piece.delay);
                    co_await timer.async_wait(kTuple);
                }
                auto [write_ec, written] =
                    co_await net::async_write(*socket, net::buffer(piece.bytes), kTuple);
                if (write_ec) co_return;
            }
            if (script.hold_open) {
                char sink[256];
                for (;;) {
                    auto [read_ec, got] =
                        co_await socket->async_read_some(net::buffer(sink), kTuple);
                    if (read_ec) break;
                }
                ++closed_by_client;
                co_return;
            }
            if (script.close) co_return;
        }
    }

    net::io_context& io_;
    tcp::acceptor acceptor_;
    std::function<Script(std::size_t)> script_;
};

OpenAiSettings settings_for(std::uint16_t port) {
    OpenAiSettings s;
    s.model_id = "test";
    s.url = *parse_base_url("http://127.0.0.1:" + std::to_string(port) + "/v1");
    s.upstream_model = "up-model";
    s.timeouts_ms = {1000, 1000, 1000, 5000};
    s.max_retries = 2;
    s.retry = {milliseconds(10), milliseconds(50), std::chrono::seconds(5)};
    return s;
}

/// Runs `task` on `io` until it finishes (the scripted server keeps io busy forever).
template <class T>
T run(net::io_context& io, net::awaitable<T> task) {
    std::optional<T> out;
    std::exception_ptr failure;
    net::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e) out.emplace(std::move(value));
        io.stop();
    });
    io.run();
    io.restart();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
}

struct Collected {
    std::string text;
    std::optional<Error> error;
    std::string finish_reason;
    domain::TokenUsage usage;
};

net::awaitable<Collected> collect(OpenAiProvider& provider) {
    domain::ChatPrompt prompt{{}, {{domain::ChatRole::user, "hi"}}, 0};
    Collected out;
    auto stream = co_await provider.stream(prompt);
    if (!stream) {
        out.error = stream.error();
        co_return out;
    }
    for (;;) {
        auto delta = co_await (*stream)->next();
        if (!delta) {
            out.error = delta.error();
            break;
        }
        if (!*delta) break;
        out.text += (*delta)->text;
    }
    out.finish_reason = (*stream)->finish_reason();
    out.usage = (*stream)->usage();
    co_return out;
}

Script good_stream() {
    std::string sse =
        ": ping\r\n\r\n" + delta_event("Hello") + delta_event(" world") +
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\n"
        "data: [DONE]\n\n";
    Script script;
    script.pieces.push_back({kSseHead});
    // HTTP chunks that split SSE lines, and writes that split HTTP chunks.
    for (std::size_t at = 0; at < sse.size(); at += 7) {
        std::string piece = chunk(sse.substr(at, 7));
        script.pieces.push_back({piece.substr(0, 3), milliseconds(1)});
        script.pieces.push_back({piece.substr(3)});
    }
    script.pieces.push_back({"0\r\n\r\n"});
    return script;
}

TEST(OpenAiStream, DeltasUsageAndFinishReasonThenTheConnectionIsReused) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t) { return good_stream(); });
    OpenAiProvider provider(settings_for(server.port()));
    for (int round = 0; round < 2; ++round) {
        Collected got = run(io, collect(provider));
        ASSERT_FALSE(got.error) << got.error->message;
        EXPECT_EQ(got.text, "Hello world");
        EXPECT_EQ(got.finish_reason, "stop");
        EXPECT_TRUE(got.usage.reported);
        EXPECT_EQ(got.usage.prompt_tokens, 9);
        EXPECT_EQ(got.usage.completion_tokens, 2);
    }
    EXPECT_EQ(server.connections, 1);
    ASSERT_EQ(server.requests.size(), 2u);
    const std::string& request = server.requests[0];
    EXPECT_TRUE(request.starts_with("POST /v1/chat/completions HTTP/1.1\r\n")) << request;
    EXPECT_NE(request.find("\"stream\":true"), std::string::npos) << request;
    EXPECT_NE(request.find("\"include_usage\":true"), std::string::npos) << request;
    EXPECT_NE(request.find("\"model\":\"up-model\""), std::string::npos) << request;
    EXPECT_EQ(request.find("Authorization"), std::string::npos) << request;  // no key set
}

TEST(OpenAiStream, ACutConnectionIsUpstreamUnavailable) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t) {
        return Script{
            {{kSseHead}, {chunk(delta_event("part"))}, {"1a\r\ndata: {\"cho"}}, false, true};
    });
    OpenAiProvider provider(settings_for(server.port()));
    Collected got = run(io, collect(provider));
    EXPECT_EQ(got.text, "part");
    ASSERT_TRUE(got.error);
    EXPECT_EQ(got.error->code, ErrorCode::upstream_unavailable);
}

TEST(OpenAiStream, MalformedDataIsUpstreamUnavailable) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t) {
        return Script{{{kSseHead}, {chunk("data: {broken\n\n")}, {"0\r\n\r\n"}}};
    });
    OpenAiProvider provider(settings_for(server.port()));
    Collected got = run(io, collect(provider));
    ASSERT_TRUE(got.error);
    EXPECT_EQ(got.error->code, ErrorCode::upstream_unavailable);
}

TEST(OpenAiStream, AStreamEndingWithoutDoneOrFinishReasonIsCut) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t) {
        return Script{{{kSseHead}, {chunk(delta_event("x"))}, {"0\r\n\r\n"}}};
    });
    OpenAiProvider provider(settings_for(server.port()));
    Collected got = run(io, collect(provider));
    ASSERT_TRUE(got.error);
    EXPECT_EQ(got.error->code, ErrorCode::upstream_unavailable);
}

TEST(OpenAiStream, SilenceBetweenChunksHitsTheIdleDeadline) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t) {
        return Script{{{kSseHead}, {chunk(delta_event("x"))}}, true};
    });
    auto settings = settings_for(server.port());
    settings.timeouts_ms.idle = 150;
    OpenAiProvider provider(settings);
    auto started = std::chrono::steady_clock::now();
    Collected got = run(io, collect(provider));
    auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(got.error);
    EXPECT_EQ(got.error->code, ErrorCode::upstream_timeout);
    EXPECT_GE(elapsed, milliseconds(140));
    EXPECT_LT(elapsed, milliseconds(1000));
}

TEST(OpenAiStream, CancelClosesTheUpstreamSocket) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t) {
        return Script{{{kSseHead}, {chunk(delta_event("x"))}}, true};
    });
    OpenAiProvider provider(settings_for(server.port()));
    auto task = [&]() -> net::awaitable<std::optional<Error>> {
        domain::ChatPrompt prompt{{}, {{domain::ChatRole::user, "hi"}}, 0};
        auto stream = co_await provider.stream(prompt);
        if (!stream) co_return stream.error();
        auto first = co_await (*stream)->next();
        EXPECT_TRUE(first && *first);
        domain::ChatStream* raw = stream->get();
        net::steady_timer timer(co_await net::this_coro::executor, milliseconds(20));
        timer.async_wait([raw](boost::system::error_code) { raw->cancel(); });
        auto second = co_await raw->next();  // would wait a full second without the cancel
        if (second) co_return std::nullopt;
        co_return second.error();
    };
    auto started = std::chrono::steady_clock::now();
    std::optional<Error> error = run(io, task());
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, ErrorCode::upstream_unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(800));
    // Let the server notice the close.
    run(io, [&]() -> net::awaitable<int> {
        for (int i = 0; i < 100 && server.closed_by_client == 0; ++i) {
            net::steady_timer wait(co_await net::this_coro::executor, milliseconds(5));
            co_await wait.async_wait(kTuple);
        }
        co_return 0;
    }());
    EXPECT_EQ(server.closed_by_client, 1);
}

TEST(OpenAiStream, RetriesA503ThenStreams) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t i) {
        if (i == 0) {
            return Script{{{"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"}}};
        }
        return good_stream();
    });
    OpenAiProvider provider(settings_for(server.port()));
    Collected got = run(io, collect(provider));
    ASSERT_FALSE(got.error) << got.error->message;
    EXPECT_EQ(got.text, "Hello world");
    EXPECT_EQ(server.requests.size(), 2u);
    EXPECT_EQ(server.connections, 1);  // the error answer left the connection usable
}

TEST(OpenAiStream, A429BeyondTheCapIsRateLimitedWithItsRetryAfter) {
    net::io_context io;
    ScriptedServer server(io, [](std::size_t) {
        return Script{
            {{"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 60\r\nContent-Length: 0\r\n\r\n"}}};
    });
    OpenAiProvider provider(settings_for(server.port()));
    Collected got = run(io, collect(provider));
    ASSERT_TRUE(got.error);
    EXPECT_EQ(got.error->code, ErrorCode::rate_limited);
    EXPECT_EQ(got.error->retry_after_seconds, 60);
    EXPECT_EQ(server.requests.size(), 1u);
}

TEST(OpenAiComplete, AnswerLargerThanTheLimitIsRefused) {
    net::io_context io;
    std::string body =
        "{\"choices\":[{\"message\":{\"content\":\"" + std::string(5000, 'x') + "\"}}]}";
    ScriptedServer server(io, [&](std::size_t) {
        return Script{{{"HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body}}};
    });
    auto settings = settings_for(server.port());
    settings.max_body_bytes = 1000;
    OpenAiProvider provider(settings);
    domain::ChatPrompt prompt{{}, {{domain::ChatRole::user, "hi"}}, 0};
    auto answer = run(io, provider.complete(prompt));
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error().code, ErrorCode::upstream_unavailable);
}

}  // namespace
}  // namespace chatgate::ai

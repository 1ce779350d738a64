// A canned OpenAI-compatible upstream for the benchmarks: every POST gets the same
// chat.completion, or, when its body asks for `"stream":true`, the same server-sent events:
// CHUNKS deltas GAP_MS apart, a finish chunk, a usage chunk and [DONE]. It does no work per
// request beyond finding the end of the body, so it is never what a benchmark measures.
//
//   chatgate_canned_upstream [--chunks N] [--gap-ms MS]    prints "listening on http://..."
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

namespace {

struct Options {
    int chunks = 20;
    int gap_ms = 10;
};

const std::string kCompletion =
    R"({"id":"chatcmpl-canned","object":"chat.completion","created":1700000000,"model":"bench",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello! I am fine, thank )"
    R"(you."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,)"
    R"("total_tokens":20}})";

std::string chunk(std::string_view payload) {
    std::string data = "data: " + std::string(payload) + "\n\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

std::string delta(int i) {
    return chunk(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"bench",)"
                 R"("choices":[{"index":0,"delta":{"content":"w)" +
                 std::to_string(i) + R"( "},"finish_reason":null}]})");
}

std::size_t content_length(std::string_view head) {
    std::string lower(head);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = lower.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::strtoul(lower.c_str() + at + 17, nullptr, 10);
}

/// `"stream": true` anywhere in the body, with or without a space after the colon.
bool asks_to_stream(std::string_view body) {
    for (auto at = body.find("\"stream\":"); at != std::string_view::npos;
         at = body.find("\"stream\":", at + 1)) {
        std::string_view rest = body.substr(at + 9);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        if (rest.substr(0, 4) == "true") return true;
    }
    return false;
}

net::awaitable<void> stream_answer(tcp::socket& socket, const Options& options) {
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    auto [ec, n] = co_await net::async_write(socket, net::buffer(head), kTuple);
    net::steady_timer timer(socket.get_executor());
    for (int i = 0; i < options.chunks && !ec; ++i) {
        if (i > 0) {
            timer.expires_after(std::chrono::milliseconds(options.gap_ms));
            co_await timer.async_wait(kTuple);
        }
        std::tie(ec, n) = co_await net::async_write(socket, net::buffer(delta(i)), kTuple);
    }
    std::string tail =
        chunk(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"bench",)"
              R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})") +
        chunk(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"bench",)"
              R"("choices":[],"usage":{"prompt_tokens":12,"completion_tokens":)" +
              std::to_string(options.chunks) + "," + R"("total_tokens":)" +
              std::to_string(12 + options.chunks) + "}}") +
        chunk("[DONE]") + "0\r\n\r\n";
    if (!ec) co_await net::async_write(socket, net::buffer(tail), kTuple);
}

net::awaitable<void> serve(tcp::socket socket, const Options& options) {
    socket.set_option(tcp::no_delay(true));
    std::string buffer;
    for (;;) {
        auto [ec, n] =
            co_await net::async_read_until(socket, net::dynamic_buffer(buffer), "\r\n\r\n", kTuple);
        if (ec) co_return;
        std::size_t body = content_length(std::string_view(buffer).substr(0, n));
        if (buffer.size() < n + body) {
            auto [bec, bn] =
                co_await net::async_read(socket, net::dynamic_buffer(buffer),
                                         net::transfer_exactly(n + body - buffer.size()), kTuple);
            if (bec) co_return;
        }
        bool stream = asks_to_stream(std::string_view(buffer).substr(n, body));
        buffer.erase(0, n + body);
        if (stream) {
            co_await stream_answer(socket, options);
            continue;
        }
        std::string answer =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(kCompletion.size()) + "\r\n\r\n" + kCompletion;
        auto [wec, wn] = co_await net::async_write(socket, net::buffer(answer), kTuple);
        if (wec) co_return;
    }
}

net::awaitable<void> accept(tcp::acceptor& acceptor, const Options& options) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kTuple);
        if (ec) co_return;
        net::co_spawn(acceptor.get_executor(), serve(std::move(socket), options), net::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view flag = argv[i];
        if (flag == "--chunks") options.chunks = std::atoi(argv[i + 1]);
        if (flag == "--gap-ms") options.gap_ms = std::atoi(argv[i + 1]);
    }
    net::io_context io(1);
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { io.stop(); });
    net::co_spawn(io, accept(acceptor, options), net::detached);
    std::cout << "listening on http://127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
    io.run();
    return 0;
}

// Streamed response bodies through a real http::Server on 127.0.0.1:0, driven by a test handler
// and read with a plain socket.

#include "http/server.hpp"
#include "support/default_settings.hpp"
#include "unit/http/socket_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace chatgate::http {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using testing::decode_chunks;
using testing::SocketClient;

/// Opened from the test thread; awaited by a producer on the server's thread.
class Gate {
public:
    explicit Gate(net::io_context& ioc)
        : ioc_(ioc), timer_(ioc, net::steady_timer::time_point::max()) {}
    net::awaitable<void> wait() {
        while (!open_) co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
    /// Call on the server's thread.
    void open_here() {
        open_ = true;
        timer_.cancel();
    }
    void open() {
        net::post(ioc_, [this] { open_here(); });
    }

private:
    net::io_context& ioc_;
    net::steady_timer timer_;
    bool open_ = false;
};

/// Answers "/plain" with a small fixed body and everything else with `stream`.
class TestHandler final : public RequestHandler {
public:
    std::shared_ptr<StreamedBody> stream;
    std::string content_type = "text/event-stream";

    net::awaitable<Response> handle(const Request& request) override {
        Response response;
        if (request.path == "/plain") {
            response.body = "plain";
        } else {
            response.content_type = content_type;
            response.stream = stream;
        }
        co_return response;
    }
    Response transport_error(TransportError, const Request&) override {
        Response response;
        response.status = 400;
        response.close = true;
        return response;
    }
};

constexpr std::string_view kGet = "GET /events HTTP/1.1\r\nHost: t\r\n\r\n";

class StreamingTest : public ::testing::Test {
protected:
    void start(ServerLimits limits = chatgate::testing::default_server_limits()) {
        server_ = std::make_unique<Server>(std::vector<net::io_context*>{&ioc_}, handler_, limits);
        auto bound = server_->listen("127.0.0.1", 0);
        port_ = static_cast<std::uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
        server_->start();
        thread_ = std::thread([this] { ioc_.run(); });
    }

    void TearDown() override {
        if (!server_) return;
        server_->shutdown(0ms, [this] { ioc_.stop(); });
        thread_.join();
    }

    void stream_with(std::function<net::awaitable<void>(BodyWriter&)> produce,
                     std::string keepalive_piece = {},
                     std::chrono::milliseconds interval = 15000ms) {
        handler_.stream = std::make_shared<StreamedBody>(
            StreamedBody{std::move(produce), std::move(keepalive_piece), interval});
    }

    static std::size_t body_start(const SocketClient& client) {
        return client.received.find("\r\n\r\n") + 4;
    }

    TestHandler handler_;
    net::io_context ioc_;
    std::unique_ptr<Server> server_;
    std::thread thread_;
    std::uint16_t port_ = 0;
    Gate gate_{ioc_};
};

TEST_F(StreamingTest, ChunksArriveAsTheyAreWritten) {
    stream_with([this](BodyWriter& out) -> net::awaitable<void> {
        co_await out.write("first");
        co_await gate_.wait();
        co_await out.write("second");
    });
    start();
    SocketClient client(port_);
    client.send(kGet);
    ASSERT_TRUE(client.read_until("5\r\nfirst\r\n"));
    std::string head = client.received.substr(0, body_start(client));
    EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("Cache-Control: no-cache\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("X-Accel-Buffering: no\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
    EXPECT_EQ(client.received.find("second"), std::string::npos);

    gate_.open();
    ASSERT_TRUE(client.read_until("0\r\n\r\n", body_start(client)));
    auto chunks = decode_chunks(client.received, body_start(client));
    EXPECT_TRUE(chunks.complete);
    EXPECT_EQ(chunks.pieces, (std::vector<std::string>{"first", "second"}));

    // The connection stays usable after a finished stream.
    client.received.clear();
    client.send("GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_until("\r\n\r\nplain"));
}

TEST_F(StreamingTest, KeepalivePiecesFillTheSilenceWithoutInterleaving) {
    stream_with(
        [this](BodyWriter& out) -> net::awaitable<void> {
            co_await out.write("data: a\n\n");
            co_await gate_.wait();
            co_await out.write("data: b\n\n");
        },
        ": ping\n\n", 5ms);
    start();
    SocketClient client(port_);
    client.send(kGet);
    ASSERT_TRUE(client.read_until("data: a"));
    ASSERT_TRUE(client.read_until_count(": ping", 3));
    gate_.open();
    ASSERT_TRUE(client.read_until("data: b"));
    ASSERT_TRUE(client.read_until("0\r\n\r\n", body_start(client)));

    auto chunks = decode_chunks(client.received, body_start(client));
    ASSERT_TRUE(chunks.complete);
    ASSERT_GE(chunks.pieces.size(), 5u);
    EXPECT_EQ(chunks.pieces.front(), "data: a\n\n");
    EXPECT_EQ(chunks.pieces.back(), "data: b\n\n");
    for (std::size_t i = 1; i + 1 < chunks.pieces.size(); ++i) {
        EXPECT_EQ(chunks.pieces[i], ": ping\n\n") << i;
    }
}

TEST_F(StreamingTest, ClientClosingCallsOnClientGoneOnceWhileTheProducerWaits) {
    std::promise<void> gone_seen;
    std::promise<bool> late_write;
    int callbacks = 0;
    stream_with([&](BodyWriter& out) -> net::awaitable<void> {
        out.on_client_gone([&] {
            if (++callbacks == 1) gone_seen.set_value();
            gate_.open_here();
        });
        co_await out.write("hello");
        co_await gate_.wait();  // stands for an upstream that has nothing to say yet
        bool ok = co_await out.write("late");
        ok = co_await out.write("later") || ok;
        late_write.set_value(ok || !out.client_gone());
    });
    start();
    {
        SocketClient client(port_);
        client.send(kGet);
        ASSERT_TRUE(client.read_until("hello"));
    }
    ASSERT_EQ(gone_seen.get_future().wait_for(5s), std::future_status::ready);
    auto late = late_write.get_future();
    ASSERT_EQ(late.wait_for(5s), std::future_status::ready);
    EXPECT_FALSE(late.get());
    std::promise<int> count;
    net::post(ioc_, [&] { count.set_value(callbacks); });
    EXPECT_EQ(count.get_future().get(), 1);
}

TEST_F(StreamingTest, Http10BodyIsCloseDelimited) {
    stream_with([](BodyWriter& out) -> net::awaitable<void> {
        co_await out.write("one ");
        co_await out.write("two");
    });
    handler_.content_type = "text/plain";
    start();
    SocketClient client(port_);
    client.send("GET /events HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(client.read_until_closed());
    std::string head = client.received.substr(0, body_start(client));
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
    EXPECT_EQ(head.find("Cache-Control"), std::string::npos) << head;
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos) << head;
    EXPECT_EQ(client.received.substr(body_start(client)), "one two");
}

TEST_F(StreamingTest, HeadSendsTheHeadWithoutRunningTheProducer) {
    std::atomic<bool> produced{false};
    stream_with([&](BodyWriter& out) -> net::awaitable<void> {
        produced = true;
        co_await out.write("never");
    });
    start();
    SocketClient client(port_);
    client.send("HEAD /events HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_until("\r\n\r\n"));
    EXPECT_NE(client.received.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
    client.received.clear();
    client.send("GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_until("\r\n\r\nplain"));
    EXPECT_TRUE(client.received.starts_with("HTTP/1.1 200")) << client.received;
    EXPECT_FALSE(produced);
}

TEST_F(StreamingTest, SlowConsumerHitsTheWriteDeadline) {
    std::promise<std::size_t> written;
    std::atomic<bool> told_gone{false};
    stream_with([&](BodyWriter& out) -> net::awaitable<void> {
        out.on_client_gone([&] { told_gone = true; });
        std::string piece(64 * 1024, 'x');
        std::size_t total = 0;
        // Far more than any socket buffer holds: the deadline must end this loop.
        while (total < (256u << 20) && co_await out.write(piece)) total += piece.size();
        written.set_value(total);
    });
    ServerLimits limits = chatgate::testing::default_server_limits();
    limits.request_timeout = 200ms;
    start(limits);
    SocketClient client(port_, 4096);
    client.send(kGet);  // and never read
    auto result = written.get_future();
    ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
    EXPECT_LT(result.get(), 256u << 20);
    EXPECT_TRUE(told_gone);
}

TEST_F(StreamingTest, PipelinedRequestIsAnsweredAfterTheStream) {
    stream_with([this](BodyWriter& out) -> net::awaitable<void> {
        co_await out.write("streamed");
        co_await gate_.wait();
    });
    start();
    SocketClient client(port_);
    client.send(kGet);
    ASSERT_TRUE(client.read_until("streamed"));
    client.send("GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
    gate_.open();
    ASSERT_TRUE(client.read_until("\r\n\r\nplain"));
    auto chunks = decode_chunks(client.received, body_start(client));
    ASSERT_TRUE(chunks.complete);
    EXPECT_EQ(chunks.pieces, std::vector<std::string>{"streamed"});
    EXPECT_EQ(client.received.find("HTTP/1.1 200", chunks.end), chunks.end);
}

TEST_F(StreamingTest, DrainingLetsAStreamFinishWithinTheGrace) {
    stream_with([this](BodyWriter& out) -> net::awaitable<void> {
        co_await out.write("before");
        co_await gate_.wait();
        co_await out.write("after");
    });
    start();
    SocketClient client(port_);
    client.send(kGet);
    ASSERT_TRUE(client.read_until("before"));
    std::promise<void> drained;
    server_->shutdown(10s, [&] { drained.set_value(); });
    gate_.open();
    ASSERT_TRUE(client.read_until_closed());
    auto chunks = decode_chunks(client.received, body_start(client));
    EXPECT_TRUE(chunks.complete);
    EXPECT_EQ(chunks.pieces, (std::vector<std::string>{"before", "after"}));
    EXPECT_EQ(drained.get_future().wait_for(5s), std::future_status::ready);
}

TEST_F(StreamingTest, DrainingForceClosesAStreamAfterTheGrace) {
    stream_with([this](BodyWriter& out) -> net::awaitable<void> {
        out.on_client_gone([this] { gate_.open_here(); });
        co_await out.write("before");
        co_await gate_.wait();  // only the transport closing the connection ends this
    });
    start();
    SocketClient client(port_);
    client.send(kGet);
    ASSERT_TRUE(client.read_until("before"));
    std::promise<void> drained;
    server_->shutdown(50ms, [&] { drained.set_value(); });
    ASSERT_TRUE(client.read_until_closed());
    EXPECT_FALSE(decode_chunks(client.received, body_start(client)).complete);
    EXPECT_EQ(drained.get_future().wait_for(5s), std::future_status::ready);
}

}  // namespace
}  // namespace chatgate::http

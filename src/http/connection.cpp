#include "http/connection.hpp"

#include "http/beast_request.hpp"
#include "http/streaming.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace chatgate::http {
namespace {

/// The request counter and duration histogram, by route template (never the raw path: the
/// label set stays the route table's size) and method. The duration runs to the answer's
/// write (for a stream, to its end).
void count_request(const Request& request, const Response& response,
                   std::chrono::steady_clock::duration elapsed) {
    if (!metrics::enabled()) return;
    auto& m = metrics::registry();
    std::string_view method = to_string(request.method);
    char status[8];
    auto [end, ec] = std::to_chars(status, status + sizeof status, response.status);
    m.http_requests.with({response.route, method, std::string_view(status, end - status)}).add();
    m.http_duration.with({response.route, method}).observe(elapsed);
}

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

/// Drops the views into the previous request's (now destroyed) message, keeping the capacity.
void forget_previous(Request& request) {
    request.method = Method::other;
    request.method_text = request.target = request.path = request.query = request.body = {};
    request.headers.clear();
    request.version = 11;
}

class BeastConnection final : public Connection,
                              public std::enable_shared_from_this<BeastConnection> {
public:
    BeastConnection(tcp::socket socket, RequestHandler& handler, const ServerLimits& limits,
                    std::function<void(Connection*)> on_end, std::optional<TransportError> refuse)
        : stream_(std::move(socket)),
          handler_(handler),
          limits_(limits),
          on_end_(std::move(on_end)),
          refuse_at_once_(refuse) {
        boost::system::error_code ec;
        auto peer = stream_.socket().remote_endpoint(ec);
        if (!ec) remote_ = peer.address().to_string();
        metrics::registry().connections.add(1);
    }
    ~BeastConnection() override { metrics::registry().connections.add(-1); }

    void start() {
        net::co_spawn(
            stream_.get_executor(), [self = shared_from_this()] { return self->run(); },
            [self = shared_from_this()](std::exception_ptr failure) {
                if (failure) {
                    try {
                        std::rethrow_exception(failure);
                    } catch (const std::exception& e) {
                        log::error("connection failed", {{"error", e.what()}});
                    }
                }
                self->on_end_(self.get());
            });
    }

    void request_stop() override {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            self->stopping_ = true;
            if (!self->busy_) self->stream_.cancel();
        });
    }

    void force_close() override {
        net::post(stream_.get_executor(), [self = shared_from_this()] { self->stream_.close(); });
    }

private:
    net::awaitable<void> run() {
        if (refuse_at_once_) {
            // Over a cap: the answer is all this connection costs, and briefly.
            busy_ = true;
            Request request;
            request.remote_address = remote_;
            request.received_at = std::chrono::steady_clock::now();
            Response response = handler_.transport_error(*refuse_at_once_, request);
            if (!co_await write(request, response, false)) co_return;
            boost::system::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            co_await linger(kBriefLinger);
            co_return;
        }
        // Bounded: a pipelining client cannot make us buffer more than one maximal request.
        beast::flat_buffer buffer(limits_.max_header_bytes + limits_.max_body_bytes + 8192);
        Request request;
        request.remote_address = remote_;
        for (bool first = true; !stopping_; first = false) {
            busy_ = false;
            forget_previous(request);
            bhttp::request_parser<bhttp::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
            parser.body_limit(limits_.max_body_bytes);
            if (!co_await await_request(buffer, first)) co_return;
            auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer, parser, kTuple);
            busy_ = true;
            request.received_at = std::chrono::steady_clock::now();
            if (ec) {
                // What was read of the head (a body refused by its Content-Length comes with the
                // whole request line) decides the shape of the answer, such as /v1's.
                view_request(parser.get(), request);
                co_await answer_unreadable(ec, request);
                co_return;
            }
            stream_.expires_after(limits_.request_timeout);
            auto& msg = parser.get();
            view_request(msg, request);
            if (auto refused = check_head(request, limits_)) {
                co_await refuse(*refused, request);
                co_return;
            }
            if (beast::iequals(msg[bhttp::field::expect], "100-continue")) {
                constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
                auto [wec, wn] = co_await net::async_write(stream_, net::buffer(kContinue), kTuple);
                if (wec) co_return;
            }
            if (!parser.is_done()) {
                auto [bec, bn] = co_await bhttp::async_read(stream_, buffer, parser, kTuple);
                if (bec) {
                    view_request(msg, request);
                    co_await answer_unreadable(bec, request);
                    co_return;
                }
            }
            view_request(msg, request);
            Response response = co_await handler_.handle(request);
            bool keep_alive = msg.keep_alive() && !response.close && !stopping_;
            if (response.stream && request.method != Method::head) {
                // Draining may have begun while the body was produced.
                keep_alive =
                    co_await write_streamed(request, response, keep_alive, buffer) && !stopping_;
            } else if (!co_await write(request, response, keep_alive)) {
                co_return;
            }
            if (!keep_alive) break;
        }
        boost::system::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    /// Waits for the first byte of the next request (unless it is already buffered), then arms
    /// the header deadline: the whole header must arrive within it, however slowly it trickles
    /// in. A new connection's first request gets the header deadline from the accept on, so a
    /// silent connection is not held for the idle timeout. False when the connection is over.
    net::awaitable<bool> await_request(beast::flat_buffer& buffer, bool first) {
        if (buffer.size() > 0) {
            stream_.expires_after(limits_.header_timeout);
            co_return true;
        }
        constexpr std::size_t kFirstRead = 8192;
        stream_.expires_after(first ? limits_.header_timeout : limits_.idle_timeout);
        auto [ec, n] = co_await stream_.async_read_some(buffer.prepare(kFirstRead), kTuple);
        buffer.commit(n);
        if (!first) stream_.expires_after(limits_.header_timeout);
        co_return n > 0;  // else closed, timed out or cancelled (draining): nobody to answer
    }

    /// Answers a request that failed to read (when there is anyone left to answer).
    net::awaitable<void> answer_unreadable(boost::system::error_code ec, Request& request) {
        if (auto kind = classify_read_error(ec)) co_await refuse(*kind, request);
    }

    /// Answers a request the transport will not pass on, then closes the connection.
    net::awaitable<void> refuse(TransportError kind, Request& request) {
        Response response = handler_.transport_error(kind, request);
        stream_.expires_after(limits_.request_timeout);
        if (!co_await write(request, response, false)) co_return;
        boost::system::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_await linger(kRefusedRequestLinger);
    }

    /// How long a closing connection keeps reading and discarding.
    struct Linger {
        std::chrono::seconds max_time;
        std::chrono::seconds max_silence;
        std::size_t max_bytes;
    };
    /// Clients such as Python's http.client send a whole body before they read: a refused
    /// 8 MiB upload sees its 413 only if we keep reading. Like nginx's lingering close.
    static constexpr Linger kRefusedRequestLinger{std::chrono::seconds(30), std::chrono::seconds(5),
                                                  64 * 1024 * 1024};
    /// Over a connection cap: enough for a request head to arrive and be dropped, no more.
    static constexpr Linger kBriefLinger{std::chrono::seconds(2), std::chrono::seconds(1),
                                         64 * 1024};

    /// Reads and discards what the client is still sending, so that closing does not reset the
    /// connection (and destroy our answer) while its request is still arriving.
    net::awaitable<void> linger(Linger bounds) {
        const auto give_up = std::chrono::steady_clock::now() + bounds.max_time;
        std::array<char, 16384> sink;
        for (std::size_t drained = 0; drained < bounds.max_bytes;) {
            auto left = give_up - std::chrono::steady_clock::now();
            if (left <= std::chrono::steady_clock::duration::zero()) break;
            stream_.expires_after(
                std::min<std::chrono::steady_clock::duration>(left, bounds.max_silence));
            auto [ec, n] = co_await stream_.async_read_some(net::buffer(sink), kTuple);
            if (ec) break;  // the client closed (it has read the answer), or a deadline passed
            drained += n;
        }
    }

    /// Writes the answer and the access-log line; false when the connection is gone. The head
    /// is rendered straight into one buffer and sent with the body in a single gathered write,
    /// which costs far less than building a Beast message field by field.
    net::awaitable<bool> write(const Request& request, const Response& response, bool keep_alive) {
        stream_.expires_after(limits_.request_timeout);
        std::string_view payload = response.payload();
        // 204 and 304 never have a body, nor a length for one.
        bool no_body = response.status == 204 || response.status == 304;
        bool bodiless = request.method == Method::head || no_body;
        char framing[48] = "";
        if (response.stream && request.version >= 11) {
            std::snprintf(framing, sizeof framing, "Transfer-Encoding: chunked\r\n");
        } else if (!no_body && !response.stream) {
            std::snprintf(framing, sizeof framing, "Content-Length: %zu\r\n", payload.size());
        }
        std::string head = render_head(request, response, keep_alive, framing);
        std::array<net::const_buffer, 2> buffers{
            net::buffer(head), bodiless ? net::const_buffer() : net::buffer(payload)};
        // Counted before the write: a client that has its answer sees it counted.
        count_request(request, response, std::chrono::steady_clock::now() - request.received_at);
        auto [ec, n] = co_await net::async_write(stream_, buffers, kTuple);
        log_access(request, response, payload.size(), !ec);
        co_return !ec;
    }

    /// Sends the head and the producer's body; true when the connection can carry another
    /// request.
    net::awaitable<bool> write_streamed(const Request& request, const Response& response,
                                        bool keep_alive, beast::flat_buffer& input) {
        bool chunked = request.version >= 11;
        keep_alive = keep_alive && chunked;  // HTTP/1.0 bodies end when the connection does
        std::string framing;
        if (chunked) framing = "Transfer-Encoding: chunked\r\n";
        if (is_event_stream(response.content_type)) {
            // Neither caches nor buffering proxies may hold events back.
            framing += "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
        }
        std::string head = render_head(request, response, keep_alive, framing);
        metrics::Gauge* streams = metrics::enabled() ? &metrics::registry().streams : nullptr;
        if (streams) streams->add(1);
        StreamOutcome outcome = co_await send_streamed(stream_, input, head, *response.stream,
                                                       chunked, limits_.request_timeout);
        if (streams) streams->add(-1);
        count_request(request, response, std::chrono::steady_clock::now() - request.received_at);
        log_access(request, response, outcome.body_bytes, !outcome.client_gone, &outcome);
        co_return keep_alive && !outcome.must_close;
    }

    static bool is_event_stream(std::string_view content_type) {
        constexpr std::string_view kEventStream = "text/event-stream";
        return content_type.size() >= kEventStream.size() &&
               iequals(content_type.substr(0, kEventStream.size()), kEventStream);
    }

    /// `framing` holds the header lines that say where the body ends.
    std::string render_head(const Request& request, const Response& response, bool keep_alive,
                            std::string_view framing) const {
        std::string head;
        head.reserve(320);
        head += "HTTP/1.1 ";
        head += std::to_string(response.status);
        head += ' ';
        auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
        head.append(reason.data(), reason.size());
        head += "\r\n";
        auto add = [&head](std::string_view name, std::string_view value) {
            head.append(name).append(": ").append(value).append("\r\n");
        };
        if (!response.content_type.empty()) add("Content-Type", response.content_type);
        for (const auto& [name, value] : response.headers) add(name, value);
        head += response.fixed_headers;
        head += framing;
        if (!keep_alive) {
            add("Connection", "close");
        } else if (request.version == 10) {
            add("Connection", "keep-alive");  // HTTP/1.0 closes unless told otherwise
        }
        head += "\r\n";
        return head;
    }

    void log_access(const Request& request, const Response& response, std::size_t bytes,
                    bool write_ok, const StreamOutcome* streamed = nullptr) const {
        if (!log::enabled(log::Level::info)) return;
        auto elapsed = std::chrono::steady_clock::now() - request.received_at;
        double ms = std::chrono::duration<double, std::milli>(elapsed).count();
        if (streamed) {
            log::info("request", {{"request_id", response.request_id},
                                  {"method", request.method_text},
                                  {"route", response.route},
                                  {"status", response.status},
                                  {"duration_ms", ms},
                                  {"user_id", response.user_id},
                                  {"bytes", bytes},
                                  {"remote", remote_},
                                  {"streamed", true},
                                  {"finished", streamed->finished},
                                  {"client_gone", streamed->client_gone}});
            return;
        }
        log::info("request", {{"request_id", response.request_id},
                              {"method", request.method_text},
                              {"route", response.route},
                              {"status", response.status},
                              {"duration_ms", ms},
                              {"user_id", response.user_id},
                              {"bytes", bytes},
                              {"remote", remote_},
                              {"write_ok", write_ok}});
    }

    beast::tcp_stream stream_;
    RequestHandler& handler_;
    const ServerLimits& limits_;
    std::function<void(Connection*)> on_end_;
    std::string remote_;
    std::optional<TransportError> refuse_at_once_;
    // Touched only on the connection's thread.
    bool busy_ = false;
    bool stopping_ = false;
};

}  // namespace

std::shared_ptr<Connection> start_connection(tcp::socket socket, RequestHandler& handler,
                                             const ServerLimits& limits,
                                             std::function<void(Connection*)> on_end,
                                             std::optional<TransportError> refuse) {
    auto connection = std::make_shared<BeastConnection>(std::move(socket), handler, limits,
                                                        std::move(on_end), refuse);
    connection->start();
    return connection;
}

}  // namespace chatgate::http

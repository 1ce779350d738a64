#include "http/streaming.hpp"

#include "observability/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <utility>

namespace chatgate::http {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadChunk = 4096;
constexpr std::string_view kLastChunk = "0\r\n\r\n";

/// A timer that never fires on its own: `notify` wakes every coroutine waiting on it, which
/// then re-checks whatever it waits for. Everything runs on one executor, so nothing can change
/// between a check and the wait that follows it.
class Signal {
public:
    explicit Signal(const net::any_io_executor& executor)
        : timer_(executor, net::steady_timer::time_point::max()) {}
    net::awaitable<void> wait() { co_await timer_.async_wait(kTuple); }
    void notify() { timer_.cancel(); }

private:
    net::steady_timer timer_;
};

/// One streamed body in flight: the producer's BodyWriter, plus two helper coroutines (the
/// client watcher and the keep-alive sender) that `run` starts and joins before it returns.
class StreamedExchange final : public BodyWriter {
public:
    StreamedExchange(beast::tcp_stream& stream, beast::flat_buffer& pending_input,
                     const StreamedBody& body, bool chunked, std::chrono::milliseconds timeout)
        : stream_(stream),
          input_(pending_input),
          body_(body),
          chunked_(chunked),
          timeout_(timeout),
          changed_(stream.get_executor()),
          keepalive_timer_(stream.get_executor()) {}

    net::awaitable<bool> write(std::string_view piece) override {
        if (gone_) co_return false;
        if (piece.empty()) co_return true;  // an empty chunk would end the body
        while (writing_) {
            co_await changed_.wait();
            if (gone_) co_return false;
        }
        co_return co_await send(piece);
    }

    bool client_gone() const override { return gone_; }

    void on_client_gone(std::function<void()> callback) override {
        if (gone_) {
            invoke(callback);  // already gone: the producer still learns it, once
            return;
        }
        callback_ = std::move(callback);
    }

    net::awaitable<StreamOutcome> run(std::string_view head) {
        StreamOutcome outcome;
        stream_.expires_after(timeout_);
        auto [ec, n] = co_await net::async_write(stream_, net::buffer(head), kTuple);
        if (ec) {
            outcome.client_gone = true;
            co_return outcome;
        }
        last_write_ = Clock::now();
        start_helpers();

        bool produced = true;
        try {
            co_await body_.produce(*this);
        } catch (const std::exception& e) {
            // The head is out: the only honest signal left is closing without the last chunk.
            log::error("streamed body failed", {{"error", e.what()}});
            produced = false;
        }

        // The callback may refer to the producer's frame, which is gone now.
        callback_ = nullptr;
        finishing_ = true;
        keepalive_timer_.cancel();
        while (keepalive_running_) co_await changed_.wait();
        if (produced && !gone_ && chunked_) {
            stream_.expires_after(timeout_);
            auto [tec, tn] = co_await net::async_write(stream_, net::buffer(kLastChunk), kTuple);
            if (tec) mark_gone();
            outcome.finished = !tec;
        } else {
            outcome.finished = produced && !gone_;
        }

        stop_watching_ = true;
        boost::system::error_code ignored;
        if (watching_) stream_.socket().cancel(ignored);
        while (watching_) co_await changed_.wait();

        outcome.body_bytes = body_bytes_;
        outcome.client_gone = gone_;
        outcome.must_close = gone_ || !outcome.finished || !chunked_ || overflowed_;
        co_return outcome;
    }

private:
    void start_helpers() {
        auto executor = stream_.get_executor();
        watching_ = true;
        net::co_spawn(executor, watch_client(), [this](std::exception_ptr) {
            watching_ = false;
            changed_.notify();
        });
        if (body_.keepalive_piece.empty() || body_.keepalive_interval.count() <= 0) return;
        keepalive_running_ = true;
        net::co_spawn(executor, send_keepalives(), [this](std::exception_ptr) {
            keepalive_running_ = false;
            changed_.notify();
        });
    }

    /// Writes one piece (a chunk when chunked); callers make sure no other write is in flight.
    net::awaitable<bool> send(std::string_view piece) {
        writing_ = true;
        char size_line[24];
        int size_length = std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
        std::array<net::const_buffer, 3> buffers{
            chunked_ ? net::buffer(size_line, static_cast<std::size_t>(size_length))
                     : net::const_buffer(),
            net::buffer(piece), chunked_ ? net::buffer("\r\n", 2) : net::const_buffer()};
        stream_.expires_after(timeout_);
        auto [ec, n] = co_await net::async_write(stream_, buffers, kTuple);
        writing_ = false;
        last_write_ = Clock::now();
        changed_.notify();
        if (ec) {
            // A reset, or a client too slow to take the piece within the deadline (Beast then
            // closes the socket): either way nobody is reading any more.
            mark_gone();
            co_return false;
        }
        body_bytes_ += piece.size();
        co_return true;
    }

    /// Keeps one read pending on the socket so a close or reset is noticed while the producer
    /// is busy elsewhere. Bytes that arrive are kept for the connection (a pipelined request);
    /// beyond what `input_` may hold they are dropped and the connection will close.
    net::awaitable<void> watch_client() {
        std::array<char, kReadChunk> sink;
        while (!stop_watching_) {
            std::size_t room = input_.max_size() - input_.size();
            net::mutable_buffer target = net::buffer(sink);
            if (room > 0) {
                target = input_.prepare(std::min(room, kReadChunk));
            } else {
                overflowed_ = true;
            }
            auto [ec, n] = co_await stream_.socket().async_read_some(target, kTuple);
            if (room > 0) input_.commit(n);
            if (ec) {
                if (!stop_watching_) mark_gone();
                break;
            }
        }
    }

    /// Sends the keep-alive piece whenever nothing was written for the interval, never while
    /// another write is in flight.
    net::awaitable<void> send_keepalives() {
        while (!finishing_ && !gone_) {
            if (writing_) {
                co_await changed_.wait();
                continue;
            }
            auto due = last_write_ + body_.keepalive_interval;
            if (Clock::now() < due) {
                keepalive_timer_.expires_at(due);
                co_await keepalive_timer_.async_wait(kTuple);
                continue;
            }
            co_await send(body_.keepalive_piece);
        }
    }

    void mark_gone() {
        if (gone_) return;
        gone_ = true;
        changed_.notify();
        keepalive_timer_.cancel();
        auto callback = std::move(callback_);
        callback_ = nullptr;
        invoke(callback);
    }

    static void invoke(const std::function<void()>& callback) {
        if (!callback) return;
        try {
            callback();
        } catch (const std::exception& e) {
            log::error("client-gone callback failed", {{"error", e.what()}});
        }
    }

    beast::tcp_stream& stream_;
    beast::flat_buffer& input_;
    const StreamedBody& body_;
    const bool chunked_;
    const std::chrono::milliseconds timeout_;
    Signal changed_;  ///< a write ended, a helper ended, or the client went away
    net::steady_timer keepalive_timer_;
    std::function<void()> callback_;
    Clock::time_point last_write_;
    std::size_t body_bytes_ = 0;
    bool writing_ = false;
    bool gone_ = false;
    bool finishing_ = false;
    bool stop_watching_ = false;
    bool watching_ = false;
    bool keepalive_running_ = false;
    bool overflowed_ = false;
};

}  // namespace

net::awaitable<StreamOutcome> send_streamed(beast::tcp_stream& stream,
                                            beast::flat_buffer& pending_input,
                                            std::string_view head, const StreamedBody& body,
                                            bool chunked, std::chrono::milliseconds write_timeout) {
    StreamedExchange exchange(stream, pending_input, body, chunked, write_timeout);
    co_return co_await exchange.run(head);
}

}  // namespace chatgate::http

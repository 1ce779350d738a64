#pragma once

// Private to the OpenAI client's sources, split so they compile in parallel:
//   openai_provider.cpp  one attempt, the retry loop, the provider's calls, the streamed answer
//   openai_connect.cpp   the TLS context, connecting, the idle pool
//   openai_io_tcp.cpp    Beast's HTTP I/O over plain TCP
//   openai_io_tls.cpp    Beast's HTTP I/O over TLS (the largest)
// The only ai header with Beast and OpenSSL in it (tests/lint/check_layers.py allows it here):
// include it nowhere else.

#include "ai/openai_provider.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace chatgate::ai::openai {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
inline constexpr std::size_t kHeaderLimit = 16 * 1024;
inline constexpr std::size_t kReadBufferLimit = 64 * 1024;  ///< beast's read buffer per connection
inline constexpr std::size_t kChunkBytes = 16 * 1024;       ///< one read of a body, at most
inline constexpr std::size_t kErrorBodyLimit = 16 * 1024;   ///< of an error answer, for the log
inline constexpr auto kMaxIdleAge = std::chrono::seconds(15);

using Parser = http::response_parser<http::buffer_body>;
using Request = http::request<http::string_body>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
/// What an I/O operation ends with: its error and the bytes it moved.
using IoResult = std::tuple<boost::system::error_code, std::size_t>;

// The HTTP I/O of an exchange: Beast's composed operations, awaited. They are most of the
// client's compile time, so each kind of stream is instantiated in its own file
// (openai_io_tcp.cpp, openai_io_tls.cpp) and nowhere else (the extern declarations below).
template <class Stream>
net::awaitable<IoResult> write_request(Stream& stream, Request& request) {
    co_return co_await http::async_write(stream, request, kUseTuple);
}

template <class Stream>
net::awaitable<IoResult> read_header(Stream& stream, beast::flat_buffer& buffer, Parser& parser) {
    co_return co_await http::async_read_header(stream, buffer, parser, kUseTuple);
}

template <class Stream>
net::awaitable<IoResult> read_all(Stream& stream, beast::flat_buffer& buffer, Parser& parser) {
    co_return co_await http::async_read(stream, buffer, parser, kUseTuple);
}

template <class Stream>
net::awaitable<IoResult> read_some(Stream& stream, beast::flat_buffer& buffer, Parser& parser) {
    co_return co_await http::async_read_some(stream, buffer, parser, kUseTuple);
}

/// Declares (`extern`) or defines the instantiations of the I/O above for one kind of stream.
#define CHATGATE_OPENAI_IO(prefix, Stream)                                                     \
    prefix template net::awaitable<IoResult> write_request<Stream>(Stream&, Request&);         \
    prefix template net::awaitable<IoResult> read_header<Stream>(Stream&, beast::flat_buffer&, \
                                                                 Parser&);                     \
    prefix template net::awaitable<IoResult> read_all<Stream>(Stream&, beast::flat_buffer&,    \
                                                              Parser&);                        \
    prefix template net::awaitable<IoResult> read_some<Stream>(Stream&, beast::flat_buffer&,   \
                                                               Parser&)

CHATGATE_OPENAI_IO(extern, beast::tcp_stream);
CHATGATE_OPENAI_IO(extern, TlsStream);

/// One kept-alive connection to the upstream. Plain HTTP uses the TCP layer of the TLS stream
/// directly, so both kinds share one type.
struct Connection {
    Connection(const net::any_io_executor& executor, ssl::context& tls_context, bool use_tls)
        : stream(executor, tls_context), tls(use_tls), buffer(kReadBufferLimit) {}

    beast::tcp_stream& tcp() { return stream.next_layer(); }

    /// True when the peer closed or sent something while the connection sat idle: either way it
    /// cannot carry another exchange. A non-blocking peek, so it costs one system call.
    bool looks_closed() {
        char byte = 0;
        ssize_t n = ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }

    TlsStream stream;
    bool tls;
    beast::flat_buffer buffer;
    Clock::time_point idle_since{};
    bool reused = false;
};

/// Calls `f` with the stream to talk through: the TLS stream or the bare TCP stream.
template <class F>
auto on_stream(Connection& connection, F&& f) {
    if (connection.tls) return f(connection.stream);
    return f(connection.tcp());
}

/// A request sent and its answer's header read.
struct Exchange {
    std::unique_ptr<Connection> connection;
    std::unique_ptr<Parser> parser;
};

enum class Failure { none, connect, timeout, status, broken };

/// How one attempt failed, with what the retry loop and the log need.
struct AttemptFailure {
    Failure kind = Failure::none;
    unsigned status = 0;
    std::optional<std::chrono::seconds> retry_after;
    std::string detail;  ///< for the log only
};

inline milliseconds remaining(Clock::time_point end) {
    return std::chrono::duration_cast<milliseconds>(end - Clock::now());
}

inline milliseconds phase(std::int64_t phase_ms, Clock::time_point end) {
    return std::max(milliseconds(1), std::min(milliseconds(phase_ms), remaining(end)));
}

inline bool is_timeout(const boost::system::error_code& ec) {
    return ec == beast::error::timeout;
}

}  // namespace chatgate::ai::openai

namespace chatgate::ai {

struct OpenAiProvider::Impl {
    using Clock = openai::Clock;
    using Connection = openai::Connection;

    explicit Impl(OpenAiSettings s);

    // ---- the idle pool: per execution context, so a connection stays on its I/O thread ----
    // (openai_connect.cpp)

    std::unique_ptr<Connection> take_idle(openai::net::execution_context* context);
    void put_idle(openai::net::execution_context* context, std::unique_ptr<Connection> connection);

    // ---- one attempt (connect: openai_connect.cpp; the rest: openai_provider.cpp) ----

    openai::net::awaitable<std::unique_ptr<Connection>> connect(openai::AttemptFailure& failure,
                                                                Clock::time_point end);
    /// Reads the rest of an error answer (bounded) for the log.
    openai::net::awaitable<std::string> read_error_body(Connection& connection,
                                                        openai::Parser& parser,
                                                        Clock::time_point end);
    /// `target` is the chat completions path unless given (the embeddings path).
    openai::net::awaitable<std::optional<openai::Exchange>> attempt(
        const std::string& body, bool stream, openai::AttemptFailure& failure,
        Clock::time_point end, const std::string* path = nullptr);

    // ---- the retry loop (openai_provider.cpp) ----

    Error final_error(const openai::AttemptFailure& failure, int attempts) const;
    /// Sends the request, retrying where allowed, until a 200 header arrives.
    openai::net::awaitable<Result<openai::Exchange>> open(const std::string& body, bool stream,
                                                          Clock::time_point end,
                                                          const std::string* path = nullptr);
    /// The whole body of a non-streamed answer, within max_body_bytes.
    openai::net::awaitable<Result<std::string>> read_whole(openai::Exchange& exchange,
                                                           Clock::time_point end);
    std::string prompt_body(const domain::ChatPrompt& prompt, bool stream) const;
    /// A non-streamed completion: the exchange, its body read and parsed.
    openai::net::awaitable<Result<domain::ChatAnswer>> complete_once(const std::string& body,
                                                                     Clock::time_point end);

    OpenAiSettings settings;
    openai::ssl::context tls_context;
    std::string target;
    std::string embeddings_target;
    std::string host_header;
    std::string authorization;
    /// Headers of the protocol beyond Authorization (Anthropic's key and version).
    std::vector<std::pair<std::string, std::string>> protocol_headers;
    std::mutex mutex;
    std::unordered_map<openai::net::execution_context*, std::vector<std::unique_ptr<Connection>>>
        idle;
};

}  // namespace chatgate::ai

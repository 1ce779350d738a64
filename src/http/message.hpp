#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// The transport's view of HTTP exchanges, free of Beast so the api layer (and its tests) never
/// compile it.
namespace chatgate::http {

enum class Method { get, head, post, put, patch, del, options, other };

std::string_view to_string(Method method);

struct Header {
    std::string_view name;
    std::string_view value;
};

/// One parsed request. Every view points into the connection's buffers and stays valid until
/// the response has been produced.
struct Request {
    Method method = Method::other;
    std::string_view method_text;
    std::string_view target;  ///< path and query as received
    std::string_view path;
    std::string_view query;  ///< without the '?'
    std::vector<Header> headers;
    std::string_view body;
    std::string_view remote_address;
    unsigned version = 11;  ///< 10 for HTTP/1.0, 11 for HTTP/1.1
    std::chrono::steady_clock::time_point received_at;

    /// First value of the header `name` (case-insensitive), or empty.
    std::string_view header(std::string_view name) const;
};

/// The sending side of a streamed response body, handed to its producer by the transport.
/// Used only on the connection's executor.
class BodyWriter {
public:
    virtual ~BodyWriter() = default;
    /// Sends `piece` to the client now (one HTTP chunk); false when the client is gone or the
    /// write failed, after which the producer should stop. Each write must finish within the
    /// request deadline (`request_timeout_seconds`): a client that stops reading is gone. An
    /// empty piece sends nothing. Writes are serialized with the keep-alive pieces.
    virtual boost::asio::awaitable<bool> write(std::string_view piece) = 0;
    /// True once the client closed or reset the connection.
    virtual bool client_gone() const = 0;
    /// `callback` runs once, on the connection's executor, as soon as the transport notices the
    /// client has gone (also while the producer waits for something else), so the producer can
    /// cancel upstream work; at once if the client is already gone. Replaces an earlier
    /// callback; dropped when the producer returns.
    virtual void on_client_gone(std::function<void()> callback) = 0;
};

/// A body produced piece by piece after the head has been sent (server-sent events). The
/// transport sends it with chunked transfer encoding and, while the producer writes nothing
/// for `keepalive_interval`, sends `keepalive_piece` (for SSE, a comment line) on its own.
struct StreamedBody {
    std::function<boost::asio::awaitable<void>(BodyWriter&)> produce;
    std::string keepalive_piece;  ///< empty: no keep-alive pieces
    std::chrono::milliseconds keepalive_interval{15000};
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    /// Header lines sent verbatim after `headers`, each ending in CRLF (constant blocks such as
    /// the security headers, kept out of `headers` to save allocations).
    std::string_view fixed_headers;
    std::string body;
    std::string_view static_body;  ///< when not empty, sent instead of `body` (embedded files)
    bool close = false;            ///< close the connection after this response
    /// When set, the body comes from this producer instead of `body` / `static_body`.
    std::shared_ptr<StreamedBody> stream;

    // Facts for the access log line, filled in by whoever produced the response.
    std::string_view route;  ///< the route template, never the raw path
    std::string request_id;
    std::int64_t user_id = 0;

    std::string_view payload() const {
        return static_body.empty() ? std::string_view(body) : static_body;
    }
};

/// Failures the transport detects before a request reaches the handler.
enum class TransportError {
    header_too_large,
    body_too_large,
    malformed,
    too_many_headers,  ///< more header fields than the limit
    uri_too_long,      ///< a request target longer than the limit
    /// A Transfer-Encoding other than a lone `chunked` (HTTP/1.1): the body's end is unknown.
    unsupported_transfer_coding,
    bad_host,  ///< no Host on HTTP/1.1, two of them, or a value that is no host[:port]
    /// A connection over a connection cap, answered before any request is read.
    too_many_connections,
};

/// What the server calls for each request. Implemented by the api layer.
class RequestHandler {
public:
    virtual ~RequestHandler() = default;
    /// Must not throw: every failure becomes a response.
    virtual boost::asio::awaitable<Response> handle(const Request& request) = 0;
    /// The answer for a request the transport could not read; the connection closes after it.
    virtual Response transport_error(TransportError error, const Request& partial) = 0;
};

/// Case-insensitive ASCII comparison, for header names and tokens.
bool iequals(std::string_view a, std::string_view b);

}  // namespace chatgate::http

#pragma once

// Private to the http layer (included by its .cpp files only): it exposes Beast's stream type.

#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstddef>
#include <string_view>

namespace chatgate::http {

struct StreamOutcome {
    std::size_t body_bytes = 0;  ///< payload bytes of the pieces sent, without chunk framing
    bool client_gone = false;    ///< the client closed, reset, or stopped reading in time
    bool finished = false;       ///< the body ended properly (terminating chunk sent)
    /// The connection cannot carry another request: the client is gone, the body was
    /// close-delimited, the producer failed, or the client sent more than `pending_input` holds.
    bool must_close = true;
};

/// Sends `head` and then the body that `body.produce` writes, as HTTP/1.1 chunks (`chunked`)
/// or close-delimited (HTTP/1.0). Every write, head included, must finish within
/// `write_timeout`. While the producer runs, a read on the socket watches for the client going
/// away; what the client sends meanwhile (a pipelined request) is appended to `pending_input`,
/// for the connection to parse next, until it is full.
boost::asio::awaitable<StreamOutcome> send_streamed(boost::beast::tcp_stream& stream,
                                                    boost::beast::flat_buffer& pending_input,
                                                    std::string_view head, const StreamedBody& body,
                                                    bool chunked,
                                                    std::chrono::milliseconds write_timeout);

}  // namespace chatgate::http

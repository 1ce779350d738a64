#pragma once

#include "http/message.hpp"
#include "http/server.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace chatgate::http {

/// One connection's shared state, reachable by the server for shutdown. The Beast stream
/// itself stays inside connection.cpp.
class Connection {
public:
    virtual ~Connection() = default;
    /// Asks the connection to finish: idle connections close now, busy ones after their
    /// current response. Safe to call from any thread.
    virtual void request_stop() = 0;
    /// Closes the socket at once. Safe to call from any thread.
    virtual void force_close() = 0;
};

/// Creates the connection for an accepted socket and starts its read/dispatch/write loop on the
/// socket's executor. `on_end` runs when the connection is finished. With `refuse`, nothing is
/// read: the connection answers that refusal at once (a 503 for a cap), reads and discards
/// briefly so the client sees it, and closes.
std::shared_ptr<Connection> start_connection(boost::asio::ip::tcp::socket socket,
                                             RequestHandler& handler, const ServerLimits& limits,
                                             std::function<void(Connection*)> on_end,
                                             std::optional<TransportError> refuse = std::nullopt);

}  // namespace chatgate::http

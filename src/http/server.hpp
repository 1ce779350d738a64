#pragma once

#include "http/limits.hpp"
#include "http/message.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chatgate::http {

/// HTTP/1.1 server on Beast: one coroutine per connection, keep-alive, header and body limits,
/// read/idle deadlines, connection caps and graceful shutdown. Knows nothing about what the
/// requests mean: every request goes to the RequestHandler. Connections are spread over `contexts`,
/// each meant to be run by exactly one thread, so a connection never needs a strand or a lock; the
/// first context also accepts. Methods other than the constructor may be called from any thread.
class Server {
public:
    Server(std::vector<boost::asio::io_context*> contexts, RequestHandler& handler,
           ServerLimits limits);
    ~Server();

    /// Binds and listens; returns the bound "HOST:PORT" (the real port when 0 was asked for).
    /// Throws boost::system::system_error (address in use, bad address).
    std::string listen(const std::string& host, std::uint16_t port);
    /// Starts accepting connections.
    void start();
    /// Stops accepting, closes idle connections, lets in-flight requests finish for up to
    /// `grace`, then closes whatever is left and calls `done` (on an io thread).
    void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

private:
    class Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace chatgate::http

#include "http/server.hpp"

#include "http/client_group.hpp"
#include "http/connection.hpp"
#include "observability/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace chatgate::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr auto kAfterForceClose = std::chrono::seconds(2);
constexpr auto kAcceptErrorPause = std::chrono::milliseconds(50);
/// Over-cap connections being answered at once; beyond this they are closed unanswered, so a
/// flood of them costs a bounded amount of work.
constexpr std::size_t kMaxAnsweredRefusals = 64;

}  // namespace

boost::asio::ip::address client_group(const boost::asio::ip::address& peer) {
    if (!peer.is_v6()) return peer;
    auto v6 = peer.to_v6();
    if (v6.is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, v6);
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return net::ip::address_v6(bytes);
}

class Server::Impl : public std::enable_shared_from_this<Server::Impl> {
public:
    Impl(std::vector<net::io_context*> contexts, RequestHandler& handler, ServerLimits limits)
        : contexts_(std::move(contexts)),
          handler_(handler),
          limits_(limits),
          acceptor_(*contexts_.front()) {}

    std::string listen(const std::string& host, std::uint16_t port) {
        tcp::endpoint endpoint{net::ip::make_address(host), port};
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
        auto bound = acceptor_.local_endpoint();
        std::string address = bound.address().to_string();
        if (bound.address().is_v6()) address = "[" + address + "]";
        return address + ":" + std::to_string(bound.port());
    }

    void start() {
        net::co_spawn(
            acceptor_.get_executor(), [self = shared_from_this()] { return self->accept_loop(); },
            [](std::exception_ptr failure) {
                if (!failure) return;
                try {
                    std::rethrow_exception(failure);
                } catch (const std::exception& e) {
                    // Accepting is the server's purpose: without it, stop loudly.
                    log::error("accept loop failed", {{"error", e.what()}});
                    log::flush();
                    std::abort();
                }
            });
    }

    void shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
        net::post(acceptor_.get_executor(), [self = shared_from_this(), grace,
                                             done = std::move(done)] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->for_each_connection([](Connection& s) { s.request_stop(); });
            net::co_spawn(self->acceptor_.get_executor(), self->drain(grace, done), net::detached);
        });
    }

private:
    net::awaitable<void> accept_loop() {
        net::steady_timer pause(acceptor_.get_executor());
        for (;;) {
            net::io_context& owner = *contexts_[next_context_++ % contexts_.size()];
            auto [ec, socket] =
                co_await acceptor_.async_accept(owner, net::as_tuple(net::use_awaitable));
            if (ec == net::error::operation_aborted || !acceptor_.is_open()) co_return;
            if (ec) {
                // Out of descriptors and similar: keep serving the connections we have, and
                // pause, since the pending connection would fail the next accept at once.
                log::warn("accept failed", {{"error", ec.message()}});
                pause.expires_after(kAcceptErrorPause);
                co_await pause.async_wait(net::as_tuple(net::use_awaitable));
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            auto peer = client_group(socket.remote_endpoint(ec).address());
            std::lock_guard lock(mutex_);
            bool admitted = admit(peer);
            if (!admitted) {
                note_refusal();
                if (refusing_ >= kMaxAnsweredRefusals) {
                    socket.close(ec);  // answering more would spend what the caps protect
                    continue;
                }
            }
            auto id = next_id_++;
            auto weak = weak_from_this();
            if (!admitted) ++refusing_;
            connections_[id] = start_connection(
                std::move(socket), handler_, limits_,
                [weak, id, peer, admitted](Connection*) {
                    if (auto self = weak.lock()) {
                        std::lock_guard guard(self->mutex_);
                        self->connections_.erase(id);
                        if (admitted) {
                            self->release(peer);
                        } else {
                            --self->refusing_;
                        }
                    }
                },
                admitted ? std::nullopt : std::optional(TransportError::too_many_connections));
        }
    }

    /// Counts a new connection from `peer` unless a cap forbids it. Needs `mutex_`.
    bool admit(const net::ip::address& peer) {
        if (connections_.size() - refusing_ >= limits_.max_connections) return false;
        std::size_t& from_peer = per_address_[peer];
        if (limits_.max_connections_per_address > 0 &&
            from_peer >= limits_.max_connections_per_address) {
            if (from_peer == 0) per_address_.erase(peer);
            return false;
        }
        ++from_peer;
        return true;
    }

    /// Needs `mutex_`.
    void release(const net::ip::address& peer) {
        auto it = per_address_.find(peer);
        if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    }

    /// Logs refused connections at most once a second, so a flood does not flood the log too.
    void note_refusal() {
        ++refused_;
        auto now = std::chrono::steady_clock::now();
        if (now - last_refusal_log_ < std::chrono::seconds(1)) return;
        log::warn("connections refused with 503: connection limit reached",
                  {{"refused", refused_},
                   {"open", connections_.size()},
                   {"max_connections", limits_.max_connections},
                   {"max_connections_per_address", limits_.max_connections_per_address}});
        refused_ = 0;
        last_refusal_log_ = now;
    }

    net::awaitable<void> drain(std::chrono::milliseconds grace, std::function<void()> done) {
        net::steady_timer timer(acceptor_.get_executor());
        auto deadline = std::chrono::steady_clock::now() + grace;
        bool forced = false;
        while (open_connections() > 0) {
            auto now = std::chrono::steady_clock::now();
            if (!forced && now >= deadline) {
                log::warn("shutdown grace expired; closing connections",
                          {{"connections", open_connections()}});
                for_each_connection([](Connection& s) { s.force_close(); });
                forced = true;
            } else if (forced && now >= deadline + kAfterForceClose) {
                // A handler still waiting on a pool job holds its connection; stop anyway.
                log::warn("connections still open after closing them; stopping",
                          {{"connections", open_connections()}});
                break;
            }
            timer.expires_after(kPollInterval);
            co_await timer.async_wait(net::use_awaitable);
        }
        done();
    }

    std::size_t open_connections() {
        std::lock_guard lock(mutex_);
        return connections_.size();
    }

    template <class F>
    void for_each_connection(F f) {
        std::lock_guard lock(mutex_);
        for (auto& [id, connection] : connections_) f(*connection);
    }

    std::vector<net::io_context*> contexts_;
    std::size_t next_context_ = 0;  // only the accept loop touches it
    RequestHandler& handler_;
    ServerLimits limits_;
    tcp::acceptor acceptor_;
    std::mutex mutex_;
    std::uint64_t next_id_ = 0;
    std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections_;
    /// Open connections per client group (client_group above).
    std::unordered_map<net::ip::address, std::size_t> per_address_;
    std::size_t refusing_ = 0;  ///< of connections_, those answering a refusal
    // Only the accept loop touches these.
    std::size_t refused_ = 0;
    std::chrono::steady_clock::time_point last_refusal_log_;
};

Server::Server(std::vector<net::io_context*> contexts, RequestHandler& handler, ServerLimits limits)
    : impl_(std::make_shared<Impl>(std::move(contexts), handler, limits)) {}

Server::~Server() = default;

std::string Server::listen(const std::string& host, std::uint16_t port) {
    return impl_->listen(host, port);
}

void Server::start() {
    impl_->start();
}

void Server::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
    impl_->shutdown(grace, std::move(done));
}

}  // namespace chatgate::http

#pragma once

#include "api/api.hpp"
#include "api/cors.hpp"
#include "api/rate_limits.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

#include <atomic>
#include <string>

namespace chatgate::api {

/// The request pipeline: request id, route lookup (404/405/OPTIONS), bearer authentication,
/// the handler, error mapping, and the headers every answer carries. Catches every exception a
/// handler throws (answering 500 and logging it once), so nothing escapes to the transport.
/// Thread-safe. `limits` (rate limiting) and `cors` are optional, and outlive the dispatcher.
class Dispatcher final : public http::RequestHandler {
public:
    explicit Dispatcher(Api& api, RateLimits* limits = nullptr, const CorsPolicy* cors = nullptr);

    boost::asio::awaitable<http::Response> handle(const http::Request& request) override;
    http::Response transport_error(http::TransportError error,
                                   const http::Request& partial) override;

private:
    std::string request_id_for(const http::Request& request);
    void finish(http::Response& response, std::string request_id) const;

    Api& api_;
    RateLimits* limits_;
    const CorsPolicy* cors_;
    http::Router router_;
    std::string id_prefix_;  ///< random per process, so ids from different runs never collide
    std::atomic<std::uint64_t> next_id_{0};
};

}  // namespace chatgate::api

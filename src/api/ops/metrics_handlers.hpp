#pragma once

#include "api/handler.hpp"
#include "http/message.hpp"

namespace chatgate::api {

/// GET /metrics on the main listener: the exposition for a caller presenting the configured
/// `metrics_token` as its bearer; a 404 when no token is configured, so the public listener
/// shows nothing by default.
boost::asio::awaitable<Result<http::Response>> get_metrics(Services& services, RequestContext& ctx);

/// The handler of the `metrics_listen` listener: GET /metrics and nothing else. That address
/// is meant to be reachable by the scraper only, so it asks for no token.
class MetricsEndpoint final : public http::RequestHandler {
public:
    boost::asio::awaitable<http::Response> handle(const http::Request& request) override;
    http::Response transport_error(http::TransportError error,
                                   const http::Request& partial) override;
};

}  // namespace chatgate::api

#pragma once

#include "api/handler.hpp"

/// Probes for load balancers and orchestrators.
namespace chatgate::api {

/// GET /healthz -> 200 while the process serves requests
boost::asio::awaitable<Result<http::Response>> get_healthz(Services& services, RequestContext& ctx);
/// GET /readyz -> 200 when the database answers, 503 otherwise
boost::asio::awaitable<Result<http::Response>> get_readyz(Services& services, RequestContext& ctx);

}  // namespace chatgate::api

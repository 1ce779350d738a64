#pragma once

#include "api/routes.hpp"

namespace chatgate::api {

/// POST /api/register/ {"username","password"} -> 201
boost::asio::awaitable<Result<http::Response>> post_register(Api& api, RequestContext& ctx);
/// POST /api/login/ {"username","password"} -> 200 {"refresh","access"}
boost::asio::awaitable<Result<http::Response>> post_login(Api& api, RequestContext& ctx);
/// POST /api/token/refresh/ {"refresh"} -> 200 {"access"}
boost::asio::awaitable<Result<http::Response>> post_token_refresh(Api& api, RequestContext& ctx);

}  // namespace chatgate::api

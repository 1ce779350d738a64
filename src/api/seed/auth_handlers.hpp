#pragma once

#include "api/handler.hpp"

namespace chatgate::api {

/// POST /api/register/ {"username","password"} -> 201
boost::asio::awaitable<Result<http::Response>> post_register(Services& services,
                                                             RequestContext& ctx);
/// POST /api/login/ {"username","password"} -> 200 {"refresh","access"}
boost::asio::awaitable<Result<http::Response>> post_login(Services& services, RequestContext& ctx);
/// POST /api/token/refresh/ {"refresh"} -> 200 {"access","refresh"}; the old refresh token is
/// used up, and using it again revokes its whole session family.
boost::asio::awaitable<Result<http::Response>> post_token_refresh(Services& services,
                                                                  RequestContext& ctx);
/// POST /api/logout/ {"refresh"} -> 200 {"detail"}; revokes the token's session family.
boost::asio::awaitable<Result<http::Response>> post_logout(Services& services, RequestContext& ctx);
/// POST /api/password/ {"old_password","new_password"} (bearer) -> 200 {"detail"}; revokes
/// every session of the user.
boost::asio::awaitable<Result<http::Response>> post_password(Services& services,
                                                             RequestContext& ctx);

}  // namespace chatgate::api

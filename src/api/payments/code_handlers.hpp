#pragma once

#include "api/handler.hpp"

/// Redemption codes: batches for staff under /api/admin/codes/ (each create and revoke
/// audited), and POST /api/redeem/ for users.
namespace chatgate::api {

/// `{"tokens", "count", "max_uses"?, "expires_at"?}` -> the batch and its codes, shown once.
boost::asio::awaitable<Result<http::Response>> admin_create_codes(Services& services,
                                                                  RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_list_codes(Services& services,
                                                                RequestContext& ctx);
/// `{}`: every code of the batch with uses left; `{"code": "CG-..."}`: that one.
boost::asio::awaitable<Result<http::Response>> admin_revoke_codes(Services& services,
                                                                  RequestContext& ctx);
/// `{"code"}` -> `{"tokens": new balance}`; every failure is the same 400.
boost::asio::awaitable<Result<http::Response>> post_redeem(Services& services, RequestContext& ctx);

}  // namespace chatgate::api

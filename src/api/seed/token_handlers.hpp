#pragma once

#include "api/handler.hpp"

namespace chatgate::api {

/// GET /api/tokens/ -> 200 {"tokens"}
boost::asio::awaitable<Result<http::Response>> get_tokens(Services& services, RequestContext& ctx);
/// GET /api/account/ -> 200 {"id","username","is_staff","tokens","top_up":{...},"payments":{...}}:
/// who the caller is and what they may do, for clients such as the chat page
boost::asio::awaitable<Result<http::Response>> get_account(Services& services, RequestContext& ctx);
/// POST /api/top-up/ {"tokens"} -> 200 {"message","total_tokens"}
boost::asio::awaitable<Result<http::Response>> post_top_up(Services& services, RequestContext& ctx);
/// GET /api/transactions/?page=&page_size= -> 200 a page of the caller's ledger, newest first;
/// with ?format=csv (&from=&to=) the whole ledger in the range as CSV, oldest first
boost::asio::awaitable<Result<http::Response>> get_transactions(Services& services,
                                                                RequestContext& ctx);

}  // namespace chatgate::api

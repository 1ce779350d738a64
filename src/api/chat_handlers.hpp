#pragma once

#include "api/routes.hpp"

namespace chatgate::api {

/// POST /api/chat/ {"message"} -> 200 {"message","response","remaining_tokens"}
boost::asio::awaitable<Result<http::Response>> post_chat(Api& api, RequestContext& ctx);

}  // namespace chatgate::api

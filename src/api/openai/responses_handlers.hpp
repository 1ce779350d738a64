#pragma once

#include "api/handler.hpp"

/// The Responses API under /v1, translated to the chat service (and so to every provider).
namespace chatgate::api {

/// POST /v1/responses -> 200 response object, or with "stream": true the Responses API's
/// server-sent events (response.created ... response.completed). Billed like a chat
/// completion; nothing is stored.
boost::asio::awaitable<Result<http::Response>> post_responses(Services& services,
                                                              RequestContext& ctx);

}  // namespace chatgate::api

#pragma once

#include "api/handler.hpp"

/// The Responses API under /v1, translated to the chat service (and so to every provider).
namespace chatgate::api {

/// POST /v1/responses -> 200 response object, or with "stream": true the Responses API's
/// server-sent events (response.created ... response.completed). Billed like a chat
/// completion. Stored for the user unless "store": false; `previous_response_id` continues a
/// stored one's conversation, `item_reference` items name stored output items.
boost::asio::awaitable<Result<http::Response>> post_responses(Services& services,
                                                              RequestContext& ctx);
/// GET /v1/responses/{id} -> 200 the stored response object; 404 when not the caller's.
boost::asio::awaitable<Result<http::Response>> get_response(Services& services,
                                                            RequestContext& ctx);
/// DELETE /v1/responses/{id} -> 200 {"id", "object": "response", "deleted": true}; 404.
boost::asio::awaitable<Result<http::Response>> delete_response(Services& services,
                                                               RequestContext& ctx);

}  // namespace chatgate::api

#pragma once

#include "api/handler.hpp"

/// Anthropic's Messages API under /v1/messages, for Anthropic's libraries pointed at chatgate
/// with a chatgate access token as the API key (x-api-key or Bearer). Translated to the chat
/// service, so every configured chat model answers it; errors are Anthropic's (the route
/// declares ErrorStyle::anthropic).
namespace chatgate::api {

/// POST /v1/messages -> 200 message, or with "stream": true Anthropic's server-sent events
/// (message_start ... message_stop). Billed like a chat completion; nothing is stored.
boost::asio::awaitable<Result<http::Response>> post_messages(Services& services,
                                                             RequestContext& ctx);

}  // namespace chatgate::api

#pragma once

#include "api/handler.hpp"

/// The OpenAI-compatible surface under /v1, for OpenAI's client libraries pointed at chatgate
/// with a chatgate access token as the API key. Errors use OpenAI's error object (the routes
/// declare ErrorStyle::openai).
namespace chatgate::api {

/// GET /v1/models -> 200 {"object": "list", "data": [model, ...]}
boost::asio::awaitable<Result<http::Response>> get_openai_models(Services& services,
                                                                 RequestContext& ctx);
/// GET /v1/models/{model} -> 200 model; 404 model_not_found
boost::asio::awaitable<Result<http::Response>> get_openai_model(Services& services,
                                                                RequestContext& ctx);
/// POST /v1/chat/completions -> 200 chat.completion, or with "stream": true server-sent
/// chat.completion.chunk events ending in "data: [DONE]". Billed like /api/chat/, no
/// conversation kept.
boost::asio::awaitable<Result<http::Response>> post_completions(Services& services,
                                                                RequestContext& ctx);

}  // namespace chatgate::api

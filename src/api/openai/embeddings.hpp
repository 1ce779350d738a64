#pragma once

#include "api/handler.hpp"
#include "domain/chat/chat_service.hpp"

#include <boost/json/value.hpp>

/// POST /v1/embeddings: the request reader (pure) and the handler.
namespace chatgate::api {
namespace openai {

/// Checks an Embeddings request as OpenAI does: `model` configured with the embeddings
/// capability; `input` a non-empty string, an array of 1 to 2048 non-empty strings, an array
/// of token ids or an array of such arrays; `encoding_format` float or base64; `dimensions`
/// a positive integer; `user` a string. Other fields are refused. The input's bound counts a
/// string's bytes and one token per id. Errors: invalid_argument naming the field; not_found
/// with field "model".
Result<domain::EmbeddingInput> parse_embedding_request(const boost::json::value& body,
                                                       const domain::ModelCatalog& models);

}  // namespace openai

/// POST /v1/embeddings -> 200 {"object": "list", "data": [...], "model", "usage"}; billed
/// per the model's prices on the upstream's input tokens, reserved first.
boost::asio::awaitable<Result<http::Response>> post_embeddings(Services& services,
                                                               RequestContext& ctx);

}  // namespace chatgate::api

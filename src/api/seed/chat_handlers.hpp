#pragma once

#include "api/handler.hpp"

namespace chatgate::api {

/// POST /api/chat/ {"message", "conversation_id"?, "model"?, "stream"?} -> 200
/// {"message","response","remaining_tokens","conversation_id"}, or with "stream": true
/// a text/event-stream (see chat_events.hpp)
boost::asio::awaitable<Result<http::Response>> post_chat(Services& services, RequestContext& ctx);
/// GET /api/conversations/?page=&page_size= -> 200 a page of the caller's conversations
boost::asio::awaitable<Result<http::Response>> get_conversations(Services& services,
                                                                 RequestContext& ctx);
/// GET /api/conversations/{id}/ -> 200 the conversation with its messages, oldest first
boost::asio::awaitable<Result<http::Response>> get_conversation(Services& services,
                                                                RequestContext& ctx);
/// DELETE /api/conversations/{id}/ -> 204
boost::asio::awaitable<Result<http::Response>> delete_conversation(Services& services,
                                                                   RequestContext& ctx);
/// GET /api/models/ -> 200 {"default", "results": [{"id","owned_by","price",...}]}
boost::asio::awaitable<Result<http::Response>> get_models(Services& services, RequestContext& ctx);

/// The bodies of GET /api/conversations/ and GET /api/conversations/{id}/ for any user (the
/// admin API shows them for the user it names).
boost::asio::awaitable<Result<http::Response>> conversations_of(Services& services,
                                                                RequestContext& ctx, UserId user);
boost::asio::awaitable<Result<http::Response>> conversation_of(Services& services, UserId user,
                                                               domain::ConversationId id);

}  // namespace chatgate::api

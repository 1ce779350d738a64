#include "api/chat_handlers.hpp"

#include "api/json_io.hpp"

namespace chatgate::api {

boost::asio::awaitable<Result<http::Response>> post_chat(Api& api, RequestContext& ctx) {
    auto body = parse_body(ctx.request);
    if (!body) co_return body.error();
    const auto* object = body->if_object();
    const auto* message = object ? object->if_contains("message") : nullptr;
    if (!message || !message->is_string()) {
        co_return Error{ErrorCode::invalid_argument, "Message is required", {}};
    }
    std::string text(message->get_string());
    auto reply = co_await api.chat.send(ctx.user_id, text);
    if (!reply) co_return reply.error();
    co_return json_response(200,
                            boost::json::object{{"message", std::move(text)},
                                                {"response", std::move(reply->response)},
                                                {"remaining_tokens", reply->remaining_tokens}});
}

}  // namespace chatgate::api

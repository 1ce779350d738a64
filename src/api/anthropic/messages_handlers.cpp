#include "api/anthropic/messages_handlers.hpp"

#include "api/anthropic/messages_request.hpp"
#include "api/anthropic/messages_shapes.hpp"
#include "api/openai/openai_body.hpp"
#include "api/wire/event_stream.hpp"

#include <boost/json/serialize.hpp>

#include <memory>

namespace chatgate::api {
namespace {

/// One streamed message: the exchange's deltas as Anthropic's events; cancels the exchange
/// when the client goes away. Lives as long as the response's body producer.
class MessageStream final : public domain::ChatSink,
                            public std::enable_shared_from_this<MessageStream> {
public:
    MessageStream(std::unique_ptr<domain::ChatExchange> exchange, std::string id, std::string model)
        : exchange_(std::move(exchange)), events_(std::move(id), std::move(model)) {}

    boost::asio::awaitable<void> produce(http::BodyWriter& writer) {
        auto self = shared_from_this();  // the exchange outlives every write below
        writer_ = &writer;
        writer.on_client_gone([weak = weak_from_this()] {
            if (auto stream = weak.lock()) stream->exchange_->cancel();
        });
        std::string first = events_.start();
        // A client gone already: dropping the exchange settles it for what was delivered.
        if (!co_await writer.write(first)) co_return;
        Result<domain::ChatOutcome> outcome = co_await exchange_->pump(*this);
        if (writer.client_gone()) co_return;
        std::string last =
            outcome ? events_.finish(outcome->finish_reason, outcome->usage)
                    : anthropic::MessageEventWriter::fail(
                          outcome.error().code == ErrorCode::upstream_timeout ? "timeout_error"
                                                                              : "api_error",
                          outcome.error().message);
        co_await writer.write(last);
    }

    boost::asio::awaitable<bool> deliver(const domain::ChatDelta& delta) override {
        std::string frames = events_.delta(delta);
        if (frames.empty()) co_return true;
        bool sent = co_await writer_->write(frames);
        co_return sent;
    }

private:
    std::unique_ptr<domain::ChatExchange> exchange_;
    anthropic::MessageEventWriter events_;
    http::BodyWriter* writer_ = nullptr;
};

}  // namespace

boost::asio::awaitable<Result<http::Response>> post_messages(Services& services,
                                                             RequestContext& ctx) {
    auto body = openai::read_json_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    auto request = anthropic::parse_messages_request(*body, services.chat.catalog());
    if (!request) co_return request.error();

    domain::ChatInput input = caller_chat_input(ctx);
    input.model = request->model->id;
    input.turns = std::move(request->turns);
    input.keep_history = false;
    input.max_completion_tokens = request->max_completion_tokens;
    input.options = std::move(request->options);
    std::string id = anthropic::new_message_id();

    if (!request->stream) {
        auto outcome = co_await services.chat.complete(input);
        if (!outcome) co_return outcome.error();
        http::Response response;
        response.body = boost::json::serialize(
            anthropic::message_object(id, request->model->id, outcome->text, outcome->tool_calls,
                                      outcome->finish_reason, outcome->usage));
        co_return response;
    }
    auto exchange = co_await services.chat.open_stream(input);
    if (!exchange) co_return exchange.error();
    auto stream =
        std::make_shared<MessageStream>(std::move(*exchange), std::move(id), request->model->id);
    co_return event_stream([stream](http::BodyWriter& writer) { return stream->produce(writer); },
                           services.settings.stream_keepalive);
}

}  // namespace chatgate::api

#include "api/openai/responses_handlers.hpp"

#include "api/openai/openai_body.hpp"
#include "api/openai/responses_request.hpp"
#include "api/openai/responses_shapes.hpp"
#include "api/wire/event_stream.hpp"
#include "domain/chat/chat_billing.hpp"

#include <boost/json/serialize.hpp>

#include <chrono>
#include <memory>

namespace chatgate::api {
namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// One streamed response: the exchange's deltas as Responses events; cancels the exchange
/// when the client goes away. Lives as long as the response's body producer.
class ResponseStream final : public domain::ChatSink,
                             public std::enable_shared_from_this<ResponseStream> {
public:
    ResponseStream(std::unique_ptr<domain::ChatExchange> exchange, openai::ResponseHead head,
                   std::size_t limit)
        : exchange_(std::move(exchange)), events_(std::move(head), limit) {}

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
        std::string last = outcome
                               ? events_.finish(outcome->finish_reason, outcome->usage)
                               : events_.fail(outcome.error().code == ErrorCode::upstream_timeout
                                                  ? "upstream_timeout"
                                                  : "upstream_error",
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
    openai::ResponseEventWriter events_;
    http::BodyWriter* writer_ = nullptr;
};

}  // namespace

boost::asio::awaitable<Result<http::Response>> post_responses(Services& services,
                                                              RequestContext& ctx) {
    auto body = openai::read_json_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    auto request = openai::parse_responses_request(*body, services.chat.catalog());
    if (!request) co_return request.error();

    openai::ChatCompletionRequest& chat = request->chat;
    domain::ChatInput input;
    input.user = ctx.user_id;
    input.model = chat.model->id;
    input.turns = std::move(chat.turns);
    input.keep_history = false;
    input.max_completion_tokens = chat.max_completion_tokens;
    input.options = std::move(chat.options);
    openai::ResponseHead head{openai::new_response_id(), unix_now(), chat.model->id,
                              std::move(request->echo)};

    if (!chat.stream) {
        auto outcome = co_await services.chat.complete(input);
        if (!outcome) co_return outcome.error();
        http::Response response;
        response.body = boost::json::serialize(openai::response_object(
            head, outcome->text, outcome->tool_calls, outcome->finish_reason, outcome->usage));
        co_return response;
    }
    // Failures before the first delta (balance, upstream refusals) are still plain answers.
    auto exchange = co_await services.chat.open_stream(input);
    if (!exchange) co_return exchange.error();
    std::size_t limit = domain::text_limit_bytes(domain::effective_completion_cap(
        chat.model->max_completion_tokens, chat.max_completion_tokens));
    auto stream = std::make_shared<ResponseStream>(std::move(*exchange), std::move(head), limit);
    co_return event_stream([stream](http::BodyWriter& writer) { return stream->produce(writer); },
                           services.settings.stream_keepalive);
}

}  // namespace chatgate::api

#include "api/openai/openai_handlers.hpp"

#include "api/openai/openai_body.hpp"
#include "api/openai/openai_shapes.hpp"
#include "api/wire/error_mapping.hpp"
#include "api/wire/event_stream.hpp"
#include "api/wire/json_io.hpp"

#include <chrono>
#include <memory>

namespace chatgate::api {
namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Shown as every model's `created`: the catalog is loaded once, when the process starts.
std::int64_t catalog_loaded_at() {
    static const std::int64_t loaded = unix_now();
    return loaded;
}

http::Response json_text(std::string body) {
    http::Response response;
    response.body = std::move(body);
    return response;
}

/// One streamed completion: sends the chunks of an exchange as server-sent events, and cancels
/// the exchange when the client goes away. Lives as long as the response's body producer.
class CompletionStream final : public domain::ChatSink,
                               public std::enable_shared_from_this<CompletionStream> {
public:
    CompletionStream(std::unique_ptr<domain::ChatExchange> exchange, openai::CompletionHead head,
                     bool include_usage, std::string request_id)
        : exchange_(std::move(exchange)),
          head_(std::move(head)),
          include_usage_(include_usage),
          request_id_(std::move(request_id)) {}

    boost::asio::awaitable<void> produce(http::BodyWriter& writer) {
        auto self = shared_from_this();  // the exchange outlives every write below
        writer_ = &writer;
        writer.on_client_gone([weak = weak_from_this()] {
            if (auto stream = weak.lock()) stream->exchange_->cancel();
        });
        std::string first = sse_event(openai::role_chunk_json(head_, include_usage_));
        // A client gone already: dropping the exchange settles it for what was delivered.
        bool sent = co_await writer.write(first);
        if (!sent) co_return;

        Result<domain::ChatOutcome> outcome = co_await exchange_->pump(*this);
        if (writer.client_gone()) co_return;
        if (!outcome) {
            // Once the head is out, an error can only be an event; OpenAI's libraries raise it
            // as an APIError. No [DONE] follows, as with OpenAI.
            http::Response error = error_response(outcome.error(), request_id_, ErrorStyle::openai);
            std::string frame = sse_event(error.body);
            co_await writer.write(frame);
            co_return;
        }
        std::string last =
            sse_event(openai::finish_chunk_json(head_, outcome->finish_reason, include_usage_));
        if (include_usage_) {
            last += sse_event(openai::usage_chunk_json(head_, outcome->usage));
        }
        last += openai::kSseDone;
        co_await writer.write(last);
    }

    boost::asio::awaitable<bool> deliver(const domain::ChatDelta& delta) override {
        if (delta.empty()) co_return true;
        std::string frame = sse_event(openai::delta_chunk_json(head_, delta, include_usage_));
        bool sent = co_await writer_->write(frame);
        co_return sent;
    }

private:
    std::unique_ptr<domain::ChatExchange> exchange_;
    openai::CompletionHead head_;
    bool include_usage_;
    std::string request_id_;
    http::BodyWriter* writer_ = nullptr;
};

}  // namespace

boost::asio::awaitable<Result<http::Response>> get_openai_models(Services& services,
                                                                 RequestContext& ctx) {
    const domain::KeyGrant* key = ctx.key ? &*ctx.key : nullptr;
    co_return json_text(openai::model_list_json(services.chat.catalog(), catalog_loaded_at(), key));
}

boost::asio::awaitable<Result<http::Response>> get_openai_model(Services& services,
                                                                RequestContext& ctx) {
    std::string_view raw = ctx.path.text("model");
    auto id = openai::decode_path_segment(raw);
    const domain::ChatModel* model = id ? services.chat.catalog().find(*id) : nullptr;
    if (!model) {
        std::string message = "The model `" + id.value_or(std::string(raw)) +
                              "` does not exist or you do not have access to it.";
        co_return Error{ErrorCode::not_found, message, {{"model", {message}}}};
    }
    co_return json_text(openai::model_json(*model, catalog_loaded_at()));
}

boost::asio::awaitable<Result<http::Response>> post_completions(Services& services,
                                                                RequestContext& ctx) {
    auto body = openai::read_json_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    auto request = openai::parse_chat_completion_request(*body, services.chat.catalog());
    if (!request) co_return request.error();

    domain::ChatInput input = caller_chat_input(ctx);
    input.model = request->model->id;
    input.turns = std::move(request->turns);
    input.keep_history = false;  // OpenAI's clients send the whole history every time
    input.max_completion_tokens = request->max_completion_tokens;
    input.options = std::move(request->options);
    openai::CompletionHead head{openai::new_completion_id(), unix_now(), request->model->id};

    if (!request->stream) {
        auto outcome = co_await services.chat.complete(input);
        if (!outcome) co_return outcome.error();
        co_return json_text(openai::completion_json(head, outcome->text, outcome->tool_calls,
                                                    outcome->finish_reason, outcome->usage));
    }

    // Failures before the first delta (balance, upstream refusals) are still plain answers.
    auto exchange = co_await services.chat.open_stream(input);
    if (!exchange) co_return exchange.error();
    auto stream = std::make_shared<CompletionStream>(
        std::move(*exchange), std::move(head), request->include_usage, std::string(ctx.request_id));
    co_return event_stream([stream](http::BodyWriter& writer) { return stream->produce(writer); },
                           services.settings.stream_keepalive);
}

}  // namespace chatgate::api

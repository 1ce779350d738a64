#include "api/openai/responses_handlers.hpp"

#include "api/openai/json_checks.hpp"
#include "api/openai/openai_body.hpp"
#include "api/openai/openai_shapes.hpp"
#include "api/openai/responses_history.hpp"
#include "api/openai/responses_request.hpp"
#include "api/openai/responses_shapes.hpp"
#include "api/wire/event_stream.hpp"
#include "domain/chat/chat_billing.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <map>
#include <memory>

namespace chatgate::api {
namespace {

namespace json = boost::json;

/// A conversation longer than this is answered but not stored (the answer says store: false).
constexpr std::size_t kMaxStoredHistoryBytes = 16 * 1024 * 1024;

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// What a stored response keeps: the body as answered, and the conversation with its output.
struct Keeping {
    bool store = false;
    UserId user = 0;
    json::array conversation;  ///< the input items the request stood for (history included)
};

std::optional<domain::StoredResponse> to_store(const Keeping& keeping, const json::object& body) {
    if (!keeping.store || body.empty()) return std::nullopt;
    json::array history = keeping.conversation;
    domain::StoredResponse stored{std::string(body.at("id").as_string()), keeping.user, {}, {}, {}};
    for (auto& [id, item] : openai::output_as_input(body)) {
        history.push_back(item);
        stored.items.emplace_back(id, json::serialize(item));
    }
    stored.history = json::serialize(history);
    if (stored.history.size() > kMaxStoredHistoryBytes) return std::nullopt;
    stored.body = json::serialize(body);
    return stored;
}

/// One streamed response: the exchange's deltas as Responses events; cancels the exchange
/// when the client goes away; stores the response once complete. Lives as long as the
/// response's body producer.
class ResponseStream final : public domain::ChatSink,
                             public std::enable_shared_from_this<ResponseStream> {
public:
    ResponseStream(std::unique_ptr<domain::ChatExchange> exchange, openai::ResponseHead head,
                   std::size_t limit, domain::ResponseArchive& archive, Keeping keeping)
        : exchange_(std::move(exchange)),
          events_(std::move(head), limit),
          archive_(archive),
          keeping_(std::move(keeping)) {}

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
        // Stored before the last event goes out, so a client that asks for it next finds it.
        if (auto stored = to_store(keeping_, events_.final_response())) {
            co_await archive_.save(*stored);
        }
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
    domain::ResponseArchive& archive_;
    Keeping keeping_;
    http::BodyWriter* writer_ = nullptr;
};

/// The request with its previous response's history and its item references resolved into
/// plain input items (read from the user's stored responses).
boost::asio::awaitable<Result<json::object>> resolve_history(Services& services, UserId user,
                                                             json::object body, Keeping& keeping) {
    auto previous = openai::previous_response_of(body);
    if (!previous) co_return previous.error();
    json::array history;
    if (*previous) {
        auto stored = co_await services.responses.find(user, **previous);
        if (!stored) {
            co_return openai::invalid("previous_response_id",
                                      "Previous response with id '" + **previous + "' not found.");
        }
        history = json::parse(stored->history).as_array();
    }
    std::map<std::string, json::object> items;
    for (const auto& id : openai::item_references(body)) {
        auto message = co_await services.responses.find_item(user, id);
        if (message) items.emplace(id, json::parse(*message).as_object());
    }
    auto conversation = openai::conversation_items(body, history, items);
    if (!conversation) co_return conversation.error();
    keeping.conversation = *conversation;
    body["input"] = std::move(*conversation);
    body.erase("previous_response_id");
    co_return body;
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> post_responses(Services& services,
                                                              RequestContext& ctx) {
    auto body = openai::read_json_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    if (auto object = openai::body_object(*body); !object) co_return object.error();
    Keeping keeping{openai::wants_store(body->get_object()), ctx.user_id, {}};
    auto previous = openai::previous_response_of(body->get_object());
    auto resolved = co_await resolve_history(services, ctx.user_id, body->get_object(), keeping);
    if (!resolved) co_return resolved.error();
    auto request = openai::parse_responses_request(*resolved, services.chat.catalog());
    if (!request) co_return request.error();

    openai::ChatCompletionRequest& chat = request->chat;
    domain::ChatInput input = caller_chat_input(ctx);
    input.model = chat.model->id;
    input.turns = std::move(chat.turns);
    input.keep_history = false;
    input.max_completion_tokens = chat.max_completion_tokens;
    input.options = std::move(chat.options);
    request->echo["store"] = keeping.store;
    if (previous && *previous) request->echo["previous_response_id"] = **previous;
    openai::ResponseHead head{openai::new_response_id(), unix_now(), chat.model->id,
                              std::move(request->echo)};

    if (!chat.stream) {
        auto outcome = co_await services.chat.complete(input);
        if (!outcome) co_return outcome.error();
        json::object answer = openai::response_object(head, outcome->text, outcome->tool_calls,
                                                      outcome->finish_reason, outcome->usage);
        if (auto stored = to_store(keeping, answer)) {
            co_await services.responses.save(*stored);
        } else {
            answer["store"] = false;
        }
        http::Response response;
        response.body = json::serialize(answer);
        co_return response;
    }
    // Failures before the first delta (balance, upstream refusals) are still plain answers.
    auto exchange = co_await services.chat.open_stream(input);
    if (!exchange) co_return exchange.error();
    std::size_t limit = domain::text_limit_bytes(domain::effective_completion_cap(
        chat.model->max_completion_tokens, chat.max_completion_tokens));
    auto stream = std::make_shared<ResponseStream>(std::move(*exchange), std::move(head), limit,
                                                   services.responses, std::move(keeping));
    co_return event_stream([stream](http::BodyWriter& writer) { return stream->produce(writer); },
                           services.settings.stream_keepalive);
}

boost::asio::awaitable<Result<http::Response>> get_response(Services& services,
                                                            RequestContext& ctx) {
    auto id = openai::decode_path_segment(ctx.path.text("id")).value_or("");
    auto stored = co_await services.responses.find(ctx.user_id, id);
    if (!stored)
        co_return Error{ErrorCode::not_found, "No response found with id '" + id + "'.", {}};
    http::Response response;
    response.body = std::move(stored->body);
    co_return response;
}

boost::asio::awaitable<Result<http::Response>> delete_response(Services& services,
                                                               RequestContext& ctx) {
    auto id = openai::decode_path_segment(ctx.path.text("id")).value_or("");
    if (!co_await services.responses.remove(ctx.user_id, id)) {
        co_return Error{ErrorCode::not_found, "No response found with id '" + id + "'.", {}};
    }
    http::Response response;
    response.body =
        json::serialize(json::object{{"id", id}, {"object", "response"}, {"deleted", true}});
    co_return response;
}

}  // namespace chatgate::api

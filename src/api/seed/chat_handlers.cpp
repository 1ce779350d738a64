#include "api/seed/chat_handlers.hpp"

#include "api/seed/chat_events.hpp"
#include "api/wire/json_io.hpp"
#include "api/wire/pagination.hpp"
#include "core/text.hpp"
#include "domain/chat/chat_billing.hpp"

#include <boost/json/array.hpp>

#include <memory>

namespace chatgate::api {
namespace {

namespace json = boost::json;

/// The optional fields of POST /api/chat/, read with DRF's rules (form values are strings).
struct ChatOptions {
    std::optional<std::int64_t> conversation_id;
    std::string model;
    bool stream = false;
};

Result<ChatOptions> read_options(const json::object& body) {
    ChatOptions out;
    std::vector<FieldError> errors;
    if (const auto* id = body.if_contains("conversation_id"); id && !id->is_null()) {
        std::optional<std::int64_t> value;
        if (id->is_int64()) value = id->get_int64();
        if (id->is_string()) value = text::parse_integer<std::int64_t>(id->get_string());
        if (!value) {
            errors.push_back({"conversation_id", {"A valid integer is required."}});
        } else {
            out.conversation_id = *value;
        }
    }
    if (const auto* model = body.if_contains("model"); model && !model->is_null()) {
        if (model->is_string()) {
            out.model = std::string(model->get_string());
        } else {
            errors.push_back({"model", {"Not a valid string."}});
        }
    }
    if (const auto* stream = body.if_contains("stream"); stream && !stream->is_null()) {
        if (stream->is_bool()) {
            out.stream = stream->get_bool();
        } else if (stream->is_string() &&
                   (stream->get_string() == "true" || stream->get_string() == "false")) {
            out.stream = stream->get_string() == "true";
        } else {
            errors.push_back({"stream", {"Must be a valid boolean."}});
        }
    }
    if (!errors.empty()) return Error::fields_invalid(std::move(errors));
    return out;
}

json::object summary_json(const domain::ConversationSummary& c) {
    return {{"id", c.id},
            {"title", c.title},
            {"model", c.model},
            {"message_count", c.message_count},
            {"created_at", c.created_at},
            {"updated_at", c.updated_at}};
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> post_chat(Services& services, RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    const auto* object = body->if_object();
    const auto* message = object ? object->if_contains("message") : nullptr;
    if (!message || !message->is_string()) {
        co_return Error{ErrorCode::invalid_argument, "Message is required", {}};
    }
    auto options = read_options(*object);
    if (!options) co_return options.error();

    domain::ChatInput input = caller_chat_input(ctx);
    input.model = std::move(options->model);
    input.turns.push_back({domain::ChatRole::user, std::string(message->get_string())});
    input.conversation_id = options->conversation_id;
    input.keep_history = true;

    if (options->stream) {
        auto exchange = co_await services.chat.open_stream(input);
        if (!exchange) co_return exchange.error();
        co_return chat_event_stream(std::move(*exchange), services.settings.stream_keepalive);
    }

    auto outcome = co_await services.chat.complete(input);
    if (!outcome) co_return outcome.error();
    co_return json_response(200, json::object{{"message", std::move(input.turns.back().content)},
                                              {"response", std::move(outcome->text)},
                                              {"remaining_tokens", outcome->remaining_tokens},
                                              {"conversation_id", outcome->conversation_id}});
}

boost::asio::awaitable<Result<http::Response>> get_conversations(Services& services,
                                                                 RequestContext& ctx) {
    co_return co_await conversations_of(services, ctx, ctx.user_id);
}

boost::asio::awaitable<Result<http::Response>> conversations_of(Services& services,
                                                                RequestContext& ctx, UserId user) {
    auto page = read_page(ctx, services.settings);
    if (!page) co_return page.error();
    auto loaded = co_await services.conversations.list(user, page->page, page->size);
    if (!loaded) co_return loaded.error();
    json::array results;
    for (const auto& conversation : loaded->conversations) {
        results.push_back(summary_json(conversation));
    }
    co_return json_response(200, page_envelope(ctx, *page, loaded->count, std::move(results)));
}

boost::asio::awaitable<Result<http::Response>> get_conversation(Services& services,
                                                                RequestContext& ctx) {
    co_return co_await conversation_of(services, ctx.user_id, ctx.path.integer("id"));
}

boost::asio::awaitable<Result<http::Response>> conversation_of(Services& services, UserId user,
                                                               domain::ConversationId id) {
    auto loaded = co_await services.conversations.get(user, id);
    if (!loaded) co_return loaded.error();
    json::array messages;
    for (const auto& m : loaded->messages) {
        messages.push_back(json::object{{"id", m.id},
                                        {"message", m.message},
                                        {"response", m.response},
                                        {"model", m.model},
                                        {"finish_reason", m.finish_reason},
                                        {"cost", m.cost},
                                        {"created_at", m.created_at}});
    }
    json::object out = summary_json(loaded->summary);
    out["messages"] = std::move(messages);
    co_return json_response(200, out);
}

boost::asio::awaitable<Result<http::Response>> delete_conversation(Services& services,
                                                                   RequestContext& ctx) {
    domain::ConversationId id = ctx.path.integer("id");
    auto removed = co_await services.conversations.remove(ctx.user_id, id);
    if (!removed) co_return removed.error();
    http::Response response;
    response.status = 204;
    response.content_type.clear();
    co_return response;
}

boost::asio::awaitable<Result<http::Response>> get_models(Services& services, RequestContext&) {
    json::array models;
    for (const auto& model : services.chat.catalog().all()) {
        json::array capabilities;
        for (auto name : domain::capability_names(model.capabilities))
            capabilities.push_back(json::string(name));
        models.push_back(json::object{
            {"id", model.id},
            {"capabilities", std::move(capabilities)},
            {"owned_by", model.owned_by},
            // What is sent upstream and reserved for, also when the model sets no cap.
            {"max_completion_tokens",
             domain::effective_completion_cap(model.max_completion_tokens, 0)},
            {"price",
             json::object{{"per_message", model.price.per_message},
                          {"per_1k_prompt_tokens", model.price.per_1k_prompt_tokens},
                          {"per_1k_completion_tokens", model.price.per_1k_completion_tokens}}}});
    }
    co_return json_response(200,
                            json::object{{"default", services.chat.catalog().default_model().id},
                                         {"results", std::move(models)}});
}

}  // namespace chatgate::api

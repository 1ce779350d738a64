#include "api/payments/payment_handlers.hpp"

#include "api/wire/json_io.hpp"
#include "core/text.hpp"
#include "observability/log.hpp"

namespace chatgate::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxPriceChars = 255;
constexpr std::size_t kMaxIdChars = 255;

/// The one answer to a delivery that fails any check: it never says which.
Error bad_delivery() {
    return {ErrorCode::invalid_argument, "Invalid webhook request.", {}};
}

std::string string_at(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    if (!value || !value->is_string() || value->get_string().size() > kMaxIdChars) return {};
    return std::string(value->get_string());
}

std::int64_t integer_at(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    return value && value->is_int64() ? value->get_int64() : 0;
}

/// The user chatgate named when it made the session: client_reference_id, else the metadata.
std::optional<UserId> claimed_user(const json::object& session) {
    std::string text = string_at(session, "client_reference_id");
    if (text.empty()) {
        if (const json::value* metadata = session.if_contains("metadata");
            metadata && metadata->is_object()) {
            text = string_at(metadata->get_object(), "chatgate_user");
        }
    }
    auto id = text::parse_integer<std::int64_t>(text);
    if (!id || *id < 1) return std::nullopt;
    return *id;
}

std::optional<domain::WebhookEvent> read_event(const json::value& body) {
    const json::object* event = body.if_object();
    if (!event) return std::nullopt;
    domain::WebhookEvent out{string_at(*event, "id"), string_at(*event, "type"), false, {}, {}};
    const json::value* data = event->if_contains("data");
    const json::value* object =
        data && data->is_object() ? data->get_object().if_contains("object") : nullptr;
    if (out.id.empty() || out.type.empty() || !object || !object->is_object()) return std::nullopt;
    const json::object& o = object->get_object();
    if (out.type == "checkout.session.completed" ||
        out.type == "checkout.session.async_payment_succeeded") {
        out.paid = string_at(o, "payment_status") == "paid";
        out.checkout = {out.id, string_at(o, "id"), claimed_user(o), string_at(o, "payment_intent"),
                        integer_at(o, "amount_total")};
        if (out.checkout.session_id.empty()) return std::nullopt;
    } else if (out.type == "charge.refunded") {
        out.refund = {out.id, string_at(o, "payment_intent"), integer_at(o, "amount_refunded")};
        if (out.refund.payment_intent.empty()) return std::nullopt;
    }
    return out;
}

std::string_view outcome_name(domain::EventOutcome outcome) {
    switch (outcome) {
        case domain::EventOutcome::applied:
            return "applied";
        case domain::EventOutcome::duplicate:
            return "duplicate";
        case domain::EventOutcome::unknown_payment:
            return "unknown_payment";
        case domain::EventOutcome::ignored:
            break;
    }
    return "ignored";
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> post_checkout(Services& services,
                                                             RequestContext& ctx) {
    if (!services.payments.enabled()) co_return domain::PaymentService::not_configured();
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    if (!body->is_object()) co_return not_an_object(*body);
    std::vector<FieldError> errors;
    auto price = read_char_field(*body, "price", kMaxPriceChars, errors);
    if (!price) co_return Error::fields_invalid(std::move(errors));
    auto session = co_await services.payments.checkout(ctx.user_id, *price);
    if (!session) co_return session.error();
    co_return json_response(200, json::object{{"url", session->url}, {"id", session->id}});
}

boost::asio::awaitable<Result<http::Response>> post_stripe_webhook(Services& services,
                                                                   RequestContext& ctx) {
    if (!services.payments.enabled()) co_return domain::PaymentService::not_configured();
    // The signature covers the body's exact bytes: they are verified before anything parses them.
    if (!services.payments.verify(ctx.request.header("Stripe-Signature"), ctx.request.body)) {
        co_return bad_delivery();
    }
    auto body = parse_json(ctx.request.body, services.settings.json);
    if (!body) co_return bad_delivery();
    auto event = read_event(*body);
    if (!event) co_return bad_delivery();
    auto result = co_await services.payments.handle(*event);
    log::info("payment event", {{"event_id", event->id},
                                {"type", event->type},
                                {"outcome", outcome_name(result.outcome)},
                                {"user_id", result.user},
                                {"tokens", result.credited},
                                {"debt", result.debt}});
    co_return json_response(200, json::object{{"received", true}});
}

}  // namespace chatgate::api

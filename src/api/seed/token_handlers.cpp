#include "api/seed/token_handlers.hpp"

#include "api/export/ledger_csv.hpp"
#include "api/wire/json_io.hpp"
#include "api/wire/pagination.hpp"

#include <boost/json/array.hpp>

namespace chatgate::api {
namespace {

namespace json = boost::json;

json::object to_json(const domain::LedgerEntry& e) {
    json::object out{{"id", e.id},
                     {"delta", e.delta},
                     {"balance_after", e.balance_after},
                     {"kind", domain::to_string(e.kind)},
                     {"created_at", e.created_at}};
    out["reference"] = e.reference ? json::value(*e.reference) : json::value(nullptr);
    return out;
}

/// What the pages need to offer buying tokens: whether checkouts work and the price table.
json::object payments_json(const domain::PaymentService& payments) {
    json::array prices;
    if (payments.enabled()) {
        for (const auto& p : payments.prices()) {
            prices.push_back(json::object{{"price", p.price}, {"tokens", p.tokens}});
        }
    }
    return {{"enabled", payments.enabled()}, {"prices", std::move(prices)}};
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> get_tokens(Services& services, RequestContext& ctx) {
    auto balance = co_await services.ledger.balance(ctx.user_id);
    if (!balance) co_return balance.error();
    co_return json_response(200, json::object{{"tokens", *balance}});
}

boost::asio::awaitable<Result<http::Response>> get_account(Services& services,
                                                           RequestContext& ctx) {
    auto balance = co_await services.ledger.balance(ctx.user_id);
    if (!balance) co_return balance.error();
    auto role = co_await services.admin.role(ctx.user_id);
    const domain::TopUpPolicy& top_up = services.ledger.top_up_policy();
    co_return json_response(
        200, json::object{{"id", ctx.user_id},
                          {"username", role.username},
                          {"is_staff", role.is_staff},
                          {"tokens", *balance},
                          {"top_up", json::object{{"enabled", top_up.enabled},
                                                  {"max_per_request", top_up.max_per_request},
                                                  {"balance_cap", top_up.balance_cap}}},
                          {"payments", payments_json(services.payments)}});
}

boost::asio::awaitable<Result<http::Response>> post_top_up(Services& services,
                                                           RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    const auto* object = body->if_object();
    const auto* tokens = object ? object->if_contains("tokens") : nullptr;
    // Only a JSON integer: true, 1.5, "5", null, lists and form values are all refused.
    if (!tokens || !tokens->is_int64()) {
        co_return Error{ErrorCode::invalid_argument, "Invalid token amount.", {}};
    }
    TokenAmount amount = tokens->get_int64();
    auto total = co_await services.ledger.top_up(ctx.user_id, amount);
    if (!total) co_return total.error();
    co_return json_response(
        200, json::object{{"message", "Successfully added " + std::to_string(amount) + " tokens."},
                          {"total_tokens", *total}});
}

boost::asio::awaitable<Result<http::Response>> get_transactions(Services& services,
                                                                RequestContext& ctx) {
    auto format = query_param(ctx.request.query, "format");
    if (format && *format == "csv") co_return ledger_csv(services, ctx, ctx.user_id);
    if (format && *format != "json") {
        co_return Error::fields_invalid({{"format", {"Expected csv or json."}}});
    }
    auto page = read_page(ctx, services.settings);
    if (!page) co_return page.error();
    auto loaded = co_await services.ledger.history(ctx.user_id, page->page, page->size);
    if (!loaded) co_return loaded.error();
    json::array results;
    for (const auto& entry : loaded->entries) results.push_back(to_json(entry));
    co_return json_response(200, page_envelope(ctx, *page, loaded->count, std::move(results)));
}

}  // namespace chatgate::api

#include "api/token_handlers.hpp"

#include "api/json_io.hpp"

#include <boost/json/array.hpp>

#include <charconv>

namespace chatgate::api {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxPage = 1'000'000'000'000;

std::optional<std::int64_t> parse_int(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
    return value;
}

/// DRF's page links: absolute when the Host header is known.
json::value page_link(const RequestContext& ctx, std::int64_t page, std::int64_t page_size,
                      bool page_size_given) {
    std::string url;
    if (auto host = ctx.request.header("Host"); !host.empty()) url = "http://" + std::string(host);
    url += ctx.request.path;
    std::string query;
    if (page > 1) query = "page=" + std::to_string(page);
    if (page_size_given) {
        query += query.empty() ? "" : "&";
        query += "page_size=" + std::to_string(page_size);
    }
    if (!query.empty()) url += "?" + query;
    return json::value(url);
}

json::object to_json(const domain::LedgerEntry& e) {
    json::object out{{"id", e.id},
                     {"delta", e.delta},
                     {"balance_after", e.balance_after},
                     {"kind", domain::to_string(e.kind)},
                     {"created_at", e.created_at}};
    out["reference"] = e.reference ? json::value(*e.reference) : json::value(nullptr);
    return out;
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> get_tokens(Api& api, RequestContext& ctx) {
    auto balance = co_await api.ledger.balance(ctx.user_id);
    if (!balance) co_return balance.error();
    co_return json_response(200, json::object{{"tokens", *balance}});
}

boost::asio::awaitable<Result<http::Response>> post_top_up(Api& api, RequestContext& ctx) {
    auto body = parse_body(ctx.request);
    if (!body) co_return body.error();
    const auto* object = body->if_object();
    const auto* tokens = object ? object->if_contains("tokens") : nullptr;
    // Only a JSON integer: true, 1.5, "5", null, lists and form values are all refused.
    if (!tokens || !tokens->is_int64()) {
        co_return Error{ErrorCode::invalid_argument, "Invalid token amount.", {}};
    }
    TokenAmount amount = tokens->get_int64();
    auto total = co_await api.ledger.top_up(ctx.user_id, amount);
    if (!total) co_return total.error();
    co_return json_response(
        200, json::object{{"message", "Successfully added " + std::to_string(amount) + " tokens."},
                          {"total_tokens", *total}});
}

boost::asio::awaitable<Result<http::Response>> get_transactions(Api& api, RequestContext& ctx) {
    const auto& s = api.settings;
    auto page_text = query_param(ctx.request.query, "page");
    auto page = page_text ? parse_int(page_text) : std::optional<std::int64_t>(1);
    if (!page || *page < 1 || *page > kMaxPage)
        co_return Error{ErrorCode::not_found, "Invalid page.", {}};
    auto size_param = parse_int(query_param(ctx.request.query, "page_size"));
    bool size_given = size_param && *size_param > 0;
    std::int64_t page_size = size_given ? std::min(*size_param, s.max_page_size) : s.page_size;

    auto loaded = co_await api.ledger.history(ctx.user_id, *page, page_size);
    if (!loaded) co_return loaded.error();
    json::array results;
    for (const auto& entry : loaded->entries) results.push_back(to_json(entry));
    bool has_next = *page * page_size < loaded->count;
    json::object out{{"count", loaded->count}};
    out["next"] =
        has_next ? page_link(ctx, *page + 1, page_size, size_given) : json::value(nullptr);
    out["previous"] =
        *page > 1 ? page_link(ctx, *page - 1, page_size, size_given) : json::value(nullptr);
    out["results"] = std::move(results);
    co_return json_response(200, out);
}

}  // namespace chatgate::api

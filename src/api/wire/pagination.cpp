#include "api/wire/pagination.hpp"

#include "api/wire/json_io.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace chatgate::api {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxPage = 1'000'000'000'000;

std::optional<std::int64_t> parse_int(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return text::parse_integer<std::int64_t>(*text);
}

/// The request's other query parameters (filters, ordering), as sent, so that following a link
/// keeps them.
std::string other_params(std::string_view query) {
    std::string out;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        std::string_view name = item.substr(0, item.find('='));
        if (item.empty() || name == "page" || name == "page_size") continue;
        out += out.empty() ? "" : "&";
        out += item;
    }
    return out;
}

json::value page_link(const RequestContext& ctx, std::string_view public_url, std::int64_t page,
                      std::int64_t page_size, bool page_size_given) {
    std::string url(public_url);
    url += ctx.request.path;
    std::string query = other_params(ctx.request.query);
    if (page > 1) query += (query.empty() ? "page=" : "&page=") + std::to_string(page);
    if (page_size_given) {
        query += query.empty() ? "" : "&";
        query += "page_size=" + std::to_string(page_size);
    }
    if (!query.empty()) url += "?" + query;
    return json::value(url);
}

}  // namespace

Result<PageRequest> read_page(const RequestContext& ctx, const HandlerSettings& settings) {
    auto page_text = query_param(ctx.request.query, "page");
    auto page = page_text ? parse_int(page_text) : std::optional<std::int64_t>(1);
    if (!page || *page < 1 || *page > kMaxPage) {
        return Error{ErrorCode::not_found, "Invalid page.", {}};
    }
    auto size_param = parse_int(query_param(ctx.request.query, "page_size"));
    bool size_given = size_param && *size_param > 0;
    std::int64_t size =
        size_given ? std::min(*size_param, settings.max_page_size) : settings.page_size;
    return PageRequest{*page, size, size_given, settings.public_url};
}

json::object page_envelope(const RequestContext& ctx, const PageRequest& page, std::int64_t count,
                           json::array results) {
    bool has_next = page.page * page.size < count;
    json::object out{{"count", count}};
    out["next"] = has_next
                      ? page_link(ctx, page.public_url, page.page + 1, page.size, page.size_given)
                      : json::value(nullptr);
    out["previous"] =
        page.page > 1 ? page_link(ctx, page.public_url, page.page - 1, page.size, page.size_given)
                      : json::value(nullptr);
    out["results"] = std::move(results);
    return out;
}

}  // namespace chatgate::api

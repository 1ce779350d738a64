#include "api/export/ledger_csv.hpp"

#include "api/wire/json_io.hpp"
#include "api/wire/time_text.hpp"

#include <memory>

namespace chatgate::api {
namespace {

constexpr std::int64_t kRowsPerChunk = 1000;
constexpr std::string_view kFirstDay = "0001-01-01";
constexpr std::string_view kLastDay = "9999-12-30";
constexpr std::string_view kHeader =
    "id,user_id,username,created_at,kind,delta,balance_after,reference\r\n";

Result<std::string> day_param(const RequestContext& ctx, std::string_view name,
                              std::string_view fallback) {
    auto value = query_param(ctx.request.query, name);
    if (!value) return std::string(fallback);
    if (!is_day(*value)) {
        return Error::fields_invalid({{std::string(name), {"Expected a day: YYYY-MM-DD."}}});
    }
    return *value;
}

void append_row(std::string& out, const domain::LedgerExportRow& row) {
    const auto& e = row.entry;
    out += std::to_string(e.id) + ',' + std::to_string(row.user) + ',' + csv_field(row.username) +
           ',' + e.created_at + ',' + std::string(domain::to_string(e.kind)) + ',' +
           std::to_string(e.delta) + ',' + std::to_string(e.balance_after) + ',' +
           csv_field(e.reference.value_or("")) + "\r\n";
}

/// Writes every page of `query` to `writer`; stops early when the client goes. (`query` by
/// reference, owned by the stream: GCC 12 mishandles by-value class parameters of coroutines.)
boost::asio::awaitable<void> produce(Services& services, domain::LedgerExportQuery& query,
                                     http::BodyWriter& writer) {
    bool more = co_await writer.write(kHeader);
    while (more) {
        auto rows = co_await services.admin.export_page(query);
        if (rows.empty()) break;
        std::string chunk;
        for (const auto& row : rows) append_row(chunk, row);
        query.after = rows.back().entry.id;
        more = co_await writer.write(chunk);
        if (static_cast<std::int64_t>(rows.size()) < query.limit) break;
    }
}

}  // namespace

std::string csv_field(std::string_view text) {
    std::string value(text);
    if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string::npos) {
        value.insert(value.begin(), '\'');
    }
    if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
    std::string quoted = "\"";
    for (char c : value) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

Result<http::Response> ledger_csv(Services& services, const RequestContext& ctx,
                                  std::optional<UserId> user) {
    auto from = day_param(ctx, "from", kFirstDay);
    if (!from) return from.error();
    auto to = day_param(ctx, "to", kLastDay);
    if (!to) return to.error();
    auto query = std::make_shared<domain::LedgerExportQuery>(
        domain::LedgerExportQuery{user, {std::move(*from), std::move(*to)}, 0, kRowsPerChunk});
    http::Response response;
    response.content_type = "text/csv; charset=utf-8";
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"ledger.csv\"");
    response.stream = std::make_shared<http::StreamedBody>();
    response.stream->produce = [&services, query](http::BodyWriter& writer) {
        return produce(services, *query, writer);
    };
    return response;
}

}  // namespace chatgate::api

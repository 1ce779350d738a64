#include "api/admin/admin_handlers.hpp"

#include "api/export/ledger_csv.hpp"
#include "api/keys/key_handlers.hpp"
#include "api/seed/chat_handlers.hpp"
#include "api/wire/json_io.hpp"
#include "api/wire/pagination.hpp"
#include "api/wire/time_text.hpp"
#include "core/text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <chrono>

namespace chatgate::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxSearchChars = 150;
constexpr std::size_t kMaxActionChars = 64;
constexpr std::int64_t kMaxRangeDays = 366;
constexpr std::int64_t kDefaultRangeDays = 30;
constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kDefaultSpenders = 10;
constexpr std::int64_t kMaxSpenders = 100;

Error field_error(std::string field, std::string message) {
    return Error::fields_invalid({{std::move(field), {std::move(message)}}});
}

json::value optional_text(const std::optional<std::string>& text) {
    return text ? json::value(*text) : json::value(nullptr);
}

json::value optional_int(const std::optional<std::int64_t>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

json::object user_json(const domain::UserRow& u) {
    return {{"id", u.id},
            {"username", u.username},
            {"tokens", u.tokens},
            {"is_active", u.is_active},
            {"is_staff", u.is_staff},
            {"is_superuser", u.is_superuser},
            {"date_joined", u.date_joined}};
}

json::object ledger_json(const domain::LedgerEntry& e) {
    return {{"id", e.id},
            {"delta", e.delta},
            {"balance_after", e.balance_after},
            {"kind", domain::to_string(e.kind)},
            {"reference", optional_text(e.reference)},
            {"created_at", e.created_at}};
}

json::object session_json(const domain::SessionRow& s) {
    return {{"id", s.id},
            {"created_at", format_utc_time(s.created_at)},
            {"last_used_at", format_utc_time(s.last_used_at)},
            {"revoked_at",
             s.revoked_at ? json::value(format_utc_time(*s.revoked_at)) : json::value(nullptr)},
            {"revoke_reason", optional_text(s.revoke_reason)}};
}

json::object usage_json(const domain::UsageRow& u) {
    json::object out{{"model", u.model},
                     {"requests", u.requests},
                     {"prompt_tokens", u.prompt_tokens},
                     {"completion_tokens", u.completion_tokens},
                     {"tokens_charged", u.tokens_charged}};
    if (!u.day.empty()) out["day"] = u.day;
    return out;
}

/// The audit row's before/after: JSON objects the store wrote.
json::value facts_json(const std::string& text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    return ec ? json::value(text) : value;
}

json::object audit_json(const domain::AuditRecord& a) {
    return {{"id", a.id},
            {"created_at", a.created_at},
            {"actor_user_id", optional_int(a.actor_user)},
            {"actor", a.actor},
            {"action", a.action},
            {"target_user_id", optional_int(a.target)},
            {"before", facts_json(a.before)},
            {"after", facts_json(a.after)},
            {"reason", optional_text(a.reason)},
            {"request_id", optional_text(a.request_id)}};
}

template <class Rows, class Render>
json::array array_of(const Rows& rows, Render render) {
    json::array out;
    for (const auto& row : rows) out.push_back(render(row));
    return out;
}

Result<std::optional<bool>> flag_param(const RequestContext& ctx, std::string_view name) {
    auto value = query_param(ctx.request.query, name);
    if (!value) return std::optional<bool>();
    if (*value == "true" || *value == "1") return std::optional<bool>(true);
    if (*value == "false" || *value == "0") return std::optional<bool>(false);
    return field_error(std::string(name), "Expected true or false.");
}

Result<std::optional<std::int64_t>> id_param(const RequestContext& ctx, std::string_view name) {
    auto value = query_param(ctx.request.query, name);
    if (!value) return std::optional<std::int64_t>();
    auto id = text::parse_integer<std::int64_t>(*value);
    if (!id || *id < 1) return field_error(std::string(name), "Expected a user id.");
    return std::optional<std::int64_t>(*id);
}

Result<domain::UserSort> sort_param(const RequestContext& ctx, bool& descending) {
    auto value = query_param(ctx.request.query, "ordering").value_or("id");
    descending = value.starts_with('-');
    std::string_view name = descending ? std::string_view(value).substr(1) : value;
    if (name == "id") return domain::UserSort::id;
    if (name == "username") return domain::UserSort::username;
    if (name == "tokens") return domain::UserSort::tokens;
    if (name == "date_joined") return domain::UserSort::date_joined;
    return field_error("ordering",
                       "Expected id, username, tokens or date_joined, with - for "
                       "descending.");
}

Result<domain::UserQuery> user_query(const RequestContext& ctx, const PageRequest& page) {
    domain::UserQuery query;
    query.search = query_param(ctx.request.query, "search").value_or("");
    if (domain::count_chars(query.search) > kMaxSearchChars) {
        return field_error("search", "Ensure this field has no more than " +
                                         std::to_string(kMaxSearchChars) + " characters.");
    }
    auto active = flag_param(ctx, "is_active");
    if (!active) return active.error();
    auto staff = flag_param(ctx, "is_staff");
    if (!staff) return staff.error();
    auto sort = sort_param(ctx, query.descending);
    if (!sort) return sort.error();
    query.active = *active;
    query.staff = *staff;
    query.sort = *sort;
    query.offset = (page.page - 1) * page.size;
    query.limit = page.size;
    return query;
}

std::int64_t today_start() {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
    return seconds - seconds % kSecondsPerDay;
}

/// `?from=&to=` as UTC days (inclusive): by default the last 30 days, at most 366.
Result<domain::DayRange> day_range(const RequestContext& ctx) {
    auto from = query_param(ctx.request.query, "from");
    auto to = query_param(ctx.request.query, "to");
    std::int64_t to_day = today_start();
    if (to) {
        auto parsed = is_day(*to) ? parse_utc_time(*to) : std::nullopt;
        if (!parsed) return field_error("to", "Expected a day: YYYY-MM-DD.");
        to_day = *parsed;
    }
    std::int64_t from_day = to_day - (kDefaultRangeDays - 1) * kSecondsPerDay;
    if (from) {
        auto parsed = is_day(*from) ? parse_utc_time(*from) : std::nullopt;
        if (!parsed) return field_error("from", "Expected a day: YYYY-MM-DD.");
        from_day = *parsed;
    }
    if (from_day > to_day) return field_error("from", "The range ends before it starts.");
    if ((to_day - from_day) / kSecondsPerDay >= kMaxRangeDays) {
        return field_error("to",
                           "A range covers at most " + std::to_string(kMaxRangeDays) + " days.");
    }
    return domain::DayRange{format_utc_time(from_day).substr(0, 10),
                            format_utc_time(to_day).substr(0, 10)};
}

/// The acting staff user, for the audit log.
boost::asio::awaitable<domain::Actor> actor_of(Services& services, const RequestContext& ctx) {
    auto role = co_await services.admin.role(ctx.user_id);
    co_return domain::Actor{ctx.user_id, role.username, std::string(ctx.request_id)};
}

/// `{"tokens": N, "reason": "..."}`: a JSON integer of at least 1, and a reason.
Result<std::pair<TokenAmount, std::string>> read_adjustment(const json::value& body) {
    const json::object* object = body.if_object();
    if (!object) return not_an_object(body);
    std::vector<FieldError> errors;
    const json::value* tokens = object->if_contains("tokens");
    if (!tokens || !tokens->is_int64() || tokens->get_int64() < 1) {
        errors.push_back({"tokens", {"Expected a whole number of at least 1."}});
    }
    auto reason = read_char_field(body, "reason", domain::AdminService::kMaxReasonChars, errors);
    if (!errors.empty()) return Error::fields_invalid(std::move(errors));
    return std::pair<TokenAmount, std::string>(tokens->get_int64(), std::move(*reason));
}

boost::asio::awaitable<Result<http::Response>> adjust(Services& services, RequestContext& ctx,
                                                      bool grant) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    auto adjustment = read_adjustment(*body);
    if (!adjustment) co_return adjustment.error();
    UserId user = ctx.path.integer("id");
    auto actor = co_await actor_of(services, ctx);
    TokenAmount delta = grant ? adjustment->first : -adjustment->first;
    auto balance = co_await services.admin.adjust_balance(actor, user, delta, adjustment->second);
    if (!balance) co_return balance.error();
    co_return json_response(200, json::object{{"user_id", user}, {"tokens", *balance}});
}

boost::asio::awaitable<Result<http::Response>> activate(Services& services, RequestContext& ctx,
                                                        bool active) {
    UserId user = ctx.path.integer("id");
    auto actor = co_await actor_of(services, ctx);
    auto done = co_await services.admin.set_active(actor, user, active);
    if (!done) co_return done.error();
    services.sessions.user_changed(user);  // no cached session may outlive the deactivation
    co_return json_response(200, json::object{{"user_id", user}, {"is_active", active}});
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> admin_list_users(Services& services,
                                                                RequestContext& ctx) {
    auto page = read_page(ctx, services.settings);
    if (!page) co_return page.error();
    auto query = user_query(ctx, *page);
    if (!query) co_return query.error();
    auto found = co_await services.admin.users(*query);
    co_return json_response(
        200, page_envelope(ctx, *page, found.count, array_of(found.users, user_json)));
}

boost::asio::awaitable<Result<http::Response>> admin_get_user(Services& services,
                                                              RequestContext& ctx) {
    auto detail = co_await services.admin.user(ctx.path.integer("id"));
    if (!detail) co_return detail.error();
    json::object out = user_json(detail->user);
    out["recent_ledger"] = array_of(detail->recent_ledger, ledger_json);
    out["sessions"] = array_of(detail->sessions, session_json);
    out["keys"] = array_of(detail->keys, key_json);
    out["conversations_count"] = detail->conversations;
    out["spend_per_model"] = array_of(detail->spend_per_model, usage_json);
    out["debt"] = co_await services.payments.debt(detail->user.id);
    co_return json_response(200, out);
}

boost::asio::awaitable<Result<http::Response>> admin_grant(Services& services,
                                                           RequestContext& ctx) {
    co_return co_await adjust(services, ctx, true);
}

boost::asio::awaitable<Result<http::Response>> admin_deduct(Services& services,
                                                            RequestContext& ctx) {
    co_return co_await adjust(services, ctx, false);
}

boost::asio::awaitable<Result<http::Response>> admin_activate(Services& services,
                                                              RequestContext& ctx) {
    co_return co_await activate(services, ctx, true);
}

boost::asio::awaitable<Result<http::Response>> admin_deactivate(Services& services,
                                                                RequestContext& ctx) {
    co_return co_await activate(services, ctx, false);
}

boost::asio::awaitable<Result<http::Response>> admin_revoke(Services& services,
                                                            RequestContext& ctx) {
    auto actor = co_await actor_of(services, ctx);
    auto counts = co_await services.admin.revoke_all(actor, ctx.path.integer("id"));
    if (!counts) co_return counts.error();
    services.sessions.user_changed(ctx.path.integer("id"));
    co_return json_response(
        200, json::object{{"sessions_revoked", counts->sessions}, {"keys_revoked", counts->keys}});
}

boost::asio::awaitable<Result<http::Response>> admin_reset_password(Services& services,
                                                                    RequestContext& ctx) {
    std::optional<std::string> password;
    if (!ctx.request.body.empty()) {
        auto body = parse_body(ctx.request, services.settings.json);
        if (!body) co_return body.error();
        const json::object* object = body->if_object();
        if (!object) co_return not_an_object(*body);
        if (const json::value* given = object->if_contains("password");
            given && !given->is_null()) {
            if (!given->is_string()) co_return field_error("password", "Not a valid string.");
            password = std::string(given->get_string());
        }
    }
    auto actor = co_await actor_of(services, ctx);
    auto reset = co_await services.admin.reset_password(actor, ctx.path.integer("id"), password);
    if (!reset) co_return reset.error();
    services.sessions.user_changed(ctx.path.integer("id"));
    if (password) co_return json_response(200, json::object{{"detail", "Password set."}});
    // Shown once: the operator hands it over; every session of the user is revoked.
    co_return json_response(200, json::object{{"password", *reset}});
}

boost::asio::awaitable<Result<http::Response>> admin_set_staff(Services& services,
                                                               RequestContext& ctx) {
    auto body = parse_body(ctx.request, services.settings.json);
    if (!body) co_return body.error();
    const json::object* object = body->if_object();
    if (!object) co_return not_an_object(*body);
    const json::value* staff = object->if_contains("is_staff");
    if (!staff || !staff->is_bool()) co_return field_error("is_staff", "Expected true or false.");
    UserId user = ctx.path.integer("id");
    auto actor = co_await actor_of(services, ctx);
    auto done = co_await services.admin.set_staff(actor, user, staff->get_bool());
    if (!done) co_return done.error();
    co_return json_response(200, json::object{{"user_id", user}, {"is_staff", staff->get_bool()}});
}

boost::asio::awaitable<Result<http::Response>> admin_revoke_key(Services& services,
                                                                RequestContext& ctx) {
    auto actor = co_await actor_of(services, ctx);
    auto revoked =
        co_await services.admin.revoke_key(actor, ctx.path.integer("id"), ctx.path.integer("key"));
    if (!revoked) co_return revoked.error();
    http::Response response;
    response.status = 204;
    response.content_type.clear();
    co_return response;
}

boost::asio::awaitable<Result<http::Response>> admin_list_conversations(Services& services,
                                                                        RequestContext& ctx) {
    UserId user = ctx.path.integer("id");
    bool found = co_await services.admin.exists(user);  // (not in the condition: GCC 12)
    if (!found) co_return Error{ErrorCode::not_found, "Not found.", {}};
    co_return co_await conversations_of(services, ctx, user);
}

boost::asio::awaitable<Result<http::Response>> admin_get_conversation(Services& services,
                                                                      RequestContext& ctx) {
    co_return co_await conversation_of(services, ctx.path.integer("id"),
                                       ctx.path.integer("conversation"));
}

boost::asio::awaitable<Result<http::Response>> admin_usage(Services& services,
                                                           RequestContext& ctx) {
    auto range = day_range(ctx);
    if (!range) co_return range.error();
    auto rows = co_await services.admin.usage(*range);
    co_return json_response(200, json::object{{"from", range->from},
                                              {"to", range->to},
                                              {"results", array_of(rows, usage_json)}});
}

boost::asio::awaitable<Result<http::Response>> admin_top_spenders(Services& services,
                                                                  RequestContext& ctx) {
    auto range = day_range(ctx);
    if (!range) co_return range.error();
    std::int64_t limit = kDefaultSpenders;
    if (auto text = query_param(ctx.request.query, "limit")) {
        auto parsed = text::parse_integer<std::int64_t>(*text);
        if (!parsed || *parsed < 1 || *parsed > kMaxSpenders) {
            co_return field_error(
                "limit", "Expected a whole number from 1 to " + std::to_string(kMaxSpenders) + ".");
        }
        limit = *parsed;
    }
    auto rows = co_await services.admin.top_spenders(*range, limit);
    auto render = [](const domain::SpenderRow& s) {
        return json::object{{"user_id", s.user},
                            {"username", s.username},
                            {"requests", s.requests},
                            {"tokens_charged", s.tokens_charged}};
    };
    co_return json_response(
        200, json::object{
                 {"from", range->from}, {"to", range->to}, {"results", array_of(rows, render)}});
}

boost::asio::awaitable<Result<http::Response>> admin_audit(Services& services,
                                                           RequestContext& ctx) {
    auto page = read_page(ctx, services.settings);
    if (!page) co_return page.error();
    auto actor = id_param(ctx, "actor");
    if (!actor) co_return actor.error();
    auto target = id_param(ctx, "target");
    if (!target) co_return target.error();
    domain::AuditQuery query{*actor, *target, query_param(ctx.request.query, "action"),
                             (page->page - 1) * page->size, page->size};
    if (query.action && query.action->size() > kMaxActionChars) {
        co_return field_error("action", "Ensure this field has no more than " +
                                            std::to_string(kMaxActionChars) + " characters.");
    }
    auto found = co_await services.admin.audit(query);
    co_return json_response(
        200, page_envelope(ctx, *page, found.count, array_of(found.entries, audit_json)));
}

boost::asio::awaitable<Result<http::Response>> admin_transactions(Services& services,
                                                                  RequestContext& ctx) {
    auto user = id_param(ctx, "user");
    if (!user) co_return user.error();
    co_return ledger_csv(services, ctx, *user);
}

}  // namespace chatgate::api

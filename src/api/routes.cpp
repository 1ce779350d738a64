#include "api/routes.hpp"

#include "api/admin/admin_handlers.hpp"
#include "api/anthropic/messages_handlers.hpp"
#include "api/keys/key_handlers.hpp"
#include "api/openai/embeddings.hpp"
#include "api/openai/openai_handlers.hpp"
#include "api/openai/responses_handlers.hpp"
#include "api/ops/health_handlers.hpp"
#include "api/ops/metrics_handlers.hpp"
#include "api/pages/docs_handlers.hpp"
#include "api/payments/code_handlers.hpp"
#include "api/payments/payment_handlers.hpp"
#include "api/seed/auth_handlers.hpp"
#include "api/seed/chat_handlers.hpp"
#include "api/seed/token_handlers.hpp"

namespace chatgate::api {
namespace {

using guards::RateClass;
using http::Method;

constexpr std::string_view kJs = "text/javascript; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";
constexpr std::string_view kHtml = "text/html; charset=utf-8";

/// An embedded file, served to anyone (pages and their assets); HTML pages with their policy.
constexpr Route page(std::string_view path, std::string_view asset, std::string_view type,
                     PagePolicy policy = PagePolicy::none) {
    return {.method = Method::get,
            .path = path,
            .handler = serve_asset,
            .auth = Auth::none,
            .rate = RateClass::pages,
            .documented = false,
            .asset = asset,
            .content_type = type,
            .policy = policy};
}

/// A script or style sheet of the chat page or the console.
constexpr Route web_asset(std::string_view path, std::string_view asset) {
    return page(path, asset, asset.ends_with(".css") ? kCss : kJs);
}

constexpr Route staff_read(std::string_view path, Handler handler) {
    return {.method = Method::get,
            .path = path,
            .handler = handler,
            .auth = Auth::staff,
            .rate = RateClass::read};
}

constexpr Route staff_action(std::string_view path, Handler handler) {
    return {.method = Method::post,
            .path = path,
            .handler = handler,
            .auth = Auth::staff,
            .rate = RateClass::write};
}

const Route kRoutes[] = {
    // The seed API (documented in openapi/openapi.json).
    {.method = Method::post,
     .path = "/api/register/",
     .handler = post_register,
     .auth = Auth::none,
     .rate = RateClass::register_account},
    {.method = Method::post,
     .path = "/api/login/",
     .handler = post_login,
     .auth = Auth::none,
     .rate = RateClass::login},
    {.method = Method::post,
     .path = "/api/token/refresh/",
     .handler = post_token_refresh,
     .auth = Auth::none,
     .rate = RateClass::refresh},
    {.method = Method::post,
     .path = "/api/logout/",
     .handler = post_logout,
     .auth = Auth::none,
     .rate = RateClass::refresh},
    // A wrong old password is a guess: it counts like a login attempt.
    {.method = Method::post,
     .path = "/api/password/",
     .handler = post_password,
     .auth = Auth::session,
     .rate = RateClass::login},
    {.method = Method::post,
     .path = "/api/chat/",
     .handler = post_chat,
     .rate = RateClass::chat,
     .replay = Replay::idempotency_key},
    {.method = Method::get, .path = "/api/tokens/", .handler = get_tokens, .rate = RateClass::read},
    {.method = Method::get,
     .path = "/api/account/",
     .handler = get_account,
     .rate = RateClass::read},
    {.method = Method::post,
     .path = "/api/top-up/",
     .handler = post_top_up,
     .rate = RateClass::top_up,
     .replay = Replay::idempotency_key},
    {.method = Method::get,
     .path = "/api/transactions/",
     .handler = get_transactions,
     .rate = RateClass::read},
    {.method = Method::get,
     .path = "/api/conversations/",
     .handler = get_conversations,
     .rate = RateClass::read},
    {.method = Method::get,
     .path = "/api/conversations/{id:int}/",
     .handler = get_conversation,
     .rate = RateClass::read},
    {.method = Method::del,
     .path = "/api/conversations/{id:int}/",
     .handler = delete_conversation,
     .rate = RateClass::write},
    {.method = Method::get, .path = "/api/models/", .handler = get_models, .rate = RateClass::read},

    // API keys: listed and revoked with a key or a token, created with an access token only.
    {.method = Method::post,
     .path = "/api/keys/",
     .handler = post_key,
     .auth = Auth::session,
     .rate = RateClass::write},
    {.method = Method::get, .path = "/api/keys/", .handler = get_keys, .rate = RateClass::read},
    {.method = Method::del,
     .path = "/api/keys/{id:int}/",
     .handler = delete_key,
     .rate = RateClass::write},

    // The admin API: staff only, checked in the database on every request.
    staff_read("/api/admin/users/", admin_list_users),
    staff_read("/api/admin/users/{id:int}/", admin_get_user),
    staff_action("/api/admin/users/{id:int}/grant/", admin_grant),
    staff_action("/api/admin/users/{id:int}/deduct/", admin_deduct),
    staff_action("/api/admin/users/{id:int}/activate/", admin_activate),
    staff_action("/api/admin/users/{id:int}/deactivate/", admin_deactivate),
    staff_action("/api/admin/users/{id:int}/revoke/", admin_revoke),
    staff_action("/api/admin/users/{id:int}/password/", admin_reset_password),
    staff_action("/api/admin/users/{id:int}/staff/", admin_set_staff),
    {.method = Method::del,
     .path = "/api/admin/users/{id:int}/keys/{key:int}/",
     .handler = admin_revoke_key,
     .auth = Auth::staff,
     .rate = RateClass::write},
    staff_read("/api/admin/users/{id:int}/conversations/", admin_list_conversations),
    staff_read("/api/admin/users/{id:int}/conversations/{conversation:int}/",
               admin_get_conversation),
    staff_read("/api/admin/usage/", admin_usage),
    staff_read("/api/admin/usage/top-spenders/", admin_top_spenders),
    staff_read("/api/admin/audit/", admin_audit),
    staff_read("/api/admin/transactions/", admin_transactions),
    staff_action("/api/admin/codes/", admin_create_codes),
    staff_read("/api/admin/codes/", admin_list_codes),
    staff_action("/api/admin/codes/{id:int}/revoke/", admin_revoke_codes),

    // Redemption codes: every attempt reserves a failed redemption (per user and address) that
    // only a redeemed code gives back, so guessing is limited like failed logins.
    {.method = Method::post,
     .path = "/api/redeem/",
     .handler = post_redeem,
     .rate = RateClass::redeem},
    // Stripe: a checkout for a price of the table (an access token only; a retry with its
    // Idempotency-Key gets the same checkout), and the webhook,
    // which takes no authentication of ours: its signature is the check (limited per address).
    {.method = Method::post,
     .path = "/api/payments/checkout/",
     .handler = post_checkout,
     .auth = Auth::session,
     .rate = RateClass::write,
     .replay = Replay::idempotency_key},
    {.method = Method::post,
     .path = "/api/payments/stripe/webhook",
     .handler = post_stripe_webhook,
     .auth = Auth::none,
     .rate = RateClass::webhook},

    // The OpenAI-compatible surface: a chatgate access token is the API key. Completions count
    // against the same rate limit as /api/chat/.
    {.method = Method::get,
     .path = "/v1/models",
     .handler = get_openai_models,
     .rate = RateClass::read,
     .errors = ErrorStyle::openai},
    {.method = Method::get,
     .path = "/v1/models/{model}",
     .handler = get_openai_model,
     .rate = RateClass::read,
     .errors = ErrorStyle::openai},
    {.method = Method::post,
     .path = "/v1/chat/completions",
     .handler = post_completions,
     .rate = RateClass::chat,
     .errors = ErrorStyle::openai},
    {.method = Method::post,
     .path = "/v1/embeddings",
     .handler = post_embeddings,
     .rate = RateClass::chat,
     .errors = ErrorStyle::openai},
    // Anthropic's Messages API, translated to the same chat service; x-api-key or Bearer.
    {.method = Method::post,
     .path = "/v1/messages",
     .handler = post_messages,
     .rate = RateClass::chat,
     .errors = ErrorStyle::anthropic},
    // The Responses API, translated to the same chat service.
    {.method = Method::post,
     .path = "/v1/responses",
     .handler = post_responses,
     .rate = RateClass::chat,
     .errors = ErrorStyle::openai},
    {.method = Method::get,
     .path = "/v1/responses/{id}",
     .handler = get_response,
     .rate = RateClass::read,
     .errors = ErrorStyle::openai},
    {.method = Method::del,
     .path = "/v1/responses/{id}",
     .handler = delete_response,
     .rate = RateClass::write,
     .errors = ErrorStyle::openai},

    // Pages, the schema and operations endpoints.
    // The chat page, the console and their assets (plain modules, libraries from npm).
    page("/", "web/index.html", kHtml, PagePolicy::app),
    web_asset("/static/web/app.css", "web/app.css"),
    web_asset("/static/web/api.js", "web/api.js"),
    web_asset("/static/web/ui.js", "web/ui.js"),
    web_asset("/static/web/state.js", "web/state.js"),
    web_asset("/static/web/chat.js", "web/chat.js"),
    web_asset("/static/web/thread.js", "web/thread.js"),
    web_asset("/static/web/markdown.js", "web/markdown.js"),
    web_asset("/static/web/ledger.js", "web/ledger.js"),
    web_asset("/static/web/keys.js", "web/keys.js"),
    web_asset("/static/web/password.js", "web/password.js"),
    web_asset("/static/web/topup.js", "web/topup.js"),
    web_asset("/static/web/funds.js", "web/funds.js"),
    web_asset("/static/vendor/marked.esm.js", "vendor/marked.esm.js"),
    web_asset("/static/vendor/purify.es.mjs", "vendor/purify.es.mjs"),
    page("/admin/", "web/admin/index.html", kHtml, PagePolicy::app),
    web_asset("/static/web/admin/console.js", "web/admin/console.js"),
    web_asset("/static/web/admin/users.js", "web/admin/users.js"),
    web_asset("/static/web/admin/user.js", "web/admin/user.js"),
    web_asset("/static/web/admin/codes.js", "web/admin/codes.js"),
    web_asset("/static/web/admin/audit.js", "web/admin/audit.js"),
    web_asset("/static/web/admin/usage.js", "web/admin/usage.js"),
    web_asset("/static/web/admin/models.js", "web/admin/models.js"),
    web_asset("/static/vendor/uPlot.esm.js", "vendor/uPlot.esm.js"),
    web_asset("/static/vendor/uPlot.min.css", "vendor/uPlot.min.css"),
    {.method = Method::get,
     .path = "/api/schema/",
     .handler = get_schema,
     .auth = Auth::none,
     .rate = RateClass::pages,
     .documented = false},
    page("/api/docs/", "pages/swagger.html", kHtml, PagePolicy::docs),
    page("/api/redoc/", "pages/redoc.html", kHtml, PagePolicy::docs),
    page("/static/swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js", kJs),
    page("/static/swagger-ui/swagger-ui.css", "swagger-ui/swagger-ui.css", kCss),
    page("/static/swagger-ui/swagger-init.js", "pages/swagger-init.js", kJs),
    page("/static/redoc/redoc.standalone.js", "redoc/redoc.standalone.js", kJs),
    page("/static/redoc/redoc-init.js", "pages/redoc-init.js", kJs),
    // Probes are never limited: a load balancer polls them.
    {.method = Method::get,
     .path = "/healthz",
     .handler = get_healthz,
     .auth = Auth::none,
     .documented = false},
    {.method = Method::get,
     .path = "/readyz",
     .handler = get_readyz,
     .auth = Auth::none,
     .documented = false},
    // Prometheus's scrapes; the handler checks the metrics token (a 404 without one: the
    // metrics_listen address is the usual way to reach them). Limited per address like the
    // pages, which bounds guesses of the token.
    {.method = Method::get,
     .path = "/metrics",
     .handler = get_metrics,
     .auth = Auth::none,
     .rate = RateClass::pages,
     .documented = false},
};

}  // namespace

std::span<const Route> routes() {
    return kRoutes;
}

std::string openapi_path(const Route& route) {
    std::string out;
    std::string_view path = route.path;
    while (!path.empty()) {
        auto colon = path.find(':');
        auto close = path.find('}');
        if (colon < close && close != std::string_view::npos) {
            out += path.substr(0, colon);
            out += '}';
            path.remove_prefix(close + 1);
        } else {
            out += path;
            break;
        }
    }
    return out;
}

ErrorStyle error_style_for_path(std::string_view path) {
    if (path == "/v1/messages" || path.starts_with("/v1/messages/")) return ErrorStyle::anthropic;
    return path == "/v1" || path.starts_with("/v1/") ? ErrorStyle::openai : ErrorStyle::seed;
}

}  // namespace chatgate::api

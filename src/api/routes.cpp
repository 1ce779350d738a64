#include "api/routes.hpp"

#include "api/auth_handlers.hpp"
#include "api/chat_handlers.hpp"
#include "api/docs_handlers.hpp"
#include "api/token_handlers.hpp"

namespace chatgate::api {
namespace {

using http::Method;

constexpr std::string_view kJs = "text/javascript; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";
constexpr std::string_view kHtml = "text/html; charset=utf-8";

const Route kRoutes[] = {
    // The API (documented in openapi/openapi.json).
    {Method::post, "/api/register/", Auth::none, true, post_register, {}, {}, "register"},
    {Method::post, "/api/login/", Auth::none, true, post_login, {}, {}, "login"},
    {Method::post, "/api/token/refresh/", Auth::none, true, post_token_refresh, {}, {}, "refresh"},
    {Method::post, "/api/chat/", Auth::bearer, true, post_chat, {}, {}, "chat"},
    {Method::get, "/api/tokens/", Auth::bearer, true, get_tokens},
    {Method::post, "/api/top-up/", Auth::bearer, true, post_top_up, {}, {}, "top_up"},
    {Method::get, "/api/transactions/", Auth::bearer, true, get_transactions},

    // Pages, the schema and operations endpoints.
    {Method::get, "/", Auth::none, false, serve_asset, "pages/index.html", kHtml},
    {Method::get, "/api/schema/", Auth::none, false, get_schema},
    {Method::get, "/api/docs/", Auth::none, false, serve_asset, "pages/swagger.html", kHtml},
    {Method::get, "/api/redoc/", Auth::none, false, serve_asset, "pages/redoc.html", kHtml},
    {Method::get, "/static/swagger-ui/swagger-ui-bundle.js", Auth::none, false, serve_asset,
     "swagger-ui/swagger-ui-bundle.js", kJs},
    {Method::get, "/static/swagger-ui/swagger-ui.css", Auth::none, false, serve_asset,
     "swagger-ui/swagger-ui.css", kCss},
    {Method::get, "/static/swagger-ui/swagger-init.js", Auth::none, false, serve_asset,
     "pages/swagger-init.js", kJs},
    {Method::get, "/static/redoc/redoc.standalone.js", Auth::none, false, serve_asset,
     "redoc/redoc.standalone.js", kJs},
    {Method::get, "/static/redoc/redoc-init.js", Auth::none, false, serve_asset,
     "pages/redoc-init.js", kJs},
    {Method::get, "/healthz", Auth::none, false, get_healthz, {}, {}, "none"},
    {Method::get, "/readyz", Auth::none, false, get_readyz, {}, {}, "none"},
};

}  // namespace

std::span<const Route> routes() {
    return kRoutes;
}

}  // namespace chatgate::api

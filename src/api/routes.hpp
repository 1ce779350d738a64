#pragma once

#include "api/handler.hpp"
#include "api/wire/error_mapping.hpp"
#include "guards/rate_table.hpp"
#include "http/message.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace chatgate::api {

/// `bearer`: an access token or an API key. `session`: an access token only (keys cannot create
/// keys or change the password). `staff`: an access token of a user who is staff at the time of
/// the request (checked in the database on every request).
enum class Auth { none, bearer, session, staff };

/// `idempotency_key`: a request sent with an Idempotency-Key header runs once per user and key;
/// repeats get its first answer (api/pipeline/idempotency.hpp wraps the handler).
enum class Replay { none, idempotency_key };

/// The Content-Security-Policy of a page, added with the security headers on the way out.
/// `docs`: Swagger UI and ReDoc, which inject styles and run a worker from a blob. `app`: the
/// chat page and the console, which load only their own scripts and styles.
enum class PagePolicy { none, docs, app };

/// One row of the route table. Rows name their fields, so every column reads by its name.
struct Route {
    http::Method method;
    std::string_view path;  ///< template, with its trailing slash; "{id:int}" for typed segments
    Handler handler;
    Auth auth = Auth::bearer;
    /// The rate limit the route counts against; nothing: never limited.
    std::optional<guards::RateClass> rate;
    ErrorStyle errors = ErrorStyle::seed;  ///< the wire shape of this route's errors
    Replay replay = Replay::none;
    bool documented = true;                ///< an API operation, described in openapi/openapi.json
    std::string_view asset = {};           ///< embedded file, for routes that serve one
    std::string_view content_type = {};    ///< of that file
    PagePolicy policy = PagePolicy::none;  ///< for HTML pages
};

/// THE route table: every path chatgate answers.
std::span<const Route> routes();

/// The route's path as the OpenAPI document writes it: parameter types dropped
/// ("/api/conversations/{id:int}/" -> "/api/conversations/{id}/").
std::string openapi_path(const Route& route);

/// The error style of a path no route matches (404, 405, unreadable requests): OpenAI's under
/// /v1, so OpenAI clients always get the error object they parse.
ErrorStyle error_style_for_path(std::string_view path);

}  // namespace chatgate::api

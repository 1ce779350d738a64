#pragma once

#include "api/wire/json_limits.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/accounts/session_service.hpp"
#include "domain/admin/admin_service.hpp"
#include "domain/chat/chat_service.hpp"
#include "domain/chat/conversation_service.hpp"
#include "domain/chat/response_archive.hpp"
#include "domain/keys/key_service.hpp"
#include "domain/ledger/ledger_service.hpp"
#include "domain/payments/code_service.hpp"
#include "domain/payments/payment_service.hpp"
#include "domain/store.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "security/jwt.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// What a handler is: a coroutine from the services and one request's context to an answer or
/// an Error (which the pipeline maps to its wire shape). Handlers include this, never the route
/// table.
namespace chatgate::api {

/// The settings handlers read; filled from the configuration by app/settings.cpp, the one place
/// that knows the defaults.
struct HandlerSettings {
    std::chrono::seconds access_lifetime;
    std::chrono::seconds refresh_lifetime;
    std::int64_t page_size;
    std::int64_t max_page_size;
    std::string public_url;  ///< prefix of listing links; empty: relative links
    std::size_t max_body_bytes;
    std::chrono::milliseconds stream_keepalive;  ///< ": ping" while an upstream is silent
    JsonLimits json;
    /// GET /metrics on the main listener wants this bearer; empty: the route is a 404 there.
    std::string metrics_token;
};

/// The services every handler may use, built by the composition root. Shared by all I/O
/// threads; every member is thread-safe.
struct Services {
    domain::AccountService& accounts;
    domain::SessionService& sessions;
    domain::LedgerService& ledger;
    domain::ChatService& chat;
    domain::ConversationService& conversations;
    domain::ResponseArchive& responses;  ///< stored responses of /v1/responses
    domain::KeyService& keys;
    domain::AdminService& admin;
    domain::CodeService& codes;        ///< redemption codes
    domain::PaymentService& payments;  ///< Stripe's checkouts and webhook
    const security::JwtCodec& jwt;
    domain::Store& store;
    WorkPool& db_pool;
    HandlerSettings settings;
    std::string schema_yaml;  ///< the OpenAPI document, rendered once at start-up
};

/// The path parameters of a matched route, already checked against their declared types
/// (`{id:int}` in a route's path): the pipeline answers 404 before the handler runs when a
/// segment is not of its type, so the accessors cannot fail.
class PathParams {
public:
    PathParams() = default;
    explicit PathParams(std::vector<http::Router::PathParam> params) : params_(std::move(params)) {}

    /// Whether every `{name:int}` segment holds a whole decimal integer.
    bool well_typed() const;
    /// The value of an `{name:int}` segment.
    std::int64_t integer(std::string_view name) const;
    /// The raw text of a `{name}` segment (still %-escaped).
    std::string_view text(std::string_view name) const;

private:
    std::vector<http::Router::PathParam> params_;
};

struct Route;

/// What a handler gets for one request.
struct RequestContext {
    const http::Request& request;
    const Route& route;
    std::string_view request_id;
    UserId user_id = 0;  ///< set for routes that require a bearer token
    PathParams path;
    /// Where a login's password hash waits (the rate limits' client key; not preferred after
    /// recent failed logins from it). Empty key: the peer address.
    std::string hash_lane_key;
    bool hash_lane_preferred = true;
    /// Set when the request came with an API key instead of an access token.
    std::optional<domain::KeyGrant> key;
};

/// A chat request on behalf of the caller: the user and the API key the request came with
/// (whose models and token_limit the chat service enforces). Every chat surface starts here,
/// so none can forget the key.
domain::ChatInput caller_chat_input(const RequestContext& ctx);

using Handler = boost::asio::awaitable<Result<http::Response>> (*)(Services&, RequestContext&);

}  // namespace chatgate::api

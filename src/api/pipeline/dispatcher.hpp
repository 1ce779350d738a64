#pragma once

#include "api/handler.hpp"
#include "api/pipeline/cors.hpp"
#include "api/pipeline/idempotency.hpp"
#include "api/pipeline/rate_limit_policy.hpp"
#include "api/pipeline/request_id.hpp"
#include "api/routes.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "security/jwt.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chatgate::api {

/// The optional steps of the pipeline, as configured: rate limiting (null when switched off)
/// and CORS (null when no origin is allowed). Both outlive the dispatcher.
struct EdgePolicies {
    RateLimitPolicy* rate_limits = nullptr;
    const CorsPolicy* cors = nullptr;
};

/// The request pipeline. Every request goes through these steps, in this order:
///
///  1. request id     First, so every answer below, refusals included, carries it.
///  2. route match    404, 405 with Allow, and OPTIONS (with the CORS preflight) are answered
///                    here: a path that does not exist costs no token check.
///  3. authentication Bearer routes verify the access token (no I/O), or look an API key up
///                    (one indexed read, which also answers revocation, expiry and the owner's
///                    is_active). Before the rate limits, so that authenticated routes count
///                    per user, not per address.
///  4. rate limits    Before the session check and the handler, so a throttled request costs
///                    no database read (with limits shared across nodes, a locally allowed
///                    request then takes its keys from the database too, off the I/O thread).
///  5. session check  Revoked sessions, password changes and deactivated users: one indexed
///                    read, after the cheap refusals. Staff routes then read the user's
///                    is_staff: a 403 that says nothing about the route's subject.
///  6. path types     A `{id:int}` segment that is no integer names nothing: 404, after the
///                    checks above so an anonymous caller learns nothing from it.
///  7. handler        As bound when the pipeline is built: routes marked
///                    `Replay::idempotency_key` run inside the Idempotency-Key wrapper.
///  8. error mapping  An Error (or an exception, logged once as a 500) becomes the route's
///                    wire shape.
///
/// On the way out, innermost first: the RateLimit-* headers (and failed-login reservations
/// handed back), the CORS headers, then the request id and the security headers, which every
/// answer carries (pages also their route's Content-Security-Policy). Nothing escapes to the
/// transport. Thread-safe.
class Dispatcher final : public http::RequestHandler {
public:
    Dispatcher(Services& services, Idempotency& idempotency, EdgePolicies policies);

    boost::asio::awaitable<http::Response> handle(const http::Request& request) override;
    http::Response transport_error(http::TransportError error,
                                   const http::Request& partial) override;

private:
    using BoundHandler =
        std::function<boost::asio::awaitable<Result<http::Response>>(Services&, RequestContext&)>;
    /// A row of the route table with its handler wrapped as the row asks.
    struct BoundRoute {
        const Route* route;
        BoundHandler run;
    };

    boost::asio::awaitable<http::Response> answer_route(const http::Request& request,
                                                        std::string_view request_id,
                                                        http::Router::Match& match);
    /// Who is asking, once authenticated: user 0 and no claims on anonymous routes. An API key
    /// is kept as presented until it is checked, then as its grant.
    struct Caller {
        UserId user = 0;
        std::optional<security::TokenClaims> claims;
        std::string_view key_text;
        std::optional<domain::KeyGrant> key;
    };

    boost::asio::awaitable<Result<http::Response>> run_steps(const BoundRoute& bound,
                                                             RequestContext& ctx,
                                                             RateTicket& ticket);
    // The steps between the route match and the handler, in order: each answers the Error
    // that refuses the request, or nothing to let it on.
    std::optional<Error> authenticate(const RequestContext& ctx, Caller& caller) const;
    boost::asio::awaitable<std::optional<Error>> check_key(Caller& caller) const;
    std::optional<Error> limit_rate(const RequestContext& ctx, const Caller& caller,
                                    RateTicket& ticket) const;
    boost::asio::awaitable<std::optional<Error>> check_session(const Caller& caller) const;
    boost::asio::awaitable<std::optional<Error>> check_staff(const RequestContext& ctx,
                                                             const Caller& caller) const;
    std::optional<Error> check_path_types(const RequestContext& ctx) const;
    http::Response answer_unrouted(const http::Request& request, std::string_view request_id,
                                   const http::Router::Match& match) const;
    /// The request id and the security headers (with the route's page policy, if any).
    void finish(http::Response& response, std::string request_id,
                PagePolicy policy = PagePolicy::none) const;

    Services& services_;
    EdgePolicies policies_;
    http::Router router_;
    std::vector<BoundRoute> bound_;  ///< by route index
    RequestIds request_ids_;
};

}  // namespace chatgate::api

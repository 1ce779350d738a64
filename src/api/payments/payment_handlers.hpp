#pragma once

#include "api/handler.hpp"

/// Selling tokens through Stripe: the checkout a user starts, and the provider's webhook.
namespace chatgate::api {

/// `{"price"}` -> 200 `{"url", "id"}`: the checkout to send the user to.
boost::asio::awaitable<Result<http::Response>> post_checkout(Services& services,
                                                             RequestContext& ctx);
/// Stripe's events, signed (`Stripe-Signature`) over the body's exact bytes. 200 once recorded;
/// any failed check the same fixed 400.
boost::asio::awaitable<Result<http::Response>> post_stripe_webhook(Services& services,
                                                                   RequestContext& ctx);

}  // namespace chatgate::api

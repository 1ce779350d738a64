#pragma once

#include "core/error.hpp"
#include "core/ids.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace chatgate::domain {

struct CheckoutRequest {
    UserId user = 0;
    std::string price_id;
    std::string idempotency_key;  ///< the provider creates one session per key
};

struct CheckoutSession {
    std::string id;
    std::string url;  ///< where to send the user to pay
};

/// Creates a checkout at the payment provider (payments/stripe_client.cpp): an HTTPS call with
/// deadlines, on the caller's executor, never blocking it. Errors: upstream_unavailable,
/// upstream_timeout (the provider's own error text goes to the log only).
class CheckoutGateway {
public:
    virtual ~CheckoutGateway() = default;
    virtual boost::asio::awaitable<Result<CheckoutSession>> create(
        const CheckoutRequest& request) = 0;
};

}  // namespace chatgate::domain

#pragma once

#include "config/base_url.hpp"
#include "domain/payments/checkout_gateway.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace chatgate::payments {

/// Filled from the `stripe` configuration by the composition root.
struct StripeClientSettings {
    BaseUrl url;             ///< api_base: https://api.stripe.com, or a local fake in tests
    std::string secret_key;  ///< sent as the bearer; never logged
    std::string success_url;
    std::string cancel_url;
    std::int64_t connect_timeout_ms = 0;  ///< resolve, TCP and TLS
    std::int64_t total_timeout_ms = 0;    ///< the whole exchange
};

/// The form body of `POST /v1/checkout/sessions`: one line item of the price, the user in
/// client_reference_id and metadata[chatgate_user], the return URLs; percent-encoded.
std::string checkout_form(const domain::CheckoutRequest& request, const std::string& success_url,
                          const std::string& cancel_url);

/// Stripe's Checkout Sessions API over HTTPS (verified against the system's CA store, SNI, the
/// host name checked; plain HTTP only for a local fake), one connection per call, on the
/// caller's executor. Beast and OpenSSL stay in the .cpp.
class StripeCheckoutClient final : public domain::CheckoutGateway {
public:
    explicit StripeCheckoutClient(StripeClientSettings settings);
    ~StripeCheckoutClient() override;

    boost::asio::awaitable<Result<domain::CheckoutSession>> create(
        const domain::CheckoutRequest& request) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace chatgate::payments

#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/keys/key_crypto.hpp"
#include "domain/payments/checkout_gateway.hpp"
#include "domain/payments/payment_store.hpp"
#include "domain/payments/webhook_verifier.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

struct PriceTokens {
    std::string price;
    TokenAmount tokens = 0;
};

/// Filled from the `stripe` configuration by the composition root.
struct PaymentPolicy {
    bool enabled = false;
    std::vector<PriceTokens> prices;
};

/// A webhook event as the API read it from the verified body.
struct WebhookEvent {
    std::string id;
    std::string type;
    bool paid = false;      ///< checkout.session.completed: payment_status is "paid"
    PaidCheckout checkout;  ///< checkout.session.completed
    RefundedCharge refund;  ///< charge.refunded
};

/// Selling tokens through a payment provider (Stripe's model): checkouts for a price of the
/// table, and the webhook's events credited or refunded exactly once per event id, in one
/// transaction with the event's row. Off (every call not_found) without a configuration.
/// Thread-safe.
class PaymentService {
public:
    /// `verifier` and `gateway` may be null when payments are off.
    PaymentService(PaymentStore& store, const WebhookVerifier* verifier, CheckoutGateway* gateway,
                   const KeyCrypto& crypto, DbPools db, const Clock& clock, PaymentPolicy policy);

    bool enabled() const { return policy_.enabled; }
    /// The configured price table (empty while off), for the pages to list.
    const std::vector<PriceTokens>& prices() const { return policy_.prices; }
    /// The answer of every payment route while payments are off.
    static Error not_configured();
    /// Whether the delivery is signed by the provider (false while off).
    bool verify(std::string_view header, std::string_view payload) const;
    /// Applies a verified event. Types other than checkout.session.completed and
    /// checkout.session.async_payment_succeeded (paid), and charge.refunded are ignored.
    boost::asio::awaitable<EventResult> handle(const WebhookEvent& event);
    /// A checkout for one price of the table, stored before it is returned. Errors:
    /// not_found (off), invalid_argument (an unknown price), the gateway's errors.
    boost::asio::awaitable<Result<CheckoutSession>> checkout(UserId user, const std::string& price);
    /// The tokens a refund left the user owing (0 for none); read whether payments are on or off.
    boost::asio::awaitable<TokenAmount> debt(UserId user);

private:
    PaymentStore& store_;
    const WebhookVerifier* verifier_;
    CheckoutGateway* gateway_;
    const KeyCrypto& crypto_;
    DbPools db_;
    const Clock& clock_;
    PaymentPolicy policy_;
};

}  // namespace chatgate::domain

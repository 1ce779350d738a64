#pragma once

#include "domain/payments/webhook_verifier.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::security {

/// `Stripe-Signature: t=<unix seconds>,v1=<hex>,v1=<hex>,...` split up: the timestamp and every
/// v1 signature (several while a secret is rotated); other schemes (v0) are dropped.
struct StripeSignatureHeader {
    std::int64_t timestamp = 0;
    std::vector<std::string_view> signatures;
};

/// Nothing when the header has no valid `t` or no `v1`. At most 16 signatures are kept.
std::optional<StripeSignatureHeader> parse_stripe_signature(std::string_view header);

/// HMAC-SHA256 of `t.payload` under `secret`, as 64 lowercase hex digits (libsodium).
std::string stripe_signature(std::string_view secret, std::int64_t timestamp,
                             std::string_view payload);

/// Stripe's documented check: the timestamp within `tolerance_seconds` of now (either way),
/// and any v1 signature equal to the expected one, compared in constant time.
class StripeWebhookVerifier final : public domain::WebhookVerifier {
public:
    StripeWebhookVerifier(std::string secret, std::int64_t tolerance_seconds);
    bool verify(std::string_view header, std::string_view payload, std::int64_t now) const override;

private:
    std::string secret_;
    std::int64_t tolerance_;
};

}  // namespace chatgate::security

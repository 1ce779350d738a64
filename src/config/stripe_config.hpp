#pragma once

#include "config/base_url.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate {

/// One row of the price table: a Stripe price id and the tokens it buys.
struct StripePrice {
    std::string price;
    std::int64_t tokens = 0;
};

/// The `stripe` key (a JSON object). Without it payments are off and their routes answer 404.
struct StripeConfig {
    bool enabled = false;  ///< the key was given
    std::string api_base = "https://api.stripe.com";
    BaseUrl url;
    std::string secret_key_env;                    ///< the API's secret key, from this variable
    std::string secret_key_file;                   ///< or this file
    std::string secret_key;                        ///< resolved at load time; secret, never logged
    std::string webhook_secret_env;                ///< the webhook's signing secret (whsec_...)
    std::string webhook_secret_file;               ///< or this file
    std::string webhook_secret;                    ///< resolved at load time; secret, never logged
    std::int64_t webhook_tolerance_seconds = 300;  ///< Stripe's own default
    std::vector<StripePrice> prices;
    std::string success_url;  ///< where Stripe sends the user after paying
    std::string cancel_url;
    std::int64_t connect_timeout_ms = 5'000;
    std::int64_t total_timeout_ms = 15'000;
};

/// Parses the `stripe` JSON object (text); `origin` names where it came from. Resolves both
/// secrets from their variable or file. Errors: invalid_argument naming the key, such as
/// `stripe.prices[1].tokens`.
Result<StripeConfig> parse_stripe(std::string_view json_text, std::string_view origin);

/// The configuration as JSON text for `describe`, secrets left out.
std::string describe_stripe(const StripeConfig& stripe);

}  // namespace chatgate

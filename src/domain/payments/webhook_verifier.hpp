#pragma once

#include <cstdint>
#include <string_view>

namespace chatgate::domain {

/// Whether a webhook delivery is the provider's (implemented in security/ with libsodium).
class WebhookVerifier {
public:
    virtual ~WebhookVerifier() = default;
    /// `header` is the signature header as sent, `payload` the body's exact bytes, `now` unix
    /// seconds. Says only yes or no: why a delivery failed is never told to anyone.
    virtual bool verify(std::string_view header, std::string_view payload,
                        std::int64_t now) const = 0;
};

}  // namespace chatgate::domain

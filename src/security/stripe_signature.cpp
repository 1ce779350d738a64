#include "security/stripe_signature.hpp"

#include "core/text.hpp"

#include <sodium.h>

namespace chatgate::security {
namespace {

constexpr std::size_t kMaxSignatures = 16;
constexpr std::size_t kHexBytes = crypto_auth_hmacsha256_BYTES * 2;

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

}  // namespace

std::optional<StripeSignatureHeader> parse_stripe_signature(std::string_view header) {
    StripeSignatureHeader out;
    bool has_time = false;
    while (!header.empty()) {
        auto comma = header.find(',');
        std::string_view item = trim(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        auto equals = item.find('=');
        if (equals == std::string_view::npos) continue;
        std::string_view key = item.substr(0, equals);
        std::string_view value = item.substr(equals + 1);
        if (key == "t" && !has_time) {
            auto t = text::parse_integer<std::int64_t>(value);
            if (!t || *t < 0) return std::nullopt;
            out.timestamp = *t;
            has_time = true;
        } else if (key == "v1" && out.signatures.size() < kMaxSignatures) {
            out.signatures.push_back(value);
        }
    }
    if (!has_time || out.signatures.empty()) return std::nullopt;
    return out;
}

std::string stripe_signature(std::string_view secret, std::int64_t timestamp,
                             std::string_view payload) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                                secret.size());
    std::string prefix = std::to_string(timestamp) + ".";
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()),
                                  prefix.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(payload.data()),
                                  payload.size());
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final(&state, mac);
    std::string hex(kHexBytes + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), mac, sizeof mac);
    hex.resize(kHexBytes);
    sodium_memzero(&state, sizeof state);
    return hex;
}

StripeWebhookVerifier::StripeWebhookVerifier(std::string secret, std::int64_t tolerance_seconds)
    : secret_(std::move(secret)), tolerance_(tolerance_seconds) {}

bool StripeWebhookVerifier::verify(std::string_view header, std::string_view payload,
                                   std::int64_t now) const {
    auto parsed = parse_stripe_signature(header);
    if (!parsed) return false;
    std::int64_t age = now - parsed->timestamp;
    if (age > tolerance_ || age < -tolerance_) return false;
    std::string expected = stripe_signature(secret_, parsed->timestamp, payload);
    bool matched = false;
    for (auto signature : parsed->signatures) {
        // Every signature is compared, in constant time, so timing tells nothing of which.
        bool same = signature.size() == expected.size() &&
                    sodium_memcmp(signature.data(), expected.data(), expected.size()) == 0;
        matched = matched || same;
    }
    return matched;
}

}  // namespace chatgate::security

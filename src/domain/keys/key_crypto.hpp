#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chatgate::domain {

/// The cryptography of API keys (implemented in security/ with libsodium).
class KeyCrypto {
public:
    virtual ~KeyCrypto() = default;
    /// `bytes` random bytes as URL-safe text without padding.
    virtual std::string random_text(std::size_t bytes) const = 0;
    /// The stored form of a secret (SHA-256, hex).
    virtual std::string digest(std::string_view secret) const = 0;
    /// Constant-time equality of two digests.
    virtual bool same_digest(std::string_view a, std::string_view b) const = 0;
};

}  // namespace chatgate::domain

#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chatgate::domain {

/// The cryptography of API keys and redemption codes (implemented in security/ with libsodium).
class KeyCrypto {
public:
    virtual ~KeyCrypto() = default;
    /// `bytes` random bytes as URL-safe text without padding.
    virtual std::string random_text(std::size_t bytes) const = 0;
    /// The stored form of a secret (SHA-256, hex).
    virtual std::string digest(std::string_view secret) const = 0;
    /// `bytes` random bytes, raw (for redemption codes, which choose their own alphabet).
    virtual std::string random_bytes(std::size_t bytes) const = 0;
    /// The stored form of a redemption code's canonical text (SHA-256, hex, its own domain).
    virtual std::string code_digest(std::string_view code) const = 0;
    /// Constant-time equality of two digests.
    virtual bool same_digest(std::string_view a, std::string_view b) const = 0;
};

}  // namespace chatgate::domain

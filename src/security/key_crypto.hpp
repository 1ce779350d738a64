#pragma once

#include "domain/keys/key_crypto.hpp"

namespace chatgate::security {

/// API key randomness and digests with libsodium: randombytes, SHA-256, sodium_memcmp.
class SodiumKeyCrypto final : public domain::KeyCrypto {
public:
    std::string random_text(std::size_t bytes) const override;
    std::string digest(std::string_view secret) const override;
    std::string random_bytes(std::size_t bytes) const override;
    std::string code_digest(std::string_view code) const override;
    bool same_digest(std::string_view a, std::string_view b) const override;
};

}  // namespace chatgate::security

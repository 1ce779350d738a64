#pragma once

#include "domain/accounts/password_hasher.hpp"

#include <cstddef>
#include <cstdint>

namespace chatgate::security {

/// Argon2id through libsodium's `crypto_pwhash_argon2id_str`. Hashes are self-describing
/// (`$argon2id$v=19$m=19456,t=2,p=1$...`), so a hash made with other parameters still verifies
/// by its own. libsodium computes one lane (p=1). Thread-safe.
class Argon2PasswordHasher final : public domain::PasswordHasher {
public:
    /// `iterations` (t) and `memory_kib` (m); the configuration's defaults are OWASP's
    /// recommendation, t=2 and m=19 MiB. Tests use libsodium's minimum, t=1 and 8 KiB.
    Argon2PasswordHasher(std::uint64_t iterations, std::size_t memory_kib);

    std::string hash(std::string_view password) const override;
    bool verify(std::string_view hash, std::string_view password) const override;
    bool needs_rehash(std::string_view hash) const override;

private:
    std::uint64_t ops_limit_;
    std::size_t mem_limit_;
};

}  // namespace chatgate::security

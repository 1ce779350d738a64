#pragma once

#include "domain/accounts/password_hasher.hpp"

#include <cstddef>
#include <cstdint>

namespace chatgate::security {

/// Argon2id through libsodium's `crypto_pwhash_argon2id_str`, at libsodium's INTERACTIVE
/// limits by default (about 50 ms and 64 MiB per hash). Thread-safe.
class Argon2PasswordHasher final : public domain::PasswordHasher {
public:
    Argon2PasswordHasher();
    /// Lower limits, for tests only; production uses the default constructor.
    Argon2PasswordHasher(std::uint64_t ops_limit, std::size_t mem_limit);

    std::string hash(std::string_view password) const override;
    bool verify(std::string_view hash, std::string_view password) const override;

private:
    std::uint64_t ops_limit_;
    std::size_t mem_limit_;
};

}  // namespace chatgate::security

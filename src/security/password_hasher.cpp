#include "security/password_hasher.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string>

namespace chatgate::security {

Argon2PasswordHasher::Argon2PasswordHasher(std::uint64_t iterations, std::size_t memory_kib)
    : ops_limit_(iterations), mem_limit_(memory_kib * 1024) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string Argon2PasswordHasher::hash(std::string_view password) const {
    char out[crypto_pwhash_argon2id_STRBYTES];
    if (crypto_pwhash_argon2id_str(out, password.data(), password.size(), ops_limit_, mem_limit_) !=
        0) {
        throw std::runtime_error("password hashing ran out of memory");
    }
    return out;
}

bool Argon2PasswordHasher::verify(std::string_view hash, std::string_view password) const {
    if (hash.size() >= crypto_pwhash_argon2id_STRBYTES) return false;
    std::string terminated(hash);  // libsodium wants a NUL-terminated hash string
    return crypto_pwhash_argon2id_str_verify(terminated.c_str(), password.data(),
                                             password.size()) == 0;
}

bool Argon2PasswordHasher::needs_rehash(std::string_view hash) const {
    if (hash.size() >= crypto_pwhash_argon2id_STRBYTES) return false;  // not ours to replace
    std::string terminated(hash);
    return crypto_pwhash_argon2id_str_needs_rehash(terminated.c_str(), ops_limit_, mem_limit_) == 1;
}

}  // namespace chatgate::security

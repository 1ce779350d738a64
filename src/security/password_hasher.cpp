#include "security/password_hasher.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string>

namespace chatgate::security {

Argon2PasswordHasher::Argon2PasswordHasher()
    : Argon2PasswordHasher(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) {}

Argon2PasswordHasher::Argon2PasswordHasher(std::uint64_t ops_limit, std::size_t mem_limit)
    : ops_limit_(ops_limit), mem_limit_(mem_limit) {
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

}  // namespace chatgate::security

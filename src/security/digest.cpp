#include "security/digest.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace chatgate::security {

std::string sha256_hex(std::initializer_list<std::string_view> parts) {
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    for (std::string_view part : parts) {
        std::uint64_t size = part.size();
        std::array<unsigned char, 8> prefix{};
        for (std::size_t i = 0; i < prefix.size(); ++i) prefix[i] = (size >> (8 * i)) & 0xff;
        crypto_hash_sha256_update(&state, prefix.data(), prefix.size());
        crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size());
    }
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256_final(&state, digest.data());
    std::string hex(digest.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    hex.pop_back();
    return hex;
}

bool same_secret(std::string_view presented, std::string_view expected) {
    std::string a = sha256_hex({presented});
    std::string b = sha256_hex({expected});
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace chatgate::security

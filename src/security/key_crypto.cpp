#include "security/key_crypto.hpp"

#include "security/digest.hpp"

#include <sodium.h>

#include <vector>

namespace chatgate::security {

std::string SodiumKeyCrypto::random_text(std::size_t bytes) const {
    std::vector<unsigned char> raw(bytes);
    randombytes_buf(raw.data(), raw.size());
    constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes, variant), '\0');
    sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(), variant);
    out.resize(out.find('\0'));
    sodium_memzero(raw.data(), raw.size());
    return out;
}

std::string SodiumKeyCrypto::digest(std::string_view secret) const {
    return sha256_hex({"chatgate api key", secret});
}

std::string SodiumKeyCrypto::random_bytes(std::size_t bytes) const {
    std::string out(bytes, '\0');
    randombytes_buf(out.data(), out.size());
    return out;
}

std::string SodiumKeyCrypto::code_digest(std::string_view code) const {
    return sha256_hex({"chatgate redemption code", code});
}

bool SodiumKeyCrypto::same_digest(std::string_view a, std::string_view b) const {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace chatgate::security

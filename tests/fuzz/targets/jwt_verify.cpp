// security::JwtCodec::verify with a fixed key and a fixed clock. A random token almost never
// passes the signature check, so the first byte picks what the rest of the input is:
//   0: the token as presented in an Authorization header
//   1: "header.payload" (base64url text), signed here with the key
//   2: header JSON, a newline, payload JSON: encoded and signed here
// Modes 1 and 2 reach the code that parses what a correctly signed token claims.
#include "security/jwt.hpp"
#include "support/manual_clock.hpp"

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace chatgate;

const std::string kKey = "fuzzing-key-of-at-least-32-bytes-0123456789";

std::string base64url(std::string_view bytes) {
    std::string out(
        sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.size() - 1);
    return out;
}

std::string signed_token(std::string signing_input) {
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(kKey.data()),
                                kKey.size());
    crypto_auth_hmacsha256_update(
        &state, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
    crypto_auth_hmacsha256_final(&state, mac.data());
    signing_input += '.';
    signing_input += base64url({reinterpret_cast<const char*>(mac.data()), mac.size()});
    return signing_input;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const testing::ManualClock clock;
    static const security::JwtCodec codec(kKey, clock);
    if (size == 0) return 0;
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string token;
    switch (data[0] % 3) {
        case 0:
            token = rest;
            break;
        case 1:
            token = signed_token(std::string(rest));
            break;
        default: {
            auto newline = rest.find('\n');
            std::string_view header = rest.substr(0, newline);
            std::string_view payload =
                newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
            token = signed_token(base64url(header) + "." + base64url(payload));
        }
    }
    for (auto type : {security::TokenType::access, security::TokenType::refresh}) {
        auto claims = codec.verify(token, type);
        if (claims && claims->type != type) __builtin_trap();
    }
    return 0;
}

#include "security/jwt.hpp"

#include <boost/json.hpp>
#include <sodium.h>

#include <array>
#include <stdexcept>

namespace chatgate::security {
namespace {

constexpr std::size_t kMaxTokenBytes = 4096;
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::string base64url(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.size() - 1);  // drop the terminating NUL
    return out;
}

std::string base64url(std::string_view text) {
    return base64url(reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

bool unbase64url(std::string_view text, std::string& out) {
    out.resize(text.size());  // decoded data is always shorter than its encoding
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text.data() + text.size()) {
        return false;
    }
    out.resize(len);
    return true;
}

const char* type_name(TokenType type) {
    return type == TokenType::access ? "access" : "refresh";
}

bool read_int(const boost::json::object& obj, std::string_view key, std::int64_t& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return false;
    if (it->value().is_int64()) {
        out = it->value().get_int64();
        return true;
    }
    return false;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    std::string hex(bytes * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                   raw.size());
    hex.pop_back();
    return hex;
}

JwtCodec::JwtCodec(std::string key, const Clock& clock) : key_(std::move(key)), clock_(clock) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    if (key_.size() < 32) throw std::invalid_argument("JWT signing key shorter than 32 bytes");
}

std::string JwtCodec::sign(std::string_view signing_input) const {
    crypto_auth_hmacsha256_state state;
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()),
                                key_.size());
    crypto_auth_hmacsha256_update(
        &state, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
    crypto_auth_hmacsha256_final(&state, mac.data());
    sodium_memzero(&state, sizeof state);
    return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

std::string JwtCodec::issue(UserId user, TokenType type, std::chrono::seconds lifetime,
                            const SessionClaims& session) const {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch());
    boost::json::object payload;
    payload["token_type"] = type_name(type);
    payload["exp"] = (now + lifetime).count();
    payload["iat"] = now.count();
    payload["jti"] = random_hex(16);
    payload["user_id"] = user;
    if (session.id != 0) {
        payload["sid"] = session.id;
        payload["sep"] = session.epoch;
        if (type == TokenType::refresh) payload["gen"] = session.generation;
    }
    std::string token = base64url(kHeader);
    token += '.';
    token += base64url(boost::json::serialize(payload));
    std::string mac = sign(token);
    token += '.';
    token += base64url(mac);
    return token;
}

boost::system::result<TokenClaims, TokenRejection> JwtCodec::verify(std::string_view token,
                                                                    TokenType expected) const {
    if (token.size() > kMaxTokenBytes) return TokenRejection::malformed;
    auto first = token.find('.');
    auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        return TokenRejection::malformed;
    }
    // The signature is checked before anything in the token is parsed or trusted.
    std::string presented;
    if (!unbase64url(token.substr(second + 1), presented) ||
        presented.size() != crypto_auth_hmacsha256_BYTES) {
        return TokenRejection::bad_signature;
    }
    std::string computed = sign(token.substr(0, second));
    if (sodium_memcmp(presented.data(), computed.data(), computed.size()) != 0) {
        return TokenRejection::bad_signature;
    }

    std::string header_text, payload_text;
    if (!unbase64url(token.substr(0, first), header_text) ||
        !unbase64url(token.substr(first + 1, second - first - 1), payload_text)) {
        return TokenRejection::malformed;
    }
    boost::system::error_code ec;
    auto header = boost::json::parse(header_text, ec);
    if (ec || !header.is_object()) return TokenRejection::malformed;
    auto alg = header.get_object().find("alg");
    if (alg == header.get_object().end() || !alg->value().is_string() ||
        alg->value().get_string() != "HS256") {
        return TokenRejection::malformed;
    }
    auto payload = boost::json::parse(payload_text, ec);
    if (ec || !payload.is_object()) return TokenRejection::malformed;
    const auto& claims = payload.get_object();

    TokenClaims out;
    if (!read_int(claims, "exp", out.expires_at) || !read_int(claims, "user_id", out.user_id)) {
        return TokenRejection::malformed;
    }
    read_int(claims, "iat", out.issued_at);
    // Optional session claims; a present one must be an integer.
    for (auto [name, field] : {std::pair{"sid", &out.session_id}, std::pair{"gen", &out.generation},
                               std::pair{"sep", &out.epoch}}) {
        if (claims.contains(name) && !read_int(claims, name, *field)) {
            return TokenRejection::malformed;
        }
    }
    if (auto jti = claims.find("jti"); jti != claims.end() && jti->value().is_string()) {
        out.jti = std::string(jti->value().get_string());
    } else {
        return TokenRejection::malformed;
    }
    auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch());
    if (out.expires_at <= now.count()) return TokenRejection::expired;

    auto type = claims.find("token_type");
    if (type == claims.end() || !type->value().is_string()) return TokenRejection::malformed;
    if (type->value().get_string() != type_name(expected)) return TokenRejection::wrong_type;
    out.type = expected;
    return out;
}

}  // namespace chatgate::security

#include "api/pipeline/request_id.hpp"

#include "security/jwt.hpp"

#include <cctype>
#include <charconv>

namespace chatgate::api {
namespace {

constexpr std::size_t kMaxRequestIdChars = 128;

bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxRequestIdChars) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

}  // namespace

RequestIds::RequestIds() : prefix_(security::random_hex(4) + "-") {}

std::string RequestIds::next(const http::Request& request) {
    std::string_view given = request.header("X-Request-Id");
    if (acceptable_request_id(given)) return std::string(given);
    char counter[17];
    auto end = std::to_chars(counter, counter + sizeof counter, ++counter_, 16).ptr;
    return prefix_ + std::string(counter, end);
}

}  // namespace chatgate::api

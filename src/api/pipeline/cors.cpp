#include "api/pipeline/cors.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace chatgate::api {
namespace {

constexpr std::string_view kAllowedRequestHeaders =
    "Authorization, Content-Type, Idempotency-Key, X-Request-Id, x-api-key, anthropic-version";
constexpr std::string_view kExposedHeaders =
    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id, "
    "x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests";

/// What browsers send in Origin: scheme "://" host [":" port], nothing after.
bool looks_like_origin(std::string_view origin) {
    auto scheme_end = origin.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
    std::string_view rest = origin.substr(scheme_end + 3);
    if (rest.empty()) return false;
    return std::none_of(rest.begin(), rest.end(),
                        [](char c) { return c == '/' || c == ' ' || c == '?' || c == '#'; });
}

}  // namespace

Result<CorsPolicy> CorsPolicy::create(const CorsSettings& settings) {
    CorsPolicy policy;
    policy.credentials_ = settings.allow_credentials;
    policy.max_age_ = std::to_string(settings.max_age.count());
    std::string_view text = settings.allowed_origins;
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = text::trim_blanks(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) continue;
        if (item == "*") {
            policy.any_origin_ = true;
            continue;
        }
        if (!looks_like_origin(item)) {
            return Error{ErrorCode::invalid_argument,
                         text::quoted(item) + " is not an origin (scheme://host[:port])",
                         {}};
        }
        policy.origins_.emplace_back(item);
    }
    if (policy.any_origin_ && policy.credentials_) {
        return Error{ErrorCode::invalid_argument,
                     "\"*\" cannot be used together with cors_allow_credentials",
                     {}};
    }
    return policy;
}

std::string_view CorsPolicy::allowed_origin(const http::Request& request) const {
    std::string_view origin = request.header("Origin");
    if (origin.empty()) return {};
    if (any_origin_) return "*";
    for (const auto& allowed : origins_) {
        if (allowed == origin) return origin;
    }
    return {};
}

bool CorsPolicy::allow_origin(const http::Request& request, http::Response& response) const {
    if (!enabled()) return false;
    // The answer depends on Origin unless every origin gets the same one.
    if (!any_origin_) response.headers.emplace_back("Vary", "Origin");
    std::string_view origin = allowed_origin(request);
    if (origin.empty()) return false;
    response.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    if (credentials_) response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
    return true;
}

void CorsPolicy::decorate(const http::Request& request, http::Response& response) const {
    if (!allow_origin(request, response)) return;
    response.headers.emplace_back("Access-Control-Expose-Headers", std::string(kExposedHeaders));
}

void CorsPolicy::preflight(const http::Request& request, std::string_view allow,
                           http::Response& response) const {
    if (!allow_origin(request, response)) return;
    response.headers.emplace_back("Access-Control-Allow-Methods", std::string(allow));
    response.headers.emplace_back("Access-Control-Allow-Headers",
                                  std::string(kAllowedRequestHeaders));
    response.headers.emplace_back("Access-Control-Max-Age", max_age_);
}

}  // namespace chatgate::api

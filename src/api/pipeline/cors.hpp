#pragma once

#include "core/error.hpp"
#include "http/message.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::api {

/// Filled from the configuration by app/settings.cpp.
struct CorsSettings {
    std::string allowed_origins;  ///< comma-separated exact origins, or "*"; empty: CORS off
    bool allow_credentials{};
    std::chrono::seconds max_age{};
};

/// Cross-origin access for the allowed origins (exact match on the Origin header). Other origins
/// get no CORS headers at all, so browsers keep them out. Read-only after construction, so
/// thread-safe.
class CorsPolicy {
public:
    /// Errors (invalid_argument) say what is wrong with `allowed_origins`: "*" together with
    /// credentials, or an entry that is not scheme://host[:port].
    static Result<CorsPolicy> create(const CorsSettings& settings);

    bool enabled() const { return any_origin_ || !origins_.empty(); }

    /// Headers for an ordinary answer: the allowed origin, credentials, and the response
    /// headers scripts may read (rate limits, request id).
    void decorate(const http::Request& request, http::Response& response) const;

    /// Headers for a preflight (OPTIONS) answer: `allow` lists the methods of the path.
    void preflight(const http::Request& request, std::string_view allow,
                   http::Response& response) const;

private:
    /// The Access-Control-Allow-Origin value for this request's Origin, or empty.
    std::string_view allowed_origin(const http::Request& request) const;
    /// The headers every answer to an allowed origin carries (and Vary); false when the origin
    /// is not allowed, and nothing more is to be added.
    bool allow_origin(const http::Request& request, http::Response& response) const;

    std::vector<std::string> origins_;
    bool any_origin_ = false;
    bool credentials_ = false;
    std::string max_age_;
};

}  // namespace chatgate::api

#pragma once

#include "api/cors.hpp"
#include "api/rate_limits.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"

#include <memory>
#include <optional>

namespace chatgate::app {

/// The dispatcher's guards as configured: rate limits (null when switched off) and CORS (empty
/// when no origin is allowed).
struct EdgeGuards {
    std::unique_ptr<api::RateLimits> limits;
    std::optional<api::CorsPolicy> cors;
};

/// Builds them from the configuration; an invalid_argument naming the key at fault otherwise.
/// `clock` must outlive the result.
Result<EdgeGuards> make_edge_guards(const Config& config, const Clock& clock);

}  // namespace chatgate::app

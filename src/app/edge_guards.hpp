#pragma once

#include "api/pipeline/cors.hpp"
#include "api/pipeline/dispatcher.hpp"
#include "api/pipeline/rate_limit_policy.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"

#include <memory>
#include <optional>

namespace chatgate::app {

/// The pipeline's optional steps as configured, owned: rate limits (null when switched off) and
/// CORS (empty when no origin is allowed).
struct EdgeGuards {
    std::unique_ptr<api::RateLimitPolicy> limits;
    api::RateClasses shared_classes{};  ///< counted in a store shared by several nodes
    std::optional<api::CorsPolicy> cors;

    api::EdgePolicies policies() const { return {limits.get(), cors ? &*cors : nullptr}; }
};

/// Builds them from the configuration; an invalid_argument naming the key at fault otherwise.
/// `clock` must outlive the result.
Result<EdgeGuards> make_edge_guards(const Config& config, const Clock& clock);

}  // namespace chatgate::app

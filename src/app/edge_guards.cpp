#include "app/edge_guards.hpp"

#include "app/settings.hpp"

namespace chatgate::app {
namespace {

Error bad_key(std::string_view key, const Error& why) {
    return Error{ErrorCode::invalid_argument,
                 "configuration key '" + std::string(key) + "': " + why.message,
                 {}};
}

}  // namespace

Result<EdgeGuards> make_edge_guards(const Config& config, const Clock& clock) {
    EdgeGuards guards;
    // Names a setting leaves out keep their defaults.
    auto defaults = guards::RateTable::parse(Config{}.rate_limits);
    if (!defaults) return bad_key("rate_limits", defaults.error());
    auto table = guards::RateTable::parse(config.rate_limits, *defaults);
    if (!table) return bad_key("rate_limits", table.error());
    auto proxies = guards::parse_cidr_list(config.trusted_proxies);
    if (!proxies) return bad_key("trusted_proxies", proxies.error());
    if (config.rate_limit_enabled) {
        guards.limits = std::make_unique<api::RateLimitPolicy>(
            clock, *table, guards::ClientAddressResolver(std::move(*proxies)),
            static_cast<std::size_t>(config.rate_limit_max_keys), json_limits(config));
    }
    auto cors = api::CorsPolicy::create(cors_settings(config));
    if (!cors) return bad_key("cors_allowed_origins", cors.error());
    if (cors->enabled()) guards.cors = std::move(*cors);
    return guards;
}

}  // namespace chatgate::app

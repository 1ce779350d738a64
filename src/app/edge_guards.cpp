#include "app/edge_guards.hpp"

#include "app/settings.hpp"

namespace chatgate::app {
namespace {

Error bad_key(std::string_view key, const Error& why) {
    return Error{ErrorCode::invalid_argument,
                 "configuration key '" + std::string(key) + "': " + why.message,
                 {}};
}

/// The classes `shared_rate_limits` names ("*": all).
Result<api::RateClasses> shared_classes(std::string_view text) {
    api::RateClasses classes{};
    if (text == "*") {
        classes.fill(true);
        return classes;
    }
    while (!text.empty()) {
        auto comma = text.find(',');
        auto name = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        if (name.empty()) continue;
        bool known = false;
        for (std::size_t i = 0; i < guards::RateTable::kNames.size(); ++i) {
            if (guards::RateTable::kNames[i] == name) classes[i] = known = true;
        }
        if (!known) {
            return Error{
                ErrorCode::invalid_argument, "unknown limit '" + std::string(name) + "'", {}};
        }
    }
    return classes;
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
    auto shared = shared_classes(config.shared_rate_limits);
    if (!shared) return bad_key("shared_rate_limits", shared.error());
    guards.shared_classes = *shared;
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

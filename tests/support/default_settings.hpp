#pragma once

#include "app/settings.hpp"
#include "config/config.hpp"

namespace chatgate::testing {

/// The transport limits chatgate runs with out of the box (the defaults live in Config alone).
inline http::ServerLimits default_server_limits() {
    return app::server_limits(Config{});
}

}  // namespace chatgate::testing

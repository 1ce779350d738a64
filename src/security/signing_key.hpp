#pragma once

#include "config/config.hpp"

#include <string>

namespace chatgate::security {

/// The JWT signing key: `jwt_secret`, else the contents of `jwt_secret_file`, else the key in
/// DATA_DIR/jwt.key, generated (32 random bytes, mode 0600) on first start so tokens survive
/// restarts. Throws std::runtime_error with a message for the operator on any failure.
std::string load_signing_key(const Config& config);

}  // namespace chatgate::security

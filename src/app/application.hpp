#pragma once

#include "config/config.hpp"

#include <string>

namespace chatgate::app {

/// The composition root: builds the store, pools, services, API and server from a Config, and
/// owns their order of start-up and shutdown. Each command returns the process exit code.
class Application {
public:
    explicit Application(Config config);

    /// Serves HTTP until SIGINT or SIGTERM, then drains in-flight requests and closes the
    /// database. Prints "listening on http://HOST:PORT" to stdout once accepting.
    int serve();
    /// Creates the database if needed and applies pending migrations.
    int migrate();
    /// Creates a staff superuser with the sign-up grant (password rules apply).
    int create_superuser(const std::string& username, const std::string& password);

private:
    Config config_;
};

}  // namespace chatgate::app

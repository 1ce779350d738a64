#include "api/pages/docs_handlers.hpp"
#include "app/application.hpp"
#include "cli/operator_commands.hpp"
#include "config/config.hpp"
#include "observability/log.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <termios.h>
#include <unistd.h>

namespace {

using chatgate::ConfigSources;

/// Options every command shares; values land in `sources` only when given.
void add_config_options(CLI::App& command, ConfigSources& sources) {
    command.add_option_function<std::string>(
        "--config", [&](const std::string& path) { sources.file = path; },
        "JSON configuration file (keys as in config/example.json)");
    command.add_option_function<std::string>(
        "--data-dir", [&](const std::string& dir) { sources.cli["data_dir"] = dir; },
        "Directory for the database and the generated JWT key (default ./data)");
}

std::string read_password(const char* prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string password;
    std::getline(std::cin, password);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    return password;
}

std::optional<chatgate::Config> load(const ConfigSources& sources) {
    auto config = chatgate::load_config(sources);
    if (!config) {
        std::cerr << "chatgate: " << config.error().message << "\n";
        return std::nullopt;
    }
    return *config;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"chatgate: an AI chat API server with accounts, JWT logins and token balances"};
    cli.require_subcommand(1);
    ConfigSources sources;

    auto* serve = cli.add_subcommand("serve", "Serve the HTTP API");
    add_config_options(*serve, sources);
    serve->add_option_function<std::string>(
        "--listen", [&](const std::string& v) { sources.cli["listen"] = v; },
        "HOST:PORT to listen on (default 127.0.0.1:8000; port 0 picks a free port)");
    serve->add_option_function<std::string>(
        "--log-level", [&](const std::string& v) { sources.cli["log_level"] = v; },
        "debug, info, warn or error");
    serve->add_option_function<std::string>(
        "--models", [&](const std::string& v) { sources.cli["models"] = v; },
        "AI models as a JSON array (see README; default: the builtin model)");
    serve->add_option_function<std::string>(
        "--stripe", [&](const std::string& v) { sources.cli["stripe"] = v; },
        "Selling tokens through Stripe, a JSON object (see README; default: off)");

    auto* migrate = cli.add_subcommand("migrate", "Create or upgrade the database schema");
    add_config_options(*migrate, sources);

    std::string username;
    auto* superuser = cli.add_subcommand(
        "createsuperuser",
        "Create a staff superuser (password from a prompt or CHATGATE_SUPERUSER_PASSWORD)");
    add_config_options(*superuser, sources);
    superuser->add_option("--username", username, "Name of the new user")->required();

    cli.add_subcommand("openapi", "Print the OpenAPI document (JSON)");
    chatgate::cli::OperatorCommands operations(
        cli, [&sources](CLI::App& command) { add_config_options(command, sources); },
        [&sources](const std::string& url) { sources.cli["database_url"] = url; });

    CLI11_PARSE(cli, argc, argv);

    if (cli.got_subcommand("openapi")) {
        std::cout << chatgate::api::openapi_json();
        return 0;
    }
    auto config = load(sources);
    if (!config) return 2;
    try {
        if (operations.parsed()) return operations.run(*config);
        chatgate::app::Application app(*config);
        if (serve->parsed()) return app.serve();
        if (migrate->parsed()) return app.migrate();
        std::string password;
        if (const char* env = std::getenv("CHATGATE_SUPERUSER_PASSWORD")) {
            password = env;
        } else {
            password = read_password("Password: ");
            if (read_password("Password (again): ") != password) {
                std::cerr << "Error: Your passwords didn't match.\n";
                return 1;
            }
        }
        return app.create_superuser(username, password);
    } catch (const std::exception& e) {
        chatgate::log::error("fatal", {{"error", e.what()}});
        chatgate::log::flush();
        std::cerr << "chatgate: " << e.what() << "\n";
        return 1;
    }
}

#pragma once

#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

/// The command line for day-to-day operations: users, tokens, keys, codes, audit, backup,
/// and moving a SQLite installation to PostgreSQL (migrate-data).
/// Every
/// action goes through the same AdminService as the admin API and lands in the audit log
/// with the operating-system user as its actor.
namespace chatgate::cli {

class OperatorCommands {
public:
    /// Adds the subcommands to `app`; `add_config_options` gives each the shared options, and
    /// `set_database_url` takes migrate-data's `--to` as the configuration's `database_url` (so
    /// that `database_password_env`/`_file` apply to it).
    OperatorCommands(CLI::App& app, const std::function<void(CLI::App&)>& add_config_options,
                     const std::function<void(const std::string&)>& set_database_url);

    /// Whether one of these subcommands was given.
    bool parsed() const;
    /// Runs it; the process exit code.
    int run(const Config& config);

private:
    int run_users(const Config& config);
    int run_tokens(const Config& config);
    int run_keys(const Config& config);
    int run_audit(const Config& config);
    int run_codes(const Config& config);
    int run_backup(const Config& config);
    int run_migrate_data(const Config& config);

    CLI::App* users_ = nullptr;
    CLI::App* users_list_ = nullptr;
    CLI::App* users_show_ = nullptr;
    CLI::App* users_deactivate_ = nullptr;
    CLI::App* users_activate_ = nullptr;
    CLI::App* tokens_ = nullptr;
    CLI::App* tokens_grant_ = nullptr;
    CLI::App* tokens_deduct_ = nullptr;
    CLI::App* keys_ = nullptr;
    CLI::App* keys_create_ = nullptr;
    CLI::App* keys_list_ = nullptr;
    CLI::App* keys_revoke_ = nullptr;
    CLI::App* audit_ = nullptr;
    CLI::App* codes_ = nullptr;
    CLI::App* codes_create_ = nullptr;
    CLI::App* codes_list_ = nullptr;
    CLI::App* codes_revoke_ = nullptr;
    CLI::App* backup_ = nullptr;
    CLI::App* migrate_data_ = nullptr;

    std::string username_;
    std::string search_;
    bool staff_only_ = false;
    bool inactive_only_ = false;
    std::int64_t limit_ = 50;
    std::int64_t amount_ = 0;
    std::string reason_;
    std::string key_name_;
    std::optional<std::int64_t> token_limit_;
    std::vector<std::string> models_;
    std::string expires_at_;
    std::string action_;
    std::int64_t key_id_ = 0;
    std::string dest_;
    bool verify_ = false;
    std::int64_t code_count_ = 1;
    std::int64_t max_uses_ = 1;
    std::int64_t batch_id_ = 0;
    std::string code_;
    std::string from_;
};

/// The actor of command-line actions: "os:<login name>".
std::string os_actor();

}  // namespace chatgate::cli

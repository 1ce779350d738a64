#include "cli/operator_commands.hpp"

#include "api/wire/time_text.hpp"
#include "app/core_services.hpp"
#include "storage/migrate_data.hpp"
#include "storage/sqlite/backup.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <iomanip>
#include <iostream>
#include <pwd.h>
#include <unistd.h>

namespace chatgate::cli {
namespace {

namespace net = boost::asio;

/// Runs one service coroutine to its end on a private io_context.
template <class T>
T run_sync(boost::asio::awaitable<T> work) {
    net::io_context io;
    auto future = net::co_spawn(io, std::move(work), net::use_future);
    io.run();
    return future.get();
}

int report(const Error& error) {
    for (const auto& field : error.fields) {
        for (const auto& message : field.messages) {
            std::cerr << "Error (" << field.field << "): " << message << "\n";
        }
    }
    if (error.fields.empty()) {
        std::cerr << "Error: " << (error.message.empty() ? "failed" : error.message) << "\n";
    }
    return 1;
}

domain::Actor actor() {
    return {std::nullopt, os_actor(), {}};
}

std::optional<domain::UserRow> find(app::Core& core, const std::string& username) {
    auto row = run_sync(core.admin.user_named(username));
    if (!row) {
        std::cerr << "Error: no user named " << std::quoted(username) << "\n";
        return std::nullopt;
    }
    return *row;
}

void print_user(const domain::UserRow& u) {
    std::cout << u.id << '\t' << u.username << '\t' << u.tokens << '\t'
              << (u.is_active ? "active" : "inactive") << '\t'
              << (u.is_superuser ? "superuser"
                  : u.is_staff   ? "staff"
                                 : "-")
              << '\t' << u.date_joined << '\n';
}

void print_key(const domain::ApiKeyInfo& k) {
    std::cout << k.id << '\t' << domain::KeyService::kPrefix << k.public_id << '\t' << k.name
              << '\t' << (k.revoked_at ? "revoked " + *k.revoked_at : "live") << "\tspent "
              << k.spent << (k.token_limit ? " of " + std::to_string(*k.token_limit) : "")
              << "\tlast used " << k.last_used_at.value_or("never") << '\n';
}

void print_detail(const domain::UserDetail& d) {
    const auto& u = d.user;
    std::cout << "id: " << u.id << "\nusername: " << u.username << "\ntokens: " << u.tokens
              << "\nactive: " << (u.is_active ? "yes" : "no")
              << "\nstaff: " << (u.is_staff ? "yes" : "no")
              << "\nsuperuser: " << (u.is_superuser ? "yes" : "no") << "\njoined: " << u.date_joined
              << "\nconversations: " << d.conversations << "\nkeys: " << d.keys.size()
              << "\nsessions: " << d.sessions.size() << "\nspend per model:\n";
    for (const auto& s : d.spend_per_model) {
        std::cout << "  " << s.model << '\t' << s.requests << " requests\t" << s.tokens_charged
                  << " tokens\n";
    }
    std::cout << "recent ledger:\n";
    for (const auto& e : d.recent_ledger) {
        std::cout << "  " << e.created_at << '\t' << domain::to_string(e.kind) << '\t' << e.delta
                  << '\t' << e.balance_after << '\t' << e.reference.value_or("") << '\n';
    }
}

}  // namespace

std::string os_actor() {
    if (const passwd* entry = ::getpwuid(::geteuid()); entry && entry->pw_name) {
        return std::string("os:") + entry->pw_name;
    }
    return "os:uid " + std::to_string(::geteuid());
}

OperatorCommands::OperatorCommands(
    CLI::App& app, const std::function<void(CLI::App&)>& add_config_options,
    const std::function<void(const std::string&)>& set_database_url) {
    users_ = app.add_subcommand("users", "List, show, deactivate or activate users");
    users_->require_subcommand(1);
    users_list_ = users_->add_subcommand("list", "List users (id, name, tokens, state, role)");
    users_list_->add_option("--search", search_, "Part of the username");
    users_list_->add_flag("--staff", staff_only_, "Staff only");
    users_list_->add_flag("--inactive", inactive_only_, "Inactive users only");
    users_list_->add_option("--limit", limit_, "At most this many (default 50)")
        ->check(CLI::Range(1, 10000));
    users_show_ = users_->add_subcommand("show", "One user in full");
    users_deactivate_ = users_->add_subcommand("deactivate", "Refuse the user's every request");
    users_activate_ = users_->add_subcommand("activate", "Let a deactivated user in again");
    for (CLI::App* command : {users_show_, users_deactivate_, users_activate_}) {
        command->add_option("USERNAME", username_)->required();
    }
    for (CLI::App* command : {users_list_, users_show_, users_deactivate_, users_activate_}) {
        add_config_options(*command);
    }

    tokens_ = app.add_subcommand("tokens", "Grant or deduct tokens, with a reason");
    tokens_->require_subcommand(1);
    tokens_grant_ = tokens_->add_subcommand("grant", "Add N tokens to a user's balance");
    tokens_deduct_ = tokens_->add_subcommand("deduct", "Take N tokens (never below zero)");
    for (CLI::App* command : {tokens_grant_, tokens_deduct_}) {
        command->add_option("USERNAME", username_)->required();
        command->add_option("N", amount_)->required()->check(CLI::PositiveNumber);
        command->add_option("--reason", reason_, "Why (kept in the ledger and the audit log)")
            ->required();
        add_config_options(*command);
    }

    keys_ = app.add_subcommand("keys", "API keys");
    keys_->require_subcommand(1);
    CLI::App* create = keys_->add_subcommand("create", "Create a key for a user (printed once)");
    keys_create_ = create;
    create->add_option("USERNAME", username_)->required();
    create->add_option("--name", key_name_, "What the key is for")->required();
    create->add_option("--token-limit", token_limit_, "The most the key may spend in all");
    create->add_option("--model", models_, "A model the key may use (repeat; default: all)");
    create->add_option("--expires-at", expires_at_, "UTC expiry, YYYY-MM-DDTHH:MM:SSZ");
    add_config_options(*create);
    keys_list_ = keys_->add_subcommand("list", "A user's keys (never their secrets)");
    keys_list_->add_option("USERNAME", username_)->required();
    add_config_options(*keys_list_);
    keys_revoke_ = keys_->add_subcommand("revoke", "Revoke one of a user's keys");
    keys_revoke_->add_option("USERNAME", username_)->required();
    keys_revoke_->add_option("KEY_ID", key_id_)->required();
    add_config_options(*keys_revoke_);

    codes_ = app.add_subcommand("codes", "Redemption codes: create, list and revoke batches");
    codes_->require_subcommand(1);
    codes_create_ = codes_->add_subcommand("create", "A batch of codes (printed once)");
    codes_create_->add_option("--tokens", amount_, "Tokens each redemption credits")
        ->required()
        ->check(CLI::PositiveNumber);
    codes_create_->add_option("--count", code_count_, "How many codes (default 1)")
        ->check(CLI::Range(std::int64_t{1}, domain::CodeService::kMaxCount));
    codes_create_
        ->add_option("--max-uses", max_uses_,
                     "Redemptions per code, each by another user (default 1)")
        ->check(CLI::Range(std::int64_t{1}, domain::CodeService::kMaxUses));
    codes_create_->add_option("--expires", expires_at_, "UTC expiry, YYYY-MM-DDTHH:MM:SSZ");
    codes_list_ = codes_->add_subcommand("list", "Batches with their use, newest first");
    codes_list_->add_option("--limit", limit_, "At most this many (default 50)")
        ->check(CLI::Range(1, 10000));
    codes_revoke_ = codes_->add_subcommand("revoke", "Revoke a batch's codes with uses left");
    codes_revoke_->add_option("BATCH_ID", batch_id_)->required();
    codes_revoke_->add_option("--code", code_, "Only this code of the batch");
    for (CLI::App* command : {codes_create_, codes_list_, codes_revoke_}) {
        add_config_options(*command);
    }

    audit_ = app.add_subcommand("audit", "Recent operator actions, newest first");
    audit_->add_option("--limit", limit_, "At most this many (default 50)")
        ->check(CLI::Range(1, 10000));
    audit_->add_option("--action", action_, "Only this action (e.g. tokens.grant)");
    add_config_options(*audit_);

    backup_ = app.add_subcommand(
        "backup", "Copy the database consistently while the server runs (or --verify a copy)");
    backup_->add_option("DEST", dest_, "The copy to make (must not exist) or to verify")
        ->required();
    backup_->add_flag("--verify", verify_,
                      "Check DEST: integrity, and every balance equals its "
                      "ledger");
    add_config_options(*backup_);

    migrate_data_ = app.add_subcommand(
        "migrate-data",
        "Copy a SQLite installation into an empty PostgreSQL database (stop chatgate first)");
    migrate_data_->add_option("--from", from_, "The SQLite database (DATA_DIR/chatgate.sqlite3)")
        ->required();
    migrate_data_->add_option_function<std::string>(
        "--to", [set_database_url](const std::string& url) { set_database_url(url); },
        "libpq URL of the empty PostgreSQL database (default: database_url); the password as "
        "for serve");
    add_config_options(*migrate_data_);
}

bool OperatorCommands::parsed() const {
    return users_->parsed() || tokens_->parsed() || keys_->parsed() || codes_->parsed() ||
           audit_->parsed() || backup_->parsed() || migrate_data_->parsed();
}

int OperatorCommands::run(const Config& config) {
    if (backup_->parsed()) return run_backup(config);
    if (migrate_data_->parsed()) return run_migrate_data(config);
    app::prepare_data_dir(config);
    if (users_->parsed()) return run_users(config);
    if (tokens_->parsed()) return run_tokens(config);
    if (keys_->parsed()) return run_keys(config);
    if (codes_->parsed()) return run_codes(config);
    return run_audit(config);
}

int OperatorCommands::run_users(const Config& config) {
    app::Core core(config);
    if (users_list_->parsed()) {
        domain::UserQuery query;
        query.search = search_;
        if (staff_only_) query.staff = true;
        if (inactive_only_) query.active = false;
        query.limit = limit_;
        auto page = run_sync(core.admin.users(query));
        for (const auto& user : page.users) print_user(user);
        std::cerr << page.users.size() << " of " << page.count << " users\n";
        return 0;
    }
    auto user = find(core, username_);
    if (!user) return 1;
    if (users_show_->parsed()) {
        auto detail = run_sync(core.admin.user(user->id));
        if (!detail) return report(detail.error());
        print_detail(*detail);
        return 0;
    }
    bool active = users_activate_->parsed();
    auto done = run_sync(core.admin.set_active(actor(), user->id, active));
    if (!done) return report(done.error());
    std::cout << username_ << (active ? " activated" : " deactivated") << std::endl;
    return 0;
}

int OperatorCommands::run_tokens(const Config& config) {
    app::Core core(config);
    auto user = find(core, username_);
    if (!user) return 1;
    bool grant = tokens_grant_->parsed();
    auto balance =
        run_sync(core.admin.adjust_balance(actor(), user->id, grant ? amount_ : -amount_, reason_));
    if (!balance) return report(balance.error());
    std::cout << username_ << " now has " << *balance << " tokens" << std::endl;
    return 0;
}

int OperatorCommands::run_keys(const Config& config) {
    if (!keys_create_->parsed()) {
        app::Core core(config);
        auto user = find(core, username_);
        if (!user) return 1;
        if (keys_revoke_->parsed()) {
            auto revoked = run_sync(core.admin.revoke_key(actor(), user->id, key_id_));
            if (!revoked) return report(revoked.error());
            std::cout << "key " << key_id_ << " of " << username_ << " revoked" << std::endl;
            return 0;
        }
        for (const auto& key : run_sync(core.admin.keys_of(user->id))) print_key(key);
        return 0;
    }
    domain::KeyRequest request{key_name_, std::nullopt, token_limit_, std::nullopt};
    if (!models_.empty()) request.models = models_;
    if (!expires_at_.empty()) {
        request.expires_at = api::parse_utc_time(expires_at_);
        if (!request.expires_at) {
            std::cerr << "Error (--expires-at): expected YYYY-MM-DDTHH:MM:SSZ\n";
            return 1;
        }
    }
    app::Core core(config);
    auto user = find(core, username_);
    if (!user) return 1;
    auto created = run_sync(core.admin.create_key(actor(), user->id, request));
    if (!created) return report(created.error());
    std::cerr << "Key " << created->info.id << " for " << username_
              << " (shown once; only its hash is kept):\n";
    std::cout << created->key << std::endl;
    return 0;
}

int OperatorCommands::run_audit(const Config& config) {
    app::Core core(config);
    domain::AuditQuery query;
    if (!action_.empty()) query.action = action_;
    query.limit = limit_;
    auto page = run_sync(core.admin.audit(query));
    for (const auto& a : page.entries) {
        std::cout << a.created_at << '\t' << a.actor << '\t' << a.action << '\t'
                  << (a.target ? std::to_string(*a.target) : "-") << '\t' << a.before << " -> "
                  << a.after << '\t' << a.reason.value_or("") << '\n';
    }
    return 0;
}

int OperatorCommands::run_codes(const Config& config) {
    if (codes_list_->parsed()) {
        app::Core core(config);
        auto page = run_sync(core.codes.batches(0, limit_));
        for (const auto& b : page.batches) {
            std::cout << b.id << '\t' << b.tokens << " tokens\t" << b.codes << " codes\t" << b.uses
                      << " uses of " << b.max_uses << " each\t" << b.revoked << " revoked\texpires "
                      << (b.expires_at ? api::format_utc_time(*b.expires_at) : "never") << '\t'
                      << b.created_by << '\t' << b.created_at << '\n';
        }
        std::cerr << page.batches.size() << " of " << page.count << " batches\n";
        return 0;
    }
    if (codes_revoke_->parsed()) {
        app::Core core(config);
        std::optional<std::string> one;
        if (!code_.empty()) one = code_;
        auto revoked = run_sync(core.codes.revoke(actor(), batch_id_, one));
        if (!revoked) return report(revoked.error());
        std::cout << *revoked << " codes of batch " << batch_id_ << " revoked" << std::endl;
        return 0;
    }
    domain::CodeRequest request{amount_, code_count_, max_uses_, std::nullopt};
    if (!expires_at_.empty()) {
        request.expires_at = api::parse_utc_time(expires_at_);
        if (!request.expires_at) {
            std::cerr << "Error (--expires): expected YYYY-MM-DDTHH:MM:SSZ\n";
            return 1;
        }
    }
    app::Core core(config);
    auto created = run_sync(core.codes.create(actor(), request));
    if (!created) return report(created.error());
    std::cerr << "Batch " << created->batch << ": " << created->codes.size()
              << " codes (shown once; only their hashes are kept):\n";
    for (const auto& code : created->codes) std::cout << code << '\n';
    std::cout.flush();
    return 0;
}

int OperatorCommands::run_backup(const Config& config) {
    if (config.uses_postgresql() && !verify_) {
        std::cerr << "chatgate backup copies a SQLite database; this installation uses "
                     "PostgreSQL (database_url): back it up with pg_dump instead."
                  << std::endl;
        return 2;
    }
    if (!verify_) {
        storage::backup_database(config.effective_database_path(), dest_);
        std::cout << "backed up " << config.effective_database_path() << " to " << dest_
                  << std::endl;
        return 0;
    }
    auto report = storage::verify_backup(dest_);
    std::cout << "integrity: " << (report.integrity_ok ? "ok" : "FAILED")
              << "\nschema version: " << report.schema_version << "\nusers: " << report.users
              << "\nledger rows: " << report.ledger_rows
              << "\nbalances not equal to their ledger: " << report.mismatched_users << "\n"
              << (report.ok() ? "backup verified" : "backup FAILED verification") << std::endl;
    return report.ok() ? 0 : 1;
}

}  // namespace chatgate::cli

namespace chatgate::cli {

int OperatorCommands::run_migrate_data(const Config& config) {
    const std::string& target = config.database_url;  // --to, or the configured one
    if (target.empty()) {
        std::cerr << "chatgate migrate-data: --to (or database_url) names the PostgreSQL database"
                  << std::endl;
        return 2;
    }
    auto password = database_password(config);
    if (!password) {
        std::cerr << "chatgate migrate-data: " << password.error().message << std::endl;
        return 2;
    }
    try {
        auto report = storage::migrate_data(from_, {target, *password});
        for (const auto& table : report.tables) {
            std::cout << table.name << ": " << table.rows << "\n";
        }
        std::cout << "copied " << from_ << " into " << masked_database_url(target)
                  << " (schema version " << report.schema_version
                  << "); every balance equals its ledger" << std::endl;
        return 0;
    } catch (const storage::MigrationRefused& refused) {
        std::cerr << "chatgate migrate-data: " << refused.what() << std::endl;
        return 1;
    }
}

}  // namespace chatgate::cli

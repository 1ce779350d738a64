#pragma once

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/work_pool.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/accounts/credential_rules.hpp"
#include "domain/admin/admin_service.hpp"
#include "domain/keys/key_service.hpp"
#include "domain/payments/code_service.hpp"
#include "security/key_crypto.hpp"
#include "security/password_hasher.hpp"
#include "storage/database.hpp"

#include <memory>

namespace chatgate::app {

/// The services every command shares, wired in dependency order.
struct Core {
    explicit Core(const Config& config);

    DbPools db() { return {db_reads, db_writes}; }

    /// SQLite in the data directory, or PostgreSQL when `database_url` is set.
    std::unique_ptr<storage::Database> store_owner;
    storage::Database& store;
    security::Argon2PasswordHasher hasher;
    domain::PasswordRules rules;
    WorkPool db_reads;
    WorkPool db_writes;
    WorkPool hash_pool;
    domain::AccountService accounts;
    SystemClock clock;
    security::SodiumKeyCrypto key_crypto;
    domain::KeyService keys;
    domain::AdminService admin;
    domain::CodeService codes;
};

/// The store the configuration names, its migrations applied.
std::unique_ptr<storage::Database> open_store(const Config& config);

/// Creates the data directory (and the database's, when it lives elsewhere).
void prepare_data_dir(const Config& config);

}  // namespace chatgate::app

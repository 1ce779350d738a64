#include "app/core_services.hpp"

#include "app/metrics_wiring.hpp"
#include "app/settings.hpp"
#include "assets/assets.hpp"
#include "observability/log.hpp"
#include "storage/postgresql/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sys/stat.h>
#include <thread>

namespace chatgate::app {
namespace {

constexpr int kHashThreadNice = 10;  // a login flood must not slow every other request
// Writes waiting together share one commit; the bound keeps a commit's latency small.
constexpr std::size_t kMaxWritesPerCommit = 64;
std::size_t cores() {
    return std::max(1u, std::thread::hardware_concurrency());
}

/// Warns about a directory others may enter; its files are made private below.
void check_private_dir(const std::filesystem::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        log::warn("data directory is open to other users; chmod 700 it",
                  {{"path", dir.string()}, {"mode", std::string(mode)}});
    }
}

/// The database and its -wal and -shm files hold password hashes and sessions: 0600, like the
/// JWT key. SQLite gives new -wal and -shm files the database file's mode.
void make_private(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
    log::warn("file is readable by others; fixing its mode to 0600", {{"path", file.string()}});
    ::chmod(file.c_str(), 0600);
}

}  // namespace

std::unique_ptr<storage::Database> open_store(const Config& config) {
    if (!config.uses_postgresql()) {
        return std::make_unique<storage::SqliteStore>(config.effective_database_path());
    }
    auto password = database_password(config);
    if (!password) throw std::runtime_error(password.error().message);
    log::info("database", {{"postgresql", masked_database_url(config.database_url)}});
    return std::make_unique<storage::pg::PgStore>(
        storage::pg::PgSettings{config.database_url, std::move(*password)});
}

void prepare_data_dir(const Config& config) {
    std::filesystem::create_directories(config.data_dir);  // 0700, by the umask
    check_private_dir(config.data_dir);
    if (config.uses_postgresql()) return;  // the data directory keeps only the JWT key then
    auto db_file = std::filesystem::path(config.effective_database_path());
    auto db = db_file.parent_path();
    if (!db.empty() && db != std::filesystem::path(config.data_dir)) {
        std::filesystem::create_directories(db);
        check_private_dir(db);
    }
    for (const char* suffix : {"", "-wal", "-shm"}) make_private(db_file.string() + suffix);
}

Core::Core(const Config& config)
    : store_owner(open_store(config)),
      store(*store_owner),
      hasher(static_cast<std::uint64_t>(config.password_hash_iterations),
             static_cast<std::size_t>(config.password_hash_memory_kib)),
      rules(std::string(assets::find("common-passwords.txt"))),
      db_reads("chatgate-db-read",
               {.threads = config.db_threads > 0 ? static_cast<std::size_t>(config.db_threads)
                                                 : std::max<std::size_t>(1, cores() / 2),
                .on_job = observe_pool("reads")}),
      db_writes("chatgate-db-write",
                {.threads = 1,
                 .max_batch = kMaxWritesPerCommit,
                 .hooks = {[this] { store.begin_batch(); },
                           [this] { timed_commit([this] { store.commit_batch(); }); },
                           [this] { store.rollback_batch(); },
                           [this](const std::exception_ptr& e) { return store.batch_retryable(e); },
                           store.batch_attempts()},
                 .on_job = observe_pool("writes")}),
      hash_pool("chatgate-hash", {.threads = static_cast<std::size_t>(config.hash_threads),
                                  .max_pending = static_cast<std::size_t>(config.hash_queue_limit),
                                  .nice = kHashThreadNice,
                                  .on_job = observe_pool("hashing")}),
      accounts(store, hasher, rules, db(), hash_pool, config.signup_grant_tokens),
      keys(store, key_crypto, db(), clock, key_policy(config)),
      admin(store, store, store, keys, hasher, rules, key_crypto, db(), hash_pool,
            admin_policy(config)),
      codes(store, key_crypto, db(), clock, code_policy(config)) {}

}  // namespace chatgate::app

#include "app/core_services.hpp"

#include "app/settings.hpp"
#include "assets/assets.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

namespace chatgate::app {
namespace {

constexpr int kHashThreadNice = 10;  // a login flood must not slow every other request
// Writes waiting together share one commit; the bound keeps a commit's latency small.
constexpr std::size_t kMaxWritesPerCommit = 64;
std::size_t cores() {
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

void prepare_data_dir(const Config& config) {
    std::filesystem::create_directories(config.data_dir);
    auto db = std::filesystem::path(config.effective_database_path()).parent_path();
    if (!db.empty()) std::filesystem::create_directories(db);
}

Core::Core(const Config& config)
    : store(config.effective_database_path()),
      rules(std::string(assets::find("common-passwords.txt"))),
      db_reads("chatgate-db-read",
               {.threads = config.db_threads > 0 ? static_cast<std::size_t>(config.db_threads)
                                                 : std::max<std::size_t>(1, cores() / 2)}),
      db_writes("chatgate-db-write",
                {.threads = 1,
                 .max_batch = kMaxWritesPerCommit,
                 .hooks = {[this] { store.begin_batch(); }, [this] { store.commit_batch(); },
                           [this] { store.rollback_batch(); }}}),
      hash_pool("chatgate-hash", {.threads = static_cast<std::size_t>(config.hash_threads),
                                  .max_pending = static_cast<std::size_t>(config.hash_queue_limit),
                                  .nice = kHashThreadNice}),
      accounts(store, hasher, rules, db(), hash_pool, config.signup_grant_tokens),
      keys(store, key_crypto, db(), clock, key_policy(config)),
      admin(store, store, store, keys, hasher, rules, key_crypto, db(), hash_pool,
            admin_policy(config)) {}

}  // namespace chatgate::app

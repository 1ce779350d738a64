#pragma once

// The storage tests run against both stores: each test gets a fresh SQLite file, or a fresh
// PostgreSQL database on the server named by CHATGATE_TEST_DATABASE_URL (a libpq URL of its
// `postgres` database, set by ctest's PostgreSQL fixture); without it the PostgreSQL cases skip.

#include "storage/database.hpp"
#include "storage/postgresql/connection.hpp"
#include "storage/postgresql/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <unistd.h>

namespace chatgate::testing {

enum class Engine { sqlite, postgresql };

inline std::string engine_name(const ::testing::TestParamInfo<Engine>& info) {
    return info.param == Engine::sqlite ? "sqlite" : "postgresql";
}

/// How GoogleTest (and so ctest's test names) shows an engine.
inline void PrintTo(Engine engine, std::ostream* out) {
    *out << (engine == Engine::sqlite ? "sqlite" : "postgresql");
}

inline std::optional<std::string> test_database_url() {
    const char* url = std::getenv("CHATGATE_TEST_DATABASE_URL");
    if (!url || !*url) return std::nullopt;
    return std::string(url);
}

/// The URL of database `name` on the server of `admin_url` (whose database is `postgres`).
inline std::string database_url(const std::string& admin_url, const std::string& name) {
    std::string url = admin_url;
    auto at = url.find("/postgres");
    if (at != std::string::npos) url.replace(at, 9, "/" + name);
    return url;
}

/// One test's database: created empty, dropped (or deleted) at the end.
class TestDatabase {
public:
    TestDatabase(Engine engine, const std::string& label) : engine_(engine) {
        static std::atomic<int> counter{0};
        auto unique = label + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
        if (engine_ == Engine::sqlite) {
            path_ = ::testing::TempDir() + "chatgate-" + unique + ".sqlite3";
            remove_files();
            return;
        }
        admin_url_ = test_database_url().value_or("");
        name_ = "test_" + unique;
        for (auto& c : name_) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        storage::pg::Connection admin(admin_url_, std::nullopt);
        admin.exec(("CREATE DATABASE " + name_).c_str());
    }
    ~TestDatabase() {
        if (engine_ == Engine::sqlite) {
            remove_files();
            return;
        }
        try {
            storage::pg::Connection admin(admin_url_, std::nullopt);
            admin.exec(("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str());
        } catch (const std::exception&) {
            // The server is thrown away at the end of the run anyway.
        }
    }
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    Engine engine() const { return engine_; }
    /// The SQLite file, or the PostgreSQL URL.
    std::string location() const {
        return engine_ == Engine::sqlite ? path_ : database_url(admin_url_, name_);
    }
    std::unique_ptr<storage::Database> open() const {
        if (engine_ == Engine::sqlite) return std::make_unique<storage::SqliteStore>(path_);
        return std::make_unique<storage::pg::PgStore>(
            storage::pg::PgSettings{location(), std::nullopt});
    }

private:
    void remove_files() {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }

    Engine engine_;
    std::string path_;
    std::string admin_url_;
    std::string name_;
};

/// Skips the test when its engine is PostgreSQL and no test server was given.
#define CHATGATE_SKIP_WITHOUT_ENGINE(engine)                                                  \
    do {                                                                                      \
        if ((engine) == ::chatgate::testing::Engine::postgresql &&                            \
            !::chatgate::testing::test_database_url()) {                                      \
            GTEST_SKIP() << "CHATGATE_TEST_DATABASE_URL is not set (ctest's unit_postgresql " \
                            "sets it)";                                                       \
        }                                                                                     \
    } while (0)

}  // namespace chatgate::testing

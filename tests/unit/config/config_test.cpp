#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace chatgate {
namespace {

class ConfigTest : public ::testing::Test {
protected:
    void TearDown() override {
        for (const auto& name : env_) unsetenv(name.c_str());
        if (!file_.empty()) std::filesystem::remove(file_);
    }
    void set_env(const std::string& name, const std::string& value) {
        setenv(name.c_str(), value.c_str(), 1);
        env_.push_back(name);
    }
    std::string write_file(const std::string& text) {
        file_ = ::testing::TempDir() + "chatgate-config-test.json";
        std::ofstream(file_) << text;
        return file_;
    }
    std::vector<std::string> env_;
    std::string file_;
};

TEST_F(ConfigTest, DefaultsMatchTheContract) {
    auto config = load_config({});
    ASSERT_TRUE(config);
    EXPECT_EQ(config->listen, "127.0.0.1:8000");
    EXPECT_EQ(config->signup_grant_tokens, 4000);
    EXPECT_EQ(config->chat_cost_tokens, 100);
    EXPECT_EQ(config->access_token_lifetime_seconds, 1800);
    EXPECT_EQ(config->refresh_token_lifetime_seconds, 7 * 24 * 3600);
    EXPECT_EQ(config->top_up_max_per_request, 1'000'000);
    EXPECT_EQ(config->effective_database_path(), "./data/chatgate.sqlite3");
    EXPECT_EQ(config->idempotency_key_ttl_seconds, 24 * 3600);
    EXPECT_TRUE(config->session_check_enabled);
}

TEST_F(ConfigTest, CommandLineBeatsEnvironmentBeatsFileBeatsDefault) {
    ConfigSources sources;
    sources.file =
        write_file(R"({"chat_cost_tokens": 7, "page_size": 5, "listen": "127.0.0.1:1"})");
    set_env("CHATGATE_CHAT_COST_TOKENS", "8");
    set_env("CHATGATE_LISTEN", "127.0.0.1:2");
    sources.cli["listen"] = "127.0.0.1:3";
    auto config = load_config(sources);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->page_size, 5);           // file
    EXPECT_EQ(config->chat_cost_tokens, 8);    // environment over file
    EXPECT_EQ(config->listen, "127.0.0.1:3");  // command line over both
    EXPECT_EQ(config->max_page_size, 100);     // default
}

TEST_F(ConfigTest, BooleansFromEnvironment) {
    set_env("CHATGATE_TOP_UP_ENABLED", "false");
    auto config = load_config({});
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->top_up_enabled);
}

TEST_F(ConfigTest, BadValuesNameTheirKey) {
    set_env("CHATGATE_CHAT_COST_TOKENS", "abc");
    auto config = load_config({});
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().message.find("chat_cost_tokens"), std::string::npos);
    EXPECT_NE(config.error().message.find("CHATGATE_CHAT_COST_TOKENS"), std::string::npos);
}

TEST_F(ConfigTest, TheDatabasePasswordComesFromAVariableOrAPrivateFileAndIsNeverShown) {
    ConfigSources sources;
    sources.cli = {{"database_url", "postgresql://app:inline-secret@db:5432/chatgate"},
                   {"database_password_env", "CHATGATE_TEST_DB_PASSWORD"}};
    EXPECT_FALSE(load_config(sources));  // the variable is not set
    set_env("CHATGATE_TEST_DB_PASSWORD", "from-the-environment");
    auto config = load_config(sources);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(*database_password(*config), "from-the-environment");
    auto shown = describe(*config);
    EXPECT_EQ(shown.find("inline-secret"), std::string::npos) << shown;
    EXPECT_NE(shown.find("postgresql://app:***@db:5432/chatgate"), std::string::npos) << shown;

    auto path = ::testing::TempDir() + "chatgate-db-password";
    std::ofstream(path) << "from-the-file\n";
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
    sources.cli = {{"database_url", "postgresql:///chatgate?host=/run/pg"},
                   {"database_password_file", path}};
    auto open = load_config(sources);
    ASSERT_FALSE(open);  // readable by the group
    EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos) << open.error().message;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read);
    config = load_config(sources);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(*database_password(*config), "from-the-file");
    std::filesystem::remove(path);

    sources.cli = {{"database_url", "mysql://x"}};
    EXPECT_FALSE(load_config(sources));
    sources.cli = {{"database_password_env", "CHATGATE_TEST_DB_PASSWORD"}};
    EXPECT_FALSE(load_config(sources));  // a password without a database_url
    EXPECT_EQ(masked_database_url("postgresql://u@h/db?password=p&sslmode=require"),
              "postgresql://u@h/db?password=***&sslmode=require");
}

TEST_F(ConfigTest, SessionChecksAreCachedOnSqliteOnlyUnlessSet) {
    auto sqlite = load_config({});
    ASSERT_TRUE(sqlite);
    EXPECT_EQ(sqlite->effective_session_cache_ms(), 1000);
    ConfigSources sources;
    sources.cli = {{"database_url", "postgresql:///chatgate?host=/run/pg"}};
    auto shared = load_config(sources);
    ASSERT_TRUE(shared) << shared.error().message;
    EXPECT_EQ(shared->effective_session_cache_ms(), 0);  // several nodes: no stale pass
    sources.cli["session_cache_ms"] = "250";
    shared = load_config(sources);
    ASSERT_TRUE(shared);
    EXPECT_EQ(shared->effective_session_cache_ms(), 250);
}

TEST_F(ConfigTest, OutOfRangeIsRefused) {
    ConfigSources sources;
    sources.cli["max_body_bytes"] = "10";
    EXPECT_FALSE(load_config(sources));
    sources.cli = {{"listen", "127.0.0.1:70000"}};
    EXPECT_FALSE(load_config(sources));
    sources.cli = {{"listen", "nonsense"}};
    EXPECT_FALSE(load_config(sources));
}

TEST_F(ConfigTest, UnknownFileKeyAndWrongTypeAreRefused) {
    ConfigSources sources;
    sources.file = write_file(R"({"chat_cost": 7})");
    auto unknown = load_config(sources);
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("chat_cost"), std::string::npos);
    sources.file = write_file(R"({"chat_cost_tokens": "7"})");
    EXPECT_FALSE(load_config(sources));
    sources.file = write_file("{not json");
    EXPECT_FALSE(load_config(sources));
}

TEST_F(ConfigTest, ShortSecretIsRefusedAndSecretsAreRedacted) {
    set_env("CHATGATE_JWT_SECRET", "too-short");
    EXPECT_FALSE(load_config({}));
    set_env("CHATGATE_JWT_SECRET", std::string(40, 's'));
    auto config = load_config({});
    ASSERT_TRUE(config);
    auto text = describe(*config);
    EXPECT_EQ(text.find(std::string(40, 's')), std::string::npos);
    EXPECT_NE(text.find("<redacted>"), std::string::npos);
}

}  // namespace
}  // namespace chatgate

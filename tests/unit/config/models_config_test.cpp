#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace chatgate {
namespace {

Result<Config> load_models(const std::string& json) {
    ConfigSources sources;
    sources.use_environment = false;
    sources.cli["models"] = json;
    return load_config(sources);
}

void expect_refused(const std::string& json, const std::string& key) {
    auto config = load_models(json);
    ASSERT_FALSE(config) << json;
    EXPECT_NE(config.error().message.find("'" + key + "'"), std::string::npos)
        << config.error().message;
}

TEST(ModelsConfig, WithoutTheKeyOneBuiltinModelPricedAtChatCost) {
    ConfigSources sources;
    sources.use_environment = false;
    sources.cli["chat_cost_tokens"] = "42";
    auto config = load_config(sources);
    ASSERT_TRUE(config);
    ASSERT_EQ(config->models.size(), 1u);
    EXPECT_EQ(config->models[0].id, "chatgate-builtin");
    EXPECT_EQ(config->models[0].provider, ProviderKind::builtin);
    EXPECT_EQ(config->models[0].price.per_message, 42);
}

TEST(ModelsConfig, ReadsEveryFieldAndDefaultsTheRest) {
    auto config = load_models(R"([
        {"id": "gpt", "provider": "openai", "base_url": "https://api.example.com/v1",
         "upstream_model": "gpt-4o-mini", "max_completion_tokens": 512,
         "context_budget_chars": 9000, "max_retries": 4,
         "price": {"per_message": 10, "per_1k_prompt_tokens": 1, "per_1k_completion_tokens": 3},
         "timeouts_ms": {"connect": 100, "first_byte": 200, "idle": 300, "total": 400}},
        {"id": "local", "provider": "openai", "base_url": "http://127.0.0.1:8080"},
        {"id": "offline"}])");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_EQ(config->models.size(), 3u);
    const auto& gpt = config->models[0];
    EXPECT_EQ(gpt.provider, ProviderKind::openai);
    EXPECT_EQ(gpt.url.host, "api.example.com");
    EXPECT_EQ(gpt.url.path_prefix, "/v1");
    EXPECT_EQ(gpt.upstream_model, "gpt-4o-mini");
    EXPECT_EQ(gpt.max_completion_tokens, 512);
    EXPECT_EQ(gpt.context_budget_chars, 9000);
    EXPECT_EQ(gpt.max_retries, 4);
    EXPECT_EQ(gpt.price.per_1k_completion_tokens, 3);
    EXPECT_EQ(gpt.timeouts_ms.total, 400);
    const auto& local = config->models[1];
    EXPECT_FALSE(local.url.tls);
    EXPECT_EQ(local.upstream_model, "local");  // defaults to the id
    EXPECT_EQ(local.price.per_message, 100);   // chat_cost_tokens
    EXPECT_EQ(local.timeouts_ms.connect, 5000);
    EXPECT_EQ(local.max_retries, 2);
    EXPECT_EQ(config->models[2].provider, ProviderKind::builtin);
}

TEST(ModelsConfig, ValidationNamesTheBadKey) {
    expect_refused("{}", "models");
    expect_refused("[]", "models");
    expect_refused("[1]", "models[0]");
    expect_refused(R"([{"provider": "builtin"}])", "models[0].id");
    expect_refused(R"([{"id": "a b"}])", "models[0].id");
    expect_refused(R"([{"id": "a"}, {"id": "a"}])", "models[1].id");
    expect_refused(R"([{"id": "a", "provider": "grpc"}])", "models[0].provider");
    expect_refused(R"([{"id": "a", "provider": "openai"}])", "models[0].base_url");
    expect_refused(R"([{"id": "a", "provider": "openai", "base_url": "ftp://x"}])",
                   "models[0].base_url");
    expect_refused(R"([{"id": "a", "base_url": "http://x"}])", "models[0].base_url");
    expect_refused(R"([{"id": "a", "colour": "red"}])", "models[0].colour");
    expect_refused(R"([{"id": "a", "max_retries": 11}])", "models[0].max_retries");
    expect_refused(R"([{"id": "a", "price": {"per_message": -1}}])", "models[0].price.per_message");
    expect_refused(R"([{"id": "a", "price": {"per_1k_completion_tokens": 2}}])",
                   "models[0].max_completion_tokens");
    expect_refused(R"([{"id": "a", "timeouts_ms": {"idle": 0}}])", "models[0].timeouts_ms.idle");
    expect_refused(R"([{"id": "a", "timeouts_ms": {"socket": 1}}])",
                   "models[0].timeouts_ms.socket");
    expect_refused(R"([{"id": "a", "provider": "openai", "base_url": "http://x",
                        "api_key_env": "CHATGATE_TEST_SURELY_UNSET"}])",
                   "models[0].api_key_env");
    expect_refused(R"([{"id": "a", "provider": "openai", "base_url": "http://x",
                        "api_key_file": "/nonexistent/key"}])",
                   "models[0].api_key_file");
    expect_refused("[{", "models");
}

TEST(ModelsConfig, CapabilitiesAndTheAnthropicProvider) {
    auto config = load_models(R"([
        {"id": "claude", "provider": "anthropic", "base_url": "https://api.anthropic.com/v1",
         "capabilities": ["chat", "tools", "vision"], "image_token_bound": 1600},
        {"id": "emb", "provider": "openai", "base_url": "http://127.0.0.1:9/v1",
         "capabilities": ["embeddings"]},
        {"id": "plain", "provider": "openai", "base_url": "http://127.0.0.1:9/v1"},
        {"id": "local"}])");
    ASSERT_TRUE(config) << config.error().message;
    const auto& m = config->models;
    EXPECT_EQ(m[0].provider, ProviderKind::anthropic);
    EXPECT_EQ(m[0].owned_by, "anthropic");
    EXPECT_TRUE(m[0].capabilities.vision && m[0].capabilities.tools && m[0].capabilities.chat);
    EXPECT_EQ(m[0].image_token_bound, 1600);
    EXPECT_TRUE(m[1].capabilities.embeddings);
    EXPECT_FALSE(m[1].capabilities.chat);
    EXPECT_TRUE(m[2].capabilities.chat && m[2].capabilities.tools);
    EXPECT_FALSE(m[2].capabilities.vision);
    EXPECT_EQ(m[2].image_token_bound, kDefaultImageTokenBound);
    EXPECT_TRUE(m[3].capabilities.chat);
    EXPECT_FALSE(m[3].capabilities.tools);

    expect_refused(R"([{"id": "a", "capabilities": ["tools"]}])", "models[0].capabilities");
    expect_refused(R"([{"id": "a", "capabilities": ["chat", "telepathy"]}])",
                   "models[0].capabilities[1]");
    expect_refused(R"([{"id": "a", "provider": "anthropic", "base_url": "http://x/v1",
                        "capabilities": ["embeddings"]}])",
                   "models[0].capabilities");
    expect_refused(R"([{"id": "a", "image_token_bound": 0}])", "models[0].image_token_bound");
    expect_refused(R"([{"id": "e", "provider": "openai", "base_url": "http://x/v1",
                        "capabilities": ["embeddings"]}])",
                   "models[0].capabilities");
}

TEST(ModelsConfig, ApiKeysComeFromEnvironmentOrFileAndAreRedacted) {
    setenv("CHATGATE_TEST_OPENAI_KEY", "sk-from-env-123456", 1);
    std::string file = ::testing::TempDir() + "chatgate-models-key";
    std::ofstream(file) << "sk-from-file-abcdef\n";
    auto config = load_models(R"([
        {"id": "e", "provider": "openai", "base_url": "http://x", "api_key_env": "CHATGATE_TEST_OPENAI_KEY"},
        {"id": "f", "provider": "openai", "base_url": "http://x", "api_key_file": ")" +
                              file + R"("}])");
    unsetenv("CHATGATE_TEST_OPENAI_KEY");
    std::filesystem::remove(file);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->models[0].api_key, "sk-from-env-123456");
    EXPECT_EQ(config->models[1].api_key, "sk-from-file-abcdef");
    std::string text = describe(*config);
    EXPECT_EQ(text.find("sk-from"), std::string::npos) << text;
    EXPECT_NE(text.find("<redacted>"), std::string::npos);
    EXPECT_NE(text.find("CHATGATE_TEST_OPENAI_KEY"), std::string::npos);
}

TEST(ModelsConfig, FromTheConfigFileAsAnArray) {
    std::string file = ::testing::TempDir() + "chatgate-models.json";
    std::ofstream(file) << R"({"chat_cost_tokens": 9, "models": [{"id": "m"}]})";
    ConfigSources sources;
    sources.use_environment = false;
    sources.file = file;
    auto config = load_config(sources);
    std::filesystem::remove(file);
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_EQ(config->models.size(), 1u);
    EXPECT_EQ(config->models[0].id, "m");
    EXPECT_EQ(config->models[0].price.per_message, 9);
}

}  // namespace
}  // namespace chatgate

#include "ai/model_factory.hpp"

#include "ai/builtin_provider.hpp"
#include "ai/openai_provider.hpp"
#include "config/config.hpp"

#include <gtest/gtest.h>

namespace chatgate::ai {
namespace {

std::vector<ModelConfig> models_from(const std::string& json) {
    auto models = parse_models(json, "test", 100);
    EXPECT_TRUE(models) << models.error().message;
    return *models;
}

TEST(ModelRegistry, OneProviderPerUpstreamModelAndOneSharedBuiltin) {
    ModelRegistry registry(models_from(R"([
        {"id": "remote", "provider": "openai", "base_url": "http://127.0.0.1:9/v1",
         "upstream_model": "gpt-x", "max_completion_tokens": 64,
         "price": {"per_message": 5, "per_1k_prompt_tokens": 2, "per_1k_completion_tokens": 3}},
        {"id": "remote2", "provider": "openai", "base_url": "http://127.0.0.1:9/v1"},
        {"id": "offline-a"}, {"id": "offline-b", "owned_by": "us"}])"));
    const auto& all = registry.catalog().all();
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(&registry.default_provider(), all[0].provider);
    EXPECT_NE(dynamic_cast<OpenAiProvider*>(all[0].provider), nullptr);
    EXPECT_NE(all[0].provider, all[1].provider);
    EXPECT_NE(dynamic_cast<BuiltinProvider*>(all[2].provider), nullptr);
    EXPECT_EQ(all[2].provider, all[3].provider);
    EXPECT_EQ(all[0].upstream_model, "gpt-x");
    EXPECT_EQ(all[0].max_completion_tokens, 64);
    EXPECT_EQ(all[0].price.per_message, 5);
    EXPECT_EQ(all[0].price.per_1k_prompt_tokens, 2);
    EXPECT_EQ(all[0].price.per_1k_completion_tokens, 3);
    EXPECT_EQ(all[0].owned_by, "openai");
    EXPECT_EQ(all[2].owned_by, "chatgate");
    EXPECT_EQ(all[3].owned_by, "us");
    EXPECT_EQ(registry.catalog().find("remote2"), &all[1]);
    EXPECT_EQ(registry.catalog().find("nope"), nullptr);
}

TEST(ModelRegistry, TheDefaultConfigurationIsTheBuiltinModel) {
    ConfigSources sources;
    sources.use_environment = false;
    auto config = load_config(sources);
    ASSERT_TRUE(config);
    ModelRegistry registry(config->models);
    EXPECT_EQ(registry.catalog().default_model().id, "chatgate-builtin");
    EXPECT_EQ(registry.catalog().default_model().price.per_message, 100);
    EXPECT_NE(dynamic_cast<BuiltinProvider*>(&registry.default_provider()), nullptr);
}

}  // namespace
}  // namespace chatgate::ai

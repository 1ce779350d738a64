#include "ai/model_factory.hpp"

#include "ai/builtin_provider.hpp"
#include "ai/openai_provider.hpp"

namespace chatgate::ai {
namespace {

std::vector<domain::ChatModel> build(const std::vector<ModelConfig>& models,
                                     std::vector<std::unique_ptr<domain::ChatProvider>>& providers,
                                     std::vector<OpenAiProvider*>& upstreams) {
    std::vector<domain::ChatModel> out;
    domain::ChatProvider* builtin = nullptr;
    for (const auto& m : models) {
        domain::ChatProvider* provider = nullptr;
        if (m.provider != ProviderKind::builtin) {
            auto upstream = std::make_unique<OpenAiProvider>(OpenAiSettings{
                .model_id = m.id,
                .url = m.url,
                .api_key = m.api_key,
                .upstream_model = m.upstream_model,
                .max_completion_tokens = m.max_completion_tokens,
                .timeouts_ms = m.timeouts_ms,
                .max_retries = static_cast<int>(m.max_retries),
                .protocol = m.provider == ProviderKind::anthropic ? UpstreamProtocol::anthropic
                                                                  : UpstreamProtocol::openai});
            upstreams.push_back(upstream.get());
            provider = upstream.get();
            providers.push_back(std::move(upstream));
        } else {
            if (!builtin) {
                providers.push_back(std::make_unique<BuiltinProvider>());
                builtin = providers.back().get();
            }
            provider = builtin;
        }
        out.push_back(
            domain::ChatModel{.id = m.id,
                              .owned_by = m.owned_by,
                              .provider = provider,
                              .upstream_model = m.upstream_model,
                              .max_completion_tokens = m.max_completion_tokens,
                              .context_budget_chars = m.context_budget_chars,
                              .price = {m.price.per_message, m.price.per_1k_prompt_tokens,
                                        m.price.per_1k_completion_tokens},
                              .capabilities = {m.capabilities.chat, m.capabilities.tools,
                                               m.capabilities.vision, m.capabilities.embeddings},
                              .image_token_bound = m.image_token_bound});
    }
    return out;
}

}  // namespace

ModelRegistry::ModelRegistry(const std::vector<ModelConfig>& models)
    : catalog_(build(models, providers_, upstreams_)) {}

ModelRegistry::~ModelRegistry() = default;

void ModelRegistry::close_idle_connections() {
    for (auto* upstream : upstreams_) upstream->close_idle_connections();
}

}  // namespace chatgate::ai

#pragma once

#include "config/model_config.hpp"
#include "domain/chat/chat_provider.hpp"
#include "domain/chat/model_catalog.hpp"

#include <memory>
#include <vector>

namespace chatgate::ai {

class OpenAiProvider;

/// Builds one provider per configured model and the catalog that names them. Owns the
/// providers, so it must outlive every service that uses the catalog. Immutable after
/// construction apart from `close_idle_connections`; thread-safe.
class ModelRegistry {
public:
    /// `models` as loaded by load_config: never empty (without a `models` key it holds the
    /// builtin model).
    explicit ModelRegistry(const std::vector<ModelConfig>& models);
    ~ModelRegistry();
    ModelRegistry(const ModelRegistry&) = delete;
    ModelRegistry& operator=(const ModelRegistry&) = delete;

    const domain::ModelCatalog& catalog() const { return catalog_; }
    /// The first configured model's provider.
    domain::ChatProvider& default_provider() const { return *catalog_.default_model().provider; }
    /// Drops pooled upstream connections; call after the I/O threads stopped, before their
    /// io_contexts are destroyed.
    void close_idle_connections();

private:
    std::vector<std::unique_ptr<domain::ChatProvider>> providers_;
    std::vector<OpenAiProvider*> upstreams_;
    domain::ModelCatalog catalog_;
};

}  // namespace chatgate::ai

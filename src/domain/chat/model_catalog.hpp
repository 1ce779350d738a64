#pragma once

#include "core/ids.hpp"
#include "domain/chat/chat_provider.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

/// What one message on a model costs, in chatgate tokens.
struct ModelPrice {
    TokenAmount per_message = 100;
    TokenAmount per_1k_prompt_tokens = 0;      ///< applied to the upstream's reported usage
    TokenAmount per_1k_completion_tokens = 0;  ///< idem
};

/// What a model can serve; a request needing more is refused, naming the capability.
struct ModelCapabilities {
    bool chat = true;
    bool tools = false;
    bool vision = false;
    bool embeddings = false;
};

/// The capabilities' names, as the model listings show them.
inline std::vector<std::string_view> capability_names(const ModelCapabilities& c) {
    std::vector<std::string_view> out;
    if (c.chat) out.emplace_back("chat");
    if (c.tools) out.emplace_back("tools");
    if (c.vision) out.emplace_back("vision");
    if (c.embeddings) out.emplace_back("embeddings");
    return out;
}

/// A model clients can name, and how chatgate reaches and bills it.
struct ChatModel {
    std::string id;        ///< the name clients use (`model` in requests)
    std::string owned_by;  ///< shown by the model listings
    ChatProvider* provider = nullptr;
    std::string upstream_model;              ///< the name sent to the provider
    std::int64_t max_completion_tokens = 0;  ///< cap sent upstream; bounds the reservation
    std::int64_t context_budget_chars = 0;   ///< earlier turns beyond this are left out
    ModelPrice price;
    ModelCapabilities capabilities;
    std::int64_t image_token_bound = 0;  ///< the most one image in a prompt costs, in tokens
};

/// The configured models, in configuration order; the first is the default. Immutable after
/// start-up, so shared freely between threads.
class ModelCatalog {
public:
    explicit ModelCatalog(std::vector<ChatModel> models) : models_(std::move(models)) {}

    const std::vector<ChatModel>& all() const { return models_; }
    const ChatModel& default_model() const { return models_.front(); }
    /// nullptr when no model has that id.
    const ChatModel* find(std::string_view id) const {
        for (const auto& model : models_) {
            if (model.id == id) return &model;
        }
        return nullptr;
    }

private:
    std::vector<ChatModel> models_;
};

}  // namespace chatgate::domain

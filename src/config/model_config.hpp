#pragma once

#include "config/base_url.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate {

/// builtin: the fixed answer; openai: a Chat Completions upstream; anthropic: a Messages API
/// upstream.
enum class ProviderKind { builtin, openai, anthropic };

/// Per-phase deadlines of one upstream exchange, in milliseconds.
struct ModelTimeouts {
    std::int64_t connect = 5'000;      ///< resolve, TCP connect and TLS handshake
    std::int64_t first_byte = 60'000;  ///< from sending the request to the answer's header
    std::int64_t idle = 30'000;        ///< between two chunks of a body
    std::int64_t total = 300'000;      ///< the whole exchange, retries included
};

struct ModelPriceConfig {
    std::int64_t per_message = 100;  ///< default: the `chat_cost_tokens` key
    std::int64_t per_1k_prompt_tokens = 0;
    std::int64_t per_1k_completion_tokens = 0;
};

/// What a model serves (the `capabilities` key).
struct ModelCapabilityConfig {
    bool chat = true;
    bool tools = false;
    bool vision = false;
    bool embeddings = false;
};

/// Tokens one image in a prompt is reserved for by default: above what OpenAI's vision models
/// charge for the largest image (gpt-4o: 1445 at high detail; gpt-4.1-mini: 1536 patches
/// x 1.62). Models that count images larger (gpt-4o-mini) configure their own.
inline constexpr std::int64_t kDefaultImageTokenBound = 2500;

/// One entry of the `models` key.
struct ModelConfig {
    std::string id;
    ProviderKind provider = ProviderKind::builtin;
    std::string base_url;  ///< openai and anthropic only; parsed into `url`
    BaseUrl url;
    std::string api_key_env;     ///< name of the environment variable holding the key
    std::string api_key_file;    ///< or a file holding it (trailing newline ignored)
    std::string api_key;         ///< resolved at load time; secret, never logged
    std::string upstream_model;  ///< default: `id`
    std::string owned_by;        ///< shown by model listings; default "chatgate" or "openai"
    std::int64_t max_completion_tokens = 0;  ///< 0: the chat service sends (and reserves for) 4096
    std::int64_t context_budget_chars = 16'000;
    ModelPriceConfig price;
    /// Default: chat for the builtin model; chat and tools for an upstream.
    ModelCapabilityConfig capabilities;
    std::int64_t image_token_bound = kDefaultImageTokenBound;
    ModelTimeouts timeouts_ms;
    std::int64_t max_retries = 2;
};

/// The id of the model used when `models` is not configured.
inline constexpr std::string_view kBuiltinModelId = "chatgate-builtin";

/// Parses the `models` JSON array (text). `origin` names where it came from, for messages;
/// prices default to `default_per_message`. Resolves API keys from their variable or file.
/// Errors: invalid_argument naming the bad key, e.g. `models[1].price.per_message`.
Result<std::vector<ModelConfig>> parse_models(std::string_view json_text, std::string_view origin,
                                              std::int64_t default_per_message);

/// The models used without a `models` key: the builtin one, priced per message.
std::vector<ModelConfig> default_models(std::int64_t per_message);

/// The models as JSON text for `describe`, API keys redacted.
std::string describe_models(const std::vector<ModelConfig>& models);

}  // namespace chatgate

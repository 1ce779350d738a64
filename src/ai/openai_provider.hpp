#pragma once

#include "ai/retry_policy.hpp"
#include "config/base_url.hpp"
#include "config/model_config.hpp"
#include "domain/chat/chat_provider.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace chatgate::ai {

/// The protocol an upstream speaks: OpenAI's Chat Completions, or Anthropic's Messages API
/// (x-api-key and anthropic-version headers, POST {base_url}/messages, its own events).
enum class UpstreamProtocol { openai, anthropic };

struct OpenAiSettings {
    std::string model_id;  ///< chatgate's name of the model, for the log
    BaseUrl url;
    std::string api_key;  ///< sent as a bearer token; never logged
    std::string upstream_model;
    std::int64_t max_completion_tokens = 0;  ///< used when the prompt sets none
    ModelTimeouts timeouts_ms;
    int max_retries{};
    RetryPolicy retry;
    std::size_t max_body_bytes = 4 * 1024 * 1024;  ///< non-streamed answers
    std::size_t max_idle_connections_per_thread = 32;
    UpstreamProtocol protocol = UpstreamProtocol::openai;
};

/// A client of the OpenAI Chat Completions protocol (OpenAI, vLLM, llama.cpp, Ollama, ...)
/// over HTTP/1.1 with keep-alive, or HTTPS verified against the system's CA store (which
/// OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR can replace). Runs entirely on the caller's
/// executor; idle connections are kept per executor for reuse. Retries connect errors, 429
/// and 5xx with capped, jittered exponential backoff, only before the caller got anything.
/// Thread-safe.
class OpenAiProvider final : public domain::ChatProvider {
public:
    explicit OpenAiProvider(OpenAiSettings settings);
    ~OpenAiProvider() override;

    boost::asio::awaitable<Result<domain::ChatAnswer>> complete(
        const domain::ChatPrompt& prompt) override;
    boost::asio::awaitable<Result<std::unique_ptr<domain::ChatStream>>> stream(
        const domain::ChatPrompt& prompt) override;
    /// POST {base_url}/embeddings, with the same retries and deadlines.
    boost::asio::awaitable<Result<domain::EmbeddingAnswer>> embed(
        const domain::EmbeddingPrompt& prompt) override;

    /// Drops the pooled idle connections. Call after the I/O threads have stopped and before
    /// their io_contexts are destroyed (a socket must not outlive its context).
    void close_idle_connections();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace chatgate::ai

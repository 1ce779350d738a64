#include "app/settings.hpp"

#include "observability/log.hpp"

#include <algorithm>
#include <filesystem>
#include <unistd.h>

namespace chatgate::app {
namespace {

// About 100 bytes each: 10 MB at most for the sessions checked within a cache ttl.
constexpr std::size_t kSessionCacheEntries = 100'000;

std::size_t size(std::int64_t value) {
    return static_cast<std::size_t>(value);
}

}  // namespace

std::string node_name(const Config& c) {
    if (!c.node_id.empty()) return c.node_id;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::error_code ignored;
    auto dir = std::filesystem::weakly_canonical(c.data_dir, ignored);
    return std::string(host) + ":" + (dir.empty() ? c.data_dir : dir.string());
}

http::ServerLimits server_limits(const Config& c) {
    return {.max_header_bytes = size(c.max_header_bytes),
            .max_body_bytes = size(c.max_body_bytes),
            .request_timeout = std::chrono::seconds(c.request_timeout_seconds),
            .idle_timeout = std::chrono::seconds(c.idle_timeout_seconds),
            .header_timeout = std::chrono::seconds(c.header_timeout_seconds),
            .max_header_count = size(c.max_header_count),
            .max_target_bytes = size(c.max_url_bytes),
            .max_connections = size(c.max_connections),
            .max_connections_per_address = size(c.max_connections_per_address)};
}

api::JsonLimits json_limits(const Config& c) {
    return {.max_depth = size(c.max_json_depth), .max_string_bytes = size(c.max_json_string_bytes)};
}

api::HandlerSettings handler_settings(const Config& c) {
    return {.access_lifetime = std::chrono::seconds(c.access_token_lifetime_seconds),
            .refresh_lifetime = std::chrono::seconds(c.refresh_token_lifetime_seconds),
            .page_size = c.page_size,
            .max_page_size = c.max_page_size,
            .public_url = c.public_url.substr(0, c.public_url.find_last_not_of('/') + 1),
            .max_body_bytes = size(c.max_body_bytes),
            .stream_keepalive = std::chrono::milliseconds(c.stream_keepalive_ms),
            .json = json_limits(c),
            .metrics_token = c.metrics_token};
}

api::CorsSettings cors_settings(const Config& c) {
    return {.allowed_origins = c.cors_allowed_origins,
            .allow_credentials = c.cors_allow_credentials,
            .max_age = std::chrono::seconds(c.cors_max_age_seconds)};
}

domain::TopUpPolicy top_up_policy(const Config& c) {
    return {.enabled = c.top_up_enabled,
            .max_per_request = c.top_up_max_per_request,
            .balance_cap = c.balance_cap};
}

domain::KeyPolicy key_policy(const Config& c) {
    return {.max_keys_per_user = c.api_keys_per_user,
            .last_used_resolution = std::chrono::seconds(c.api_key_last_used_resolution_seconds)};
}

domain::AdminPolicy admin_policy(const Config& c) {
    // One operator action may move at most the cap, either way.
    return {.balance_cap = c.balance_cap, .max_grant = c.balance_cap};
}

domain::CodePolicy code_policy(const Config& c) {
    return {.balance_cap = c.balance_cap, .max_tokens = c.balance_cap};
}

domain::PaymentPolicy payment_policy(const Config& c) {
    domain::PaymentPolicy policy{.enabled = c.stripe.enabled, .prices = {}};
    for (const auto& p : c.stripe.prices) policy.prices.push_back({p.price, p.tokens});
    return policy;
}

domain::ChatPolicy chat_policy(const Config& c) {
    return {.max_message_chars = size(c.max_message_chars),
            .node = node_name(c),
            .on_background_failure = [](std::string_view what) {
                log::error(
                    "background chat settlement failed; the reservation is refunded at "
                    "the next start",
                    {{"error", what}});
            }};
}

domain::IdempotencyPolicy idempotency_policy(const Config& c) {
    return {.ttl = std::chrono::seconds(c.idempotency_key_ttl_seconds)};
}

domain::SessionPolicy session_policy(const Config& c) {
    // Families live as long as the longest-lived token they issued.
    auto lifetime = std::max(c.access_token_lifetime_seconds, c.refresh_token_lifetime_seconds);
    return {.token_lifetime = std::chrono::seconds(lifetime),
            .check_access = c.session_check_enabled,
            .on_reuse =
                [](UserId user, domain::SessionId session) {
                    log::warn("refresh token reused; its session is revoked",
                              {{"user_id", user}, {"session_id", session}});
                },
            .cache_ttl = std::chrono::milliseconds(c.effective_session_cache_ms()),
            .cache_max_entries = kSessionCacheEntries};
}

}  // namespace chatgate::app

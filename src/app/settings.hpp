#pragma once

#include "api/handler.hpp"
#include "api/pipeline/cors.hpp"
#include "api/wire/json_limits.hpp"
#include "config/config.hpp"
#include "domain/accounts/session_service.hpp"
#include "domain/chat/chat_service.hpp"
#include "domain/idempotency/idempotency_service.hpp"
#include "domain/ledger/ledger_service.hpp"
#include "domain/payments/code_service.hpp"
#include "domain/payments/payment_service.hpp"
#include "http/limits.hpp"

/// The configuration, translated into each component's settings. `Config` holds every default;
/// the components carry none of their own, so this is the one place that maps one onto the
/// other. (Tests build their settings here too, from `Config{}`.)
namespace chatgate::app {

http::ServerLimits server_limits(const Config& config);
api::JsonLimits json_limits(const Config& config);
api::HandlerSettings handler_settings(const Config& config);
api::CorsSettings cors_settings(const Config& config);

domain::TopUpPolicy top_up_policy(const Config& config);
domain::KeyPolicy key_policy(const Config& config);
domain::AdminPolicy admin_policy(const Config& config);
domain::CodePolicy code_policy(const Config& config);
domain::PaymentPolicy payment_policy(const Config& config);
/// Background settlement failures are logged.
domain::ChatPolicy chat_policy(const Config& config);
/// This node's name for its reservations and lease: `node_id`, or the host name and the
/// absolute data directory.
std::string node_name(const Config& config);
domain::IdempotencyPolicy idempotency_policy(const Config& config);
/// Refresh-token reuse is logged as a warning.
domain::SessionPolicy session_policy(const Config& config);

}  // namespace chatgate::app

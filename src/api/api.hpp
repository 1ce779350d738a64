#pragma once

#include "core/work_pool.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/accounts/session_service.hpp"
#include "domain/chat/chat_service.hpp"
#include "domain/chat/conversation_service.hpp"
#include "domain/ledger/ledger_service.hpp"
#include "domain/store.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "security/jwt.hpp"

#include <chrono>
#include <string>

namespace chatgate::api {

struct ApiSettings {
    std::chrono::seconds access_lifetime{1800};
    std::chrono::seconds refresh_lifetime{604800};
    std::int64_t page_size = 20;
    std::int64_t max_page_size = 100;
    std::size_t max_body_bytes = 1024 * 1024;
    std::chrono::milliseconds stream_keepalive{15000};  ///< ": ping" while an upstream is silent
};

class Idempotency;

/// Everything the handlers use, built by the composition root. Shared by all I/O threads;
/// every member is thread-safe.
struct Api {
    domain::AccountService& accounts;
    domain::LedgerService& ledger;
    domain::ChatService& chat;
    domain::ConversationService& conversations;
    const security::JwtCodec& jwt;
    domain::Store& store;
    WorkPool& db_pool;
    ApiSettings settings;
    std::string schema_yaml;  ///< the OpenAPI document, rendered once at start-up
    // Set by the composition root after construction.
    domain::SessionService* sessions = nullptr;  ///< null: no session checks (unit tests)
    Idempotency* idempotency = nullptr;          ///< null: Idempotency-Key is ignored
};

struct Route;

/// What a handler gets for one request.
struct RequestContext {
    const http::Request& request;
    const Route& route;
    std::string_view request_id;
    UserId user_id = 0;  ///< set for routes that require a bearer token
    std::vector<http::Router::PathParam> params;
};

}  // namespace chatgate::api

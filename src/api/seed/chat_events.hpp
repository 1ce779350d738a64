#pragma once

#include "domain/chat/chat_service.hpp"
#include "http/message.hpp"

#include <chrono>
#include <memory>

namespace chatgate::api {

/// The text/event-stream answer of POST /api/chat/ with "stream": true. Events:
///   event: delta  data: {"text": "..."}              one per upstream delta, as it arrives
///   event: done   data: {"conversation_id", "remaining_tokens", "finish_reason", "model",
///                        "cost"}                      once, after billing (no full text)
///   event: error  data: {"error", "conversation_id", "remaining_tokens"}   upstream failed
///                                                     midway; the delivered part was billed
/// and ": ping" comments while the upstream is silent. A client that leaves cancels the
/// upstream at once; the exchange is then billed for what was produced.
http::Response chat_event_stream(std::unique_ptr<domain::ChatExchange> exchange,
                                 std::chrono::milliseconds keepalive);

}  // namespace chatgate::api

#pragma once

#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

/// Server-sent events, for every streamed answer (/api/chat/ and /v1 alike).
namespace chatgate::api {

/// One event carrying `data` (which must not contain a newline; serialized JSON never does),
/// with an `event:` line when `name` is not empty.
std::string sse_event(std::string_view data, std::string_view name = {});

/// A 200 text/event-stream answer whose body `produce` writes, event by event. While it writes
/// nothing for `keepalive`, a ": ping" comment keeps proxies from closing the stream (clients
/// skip comments). The transport keeps `produce` (and what it holds) alive while it runs.
http::Response event_stream(std::function<boost::asio::awaitable<void>(http::BodyWriter&)> produce,
                            std::chrono::milliseconds keepalive);

}  // namespace chatgate::api

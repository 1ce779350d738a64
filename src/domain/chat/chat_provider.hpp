#pragma once

#include "core/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace chatgate::domain {

struct ChatPrompt {
    std::string message;
};

/// An AI model that answers one prompt. Implementations must not block the calling I/O thread
/// and report failures as `upstream_unavailable` values. Thread-safe.
class ChatProvider {
public:
    virtual ~ChatProvider() = default;
    /// The caller keeps `prompt` alive until the answer arrives. (A by-value aggregate parameter
    /// of a coroutine is miscompiled by GCC 12.)
    virtual boost::asio::awaitable<Result<std::string>> complete(const ChatPrompt& prompt) = 0;
};

}  // namespace chatgate::domain

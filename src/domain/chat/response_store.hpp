#pragma once

#include "core/ids.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatgate::domain {

/// A stored response of the Responses API; its JSON is opaque text to the domain.
struct StoredResponse {
    std::string id;
    UserId user = 0;
    std::string body;     ///< the response object
    std::string history;  ///< the conversation up to and with it (a JSON array of messages)
    /// Each output item's id and the message it stands for (JSON).
    std::vector<std::pair<std::string, std::string>> items;
};

/// Persistence port of stored responses. Every call blocks (run it on the database pool).
class ResponseStore {
public:
    virtual ~ResponseStore() = default;
    virtual void save_response(const StoredResponse& response) = 0;
    /// The user's response (without its items), or nothing.
    virtual std::optional<StoredResponse> find_response(UserId user, std::string_view id) = 0;
    /// The message an output item of one of the user's responses stands for, or nothing.
    virtual std::optional<std::string> find_response_item(UserId user, std::string_view id) = 0;
    /// Removes the response and its items; false when it is not the user's.
    virtual bool delete_response(UserId user, std::string_view id) = 0;
};

}  // namespace chatgate::domain

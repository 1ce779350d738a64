#pragma once

#include "core/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/// Stored responses as conversation history, as pure functions: a request's
/// previous_response_id and item references are resolved by the handler (which reads the
/// store), then turned into plain input items here, so the one translation serves them all.
namespace chatgate::api::openai {

/// Whether the response is to be stored: `store` absent, null or true.
bool wants_store(const boost::json::object& body);

/// The request's previous_response_id, if any. Errors: invalid_argument when not a string.
Result<std::optional<std::string>> previous_response_of(const boost::json::object& body);

/// The ids of the request's item_reference items.
std::vector<std::string> item_references(const boost::json::object& body);

/// The whole conversation as input items: the previous response's `history`, then the
/// request's input (a string as one user message; each item_reference replaced by the item
/// in `items`). Errors: invalid_argument naming the input item whose reference is unknown.
Result<boost::json::array> conversation_items(
    const boost::json::object& body, const boost::json::array& history,
    const std::map<std::string, boost::json::object>& items);

/// A response object's output items in their input form (an assistant message with
/// output_text, a function_call), each with its id: what a later request continues from.
std::vector<std::pair<std::string, boost::json::object>> output_as_input(
    const boost::json::object& response);

}  // namespace chatgate::api::openai

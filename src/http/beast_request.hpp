#pragma once

// Private to the http layer (included by its .cpp files only): it exposes Beast's types.

#include "http/message.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

namespace chatgate::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

/// Fills our Request with views into the parsed Beast message.
void view_request(const BeastRequest& msg, Request& out);

/// The answer a failed read deserves, or nothing when there is nobody left to answer (the
/// client closed or reset, a deadline passed, or the read was cancelled).
std::optional<TransportError> classify_read_error(boost::system::error_code ec);

}  // namespace chatgate::http

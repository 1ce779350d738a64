#pragma once

#include "api/api.hpp"
#include "core/error.hpp"
#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string_view>

namespace chatgate::api {

using Invoke = boost::asio::awaitable<Result<http::Response>> (*)(Api&, RequestContext&);

enum class Auth { none, bearer };

struct Route {
    http::Method method;
    std::string_view path;  ///< template, with its trailing slash
    Auth auth;
    bool documented;  ///< an API operation, described in openapi/openapi.json
    Invoke invoke;
    std::string_view asset = {};         ///< embedded file, for routes that serve one
    std::string_view content_type = {};  ///< of that file
    /// The rate limit the route counts against (a name in the `rate_limits` setting); "none"
    /// for none; empty: "read" for authenticated GETs, "pages" for anonymous ones, else "write".
    std::string_view rate_class = {};
};

/// THE route table: every path chatgate answers.
std::span<const Route> routes();

}  // namespace chatgate::api

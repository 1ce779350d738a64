#pragma once

#include "http/message.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::http {

/// Matches a method and path against route templates such as "/api/chat/" or
/// "/api/items/{id}/" ("{id:int}" declares the parameter's type for the caller to check; the
/// router matches any non-empty segment). A trailing slash is optional on both sides; HEAD is
/// served by GET routes. Built once at start-up, then read-only and thread-safe.
class Router {
public:
    struct PathParam {
        std::string_view name;
        std::string_view type;  ///< after the ':' in the template ("int"); empty: any text
        std::string_view value;
    };

    struct Match {
        enum class Kind { found, not_found, method_not_allowed } kind = Kind::not_found;
        std::size_t route = 0;          ///< the id given to `add`, when found
        std::vector<PathParam> params;  ///< views into the template and the path
        std::string allow;              ///< methods the path accepts, for 405 and OPTIONS
    };

    void add(Method method, std::string_view pattern, std::size_t id);
    Match match(Method method, std::string_view path) const;

private:
    struct Entry {
        Method method;
        std::vector<std::string_view> segments;
        std::size_t id;
    };
    std::vector<Entry> entries_;
};

}  // namespace chatgate::http

#pragma once

#include <cstddef>

namespace chatgate::api {

/// What a request body may contain, against documents built to exhaust the parser. Filled from
/// the configuration (app/settings.cpp) and passed to every body reader.
struct JsonLimits {
    std::size_t max_depth;         ///< nesting of arrays and objects
    std::size_t max_string_bytes;  ///< any string or key, decoded, in bytes
};

}  // namespace chatgate::api

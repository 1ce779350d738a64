#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

using ApiKeyId = std::int64_t;

/// What a request authenticated with a key may do, beyond what its owner may.
struct KeyGrant {
    ApiKeyId id = 0;
    std::optional<std::vector<std::string>> models;  ///< nothing: every model

    bool allows(std::string_view model) const;
};

}  // namespace chatgate::domain

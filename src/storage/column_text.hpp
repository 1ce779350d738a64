#pragma once

// How both stores write a few domain values into their columns and queries, so SQLite and
// PostgreSQL keep the same text for the same thing.

#include "domain/admin/admin_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::storage {

/// An API key's models as one column: one per line (model ids cannot hold a line break; the
/// handler refuses them). nullopt (every model) stays NULL.
std::optional<std::string> join_models(const std::optional<std::vector<std::string>>& models);
std::optional<std::vector<std::string>> split_models(const std::optional<std::string>& text);

/// A filter flag as the 0/1 integer both schemas store; nullopt: no filter.
std::optional<std::int64_t> optional_flag(const std::optional<bool>& flag);

/// The users column an admin listing is ordered by.
std::string_view sort_name(domain::UserSort sort);

/// A LIKE pattern matching `search` anywhere, its wildcards escaped with a backslash.
std::string contains_pattern(std::string_view search);

}  // namespace chatgate::storage

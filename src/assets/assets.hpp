#pragma once

#include <string_view>

/// Files compiled into the binary (the OpenAPI document, migrations, the docs pages and their
/// npm assets, the common-password list), so a running server needs nothing beside it.
namespace chatgate::assets {

/// The file's bytes. Throws std::out_of_range for a name that was not embedded (a build bug).
std::string_view find(std::string_view name);

}  // namespace chatgate::assets

#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace chatgate::security {

/// SHA-256 over `parts`, each preceded by its length so that no two different lists hash alike;
/// as 64 lowercase hex digits. Thread-safe.
std::string sha256_hex(std::initializer_list<std::string_view> parts);

}  // namespace chatgate::security

#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace chatgate::security {

/// SHA-256 over `parts`, each preceded by its length so that no two different lists hash alike;
/// as 64 lowercase hex digits. Thread-safe.
std::string sha256_hex(std::initializer_list<std::string_view> parts);

/// Whether a presented secret equals the expected one, in time that depends on neither (both
/// are hashed first, so even their lengths stay hidden).
bool same_secret(std::string_view presented, std::string_view expected);

}  // namespace chatgate::security

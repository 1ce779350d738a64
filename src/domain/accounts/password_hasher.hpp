#pragma once

#include <string>
#include <string_view>

namespace chatgate::domain {

/// Turns passwords into self-describing hash strings and checks them. Implementations are
/// slow on purpose (memory-hard), so callers run them on the hashing pool. Thread-safe.
class PasswordHasher {
public:
    virtual ~PasswordHasher() = default;
    virtual std::string hash(std::string_view password) const = 0;
    /// Constant-time with respect to the password; false for a malformed hash.
    virtual bool verify(std::string_view hash, std::string_view password) const = 0;
    /// True when `hash` was made with other parameters than the hasher's own (an older, cheaper
    /// or costlier setting): after a successful login the password is hashed again.
    virtual bool needs_rehash(std::string_view hash) const = 0;
};

}  // namespace chatgate::domain

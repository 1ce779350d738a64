#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace chatgate::guards {

/// GCRA state kept outside the process, so that every node on one store counts the same quota:
/// per key the theoretical arrival time (TAT) of its next request, in unix nanoseconds. Every
/// call blocks for a round trip to the store (run it on a database pool, never an I/O thread)
/// and throws when the store cannot be reached. Implementations are thread-safe.
class SharedRateStore {
public:
    struct Taken {
        bool allowed = false;
        std::optional<std::int64_t> tat_ns;  ///< after taking (allowed), or as found (refused)
    };

    virtual ~SharedRateStore() = default;

    /// Takes one request from `key` when its TAT leaves room for one more `interval_ns` within
    /// `tolerance_ns` (the whole quota as time) at `now_ns`; a refusal changes nothing.
    virtual Taken take_rate(std::string_view key, std::int64_t now_ns, std::int64_t interval_ns,
                            std::int64_t tolerance_ns) = 0;
    /// Hands back one request taken by `take_rate`.
    virtual void give_back_rate(std::string_view key, std::int64_t interval_ns) = 0;
    /// Deletes up to `limit` keys whose TAT has passed (they hold their whole quota, as absent
    /// keys do); returns how many.
    virtual std::int64_t purge_rates(std::int64_t now_ns, std::int64_t limit) = 0;
};

}  // namespace chatgate::guards

#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace chatgate::ai {

/// When and how long to wait before asking an upstream again. Only failures that happened
/// before anything reached the caller are retried: connect errors, 429 and 5xx.
struct RetryPolicy {
    std::chrono::milliseconds base{200};   ///< the first retry waits about this long
    std::chrono::milliseconds cap{5'000};  ///< no computed wait is longer
    /// A longer Retry-After is not waited for: the 429 goes to the client with it.
    std::chrono::seconds max_retry_after{10};
};

/// The wait before retry number `retry` (0 for the first): exponential, capped, with "equal
/// jitter" (half fixed, half random) so that many clients failing together spread out.
/// `unit_random` is uniform in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit_random);

/// Retry-After in delta-seconds ("7"); an HTTP date or junk yields nothing. Capped at a day.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

/// 429 and 5xx: the upstream may answer next time.
inline bool is_retryable_status(unsigned status) {
    return status == 429 || (status >= 500 && status <= 599);
}

}  // namespace chatgate::ai

#include "ai/retry_policy.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace chatgate::ai {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit_random) {
    using std::chrono::milliseconds;
    retry = std::clamp(retry, 0, 30);  // 2^30 times any base is past every sane cap
    long long exponential = policy.base.count() << retry;
    long long ceiling = std::min<long long>(exponential, policy.cap.count());
    unit_random = std::clamp(unit_random, 0.0, 1.0);
    long long half = ceiling / 2;
    return milliseconds(half +
                        static_cast<long long>(static_cast<double>(ceiling - half) * unit_random));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
    value = text::trim_blanks(value);
    if (value.empty() || value.size() > 12) return std::nullopt;
    auto seconds = text::parse_integer<long long>(value);
    if (!seconds || *seconds < 0) return std::nullopt;
    return std::chrono::seconds(std::min<long long>(*seconds, 24 * 3600));
}

}  // namespace chatgate::ai

#include "ai/retry_policy.hpp"

#include <gtest/gtest.h>

namespace chatgate::ai {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Backoff, GrowsExponentiallyWithinHalfAndFullOfEachStep) {
    RetryPolicy policy{milliseconds(100), milliseconds(5000), seconds(10)};
    for (int retry = 0; retry < 5; ++retry) {
        long long step = 100LL << retry;
        EXPECT_EQ(backoff_delay(policy, retry, 0.0).count(), step / 2) << retry;
        EXPECT_LE(backoff_delay(policy, retry, 0.999).count(), step) << retry;
        EXPECT_GE(backoff_delay(policy, retry, 0.999).count(), step * 9 / 10) << retry;
    }
}

TEST(Backoff, IsCappedEvenForHugeRetryNumbers) {
    RetryPolicy policy{milliseconds(200), milliseconds(1000), seconds(10)};
    for (int retry : {6, 30, 64, 1000}) {
        EXPECT_LE(backoff_delay(policy, retry, 0.999), milliseconds(1000)) << retry;
        EXPECT_GE(backoff_delay(policy, retry, 0.0), milliseconds(500)) << retry;
    }
    EXPECT_GE(backoff_delay(policy, -3, 0.5), milliseconds(100));  // clamped, not negative
}

TEST(RetryAfter, DeltaSecondsOnly) {
    EXPECT_EQ(parse_retry_after("7"), seconds(7));
    EXPECT_EQ(parse_retry_after(" 0 "), seconds(0));
    EXPECT_EQ(parse_retry_after("99999999"), seconds(24 * 3600));
    EXPECT_FALSE(parse_retry_after(""));
    EXPECT_FALSE(parse_retry_after("-1"));
    EXPECT_FALSE(parse_retry_after("1.5"));
    EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST(RetryableStatus, Only429And5xx) {
    EXPECT_TRUE(is_retryable_status(429));
    EXPECT_TRUE(is_retryable_status(500));
    EXPECT_TRUE(is_retryable_status(503));
    EXPECT_FALSE(is_retryable_status(400));
    EXPECT_FALSE(is_retryable_status(401));
    EXPECT_FALSE(is_retryable_status(404));
    EXPECT_FALSE(is_retryable_status(200));
}

}  // namespace
}  // namespace chatgate::ai

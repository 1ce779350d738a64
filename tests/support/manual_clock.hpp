#pragma once

#include "core/clock.hpp"

namespace chatgate::testing {

/// A clock that moves only when told to.
class ManualClock final : public Clock {
public:
    explicit ManualClock(
        std::chrono::system_clock::time_point start =
            std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)))
        : now_(start) {}
    std::chrono::system_clock::time_point now() const override { return now_; }
    void advance(std::chrono::seconds by) { now_ += by; }
    void advance(std::chrono::milliseconds by) { now_ += by; }

private:
    std::chrono::system_clock::time_point now_;
};

}  // namespace chatgate::testing

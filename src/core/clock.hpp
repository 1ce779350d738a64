#pragma once

#include <chrono>

namespace chatgate {

/// Wall-clock time source, injectable so expiry logic can be tested without waiting.
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now();
    }
};

}  // namespace chatgate

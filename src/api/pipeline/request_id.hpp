#pragma once

#include "http/message.hpp"

#include <atomic>
#include <cstdint>
#include <string>

namespace chatgate::api {

/// Names each request for the logs and the client: the caller's X-Request-Id when it is a sane
/// token (so a trace crosses chatgate), else a fresh one. Thread-safe.
class RequestIds {
public:
    RequestIds();

    std::string next(const http::Request& request);

private:
    std::string prefix_;  ///< random per process, so ids from different runs never collide
    std::atomic<std::uint64_t> counter_{0};
};

}  // namespace chatgate::api

#pragma once

// Where the components' observer hooks meet the metrics registry (observability/metrics.hpp):
// the domain and core know nothing of metrics, only of callbacks.

#include "core/work_pool.hpp"
#include "domain/chat/chat_service.hpp"

#include <chrono>
#include <functional>
#include <string_view>

namespace chatgate::app {

/// For WorkPool::Options::on_job: the pool's queue wait and run time.
std::function<void(std::chrono::nanoseconds, std::chrono::nanoseconds)> observe_pool(
    std::string_view pool);
/// Times a group COMMIT.
void timed_commit(const std::function<void()>& commit);
/// Fills the chat policy's reservation and settlement hooks.
void observe_chats(domain::ChatPolicy& policy);
/// Reads the pools' depths at each scrape. The pools must outlive serving.
void collect_pool_depths(const WorkPool& reads, const WorkPool& writes, const WorkPool& hashing);

}  // namespace chatgate::app

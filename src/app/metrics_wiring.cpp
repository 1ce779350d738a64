#include "app/metrics_wiring.hpp"

#include "observability/metrics.hpp"

#include <string>

namespace chatgate::app {
namespace {

std::string_view name_of(domain::SettledAs outcome) {
    switch (outcome) {
        case domain::SettledAs::full:
            return "full";
        case domain::SettledAs::partial:
            return "partial";
        case domain::SettledAs::refunded:
            return "refunded";
        case domain::SettledAs::recovered:
            break;
    }
    return "recovered";
}

void count_settlement(const domain::SettledChat& settled) {
    if (!metrics::enabled()) return;
    auto& m = metrics::registry();
    m.settlements.with({name_of(settled.outcome)}).add();
    if (settled.outcome == domain::SettledAs::recovered) return;  // opened before this process
    m.open_reservations.add(-1);
    if (settled.outcome == domain::SettledAs::refunded) return;
    auto positive = [](std::int64_t n) { return static_cast<std::uint64_t>(n > 0 ? n : 0); };
    m.tokens.with({settled.model, "prompt"}).add(positive(settled.usage.prompt_tokens));
    m.tokens.with({settled.model, "completion"}).add(positive(settled.usage.completion_tokens));
    m.tokens_charged.with({settled.model}).add(positive(settled.charged));
}

}  // namespace

std::function<void(std::chrono::nanoseconds, std::chrono::nanoseconds)> observe_pool(
    std::string_view pool) {
    auto& m = metrics::registry();
    metrics::Histogram* wait = &m.pool_wait.with({pool});
    metrics::Histogram* run = &m.pool_run.with({pool});
    return [wait, run](std::chrono::nanoseconds waited, std::chrono::nanoseconds ran) {
        if (!metrics::enabled()) return;
        wait->observe(waited);
        run->observe(ran);
    };
}

void timed_commit(const std::function<void()>& commit) {
    if (!metrics::enabled()) return commit();
    auto started = std::chrono::steady_clock::now();
    commit();
    metrics::registry().db_commit.observe(std::chrono::steady_clock::now() - started);
}

void observe_chats(domain::ChatPolicy& policy) {
    policy.on_reserved = [] {
        if (metrics::enabled()) metrics::registry().open_reservations.add(1);
    };
    policy.on_settled = count_settlement;
}

void collect_pool_depths(const WorkPool& reads, const WorkPool& writes, const WorkPool& hashing) {
    auto& m = metrics::registry();
    metrics::Gauge* gauges[] = {&m.pool_depth.with({"reads"}), &m.pool_depth.with({"writes"}),
                                &m.pool_depth.with({"hashing"})};
    m.on_render([&reads, &writes, &hashing, gauges] {
        gauges[0]->set(static_cast<std::int64_t>(reads.pending()));
        gauges[1]->set(static_cast<std::int64_t>(writes.pending()));
        gauges[2]->set(static_cast<std::int64_t>(hashing.pending()));
    });
}

}  // namespace chatgate::app

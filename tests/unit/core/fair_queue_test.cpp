#include "core/fair_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chatgate {
namespace {

std::vector<std::string> drain(FairQueue<std::string>& queue) {
    std::vector<std::string> out;
    while (!queue.empty()) out.push_back(queue.pop());
    return out;
}

TEST(FairQueue, OneKeyIsFirstInFirstOut) {
    FairQueue<std::string> queue;
    for (auto item : {"1", "2", "3"}) queue.push(item, {});
    EXPECT_EQ(drain(queue), (std::vector<std::string>{"1", "2", "3"}));
}

TEST(FairQueue, KeysTakeTurns) {
    FairQueue<std::string> queue;
    for (int i = 0; i < 3; ++i) queue.push("flood" + std::to_string(i), {"10.0.0.1"});
    queue.push("user", {"192.0.2.7"});
    EXPECT_EQ(drain(queue), (std::vector<std::string>{"flood0", "user", "flood1", "flood2"}));
}

TEST(FairQueue, PreferredLanesGoFirst) {
    FairQueue<std::string> queue;
    queue.push("suspect1", {"a", false});
    queue.push("suspect2", {"b", false});
    queue.push("fresh", {"c", true});
    EXPECT_EQ(queue.pop(), "fresh");
    queue.push("fresh2", {"d"});
    EXPECT_EQ(drain(queue), (std::vector<std::string>{"fresh2", "suspect1", "suspect2"}));
}

}  // namespace
}  // namespace chatgate

#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace chatgate {

/// Where a job waits in a WorkPool: jobs of `preferred` lanes all run before the others, and
/// within each of the two classes the pool takes turns between keys (one job per key per
/// turn), so many jobs under a few keys cannot sit in front of everybody else. The password
/// hashing pool keys logins by client address and prefers addresses without recent failures.
struct WorkLane {
    std::string_view key;
    bool preferred = true;
};

/// A queue in two classes, each served round-robin by key; FIFO within a key. Not thread-safe
/// (the pool holds its lock).
template <class T>
class FairQueue {
public:
    void push(T item, WorkLane lane) {
        Class& c = classes_[lane.preferred ? 0 : 1];
        auto [it, added] = c.by_key.try_emplace(std::string(lane.key));
        if (it->second.empty()) c.turns.push_back(it->first);
        it->second.push_back(std::move(item));
        ++c.size;
    }

    bool empty() const { return classes_[0].size == 0 && classes_[1].size == 0; }

    /// The next item: the preferred class first, and in a class the key whose turn it is.
    /// Must not be empty.
    T pop() {
        Class& c = classes_[classes_[0].size > 0 ? 0 : 1];
        auto it = c.by_key.find(c.turns.front());
        T item = std::move(it->second.front());
        it->second.pop_front();
        --c.size;
        c.turns.pop_front();
        if (it->second.empty()) {
            c.by_key.erase(it);
        } else {
            c.turns.push_back(it->first);  // its next job waits for every other key's turn
        }
        return item;
    }

private:
    struct Class {
        std::unordered_map<std::string, std::deque<T>> by_key;
        std::deque<std::string> turns;  ///< keys with waiting jobs, the next to be served first
        std::size_t size = 0;
    };
    std::array<Class, 2> classes_;
};

}  // namespace chatgate

#include "core/work_pool.hpp"

#include <algorithm>
#include <latch>
#include <memory>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chatgate {

WorkPool::WorkPool(std::string name, std::size_t threads, std::size_t max_pending, int nice)
    : pool_(threads), max_pending_(max_pending) {
    // Name (and optionally deprioritise) every pool thread once, so `top -H` shows who is busy
    // and a flood of password hashes yields the CPU to request handling.
    name.resize(std::min<std::size_t>(name.size(), 15));
    // The latch makes each set-up job wait for the others, so every thread runs exactly one. It
    // is shared because the jobs may still be leaving it after this constructor has moved on.
    auto all_started = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads) + 1);
    for (std::size_t i = 0; i < threads; ++i) {
        boost::asio::post(pool_, [name, nice, all_started] {
            pthread_setname_np(pthread_self(), name.c_str());
            if (nice != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
            all_started->arrive_and_wait();
        });
    }
    all_started->arrive_and_wait();
}

WorkPool::~WorkPool() {
    join();
}

void WorkPool::join() {
    pool_.join();
}

}  // namespace chatgate

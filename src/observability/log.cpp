#include "observability/log.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

namespace chatgate::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};

constexpr std::array<std::string_view, 4> kLevelNames{"debug", "info", "warn", "error"};
constexpr std::size_t kFlushThreshold = 64 * 1024;

/// Owns the line buffer and the thread that flushes it. A function-local static so it is
/// constructed on first use and flushed at exit.
class Sink {
public:
    Sink() : flusher_([this] { flush_periodically(); }) {}
    ~Sink() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        flusher_.join();
        flush();
    }

    void append(const std::string& line) {
        bool large;
        {
            std::lock_guard lock(mutex_);
            buffer_ += line;
            large = buffer_.size() >= kFlushThreshold;
        }
        if (large) wake_.notify_one();
    }

    void flush() {
        std::string out;
        {
            std::lock_guard lock(mutex_);
            out.swap(buffer_);
        }
        std::size_t done = 0;
        while (done < out.size()) {
            ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
            if (n <= 0) break;  // stderr closed: nothing useful left to do with the log
            done += static_cast<std::size_t>(n);
        }
    }

private:
    void flush_periodically() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait_for(lock, std::chrono::milliseconds(200));
            lock.unlock();
            flush();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::string buffer_;
    bool stopping_ = false;
    std::thread flusher_;
};

Sink& sink() {
    static Sink instance;
    return instance;
}

/// "2026-11-26T07:00:00.123Z". The date and time are formatted once per second per thread.
void append_timestamp(std::string& out) {
    using namespace std::chrono;
    thread_local std::time_t cached_second = -1;
    thread_local char cached[24];  // "YYYY-MM-DDTHH:MM:SS."
    auto now = system_clock::now();
    auto secs = system_clock::to_time_t(now);
    if (secs != cached_second) {
        std::tm tm{};
        gmtime_r(&secs, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S.", &tm);
        cached_second = secs;
    }
    auto millis =
        static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
    out.append(cached, 20);
    out += static_cast<char>('0' + millis / 100);
    out += static_cast<char>('0' + millis / 10 % 10);
    out += static_cast<char>('0' + millis % 10);
    out += 'Z';
}

template <class Number>
void append_number(std::string& out, Number value) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, end);
}

}  // namespace

bool parse_level(std::string_view name, Level& out) {
    for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
        if (kLevelNames[i] == name) {
            out = static_cast<Level>(i);
            return true;
        }
    }
    return false;
}

void set_level(Level level) {
    g_level.store(static_cast<int>(level));
}

bool enabled(Level level) {
    return static_cast<int>(level) >= g_level.load();
}

void append_json_escaped(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
    if (!enabled(level)) return;
    std::string line;
    line.reserve(256);
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += "\",\"level\":\"";
    line += kLevelNames[static_cast<std::size_t>(level)];
    line += "\",\"msg\":\"";
    append_json_escaped(line, msg);
    line += '"';
    for (const auto& field : fields) {
        line += ",\"";
        append_json_escaped(line, field.key);
        line += "\":";
        std::visit(
            [&line](const auto& v) {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, std::string_view>) {
                    line += '"';
                    append_json_escaped(line, v);
                    line += '"';
                } else if constexpr (std::is_same_v<V, bool>) {
                    line += v ? "true" : "false";
                } else {
                    append_number(line, v);
                }
            },
            field.value);
    }
    line += "}\n";
    sink().append(line);
}

void flush() {
    sink().flush();
}

}  // namespace chatgate::log

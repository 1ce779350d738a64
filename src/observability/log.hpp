#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <variant>

/// Structured logging: one JSON object per line on stderr, e.g.
/// {"ts":"2026-11-26T07:00:00.123Z","level":"info","msg":"request","status":200}.
/// Lines are buffered and flushed by a background thread at least every 200 ms (and on
/// `flush()`), so logging never costs a system call per request. Thread-safe.
/// Never pass passwords, tokens, Authorization headers or chat text.
namespace chatgate::log {

enum class Level { debug, info, warn, error };

struct Field {
    std::string_view key;
    std::variant<std::string_view, std::int64_t, double, bool> value;

    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
    Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
    Field(std::string_view k, unsigned v) : key(k), value(std::int64_t{v}) {}
    Field(std::string_view k, std::size_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
    Field(std::string_view k, double v) : key(k), value(v) {}
    Field(std::string_view k, bool v) : key(k), value(v) {}
};

/// Accepts "debug", "info", "warn", "error".
bool parse_level(std::string_view name, Level& out);
void set_level(Level level);
bool enabled(Level level);

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
/// Writes out everything buffered; call before exit.
void flush();

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::error, m, f);
}

/// Appends `text` to `out` as JSON string content (no surrounding quotes).
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace chatgate::log

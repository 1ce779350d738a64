#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::ai {

/// An incremental parser of server-sent events (the WHATWG event-stream format) that keeps
/// only `data` fields: bytes go in as they arrive, split anywhere, and each complete event's
/// data (its data lines joined by '\n') comes out. Lines may end in LF, CR or CRLF; comments
/// (": ping") and the other fields (event, id, retry) are skipped. Memory is bounded by the
/// limits, never by the length of the stream. Not thread-safe; one per stream.
class SseParser {
public:
    struct Limits {
        std::size_t max_line_bytes = 64 * 1024;
        std::size_t max_event_bytes = 256 * 1024;
    };
    enum class Status { ok, line_too_long, event_too_large };

    SseParser() : SseParser(Limits{}) {}
    explicit SseParser(Limits limits) : limits_(limits) {}

    /// Appends the data of every event completed by `bytes` to `events`. After a status other
    /// than ok the parser stays failed and ignores further input.
    Status feed(std::string_view bytes, std::vector<std::string>& events);

private:
    Status end_line(std::vector<std::string>& events);

    Limits limits_;
    std::string line_;
    std::string data_;
    bool has_data_ = false;
    bool after_cr_ = false;  ///< the last byte was a CR: a following LF belongs to it
    Status status_ = Status::ok;
};

}  // namespace chatgate::ai

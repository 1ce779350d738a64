#include "ai/sse_parser.hpp"

namespace chatgate::ai {

SseParser::Status SseParser::feed(std::string_view bytes, std::vector<std::string>& events) {
    for (std::size_t i = 0; i < bytes.size() && status_ == Status::ok; ++i) {
        char c = bytes[i];
        if (after_cr_) {
            after_cr_ = false;
            if (c == '\n') continue;  // the LF of a CRLF pair split across chunks
        }
        if (c == '\r' || c == '\n') {
            after_cr_ = c == '\r';
            status_ = end_line(events);
            continue;
        }
        // Copy the run of ordinary bytes at once rather than byte by byte.
        std::size_t end = bytes.find_first_of("\r\n", i);
        if (end == std::string_view::npos) end = bytes.size();
        if (line_.size() + (end - i) > limits_.max_line_bytes) {
            status_ = Status::line_too_long;
            break;
        }
        line_.append(bytes.substr(i, end - i));
        i = end - 1;
    }
    return status_;
}

SseParser::Status SseParser::end_line(std::vector<std::string>& events) {
    if (line_.empty()) {  // a blank line dispatches the event
        if (has_data_) events.push_back(std::move(data_));
        data_.clear();
        has_data_ = false;
        return Status::ok;
    }
    std::string_view line = line_;
    std::string_view field = line;
    std::string_view value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (value.starts_with(' ')) value.remove_prefix(1);
    }
    Status status = Status::ok;
    if (field == "data") {  // an empty field name is a comment; other fields are not needed
        std::size_t extra = (has_data_ ? 1 : 0) + value.size();
        if (data_.size() + extra > limits_.max_event_bytes) {
            status = Status::event_too_large;
        } else {
            if (has_data_) data_ += '\n';
            data_.append(value);
            has_data_ = true;
        }
    }
    line_.clear();
    return status;
}

}  // namespace chatgate::ai

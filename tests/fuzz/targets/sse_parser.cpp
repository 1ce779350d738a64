// The upstream's server-sent events (ai::SseParser). Bytes arrive split anywhere, so the target
// feeds each input twice — whole, and in pieces whose sizes the input itself chooses — and
// requires the same events both ways, each within the event limit.
#include "ai/sse_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using chatgate::ai::SseParser;

namespace {

constexpr SseParser::Limits kLimits{.max_line_bytes = 256, .max_event_bytes = 1024};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    // The first byte seeds the piece sizes; the rest is the stream.
    std::uint8_t seed = data[0];
    std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

    SseParser whole(kLimits);
    std::vector<std::string> expected;
    SseParser::Status whole_status = whole.feed(stream, expected);

    SseParser pieces(kLimits);
    std::vector<std::string> got;
    SseParser::Status piece_status = SseParser::Status::ok;
    for (std::size_t at = 0; at < stream.size();) {
        std::size_t length = 1 + (seed % 7);
        seed = static_cast<std::uint8_t>(seed * 31 + 17);
        std::string_view piece = stream.substr(at, length);
        auto status = pieces.feed(piece, got);
        if (status != SseParser::Status::ok) piece_status = status;
        at += piece.size();
    }

    if (whole_status != piece_status || expected != got) __builtin_trap();
    for (const auto& event : got) {
        if (event.size() > kLimits.max_event_bytes) __builtin_trap();
    }
    return 0;
}

#include "api/wire/event_stream.hpp"

#include <memory>

namespace chatgate::api {

std::string sse_event(std::string_view data, std::string_view name) {
    std::string out;
    out.reserve(data.size() + name.size() + 16);
    if (!name.empty()) {
        out += "event: ";
        out += name;
        out += '\n';
    }
    out += "data: ";
    out += data;
    out += "\n\n";
    return out;
}

http::Response event_stream(std::function<boost::asio::awaitable<void>(http::BodyWriter&)> produce,
                            std::chrono::milliseconds keepalive) {
    http::Response response;
    response.status = 200;
    // The transport adds Cache-Control: no-cache and X-Accel-Buffering: no to every stream.
    response.content_type = "text/event-stream";
    response.stream = std::make_shared<http::StreamedBody>(
        http::StreamedBody{std::move(produce), ": ping\n\n", keepalive});
    return response;
}

}  // namespace chatgate::api

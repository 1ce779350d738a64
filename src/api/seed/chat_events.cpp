#include "api/seed/chat_events.hpp"

#include "api/wire/event_stream.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <string>

namespace chatgate::api {
namespace {

namespace json = boost::json;

std::string event(std::string_view name, const json::object& data) {
    return sse_event(json::serialize(data), name);  // one line: JSON escapes every newline
}

/// Delivers each delta as one event, written (and flushed) before the next is read, so the
/// memory a stream holds is one delta whatever the answer's length.
class EventSink final : public domain::ChatSink {
public:
    explicit EventSink(http::BodyWriter& writer) : writer_(writer) {}

    boost::asio::awaitable<bool> deliver(const domain::ChatDelta& delta) override {
        // /api/chat/ offers no tools, so only text reaches it.
        if (delta.text.empty()) co_return true;
        std::string piece = event("delta", json::object{{"text", delta.text}});
        bool sent = co_await writer_.write(piece);
        co_return sent;
    }

private:
    http::BodyWriter& writer_;
};

boost::asio::awaitable<void> produce_events(domain::ChatExchange& exchange,
                                            http::BodyWriter& writer) {
    writer.on_client_gone([&exchange] { exchange.cancel(); });
    EventSink sink(writer);
    auto outcome = co_await exchange.pump(sink);
    writer.on_client_gone([] {});
    if (writer.client_gone()) co_return;
    std::string last;
    if (outcome) {
        last = event("done", json::object{{"conversation_id", outcome->conversation_id},
                                          {"remaining_tokens", outcome->remaining_tokens},
                                          {"finish_reason", outcome->finish_reason},
                                          {"model", outcome->model},
                                          {"cost", outcome->cost}});
    } else {
        json::object data{{"error", outcome.error().message}};
        if (const auto& settled = exchange.settled()) {
            data["conversation_id"] = settled->conversation_id;
            data["remaining_tokens"] = settled->remaining_tokens;
        }
        last = event("error", data);
    }
    co_await writer.write(last);
}

}  // namespace

http::Response chat_event_stream(std::unique_ptr<domain::ChatExchange> exchange,
                                 std::chrono::milliseconds keepalive) {
    std::shared_ptr<domain::ChatExchange> shared(std::move(exchange));
    return event_stream(
        [shared](http::BodyWriter& writer) { return produce_events(*shared, writer); }, keepalive);
}

}  // namespace chatgate::api

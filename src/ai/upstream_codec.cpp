#include "ai/upstream_codec.hpp"

#include <boost/json.hpp>

namespace chatgate::ai {
namespace {

namespace json = boost::json;

Error malformed(std::string why) {
    return Error{ErrorCode::upstream_unavailable, std::move(why), {}};
}

std::int64_t count(const json::object& usage, std::string_view key) {
    auto it = usage.find(key);
    if (it == usage.end()) return 0;
    if (it->value().is_int64()) return std::max<std::int64_t>(0, it->value().get_int64());
    if (it->value().is_uint64()) return INT64_MAX;  // beyond int64: absurd, but bounded
    return 0;
}

/// Reads OpenAI's usage object if present and well formed.
bool read_usage(const json::object& message, domain::TokenUsage& out) {
    auto it = message.find("usage");
    if (it == message.end() || !it->value().is_object()) return false;
    const json::object& usage = it->value().get_object();
    out = {count(usage, "prompt_tokens"), count(usage, "completion_tokens"), true};
    return true;
}

std::string error_message(const json::object& message) {
    auto it = message.find("error");
    if (it == message.end()) return {};
    if (it->value().is_object()) {
        auto m = it->value().get_object().find("message");
        if (m != it->value().get_object().end() && m->value().is_string()) {
            return std::string(m->value().get_string());
        }
    }
    return "error event";
}

const json::object* first_choice(const json::object& message) {
    auto it = message.find("choices");
    if (it == message.end() || !it->value().is_array()) return nullptr;
    const json::array& choices = it->value().get_array();
    if (choices.empty() || !choices.front().is_object()) return nullptr;
    return &choices.front().get_object();
}

std::string text_of(const json::object& object, std::string_view key) {
    auto it = object.find(key);
    if (it == object.end() || !it->value().is_string()) return {};
    return std::string(it->value().get_string());
}

std::string finish_reason_of(const json::object& choice) {
    auto it = choice.find("finish_reason");
    if (it == choice.end() || !it->value().is_string()) return {};
    return std::string(it->value().get_string());
}

/// The tool calls of a whole answer's message (absent: none).
Result<std::vector<domain::ToolCall>> read_tool_calls(const json::object& message) {
    std::vector<domain::ToolCall> calls;
    auto it = message.find("tool_calls");
    if (it == message.end() || it->value().is_null()) return calls;
    if (!it->value().is_array()) return malformed("message.tool_calls is not an array");
    for (const auto& item : it->value().get_array()) {
        const auto* call = item.if_object();
        const json::value* function = call ? call->if_contains("function") : nullptr;
        if (!function || !function->is_object()) return malformed("a tool call has no function");
        const auto& f = function->get_object();
        domain::ToolCall out;
        out.id = text_of(*call, "id");
        out.name = text_of(f, "name");
        out.arguments = text_of(f, "arguments");
        if (out.name.empty()) return malformed("a tool call has no function name");
        calls.push_back(std::move(out));
    }
    return calls;
}

/// The tool call fragments of a stream chunk's delta.
Result<void> read_tool_call_deltas(const json::object& delta,
                                   std::vector<domain::ToolCallDelta>& out) {
    auto it = delta.find("tool_calls");
    if (it == delta.end() || it->value().is_null()) return {};
    if (!it->value().is_array()) return malformed("delta.tool_calls is not an array");
    for (const auto& item : it->value().get_array()) {
        const auto* call = item.if_object();
        if (!call) return malformed("a tool call delta is not an object");
        domain::ToolCallDelta piece;
        if (const auto* index = call->if_contains("index"); index && index->is_int64()) {
            piece.index = std::max<std::int64_t>(0, index->get_int64());
        }
        piece.id = text_of(*call, "id");
        if (const auto* function = call->if_contains("function");
            function && function->is_object()) {
            piece.name = text_of(function->get_object(), "name");
            piece.arguments = text_of(function->get_object(), "arguments");
        }
        out.push_back(std::move(piece));
    }
    return {};
}

}  // namespace

std::string completion_request_body(const domain::ChatPrompt& prompt, std::string_view model,
                                    std::int64_t max_tokens, bool stream) {
    json::array messages;
    messages.reserve(prompt.turns.size());
    for (const auto& turn : prompt.turns) {
        boost::system::error_code ec;
        json::value wire = turn.wire.empty() ? json::value() : json::parse(turn.wire, ec);
        if (!ec && wire.is_object()) {
            messages.push_back(std::move(wire));
        } else {
            messages.push_back(
                json::object{{"role", domain::to_string(turn.role)}, {"content", turn.content}});
        }
    }
    json::object body;
    if (!prompt.options.empty()) {
        // Checked by the API layer; the fields chatgate sets itself come after and win.
        boost::system::error_code ec;
        json::value options = json::parse(prompt.options, ec);
        if (!ec && options.is_object()) body = std::move(options.get_object());
    }
    body["model"] = model;
    body["messages"] = std::move(messages);
    if (max_tokens > 0) body["max_tokens"] = max_tokens;
    if (stream) {
        body["stream"] = true;
        body["stream_options"] = json::object{{"include_usage", true}};
    }
    return json::serialize(body);
}

Result<domain::ChatAnswer> parse_completion(std::string_view body) {
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object()) return malformed("the answer is not a JSON object");
    const json::object& message = doc.get_object();
    if (auto error = error_message(message); !error.empty()) return malformed(error);
    const json::object* choice = first_choice(message);
    if (!choice) return malformed("the answer has no choices");
    auto m = choice->find("message");
    if (m == choice->end() || !m->value().is_object()) return malformed("a choice has no message");
    auto content = m->value().get_object().find("content");
    domain::ChatAnswer answer;
    auto calls = read_tool_calls(m->value().get_object());
    if (!calls) return calls.error();
    answer.tool_calls = std::move(*calls);
    if (content != m->value().get_object().end()) {
        if (content->value().is_string()) {
            answer.text = std::string(content->value().get_string());
        } else if (!content->value().is_null()) {
            return malformed("message.content is not a string");
        }
    }
    if (auto reason = finish_reason_of(*choice); !reason.empty()) answer.finish_reason = reason;
    read_usage(message, answer.usage);
    return answer;
}

std::string embedding_request_body(const domain::EmbeddingPrompt& prompt, std::string_view model) {
    json::object body;
    boost::system::error_code ec;
    json::value fields = json::parse(prompt.fields, ec);
    if (!ec && fields.is_object()) body = std::move(fields.get_object());
    body["model"] = model;
    return json::serialize(body);
}

Result<domain::EmbeddingAnswer> parse_embeddings(std::string_view body) {
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object()) return malformed("the answer is not a JSON object");
    const json::object& message = doc.get_object();
    if (auto error = error_message(message); !error.empty()) return malformed(error);
    auto data = message.find("data");
    if (data == message.end() || !data->value().is_array())
        return malformed("the answer has no data");
    for (const auto& item : data->value().get_array()) {
        const auto* entry = item.if_object();
        const json::value* vector = entry ? entry->if_contains("embedding") : nullptr;
        if (!vector || !(vector->is_array() || vector->is_string())) {
            return malformed("an item of data has no embedding");
        }
    }
    domain::EmbeddingAnswer answer;
    answer.data = json::serialize(data->value());
    read_usage(message, answer.usage);
    answer.usage.completion_tokens = 0;
    return answer;
}

std::string loggable_upstream_text(std::string_view body, std::string_view secret,
                                   std::size_t limit) {
    std::string text(body.substr(0, std::min(body.size(), limit + secret.size())));
    if (secret.size() >= 8) {
        // Upstreams quote keys partly ("sk-abc...xyz"); masking any 8-byte piece of it covers
        // the usual forms without trying to guess each.
        for (std::size_t at = 0; at + 8 <= secret.size(); at += 4) {
            std::string_view piece = secret.substr(at, 8);
            for (auto pos = text.find(piece); pos != std::string::npos;
                 pos = text.find(piece, pos)) {
                text.replace(pos, piece.size(), "***");
            }
        }
    }
    if (text.size() > limit) text.resize(limit);
    for (char& c : text) {
        if (static_cast<unsigned char>(c) < ' ') c = ' ';
    }
    return text;
}

Result<void> StreamDecoder::feed(std::string_view bytes) {
    events_.clear();
    auto status = sse_.feed(bytes, events_);
    // Events completed before an oversize line still count; the error follows them.
    for (const auto& event : events_) {
        if (auto ok = on_event(event); !ok) return ok;
    }
    if (status == SseParser::Status::line_too_long) return malformed("an SSE line is too long");
    if (status == SseParser::Status::event_too_large) return malformed("an SSE event is too large");
    return {};
}

domain::ChatDelta StreamDecoder::pop_delta() {
    domain::ChatDelta delta = std::move(deltas_.front());
    deltas_.pop_front();
    return delta;
}

Result<void> CompletionStreamDecoder::on_event(std::string_view data) {
    if (done_) return {};  // nothing after [DONE] counts
    if (data == "[DONE]") {
        done_ = true;
        return {};
    }
    boost::system::error_code ec;
    json::value doc = json::parse(data, ec);
    if (ec || !doc.is_object()) return malformed("an SSE event is not a JSON object");
    const json::object& chunk = doc.get_object();
    if (auto error = error_message(chunk); !error.empty()) return malformed(error);
    read_usage(chunk, usage_);
    const json::object* choice = first_choice(chunk);
    if (!choice) {
        // The usage chunk has an empty choices array; anything else without one is not ours.
        if (chunk.contains("usage") || chunk.contains("choices")) return {};
        return malformed("an SSE event has no choices");
    }
    if (auto reason = finish_reason_of(*choice); !reason.empty()) finish_reason_ = reason;
    auto delta = choice->find("delta");
    if (delta == choice->end() || !delta->value().is_object()) return {};
    const json::object& fields = delta->value().get_object();
    domain::ChatDelta piece;
    auto content = fields.find("content");
    if (content != fields.end() && !content->value().is_null()) {
        if (!content->value().is_string()) return malformed("delta.content is not a string");
        piece.text = std::string(content->value().get_string());
    }
    if (auto ok = read_tool_call_deltas(fields, piece.tool_calls); !ok) return ok;
    if (!piece.empty()) deltas_.push_back(std::move(piece));
    return {};
}

}  // namespace chatgate::ai

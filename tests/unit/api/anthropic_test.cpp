#include "api/anthropic/messages_request.hpp"
#include "api/anthropic/messages_shapes.hpp"
#include "api/wire/error_mapping.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace chatgate::api::anthropic {
namespace {

namespace json = boost::json;

TEST(AnthropicRequest, TranslatesBlocksToolsAndSettings) {
    auto chat = chat_body_from_messages(json::parse(R"({"model": "m", "max_tokens": 50,
        "system": [{"type": "text", "text": "be brief"}], "stop_sequences": ["END"],
        "metadata": {"user_id": "u7"}, "temperature": 0.5,
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "messages": [
          {"role": "user", "content": [{"type": "text", "text": "look"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}}]},
          {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
          {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
            {"type": "text", "text": "and?"}]}]})")
                                            .as_object());
    ASSERT_TRUE(chat);
    const auto& messages = chat->at("messages").as_array();
    ASSERT_EQ(messages.size(), 5u);
    EXPECT_EQ(messages[0], json::parse(R"({"role": "system", "content": "be brief"})"));
    EXPECT_EQ(messages[1].at("content").at(1).at("image_url").at("url"),
              "data:image/png;base64,AAA");
    EXPECT_EQ(messages[2].at("tool_calls").at(0).at("function").at("arguments"), "{\"a\":1}");
    EXPECT_EQ(messages[3],
              json::parse(R"({"role": "tool", "tool_call_id": "t1", "content": "ok"})"));
    EXPECT_EQ(messages[4].at("role"), "user");
    EXPECT_EQ(chat->at("max_completion_tokens"), 50);
    EXPECT_EQ(chat->at("stop"), json::parse(R"(["END"])"));
    EXPECT_EQ(chat->at("user"), "u7");
    EXPECT_EQ(chat->at("tools").at(0).at("function").at("parameters").at("type"), "object");
    EXPECT_EQ(chat->at("tool_choice"), "required");
    EXPECT_EQ(chat->at("parallel_tool_calls"), false);
}

std::string refused(std::string_view body) {
    auto chat = chat_body_from_messages(json::parse(body).as_object());
    EXPECT_FALSE(chat) << body;
    return chat || chat.error().fields.empty() ? "" : chat.error().fields.front().field;
}

TEST(AnthropicRequest, RefusesWhatItCannotHonour) {
    constexpr std::string_view kTurn = R"("messages": [{"role": "user", "content": "x"}])";
    auto with = [&](std::string_view fields) {
        return "{\"model\": \"m\", " + std::string(kTurn) + ", " + std::string(fields) + "}";
    };
    EXPECT_EQ(refused(R"({"model": "m", "messages": []})"), "max_tokens");
    EXPECT_EQ(refused(with(R"("max_tokens": 5, "top_k": 3)")), "top_k");
    EXPECT_EQ(refused(with(R"("max_tokens": 5, "thinking": {"type": "enabled"})")), "thinking");
    EXPECT_EQ(refused(with(R"("max_tokens": 5, "temperature": 1.5)")), "temperature");
    EXPECT_EQ(refused(with(R"("max_tokens": 5, "tools": [{"type": "web_search_20250305"}])")),
              "tools[0].type");
    EXPECT_EQ(refused(R"({"max_tokens": 5, "messages": [{"role": "user", "content":
                          [{"type": "document", "source": {}}]}]})"),
              "messages[0].content[0].type");
}

TEST(AnthropicShapes, MessageAndStreamEvents) {
    auto message =
        message_object("msg_1", "m", "", {{"t1", "f", "{\"a\":1}"}}, "tool_calls", {3, 4, true});
    EXPECT_EQ(message.at("stop_reason"), "tool_use");
    EXPECT_EQ(message.at("content").at(0).at("input"), json::parse(R"({"a":1})"));
    EXPECT_EQ(message.at("usage").at("output_tokens"), 4);
    EXPECT_EQ(stop_reason("length"), "max_tokens");
    EXPECT_EQ(stop_reason("stop"), "end_turn");

    MessageEventWriter writer("msg_1", "m");
    std::string frames = writer.start();
    frames += writer.delta(domain::ChatDelta("Hi"));
    domain::ChatDelta call;
    call.tool_calls.push_back({0, "t1", "f", "{\"a\""});
    frames += writer.delta(call);
    frames += writer.finish("tool_calls", {3, 4, true});
    std::vector<std::string> types;
    for (std::size_t at = 0; (at = frames.find("event: ", at)) != std::string::npos;) {
        auto end = frames.find('\n', at);
        types.push_back(frames.substr(at + 7, end - at - 7));
        at = end;
    }
    EXPECT_EQ(types, (std::vector<std::string>{
                         "message_start", "content_block_start", "content_block_delta",
                         "content_block_stop", "content_block_start", "content_block_delta",
                         "content_block_stop", "message_delta", "message_stop"}));
    EXPECT_NE(frames.find(R"("partial_json":"{\"a\"")"), std::string::npos);
    EXPECT_NE(frames.find(R"("stop_reason":"tool_use")"), std::string::npos);
}

TEST(AnthropicErrors, AnthropicsShapeAndTypes) {
    auto body = [](const Error& e) {
        return json::parse(error_response(e, "r1", ErrorStyle::anthropic).body);
    };
    auto bad =
        error_response(Error::fields_invalid({{"max_tokens", {"max_tokens: Field required"}}}),
                       "r1", ErrorStyle::anthropic);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(json::parse(bad.body), json::parse(R"({"type": "error", "error":
        {"type": "invalid_request_error", "message": "max_tokens: Field required"}})"));
    EXPECT_EQ(body({ErrorCode::not_authenticated, {}, {}}).at("error").at("type"),
              "authentication_error");
    auto broke =
        error_response({ErrorCode::insufficient_tokens, {}, {}}, "r1", ErrorStyle::anthropic);
    EXPECT_EQ(broke.status, 400);
    EXPECT_EQ(body({ErrorCode::upstream_unavailable, "x", {}}).at("error").at("type"), "api_error");
    EXPECT_EQ(body({ErrorCode::rate_limited, "x", {}}).at("error").at("type"), "rate_limit_error");
}

}  // namespace
}  // namespace chatgate::api::anthropic

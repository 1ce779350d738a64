#include "ai/anthropic_codec.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace chatgate::ai {
namespace {

namespace json = boost::json;

TEST(AnthropicRequestBody, TranslatesTurnsToolsAndOptions) {
    domain::ChatPrompt prompt;
    domain::ChatTurn system{domain::ChatRole::system, "be brief"};
    domain::ChatTurn user{domain::ChatRole::user, "look"};
    user.wire = R"({"role":"user","content":[{"type":"text","text":"look"},)"
                R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAA"}}]})";
    domain::ChatTurn call{domain::ChatRole::assistant, ""};
    call.wire = R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
                R"("function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"c2","type":"function",)"
                R"("function":{"name":"g","arguments":"{}"}}]})";
    domain::ChatTurn one{domain::ChatRole::tool, "one"};
    one.wire = R"({"role":"tool","tool_call_id":"c1","content":"one"})";
    domain::ChatTurn two{domain::ChatRole::tool, "two"};
    two.wire = R"({"role":"tool","tool_call_id":"c2","content":"two"})";
    prompt.turns = {system, user, call, one, two};
    prompt.options = R"({"temperature":0.5,"stop":"END","user":"u1","seed":3,)"
                     R"("tools":[{"type":"function","function":{"name":"f"}}],)"
                     R"("tool_choice":"required","parallel_tool_calls":false,)"
                     R"("response_format":{"type":"json_object"}})";
    auto body = json::parse(anthropic_request_body(prompt, "claude-x", 0, true)).as_object();
    EXPECT_EQ(body.at("model"), "claude-x");
    EXPECT_EQ(body.at("max_tokens"), 4096);
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_EQ(body.at("system").as_string().find("be brief"), 0u);
    EXPECT_NE(body.at("system").as_string().find("JSON object"), std::string::npos);
    EXPECT_EQ(body.at("temperature"), 0.5);
    EXPECT_EQ(body.at("stop_sequences"), json::parse(R"(["END"])"));
    EXPECT_EQ(body.at("metadata").at("user_id"), "u1");
    EXPECT_FALSE(body.contains("seed")) << "Anthropic has none";
    EXPECT_EQ(body.at("tools").at(0),
              json::parse(R"({"name":"f","input_schema":{"type":"object"}})"));
    EXPECT_EQ(body.at("tool_choice"),
              json::parse(R"({"type":"any","disable_parallel_tool_use":true})"));
    const auto& messages = body.at("messages").as_array();
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(messages[0].at("content").at(1).at("source"),
              json::parse(R"({"type":"base64","media_type":"image/png","data":"AAA"})"));
    EXPECT_EQ(messages[1].at("content").at(0).at("input"), json::parse(R"({"a":1})"));
    EXPECT_EQ(messages[1].at("content").as_array().size(), 2u);
    // Both results in one user turn, as Anthropic requires.
    EXPECT_EQ(messages[2].at("role"), "user");
    EXPECT_EQ(messages[2].at("content").as_array().size(), 2u);
    EXPECT_EQ(messages[2].at("content").at(1).at("tool_use_id"), "c2");
}

TEST(AnthropicMessage, ReadsTextToolUseStopReasonAndUsage) {
    auto answer = parse_anthropic_message(R"({"type":"message","content":[
        {"type":"text","text":"Let me look."},
        {"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],
        "stop_reason":"tool_use","usage":{"input_tokens":10,"cache_read_input_tokens":5,
        "output_tokens":7}})");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->text, "Let me look.");
    ASSERT_EQ(answer->tool_calls.size(), 1u);
    EXPECT_EQ(answer->tool_calls[0].arguments, R"({"a":1})");
    EXPECT_EQ(answer->finish_reason, "tool_calls");
    EXPECT_EQ(answer->usage.prompt_tokens, 15);
    EXPECT_EQ(answer->usage.completion_tokens, 7);
    EXPECT_FALSE(parse_anthropic_message(R"({"type":"error","error":{"type":"api_error"}})"));
    EXPECT_EQ(finish_reason_from_anthropic("max_tokens"), "length");
    EXPECT_EQ(finish_reason_from_anthropic("end_turn"), "stop");
}

TEST(AnthropicStreamDecoder, EventsBecomeDeltas) {
    AnthropicStreamDecoder decoder;
    std::string events =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
        "{\"input_tokens\":12,\"output_tokens\":1}}}\n\n"
        "event: ping\ndata: {\"type\":\"ping\"}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,"
        "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{}}}"
        "\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
        "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\"}}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    ASSERT_TRUE(decoder.feed(events));
    std::vector<domain::ChatDelta> deltas;
    while (decoder.has_delta()) deltas.push_back(decoder.pop_delta());
    ASSERT_EQ(deltas.size(), 3u);
    EXPECT_EQ(deltas[0].text, "Hi");
    EXPECT_EQ(deltas[1].tool_calls.at(0).id, "toolu_1");
    EXPECT_EQ(deltas[1].tool_calls.at(0).index, 0);
    EXPECT_EQ(deltas[2].tool_calls.at(0).arguments, "{\"a");
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(decoder.finish_reason(), "tool_calls");
    EXPECT_EQ(decoder.usage().prompt_tokens, 12);
    EXPECT_EQ(decoder.usage().completion_tokens, 9);

    AnthropicStreamDecoder failing;
    EXPECT_FALSE(
        failing.feed("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                     "\"overloaded_error\",\"message\":\"busy\"}}\n\n"));
}

}  // namespace
}  // namespace chatgate::ai

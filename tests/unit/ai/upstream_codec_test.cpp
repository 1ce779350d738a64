#include "ai/upstream_codec.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace chatgate::ai {
namespace {

namespace json = boost::json;

std::string chunk(std::string_view delta, std::string_view finish = "") {
    json::object choice{{"index", 0}, {"delta", {{"content", delta}}}};
    choice["finish_reason"] = finish.empty() ? json::value(nullptr) : json::value(finish);
    return "data: " + json::serialize(json::object{{"choices", json::array{choice}}}) + "\n\n";
}

const std::string kUsage =
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}\n\n";

std::string drain(CompletionStreamDecoder& decoder) {
    std::string text;
    while (decoder.has_delta()) text += decoder.pop_delta().text;
    return text;
}

TEST(CompletionRequestBody, CarriesTurnsCapAndStreamOptions) {
    domain::ChatPrompt prompt{"ignored",
                              {{domain::ChatRole::system, "be brief"},
                               {domain::ChatRole::user, "hi"},
                               {domain::ChatRole::assistant, "hello"},
                               {domain::ChatRole::user, "again \"quoted\""}},
                              0};
    auto body = json::parse(completion_request_body(prompt, "gpt-x", 64, true)).as_object();
    EXPECT_EQ(body.at("model"), "gpt-x");
    EXPECT_EQ(body.at("max_tokens"), 64);
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_EQ(body.at("stream_options").at("include_usage"), true);
    const auto& messages = body.at("messages").as_array();
    ASSERT_EQ(messages.size(), 4u);
    EXPECT_EQ(messages[0].at("role"), "system");
    EXPECT_EQ(messages[3].at("content"), "again \"quoted\"");

    auto plain = json::parse(completion_request_body(prompt, "m", 0, false)).as_object();
    EXPECT_FALSE(plain.contains("max_tokens"));
    EXPECT_FALSE(plain.contains("stream"));
}

TEST(ParseCompletion, ReadsTextFinishReasonAndUsage) {
    auto answer = parse_completion(
        R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},
            "finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":2}})");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->text, "Hi!");
    EXPECT_EQ(answer->finish_reason, "length");
    EXPECT_TRUE(answer->usage.reported);
    EXPECT_EQ(answer->usage.prompt_tokens, 5);
    EXPECT_EQ(answer->usage.completion_tokens, 2);
}

TEST(CompletionRequestBody, SendsWireMessagesAndOptionsUnderItsOwnFields) {
    domain::ChatPrompt prompt;
    domain::ChatTurn call{domain::ChatRole::assistant, "", {}, 0, 0};
    call.wire = R"({"role":"assistant","tool_calls":[{"id":"c1","type":"function",)"
                R"("function":{"name":"f","arguments":"{}"}}]})";
    prompt.turns = {{domain::ChatRole::user, "hi"}, call};
    prompt.options = R"({"temperature":0.2,"tools":[{"type":"function","function":{"name":"f"}}],)"
                     R"("model":"sneaky","stream":false})";
    auto body = json::parse(completion_request_body(prompt, "gpt-x", 64, true)).as_object();
    EXPECT_EQ(body.at("temperature"), 0.2);
    EXPECT_EQ(body.at("tools").at(0).at("function").at("name"), "f");
    EXPECT_EQ(body.at("model"), "gpt-x");  // chatgate's own fields win
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_EQ(body.at("messages").at(0), json::parse(R"({"role":"user","content":"hi"})"));
    EXPECT_EQ(body.at("messages").at(1).at("tool_calls").at(0).at("id"), "c1");
}

TEST(ParseCompletion, ReadsToolCalls) {
    auto answer = parse_completion(
        R"({"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"look","arguments":"{\"a\":1}"}},
            {"id":"call_2","type":"function","function":{"name":"see","arguments":"{}"}}]},
            "finish_reason":"tool_calls"}]})");
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_EQ(answer->text, "");
    EXPECT_EQ(answer->finish_reason, "tool_calls");
    ASSERT_EQ(answer->tool_calls.size(), 2u);
    EXPECT_EQ(answer->tool_calls[0].id, "call_1");
    EXPECT_EQ(answer->tool_calls[0].name, "look");
    EXPECT_EQ(answer->tool_calls[0].arguments, "{\"a\":1}");
    EXPECT_EQ(answer->tool_calls[1].name, "see");
    EXPECT_FALSE(parse_completion(R"({"choices":[{"message":{"tool_calls":[{"id":"x"}]}}]})"));
}

TEST(CompletionStreamDecoder, ToolCallFragmentsPassThroughAsTheyCome) {
    CompletionStreamDecoder decoder;
    std::string events =
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
        "\"type\":\"function\",\"function\":{\"name\":\"look\",\"arguments\":\"\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
        "{\"arguments\":\"{\\\"a\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\","
        "\"function\":{\"name\":\"see\",\"arguments\":\"{}\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
        "data: [DONE]\n\n";
    ASSERT_TRUE(decoder.feed(events));
    std::vector<domain::ToolCallDelta> pieces;
    while (decoder.has_delta()) {
        auto delta = decoder.pop_delta();
        EXPECT_TRUE(delta.text.empty());
        for (auto& piece : delta.tool_calls) pieces.push_back(piece);
    }
    ASSERT_EQ(pieces.size(), 3u);
    EXPECT_EQ(pieces[0].id, "call_1");
    EXPECT_EQ(pieces[0].name, "look");
    EXPECT_EQ(pieces[1].index, 0);
    EXPECT_EQ(pieces[1].arguments, "{\"a");
    EXPECT_TRUE(pieces[1].id.empty());
    EXPECT_EQ(pieces[2].index, 1);
    EXPECT_EQ(decoder.finish_reason(), "tool_calls");
    EXPECT_TRUE(decoder.done());
}

TEST(Embeddings, RequestBodyAndAnswer) {
    auto body = json::parse(
        embedding_request_body({"ignored", R"({"input":["a","b"],"dimensions":4})"}, "emb-x"));
    EXPECT_EQ(body, json::parse(R"({"input":["a","b"],"dimensions":4,"model":"emb-x"})"));
    auto answer = parse_embeddings(
        R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,1]},
            {"object":"embedding","index":1,"embedding":"AAAA"}],"usage":{"prompt_tokens":3}})");
    ASSERT_TRUE(answer);
    EXPECT_EQ(json::parse(answer->data).as_array().size(), 2u);
    EXPECT_TRUE(answer->usage.reported);
    EXPECT_EQ(answer->usage.prompt_tokens, 3);
    EXPECT_FALSE(parse_embeddings(R"({"data":[{"index":0}]})"));
    EXPECT_FALSE(parse_embeddings(R"({"error":{"message":"no"}})"));
}

TEST(ParseCompletion, RefusesWhatIsNotAnAnswer) {
    for (const char* body :
         {"", "{", "[]", "{}", R"({"choices":[]})", R"({"choices":[1]})",
          R"({"choices":[{"message":{"content":7}}]})", R"({"error":{"message":"nope"}})"}) {
        auto answer = parse_completion(body);
        ASSERT_FALSE(answer) << body;
        EXPECT_EQ(answer.error().code, ErrorCode::upstream_unavailable) << body;
    }
}

TEST(LoggableUpstreamText, MasksTheKeyTruncatesAndFlattens) {
    std::string key = "sk-abcdefghijklmnop";
    std::string text = loggable_upstream_text("bad key sk-abcdefgh****mnop\nfull " + key, key, 300);
    EXPECT_EQ(text.find(key), std::string::npos);
    EXPECT_EQ(text.find("sk-abcdefgh"), std::string::npos);
    EXPECT_EQ(text.find('\n'), std::string::npos);
    EXPECT_EQ(loggable_upstream_text(std::string(1000, 'x'), "", 300).size(), 300u);
}

TEST(CompletionStreamDecoder, DeltasFinishReasonUsageAndDone) {
    std::string stream =
        ": ping\n\n" + chunk("Hel") + chunk("lo") + chunk("", "stop") + kUsage + "data: [DONE]\n\n";
    // Every split point yields the same answer.
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        CompletionStreamDecoder decoder;
        ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(0, cut)));
        std::string text = drain(decoder);
        ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(cut)));
        text += drain(decoder);
        EXPECT_EQ(text, "Hello") << cut;
        EXPECT_TRUE(decoder.done());
        EXPECT_EQ(decoder.finish_reason(), "stop");
        EXPECT_TRUE(decoder.usage().reported);
        EXPECT_EQ(decoder.usage().prompt_tokens, 12);
        EXPECT_EQ(decoder.usage().completion_tokens, 3);
    }
}

TEST(CompletionStreamDecoder, IgnoresWhatFollowsDone) {
    CompletionStreamDecoder decoder;
    ASSERT_TRUE(decoder.feed("data: [DONE]\n\n" + chunk("late") + "data: junk\n\n"));
    EXPECT_FALSE(decoder.has_delta());
}

TEST(CompletionStreamDecoder, MalformedDataIsAnError) {
    for (std::string bad : {"data: {not json\n\n", "data: 42\n\n", "data: {\"x\":1}\n\n",
                            "data: {\"choices\":[{\"delta\":{\"content\":5}}]}\n\n",
                            "data: {\"error\":{\"message\":\"overloaded\"}}\n\n"}) {
        CompletionStreamDecoder decoder;
        auto fed = decoder.feed(bad);
        ASSERT_FALSE(fed) << bad;
        EXPECT_EQ(fed.error().code, ErrorCode::upstream_unavailable);
    }
}

TEST(CompletionStreamDecoder, OversizeLineIsAnError) {
    CompletionStreamDecoder decoder;
    std::string huge = "data: " + std::string(200 * 1024, 'x');
    EXPECT_FALSE(decoder.feed(huge));
}

}  // namespace
}  // namespace chatgate::ai

#include "api/openai/openai_shapes.hpp"

#include "api/wire/event_stream.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <set>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

domain::ModelCatalog catalog() {
    domain::ChatModel small;
    small.id = "small";
    small.owned_by = "acme";
    small.max_completion_tokens = 256;
    domain::ChatModel open;
    open.id = "uncapped";
    open.capabilities = {true, true, true, false};
    open.price = {5, 1, 2};
    return domain::ModelCatalog({small, open});
}

Result<ChatCompletionRequest> parse(std::string_view body) {
    static const domain::ModelCatalog models = catalog();
    return parse_chat_completion_request(json::parse(body), models);
}

/// The `param` and message of a refused request.
std::pair<std::string, std::string> refusal(std::string_view body) {
    auto result = parse(body);
    EXPECT_FALSE(result) << body;
    if (result) return {};
    Error error = result.error();  // (result::error() returns a copy)
    if (error.fields.empty()) return {};
    const auto& field = error.fields.front();
    return {field.field, field.messages.empty() ? std::string() : field.messages.front()};
}

TEST(OpenAiWire, ReadsARequestWithEveryRoleAndTextParts) {
    auto result = parse(R"({
        "model": "small",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": [{"type": "text", "text": "Hello"},
                                         {"type": "text", "text": "there"}]},
            {"role": "assistant", "content": null},
            {"role": "user", "content": "Again", "name": "ann"}
        ],
        "temperature": 0.2, "user": "x", "seed": 7, "n": 1, "stream": false
    })");
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->model->id, "small");
    ASSERT_EQ(result->turns.size(), 5u);
    EXPECT_EQ(result->turns[0].role, domain::ChatRole::system);
    EXPECT_EQ(result->turns[1].role, domain::ChatRole::system);
    EXPECT_EQ(result->turns[1].content, "Answer in English.");
    EXPECT_EQ(result->turns[2].role, domain::ChatRole::user);
    EXPECT_EQ(result->turns[2].content, "Hello\nthere");
    EXPECT_EQ(result->turns[3].role, domain::ChatRole::assistant);
    EXPECT_EQ(result->turns[3].content, "");
    EXPECT_EQ(result->turns[4].content, "Again");
    EXPECT_EQ(result->max_completion_tokens, 256) << "the model's cap when none is asked";
    EXPECT_FALSE(result->stream);
    EXPECT_FALSE(result->include_usage);
}

TEST(OpenAiWire, ModelIsRequiredAndMustBeConfigured) {
    EXPECT_EQ(refusal(R"({"messages": [{"role": "user", "content": "hi"}]})").first, "model");
    EXPECT_EQ(refusal(R"({"model": null, "messages": []})").first, "model");
    EXPECT_EQ(refusal(R"({"model": 3, "messages": []})"),
              std::make_pair(std::string("model"),
                             std::string("Invalid type for 'model': expected a string, but got "
                                         "an integer instead.")));

    auto unknown = parse(R"({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]})");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
    ASSERT_EQ(unknown.error().fields.size(), 1u);
    EXPECT_EQ(unknown.error().fields[0].field, "model");
    EXPECT_EQ(unknown.error().message,
              "The model `gpt-9` does not exist or you do not have access to it.");
}

TEST(OpenAiWire, MessagesMustBeANonEmptyArrayOfRoleAndContent) {
    EXPECT_EQ(refusal(R"({"model": "small"})").first, "messages");
    EXPECT_EQ(refusal(R"({"model": "small", "messages": "hi"})").first, "messages");
    EXPECT_EQ(refusal(R"({"model": "small", "messages": []})").first, "messages");
    EXPECT_EQ(refusal(R"({"model": "small", "messages": [1]})").first, "messages[0]");
    EXPECT_EQ(refusal(R"({"model": "small", "messages": [{"content": "hi"}]})").first,
              "messages[0].role");
    EXPECT_EQ(
        refusal(R"({"model": "small", "messages": [{"role": "robot", "content": "x"}]})").first,
        "messages[0].role");
    // Tool results need a model with tools; images one with vision.
    auto [tool_param, tool_message] =
        refusal(R"({"model": "small", "messages": [{"role": "user", "content": "a"},
                    {"role": "tool", "content": "x", "tool_call_id": "c"}]})");
    EXPECT_EQ(tool_param, "messages[1]");
    EXPECT_EQ(tool_message, "The model `small` does not support tools.");
    EXPECT_EQ(refusal(R"({"model": "small", "messages": [{"role": "user"}]})").first,
              "messages[0].content");
    EXPECT_EQ(refusal(R"({"model": "small", "messages": [{"role": "user", "content": 5}]})").first,
              "messages[0].content");
    auto [image_param, image_message] =
        refusal(R"({"model": "small", "messages": [{"role": "user", "content":
                    [{"type": "image_url", "image_url": {"url": "x"}}]}]})");
    EXPECT_EQ(image_param, "messages[0].content");
    EXPECT_NE(image_message.find("does not support vision"), std::string::npos);
    EXPECT_EQ(refusal(R"({"model": "uncapped", "messages": [{"role": "user", "content":
                          [{"type": "input_audio", "input_audio": {}}]}]})")
                  .first,
              "messages[0].content[0].type");
    EXPECT_EQ(refusal(R"({"model": "small", "messages": [{"role": "user", "content":
                          [{"type": "text", "text": 1}]}]})")
                  .first,
              "messages[0].content[0].text");
}

TEST(OpenAiWire, BodyMustBeAnObject) {
    auto result = parse(R"([1, 2])");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_TRUE(result.error().fields.empty());
    EXPECT_NE(result.error().message.find("JSON object"), std::string::npos);
}

TEST(OpenAiWire, OneChoiceOnly) {
    constexpr std::string_view two =
        R"({"model": "small", "messages": [{"role": "user", "content": "hi"}], "n": 2})";
    auto [param, message] = refusal(two);
    EXPECT_EQ(param, "n");
    EXPECT_NE(message.find("n must be 1"), std::string::npos);
    EXPECT_EQ(refusal(R"({"model": "small", "messages": [{"role": "user", "content": "hi"}],
                          "n": "1"})")
                  .first,
              "n");
    EXPECT_TRUE(parse(R"({"model": "small", "messages": [{"role": "user", "content": "hi"}],
                          "n": null})"));
}

TEST(OpenAiWire, MaxTokensArePositiveAndWithinTheModelsCap) {
    constexpr std::string_view prefix =
        R"({"model": "small", "messages": [{"role": "user", "content": "hi"}], )";
    auto with = [&](std::string_view fields) {
        return std::string(prefix) + std::string(fields) + "}";
    };

    EXPECT_EQ(parse(with(R"("max_tokens": 100)"))->max_completion_tokens, 100);
    EXPECT_EQ(parse(with(R"("max_completion_tokens": 200)"))->max_completion_tokens, 200);
    EXPECT_EQ(
        parse(with(R"("max_tokens": 100, "max_completion_tokens": 50)"))->max_completion_tokens, 50)
        << "the newer field wins";
    EXPECT_EQ(parse(with(R"("max_tokens": 256)"))->max_completion_tokens, 256);

    auto [param, message] = refusal(with(R"("max_tokens": 257)"));
    EXPECT_EQ(param, "max_tokens");
    EXPECT_NE(message.find("at most 256"), std::string::npos) << message;
    EXPECT_EQ(refusal(with(R"("max_completion_tokens": 0)")).first, "max_completion_tokens");
    EXPECT_EQ(refusal(with(R"("max_tokens": -1)")).first, "max_tokens");
    EXPECT_EQ(refusal(with(R"("max_tokens": 1.5)")).first, "max_tokens");
    EXPECT_EQ(refusal(with(R"("max_tokens": "9")")).first, "max_tokens");
    EXPECT_EQ(refusal(with(R"("max_tokens": 18446744073709551615)")).first, "max_tokens");

    auto uncapped = parse(R"({"model": "uncapped", "messages": [{"role": "user", "content": "x"}],
                              "max_tokens": 100000})");
    ASSERT_TRUE(uncapped);
    EXPECT_EQ(uncapped->max_completion_tokens, 100000);
    EXPECT_EQ(parse(R"({"model": "uncapped", "messages": [{"role": "user", "content": "x"}]})")
                  ->max_completion_tokens,
              0);
}

TEST(OpenAiWire, StreamAndStreamOptions) {
    constexpr std::string_view prefix =
        R"({"model": "small", "messages": [{"role": "user", "content": "hi"}], )";
    auto with = [&](std::string_view fields) {
        return std::string(prefix) + std::string(fields) + "}";
    };

    auto streamed = parse(with(R"("stream": true, "stream_options": {"include_usage": true})"));
    ASSERT_TRUE(streamed);
    EXPECT_TRUE(streamed->stream);
    EXPECT_TRUE(streamed->include_usage);
    EXPECT_FALSE(parse(with(R"("stream": true, "stream_options": {})"))->include_usage);
    EXPECT_FALSE(parse(with(R"("stream": null, "stream_options": null)"))->stream);

    EXPECT_EQ(refusal(with(R"("stream": "yes")")).first, "stream");
    EXPECT_EQ(refusal(with(R"("stream_options": {"include_usage": true})")).first,
              "stream_options");
    EXPECT_EQ(refusal(with(R"("stream": true, "stream_options": 1)")).first, "stream_options");
    EXPECT_EQ(refusal(with(R"("stream": true, "stream_options": {"include_usage": 1})")).first,
              "stream_options.include_usage");
}

const CompletionHead kHead{"chatcmpl-abc", 1700000000, "small"};

TEST(OpenAiWire, RendersAChatCompletion) {
    auto doc = json::parse(completion_json(kHead, "Hi!", {}, "stop", {7, 3, true}));
    EXPECT_EQ(doc, json::parse(R"({
        "id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000,
        "model": "small",
        "choices": [{"index": 0,
                     "message": {"role": "assistant", "content": "Hi!", "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    })"));
}

TEST(OpenAiWire, RendersStreamChunksInOrder) {
    EXPECT_EQ(json::parse(role_chunk_json(kHead, false)), json::parse(R"({
        "id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "small",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null},
                     "logprobs": null, "finish_reason": null}]
    })"));
    EXPECT_EQ(json::parse(content_chunk_json(kHead, "He said \"hi\"\n", false)), json::parse(R"({
        "id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "small",
        "choices": [{"index": 0, "delta": {"content": "He said \"hi\"\n"},
                     "logprobs": null, "finish_reason": null}]
    })"));
    EXPECT_EQ(json::parse(finish_chunk_json(kHead, "length", true)), json::parse(R"({
        "id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "small",
        "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "length"}],
        "usage": null
    })"));
    EXPECT_EQ(json::parse(usage_chunk_json(kHead, {5, 2, true})), json::parse(R"({
        "id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "small", "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    })"));
    EXPECT_TRUE(
        json::parse(content_chunk_json(kHead, "x", true)).as_object().at("usage").is_null());
}

TEST(OpenAiWire, RendersModels) {
    auto models = catalog();
    EXPECT_EQ(json::parse(model_list_json(models, 42)), json::parse(R"({
        "object": "list",
        "data": [{"id": "small", "object": "model", "created": 42, "owned_by": "acme",
                  "capabilities": ["chat"],
                  "pricing": {"per_message": 100, "per_1k_prompt_tokens": 0,
                              "per_1k_completion_tokens": 0}},
                 {"id": "uncapped", "object": "model", "created": 42, "owned_by": "chatgate",
                  "capabilities": ["chat", "tools", "vision"],
                  "pricing": {"per_message": 5, "per_1k_prompt_tokens": 1,
                              "per_1k_completion_tokens": 2}}]
    })"));
    EXPECT_EQ(json::parse(model_json(models.all()[0], 42)).at("capabilities"),
              json::parse(R"(["chat"])"));
}

TEST(OpenAiWire, FramesServerSentEvents) {
    EXPECT_EQ(sse_event(R"({"a":1})"), "data: {\"a\":1}\n\n");
    EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
    // Serialized JSON escapes newlines, so a delta can never break the framing.
    std::string chunk = content_chunk_json(kHead, "line\n\nnext", false);
    EXPECT_EQ(chunk.find('\n'), std::string::npos);
}

TEST(OpenAiWire, DecodesModelIdsInPaths) {
    EXPECT_EQ(decode_path_segment("gpt-4o"), "gpt-4o");
    EXPECT_EQ(decode_path_segment("meta-llama%2FLlama-3.1-8B"), "meta-llama/Llama-3.1-8B");
    EXPECT_EQ(decode_path_segment("a%3ab+c"), "a:b+c");
    EXPECT_EQ(decode_path_segment(""), "");
    EXPECT_EQ(decode_path_segment("bad%2"), std::nullopt);
    EXPECT_EQ(decode_path_segment("bad%"), std::nullopt);
    EXPECT_EQ(decode_path_segment("bad%zz"), std::nullopt);
}

TEST(OpenAiWire, CompletionIdsAreUniqueAndPrefixed) {
    std::set<std::string> ids;
    for (int i = 0; i < 100; ++i) {
        std::string id = new_completion_id();
        EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
        EXPECT_EQ(id.size(), 9u + 24u);
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 100u);
}

}  // namespace
}  // namespace chatgate::api::openai

namespace chatgate::api::openai {
namespace {

constexpr std::string_view kTurn = R"("messages": [{"role": "user", "content": "hi"}])";

std::string with(std::string_view model, std::string_view fields) {
    std::string body = "{\"model\": \"" + std::string(model) + "\", " + std::string(kTurn);
    if (!fields.empty()) body += ", " + std::string(fields);
    return body + "}";
}

TEST(OpenAiRequest, PassesEveryDocumentedFieldAsGiven) {
    auto request = parse(with("uncapped", R"("temperature": 0.5, "top_p": 1, "stop": ["a", "b"],
        "seed": 7, "presence_penalty": -1, "frequency_penalty": 2, "logit_bias": {"50256": -100},
        "user": "u1", "response_format": {"type": "json_schema", "json_schema": {"name": "x",
        "schema": {"type": "object"}, "strict": true}}, "parallel_tool_calls": false,
        "tools": [{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object"}}}], "tool_choice": {"type": "function",
        "function": {"name": "get_weather"}}, "reasoning_effort": "low", "logprobs": false,
        "store": false, "modalities": ["text"])"));
    ASSERT_TRUE(request) << request.error().message;
    auto options = json::parse(request->options).as_object();
    for (auto key : {"temperature", "top_p", "stop", "seed", "presence_penalty",
                     "frequency_penalty", "logit_bias", "user", "response_format",
                     "parallel_tool_calls", "tools", "tool_choice", "reasoning_effort"}) {
        EXPECT_TRUE(options.contains(key)) << key;
    }
    // Harmless defaults are not sent; chatgate's own fields are set by the provider.
    for (auto key : {"logprobs", "store", "modalities", "model", "messages", "stream"}) {
        EXPECT_FALSE(options.contains(key)) << key;
    }
    EXPECT_EQ(options.at("tool_choice").at("function").at("name"), "get_weather");
    EXPECT_TRUE(parse(with("small", "")).value().options.empty());
}

TEST(OpenAiRequest, RefusesOutOfRangeAndUnknownFieldsNamingThem) {
    struct Case {
        std::string_view fields, param;
    };
    for (auto [fields, param] : std::initializer_list<Case>{
             {R"("temperature": 3)", "temperature"},
             {R"("temperature": "hot")", "temperature"},
             {R"("top_p": -0.1)", "top_p"},
             {R"("stop": ["a", "b", "c", "d", "e"])", "stop"},
             {R"("stop": [1])", "stop[0]"},
             {R"("seed": 1.5)", "seed"},
             {R"("logit_bias": {"x": 1})", "logit_bias.x"},
             {R"("logit_bias": {"12": 101})", "logit_bias.12"},
             {R"("response_format": {"type": "yaml"})", "response_format.type"},
             {R"("response_format": {"type": "json_schema"})", "response_format.json_schema"},
             {R"("tools": [{"type": "function", "function": {"name": "bad name"}}])",
              "tools[0].function.name"},
             {R"("tools": [{"type": "custom", "custom": {}}])", "tools[0].type"},
             {R"("tool_choice": "auto")", "tool_choice"},
             {R"("tools": [{"type": "function", "function": {"name": "f"}}],
                 "tool_choice": {"type": "function", "function": {"name": "g"}})",
              "tool_choice.function.name"},
             {R"("parallel_tool_calls": true)", "parallel_tool_calls"},
             {R"("reasoning_effort": "max")", "reasoning_effort"},
             {R"("service_tier": "priority")", "service_tier"},
             {R"("logprobs": true)", "logprobs"},
             {R"("functions": [])", "functions"},
             {R"("audio": {"voice": "alloy"})", "audio"},
             {R"("store": true)", "store"},
             {R"("modalities": ["text", "audio"])", "modalities"},
             {R"("top_k": 40)", "top_k"},
         }) {
        EXPECT_EQ(refusal(with("uncapped", fields)).first, param) << fields;
    }
    EXPECT_EQ(refusal(with("uncapped", R"("top_k": 40)")).second,
              "Unrecognized request argument supplied: top_k");
    EXPECT_EQ(refusal(with("uncapped", R"("temperature": 3)")).second,
              "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got "
              "3 instead.");
    // A model without the tools capability says so instead of dropping them.
    auto [param, message] =
        refusal(with("small", R"("tools": [{"type": "function", "function": {"name": "f"}}])"));
    EXPECT_EQ(param, "tools");
    EXPECT_EQ(message, "The model `small` does not support tools.");
}

TEST(OpenAiRequest, ToolTurnsAndMultiPartContentKeepTheirWireShape) {
    auto request = parse(R"({"model": "uncapped", "messages": [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "what is"},
                                     {"type": "image_url", "image_url": {"url": "data:x", "detail": "low"}},
                                     {"type": "text", "text": "this?"}]},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "look", "arguments": "{\"at\": 1}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"}]})");
    ASSERT_TRUE(request) << request.error().message;
    const auto& turns = request->turns;
    ASSERT_EQ(turns.size(), 4u);
    EXPECT_EQ(turns[0].role, domain::ChatRole::system);
    EXPECT_EQ(json::parse(turns[0].wire).at("role"), "system");
    EXPECT_EQ(turns[1].content, "what is\nthis?");
    EXPECT_EQ(turns[1].image_parts, 1);
    EXPECT_EQ(json::parse(turns[1].wire).at("content").as_array().size(), 3u);
    EXPECT_EQ(turns[2].role, domain::ChatRole::assistant);
    EXPECT_EQ(turns[2].extra_bytes, 6 + 4 + 9);  // id, name, arguments
    EXPECT_EQ(json::parse(turns[2].wire).at("tool_calls").at(0).at("function").at("name"), "look");
    EXPECT_EQ(turns[3].role, domain::ChatRole::tool);
    EXPECT_EQ(json::parse(turns[3].wire).at("tool_call_id"), "call_1");

    EXPECT_EQ(
        refusal(R"({"model": "uncapped", "messages": [{"role": "tool", "content": "x"}]})").first,
        "messages[0].tool_call_id");
    EXPECT_EQ(refusal(R"({"model": "uncapped", "messages": [{"role": "assistant",
                          "tool_calls": [{"id": "c", "function": {"name": "f"}}]}]})")
                  .first,
              "messages[0].tool_calls[0].function.arguments");
    EXPECT_EQ(refusal(R"({"model": "uncapped", "messages": [{"role": "user", "content": "x",
                          "tool_calls": []}]})")
                  .first,
              "messages[0].tool_calls");
}

TEST(OpenAiWire, RendersToolCallsWholeAndStreamed) {
    auto doc = json::parse(
        completion_json(kHead, "", {{"call_1", "look", "{}"}}, "tool_calls", {7, 3, true}));
    const auto& message = doc.at("choices").at(0).at("message");
    EXPECT_TRUE(message.at("content").is_null());
    EXPECT_EQ(message.at("tool_calls"), json::parse(R"([{"id": "call_1", "type": "function",
                                           "function": {"name": "look", "arguments": "{}"}}])"));
    domain::ChatDelta first;
    first.tool_calls.push_back({0, "call_1", "look", ""});
    domain::ChatDelta later;
    later.tool_calls.push_back({0, "", "", "{\"a"});
    auto opening = json::parse(delta_chunk_json(kHead, first, false));
    EXPECT_EQ(opening.at("choices").at(0).at("delta"),
              json::parse(R"({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                               "function": {"arguments": "", "name": "look"}}]})"));
    auto piece = json::parse(delta_chunk_json(kHead, later, false));
    EXPECT_EQ(piece.at("choices").at(0).at("delta"),
              json::parse(R"({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a"}}]})"));
}

}  // namespace
}  // namespace chatgate::api::openai

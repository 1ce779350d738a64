#include "api/openai/responses_history.hpp"
#include "api/openai/responses_request.hpp"
#include "api/openai/responses_shapes.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

const domain::ModelCatalog& models() {
    static const domain::ModelCatalog catalog = [] {
        domain::ChatModel model;
        model.id = "m";
        model.max_completion_tokens = 100;
        model.capabilities = {true, true, true, false};
        return domain::ModelCatalog({model});
    }();
    return catalog;
}

json::object chat_of(std::string_view body) {
    auto chat = chat_body_from_responses(json::parse(body).as_object());
    EXPECT_TRUE(chat) << (chat ? "" : chat.error().fields.front().field);
    return chat ? *chat : json::object{};
}

std::string refused_param(std::string_view body) {
    auto request = parse_responses_request(json::parse(body), models());
    EXPECT_FALSE(request) << body;
    if (request || request.error().fields.empty()) return {};
    return request.error().fields.front().field;
}

TEST(ResponsesRequest, TranslatesInputItemsToChatMessages) {
    auto chat = chat_of(R"({"model": "m", "instructions": "be brief", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "look"},
                                     {"type": "input_image", "image_url": "data:x", "detail": "low"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {"type": "function_call_output", "call_id": "c2", "output": "two"}],
        "max_output_tokens": 50, "tools": [{"type": "function", "name": "f", "parameters": {}}],
        "tool_choice": {"type": "function", "name": "f"},
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
        "reasoning": {"effort": "low"}})");
    const auto& messages = chat.at("messages").as_array();
    ASSERT_EQ(messages.size(), 5u);
    EXPECT_EQ(messages[0], json::parse(R"({"role": "system", "content": "be brief"})"));
    EXPECT_EQ(
        messages[1].at("content").at(1),
        json::parse(R"({"type": "image_url", "image_url": {"url": "data:x", "detail": "low"}})"));
    // The text and both calls of one turn are one assistant message.
    EXPECT_EQ(messages[2].at("content").at(0).at("text"), "ok");
    ASSERT_EQ(messages[2].at("tool_calls").as_array().size(), 2u);
    EXPECT_EQ(messages[2].at("tool_calls").at(1).at("id"), "c2");
    EXPECT_EQ(messages[3],
              json::parse(R"({"role": "tool", "tool_call_id": "c1", "content": "one"})"));
    EXPECT_EQ(chat.at("max_completion_tokens"), 50);
    EXPECT_EQ(chat.at("tools").at(0).at("function").at("name"), "f");
    EXPECT_EQ(chat.at("tool_choice").at("function").at("name"), "f");
    EXPECT_EQ(chat.at("response_format").at("json_schema").at("name"), "x");
    EXPECT_EQ(chat.at("reasoning_effort"), "low");

    auto request = parse_responses_request(json::parse(R"({"model": "m", "input": "hi",
        "metadata": {"k": "v"}, "temperature": 1})"),
                                           models());
    ASSERT_TRUE(request);
    EXPECT_EQ(request->chat.turns.size(), 1u);
    EXPECT_EQ(request->echo.at("metadata").at("k"), "v");
    EXPECT_EQ(json::parse(request->chat.options).at("temperature"), 1);
}

TEST(ResponsesRequest, RefusesWhatItCannotHonourNamingTheField) {
    EXPECT_EQ(refused_param(R"({"model": "m"})"), "input");
    EXPECT_EQ(refused_param(R"({"model": "m", "input": "x", "previous_response_id": "resp_1"})"),
              "previous_response_id");
    EXPECT_EQ(refused_param(R"({"model": "m", "input": [{"type": "item_reference", "id": "x"}]})"),
              "input[0]");
    EXPECT_EQ(refused_param(R"({"model": "m", "input": "x", "tools": [{"type": "web_search"}]})"),
              "tools[0].type");
    EXPECT_EQ(refused_param(R"({"model": "m", "input": "x", "background": true})"), "background");
    EXPECT_EQ(refused_param(R"({"model": "m", "input": "x", "frobnicate": 1})"), "frobnicate");
    EXPECT_EQ(refused_param(R"({"model": "m", "input": [{"role": "user", "content":
                                [{"type": "input_file", "file_id": "f"}]}]})"),
              "input[0].content[0].type");
    // Checks of the translated request name the Chat Completions field.
    EXPECT_EQ(refused_param(R"({"model": "m", "input": "x", "temperature": 9})"), "temperature");
    EXPECT_EQ(refused_param(R"({"model": "m", "input": "x", "max_output_tokens": 101})"),
              "max_completion_tokens");
}

ResponseHead head() {
    return {"resp_abc", 1700000000, "m", {{"instructions", "be brief"}}};
}

std::vector<json::object> events(std::string_view frames) {
    std::vector<json::object> out;
    std::size_t at = 0;
    while ((at = frames.find("data: ", at)) != std::string_view::npos) {
        auto end = frames.find("\n\n", at);
        out.push_back(json::parse(frames.substr(at + 6, end - at - 6)).as_object());
        at = end;
    }
    return out;
}

TEST(ResponseEventWriter, WritesOpenAisEventsInOrder) {
    ResponseEventWriter writer(head(), 1000);
    std::string frames = writer.start();
    frames += writer.delta(domain::ChatDelta("Hel"));
    frames += writer.delta(domain::ChatDelta("lo"));
    domain::ChatDelta call;
    call.tool_calls.push_back({0, "call_1", "f", ""});
    frames += writer.delta(call);
    domain::ChatDelta args;
    args.tool_calls.push_back({0, "", "", "{\"a\":1}"});
    frames += writer.delta(args);
    frames += writer.finish("tool_calls", {3, 4, true});
    std::vector<std::string> types;
    auto all = events(frames);
    for (std::size_t i = 0; i < all.size(); ++i) {
        types.emplace_back(all[i].at("type").as_string());
        EXPECT_EQ(all[i].at("sequence_number"), static_cast<std::int64_t>(i));
    }
    EXPECT_EQ(types, (std::vector<std::string>{
                         "response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added", "response.output_text.delta",
                         "response.output_text.delta", "response.output_text.done",
                         "response.content_part.done", "response.output_item.done",
                         "response.output_item.added", "response.function_call_arguments.delta",
                         "response.function_call_arguments.done", "response.output_item.done",
                         "response.completed"}));
    EXPECT_NE(frames.find("event: response.created\n"), std::string::npos);
    EXPECT_EQ(all[6].at("text"), "Hello");
    EXPECT_EQ(all[11].at("arguments"), "{\"a\":1}");
    const auto& done = all.back().at("response");
    EXPECT_EQ(done.at("status"), "completed");
    EXPECT_EQ(done.at("instructions"), "be brief");
    EXPECT_EQ(done.at("output").at(0).at("content").at(0).at("text"), "Hello");
    EXPECT_EQ(done.at("output").at(1).at("call_id"), "call_1");
    EXPECT_EQ(done.at("usage").at("total_tokens"), 7);
}

TEST(ResponseEventWriter, IncompleteAndFailedAndBoundedCopies) {
    ResponseEventWriter capped(head(), 4);
    capped.start();
    capped.delta(domain::ChatDelta("abcdefgh"));
    auto last = events(capped.finish("length", {1, 2, true})).back();
    EXPECT_EQ(last.at("type"), "response.incomplete");
    EXPECT_EQ(last.at("response").at("incomplete_details").at("reason"), "max_output_tokens");
    EXPECT_EQ(last.at("response").at("output").at(0).at("content").at(0).at("text"), "abcd");

    ResponseEventWriter failing(head(), 100);
    failing.start();
    auto failed = events(failing.fail("upstream_error", "The AI provider failed midway.")).back();
    EXPECT_EQ(failed.at("type"), "response.failed");
    EXPECT_EQ(failed.at("response").at("status"), "failed");
    EXPECT_EQ(failed.at("response").at("error").at("code"), "upstream_error");
}

TEST(ResponseObject, ItemsStatusAndUsage) {
    auto whole = response_object(head(), "", {{"call_9", "f", "{}"}}, "tool_calls", {5, 6, true});
    EXPECT_EQ(whole.at("object"), "response");
    EXPECT_EQ(whole.at("status"), "completed");
    ASSERT_EQ(whole.at("output").as_array().size(), 1u);
    EXPECT_EQ(whole.at("output").at(0).at("type"), "function_call");
    EXPECT_EQ(whole.at("usage").at("input_tokens"), 5);
    auto text = response_object(head(), "hi", {}, "stop", {});
    EXPECT_EQ(text.at("output").at(0).at("content").at(0).at("text"), "hi");
    EXPECT_EQ(text.at("store"), false);
}

}  // namespace
}  // namespace chatgate::api::openai

namespace chatgate::api::openai {
namespace {

TEST(ResponsesHistory, ConversationItemsResolveHistoryAndReferences) {
    auto body = json::parse(R"({"input": [{"type": "item_reference", "id": "msg_1"},
                                          {"role": "user", "content": "next"}],
                                "previous_response_id": "resp_1", "store": false})")
                    .as_object();
    EXPECT_FALSE(wants_store(body));
    EXPECT_TRUE(wants_store(json::object{}));
    EXPECT_EQ(previous_response_of(body).value(), std::optional<std::string>("resp_1"));
    EXPECT_FALSE(previous_response_of(json::parse(R"({"previous_response_id": 1})").as_object()));
    EXPECT_EQ(item_references(body), std::vector<std::string>{"msg_1"});

    json::array history{json::object{{"role", "user"}, {"content", "first"}}};
    std::map<std::string, json::object> items{
        {"msg_1", json::object{{"type", "message"}, {"role", "assistant"}, {"content", "hi"}}}};
    auto all = conversation_items(body, history, items);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ(all->at(1).at("content"), "hi");
    EXPECT_EQ(all->at(2).at("content"), "next");
    auto missing = conversation_items(body, history, {});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().fields.front().field, "input[0]");
    auto text = conversation_items(json::parse(R"({"input": "hello"})").as_object(), {}, {});
    EXPECT_EQ(text->at(0), json::parse(R"({"role": "user", "content": "hello"})"));
}

TEST(ResponsesHistory, OutputItemsInTheirInputForm) {
    auto response = response_object(head(), "hi", {{"call_1", "f", "{}"}}, "tool_calls", {});
    auto items = output_as_input(response);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].second, json::parse(R"({"type": "message", "role": "assistant",
                                              "content": [{"type": "output_text", "text": "hi"}]})"));
    EXPECT_EQ(items[1].first, response.at("output").at(1).at("id").as_string());
    EXPECT_EQ(items[1].second, json::parse(R"({"type": "function_call", "call_id": "call_1",
                                              "name": "f", "arguments": "{}"})"));
}

}  // namespace
}  // namespace chatgate::api::openai

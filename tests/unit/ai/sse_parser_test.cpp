#include "ai/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chatgate::ai {
namespace {

using Events = std::vector<std::string>;

Events parse_whole(std::string_view text, SseParser::Limits limits = {}) {
    SseParser parser(limits);
    Events events;
    EXPECT_EQ(parser.feed(text, events), SseParser::Status::ok);
    return events;
}

constexpr std::string_view kStream =
    ": ping\r\n"
    "\r\n"
    "event: message\r\n"
    "id: 7\r\n"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "data:no-space\n"
    "data:  two spaces\n"
    "\n"
    "retry: 100\r"
    "data: cr only\r"
    "\r"
    "data: [DONE]\n\n";

const Events kExpected{"{\"a\":1}", "no-space\n two spaces", "cr only", "[DONE]"};

TEST(SseParser, ParsesEventsWithEveryLineEnding) {
    EXPECT_EQ(parse_whole(kStream), kExpected);
}

TEST(SseParser, EverySplitPointGivesTheSameEvents) {
    for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
        SseParser parser;
        Events events;
        ASSERT_EQ(parser.feed(kStream.substr(0, cut), events), SseParser::Status::ok);
        ASSERT_EQ(parser.feed(kStream.substr(cut), events), SseParser::Status::ok);
        EXPECT_EQ(events, kExpected) << "split at " << cut;
    }
}

TEST(SseParser, ByteByByteGivesTheSameEvents) {
    SseParser parser;
    Events events;
    for (char c : kStream)
        ASSERT_EQ(parser.feed(std::string_view(&c, 1), events), SseParser::Status::ok);
    EXPECT_EQ(events, kExpected);
}

TEST(SseParser, CrlfSplitBetweenChunksIsOneLineEnd) {
    SseParser parser;
    Events events;
    parser.feed("data: a\r", events);
    parser.feed("\n\r", events);
    parser.feed("\n", events);
    EXPECT_EQ(events, Events{"a"});
}

TEST(SseParser, CommentsAndOtherFieldsMakeNoEvent) {
    EXPECT_TRUE(parse_whole(": keep-alive\n\nevent: x\nid: 1\n\n").empty());
}

TEST(SseParser, AnUnfinishedEventIsNotDispatched) {
    EXPECT_TRUE(parse_whole("data: half").empty());
    EXPECT_TRUE(parse_whole("data: half\n").empty());
}

TEST(SseParser, EmptyDataIsAnEvent) {
    EXPECT_EQ(parse_whole("data\n\ndata:\n\n"), (Events{"", ""}));
}

TEST(SseParser, OversizeLineFailsAndStaysFailed) {
    SseParser parser({.max_line_bytes = 16, .max_event_bytes = 1024});
    Events events;
    EXPECT_EQ(parser.feed("data: ok\n\n", events), SseParser::Status::ok);
    EXPECT_EQ(parser.feed("data: 0123456789abcdef\n\n", events), SseParser::Status::line_too_long);
    EXPECT_EQ(parser.feed("data: ok\n\n", events), SseParser::Status::line_too_long);
    EXPECT_EQ(events, Events{"ok"});
}

TEST(SseParser, OversizeLineIsCaughtAcrossChunks) {
    SseParser parser({.max_line_bytes = 16, .max_event_bytes = 1024});
    Events events;
    EXPECT_EQ(parser.feed("data: 01234", events), SseParser::Status::ok);
    EXPECT_EQ(parser.feed("56789abcdef", events), SseParser::Status::line_too_long);
}

TEST(SseParser, OversizeEventFails) {
    SseParser parser({.max_line_bytes = 64, .max_event_bytes = 10});
    Events events;
    EXPECT_EQ(parser.feed("data: 12345\ndata: 67890\n\n", events),
              SseParser::Status::event_too_large);
    EXPECT_TRUE(events.empty());
}

TEST(SseParser, GarbageBytesNeverCrash) {
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) % 256);
    SseParser parser;
    Events events;
    parser.feed(garbage, events);
    SUCCEED();  // bounded, no crash (the sanitizer build checks memory)
    for (const auto& e : events) EXPECT_LE(e.size(), garbage.size());
}

}  // namespace
}  // namespace chatgate::ai

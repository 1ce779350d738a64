#include "http/router.hpp"

#include <gtest/gtest.h>

namespace chatgate::http {
namespace {

using Kind = Router::Match::Kind;

class RouterTest : public ::testing::Test {
protected:
    void SetUp() override {
        router.add(Method::post, "/api/chat/", 0);
        router.add(Method::get, "/api/tokens/", 1);
        router.add(Method::get, "/api/items/{id}/", 2);
        router.add(Method::del, "/api/items/{id}/", 3);
        router.add(Method::get, "/", 4);
    }
    Router router;
};

TEST_F(RouterTest, MatchesWithAndWithoutTrailingSlash) {
    for (auto path : {"/api/chat/", "/api/chat"}) {
        auto m = router.match(Method::post, path);
        EXPECT_EQ(m.kind, Kind::found) << path;
        EXPECT_EQ(m.route, 0u);
    }
}

TEST_F(RouterTest, RootPath) {
    EXPECT_EQ(router.match(Method::get, "/").route, 4u);
    EXPECT_EQ(router.match(Method::get, "/").kind, Kind::found);
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
    EXPECT_EQ(router.match(Method::get, "/api/nope/").kind, Kind::not_found);
    EXPECT_EQ(router.match(Method::post, "/api/chat/extra").kind, Kind::not_found);
    EXPECT_EQ(router.match(Method::post, "/api//chat/").kind, Kind::not_found);
    EXPECT_EQ(router.match(Method::post, "/api/chatx/").kind, Kind::not_found);
}

TEST_F(RouterTest, WrongMethodListsAllowedMethods) {
    auto m = router.match(Method::get, "/api/chat/");
    EXPECT_EQ(m.kind, Kind::method_not_allowed);
    EXPECT_EQ(m.allow, "POST, OPTIONS");
    auto t = router.match(Method::post, "/api/tokens");
    EXPECT_EQ(t.allow, "GET, HEAD, OPTIONS");
}

TEST_F(RouterTest, HeadIsServedByGet) {
    auto m = router.match(Method::head, "/api/tokens/");
    EXPECT_EQ(m.kind, Kind::found);
    EXPECT_EQ(m.route, 1u);
}

TEST_F(RouterTest, PathParametersAreCaptured) {
    auto m = router.match(Method::del, "/api/items/17/");
    ASSERT_EQ(m.kind, Kind::found);
    EXPECT_EQ(m.route, 3u);
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].name, "id");
    EXPECT_EQ(m.params[0].value, "17");
    EXPECT_EQ(router.match(Method::get, "/api/items/17").route, 2u);
}

}  // namespace
}  // namespace chatgate::http

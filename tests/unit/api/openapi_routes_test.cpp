#include "api/pages/docs_handlers.hpp"
#include "api/routes.hpp"
#include "assets/assets.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

namespace chatgate::api {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

TEST(OpenApi, DocumentsExactlyTheRoutesMarkedAsApi) {
    std::set<std::string> from_routes;
    for (const auto& route : routes()) {
        if (route.documented)
            from_routes.insert(lower(http::to_string(route.method)) + " " + openapi_path(route));
    }
    std::set<std::string> from_document;
    auto doc = boost::json::parse(openapi_json()).as_object();
    for (const auto& [path, item] : doc.at("paths").as_object()) {
        for (const auto& [method, operation] : item.as_object()) {
            if (method == "parameters" || method == "summary" || method == "description") continue;
            from_document.insert(std::string(method) + " " + std::string(path));
        }
    }
    EXPECT_EQ(from_routes, from_document);
}

TEST(OpenApi, AuthenticatedRoutesDeclareBearerSecurity) {
    auto doc = boost::json::parse(openapi_json()).as_object();
    for (const auto& route : routes()) {
        if (!route.documented) continue;
        const auto& op = doc.at("paths")
                             .at(openapi_path(route))
                             .at(lower(http::to_string(route.method)))
                             .as_object();
        bool declares_jwt = false;
        bool declares_key = false;
        if (auto security = op.if_contains("security")) {
            for (const auto& requirement : security->as_array()) {
                declares_jwt |= requirement.as_object().contains("jwtAuth");
                declares_key |= requirement.as_object().contains("apiKeyAuth");
            }
        }
        // Access tokens everywhere authentication is asked for; API keys only on `bearer`
        // routes; staff routes say so.
        EXPECT_EQ(declares_jwt, route.auth != Auth::none) << route.path;
        EXPECT_EQ(declares_key, route.auth == Auth::bearer) << route.path;
        const auto* staff = op.if_contains("x-requires-staff");
        EXPECT_EQ(staff && staff->is_bool() && staff->as_bool(), route.auth == Auth::staff)
            << route.path;
    }
}

TEST(OpenApi, RendersAsYaml) {
    auto yaml =
        to_yaml(boost::json::parse(R"({"a":{"b":[1,{"c":"x: y","d":[]}],"e":{}},"f":null})"));
    EXPECT_EQ(yaml,
              "\"a\":\n"
              "  \"b\":\n"
              "    - 1\n"
              "    - \"c\": \"x: y\"\n"
              "      \"d\": []\n"
              "  \"e\": {}\n"
              "\"f\": null\n");
}

// A row that forgets its rate class would be unlimited without a word: only the probes, which
// load balancers poll, may be.
TEST(RouteTable, OnlyTheProbesAreUnlimited) {
    for (const auto& route : routes()) {
        bool probe = route.path == "/healthz" || route.path == "/readyz";
        EXPECT_EQ(!route.rate.has_value(), probe) << route.path;
    }
}

// A `{name:int}` segment is an integer in the document, an untyped one a string.
TEST(OpenApi, PathParameterTypesMatchTheRouteTable) {
    auto doc = boost::json::parse(openapi_json()).as_object();
    for (const auto& route : routes()) {
        if (!route.documented) continue;
        const auto& op =
            doc.at("paths").at(openapi_path(route)).at(lower(http::to_string(route.method)));
        std::map<std::string, std::string> declared;
        if (const auto* params = op.as_object().if_contains("parameters")) {
            for (const auto& param : params->as_array()) {
                // Shared parameters ($ref) are headers, never path segments.
                if (!param.as_object().contains("in") || param.at("in") != "path") continue;
                declared[std::string(param.at("name").as_string())] =
                    std::string(param.at("schema").at("type").as_string());
            }
        }
        std::map<std::string, std::string> expected;
        for (std::string_view rest = route.path; !rest.empty();) {
            auto open = rest.find('{');
            if (open == std::string_view::npos) break;
            auto close = rest.find('}', open);
            std::string_view inner = rest.substr(open + 1, close - open - 1);
            auto colon = inner.find(':');
            bool integer = colon != std::string_view::npos && inner.substr(colon + 1) == "int";
            expected[std::string(inner.substr(0, colon))] = integer ? "integer" : "string";
            rest.remove_prefix(close + 1);
        }
        EXPECT_EQ(declared, expected) << route.path;
    }
}

TEST(RouteTable, EveryPageIsEmbeddedAndEveryHtmlPageHasItsPolicy) {
    for (const auto& route : routes()) {
        if (route.asset.empty()) continue;
        EXPECT_FALSE(assets::find(route.asset).empty()) << route.path;
        bool html = route.content_type.starts_with("text/html");
        EXPECT_EQ(html, route.policy != PagePolicy::none) << route.path;
    }
}

// A module the pages import (or a file they link) without a route would fail only in a
// browser: every /static/ URL in an embedded page or module must be a route.
TEST(RouteTable, EveryStaticUrlThePagesNameIsARoute) {
    std::set<std::string> paths;
    for (const auto& route : routes()) paths.insert(std::string(route.path));
    const std::regex url(R"((?:from |import\(|src=|href=)["'](/static/[^"']+|\.\.?/[^"']+)["'])");
    int seen = 0;
    for (const auto& route : routes()) {
        if (!route.asset.starts_with("web/")) continue;
        std::string text(assets::find(route.asset));
        for (std::sregex_iterator it(text.begin(), text.end(), url), end; it != end; ++it) {
            std::string target = (*it)[1];
            std::string base(route.path.substr(0, route.path.rfind('/') + 1));
            while (target.starts_with("../")) {
                base = base.substr(0, base.rfind('/', base.size() - 2) + 1);
                target = target.substr(3);
            }
            if (target.starts_with("./")) target = target.substr(2);
            std::string resolved = target.starts_with("/") ? target : base + target;
            EXPECT_TRUE(paths.contains(resolved)) << route.asset << " names " << resolved;
            ++seen;
        }
    }
    EXPECT_GT(seen, 10);
}

TEST(RouteTable, OpenApiPathsDropTheParameterTypes) {
    Route route{.method = http::Method::get, .path = "/a/{id:int}/b/{name}/", .handler = nullptr};
    EXPECT_EQ(openapi_path(route), "/a/{id}/b/{name}/");
    Route two{.method = http::Method::get, .path = "/a/{id:int}/b/{c:int}/", .handler = nullptr};
    EXPECT_EQ(openapi_path(two), "/a/{id}/b/{c}/");
}

}  // namespace
}  // namespace chatgate::api

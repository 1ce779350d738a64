#include "api/pages/docs_handlers.hpp"

#include "api/routes.hpp"
#include "api/wire/json_io.hpp"
#include "assets/assets.hpp"

#include <boost/json/serialize.hpp>

namespace chatgate::api {
namespace {

namespace json = boost::json;

bool is_scalar_or_empty(const json::value& v) {
    if (v.is_object()) return v.get_object().empty();
    if (v.is_array()) return v.get_array().empty();
    return true;
}

void append_scalar(std::string& out, const json::value& v) {
    if (v.is_object()) {
        out += "{}";
    } else if (v.is_array()) {
        out += "[]";
    } else {
        out += json::serialize(v);  // JSON scalars are valid YAML flow scalars
    }
}

void append_yaml(std::string& out, const json::value& v, int indent);

void append_object(std::string& out, const json::object& obj, int indent, bool first_inline) {
    bool first = true;
    for (const auto& [key, value] : obj) {
        if (!(first && first_inline)) out.append(static_cast<std::size_t>(indent), ' ');
        first = false;
        out += json::serialize(json::value(key));
        out += ':';
        if (is_scalar_or_empty(value)) {
            out += ' ';
            append_scalar(out, value);
            out += '\n';
        } else {
            out += '\n';
            append_yaml(out, value, indent + 2);
        }
    }
}

void append_yaml(std::string& out, const json::value& v, int indent) {
    if (v.is_object() && !v.get_object().empty()) {
        append_object(out, v.get_object(), indent, false);
    } else if (v.is_array() && !v.get_array().empty()) {
        for (const auto& item : v.get_array()) {
            out.append(static_cast<std::size_t>(indent), ' ');
            out += "- ";
            if (item.is_object() && !item.get_object().empty()) {
                append_object(out, item.get_object(), indent + 2, true);
            } else if (item.is_array() && !item.get_array().empty()) {
                out += '\n';
                append_yaml(out, item, indent + 2);
            } else {
                append_scalar(out, item);
                out += '\n';
            }
        }
    } else {
        out.append(static_cast<std::size_t>(indent), ' ');
        append_scalar(out, v);
        out += '\n';
    }
}

}  // namespace

std::string_view openapi_json() {
    return assets::find("openapi/openapi.json");
}

std::string to_yaml(const json::value& value) {
    std::string out;
    append_yaml(out, value, 0);
    return out;
}

boost::asio::awaitable<Result<http::Response>> serve_asset([[maybe_unused]] Services& services,
                                                           RequestContext& ctx) {
    http::Response response;
    auto file = assets::find_file(ctx.route.asset);
    // The pages and their own modules change with every release, under the same URLs: always
    // revalidated (cheap with the tag). The libraries' files change only with their npm version.
    bool revalidate =
        !ctx.route.path.starts_with("/static/") || ctx.route.path.starts_with("/static/web/");
    response.headers.emplace_back("Cache-Control",
                                  revalidate ? "no-cache" : "public, max-age=86400");
    response.headers.emplace_back("ETag", std::string(file.etag));
    if (ctx.request.header("If-None-Match").find(file.etag) != std::string_view::npos) {
        response.status = 304;
        response.content_type.clear();
        co_return response;
    }
    response.content_type = std::string(ctx.route.content_type);
    response.static_body = file.bytes;
    co_return response;
}

boost::asio::awaitable<Result<http::Response>> get_schema(Services& services, RequestContext& ctx) {
    http::Response response;
    if (query_param(ctx.request.query, "format") == "json") {
        response.content_type = "application/vnd.oai.openapi+json; charset=utf-8";
        response.static_body = openapi_json();
    } else {
        response.content_type = "application/vnd.oai.openapi; charset=utf-8";
        response.static_body = services.schema_yaml;
    }
    co_return response;
}

}  // namespace chatgate::api

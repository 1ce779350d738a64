// Raw bytes as they arrive on a connection -> Beast's request parser with the server's limits
// -> our http::Request view -> the route table, as http/connection.cpp and api::Dispatcher do.
// Several requests may follow each other in one input (pipelining on a keep-alive connection).
// Kept Beast-level on purpose: when the transport exposes a Beast-free parse entry point, this
// target should call that instead of repeating the view below.
#include "api/routes.hpp"
#include "api/wire/json_io.hpp"
#include "app/settings.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

namespace bhttp = boost::beast::http;
using namespace chatgate;

static const api::JsonLimits kJsonLimits = app::json_limits(Config{});  // out of the box

http::Method to_method(bhttp::verb verb) {
    switch (verb) {
        case bhttp::verb::get:
            return http::Method::get;
        case bhttp::verb::head:
            return http::Method::head;
        case bhttp::verb::post:
            return http::Method::post;
        case bhttp::verb::put:
            return http::Method::put;
        case bhttp::verb::patch:
            return http::Method::patch;
        case bhttp::verb::delete_:
            return http::Method::del;
        case bhttp::verb::options:
            return http::Method::options;
        default:
            return http::Method::other;
    }
}

const http::Router& route_table() {
    static const http::Router router = [] {
        http::Router r;
        auto table = api::routes();
        for (std::size_t i = 0; i < table.size(); ++i) r.add(table[i].method, table[i].path, i);
        return r;
    }();
    return router;
}

/// What the dispatcher and handlers read from a request, touched so the sanitizers see it.
void use(const http::Request& request) {
    auto match = route_table().match(request.method, request.path);
    if (match.kind == http::Router::Match::Kind::found && match.route >= api::routes().size()) {
        __builtin_trap();
    }
    for (const auto& param : match.params) {
        if (param.value.empty()) __builtin_trap();  // the router promised non-empty segments
    }
    (void)request.header("Authorization");
    (void)request.header("X-Request-ID");
    (void)api::query_param(request.query, "page");
    if (request.method == http::Method::post) (void)api::parse_body(request, kJsonLimits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const http::ServerLimits limits = app::server_limits(Config{});  // out of the box
    std::string_view input(reinterpret_cast<const char*>(data), size);
    for (int requests = 0; requests < 8 && !input.empty(); ++requests) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        parser.body_limit(limits.max_body_bytes);
        parser.eager(true);
        // Fed like beast::http::read does: put what is there until the message is done; the
        // whole rest of the input is available, so "need more" means the client closed.
        boost::system::error_code ec;
        std::size_t used = 0;
        while (!parser.is_done()) {
            std::size_t n =
                parser.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
            used += n;
            if (used > input.size()) __builtin_trap();
            if (ec == bhttp::error::need_more) {
                ec = {};
                parser.put_eof(ec);
                break;
            }
            if (ec || n == 0) break;
        }
        if (ec || !parser.is_done()) return 0;  // answered with 400/413/431 and closed
        input.remove_prefix(used);

        const auto& msg = parser.get();
        http::Request request;
        request.method = to_method(msg.method());
        request.method_text = msg.method_string();
        request.target = msg.target();
        auto question = request.target.find('?');
        request.path = request.target.substr(0, question);
        request.query = question == std::string_view::npos ? std::string_view{}
                                                           : request.target.substr(question + 1);
        for (const auto& field : msg)
            request.headers.push_back({field.name_string(), field.value()});
        request.body = msg.body();
        request.version = msg.version();
        use(request);
        if (!msg.keep_alive()) break;
    }
    return 0;
}

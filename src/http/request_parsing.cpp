#include "http/request_parsing.hpp"

#include "http/beast_request.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

namespace chatgate::http {
namespace {

namespace bhttp = boost::beast::http;

Method to_method(bhttp::verb verb) {
    switch (verb) {
        case bhttp::verb::get:
            return Method::get;
        case bhttp::verb::head:
            return Method::head;
        case bhttp::verb::post:
            return Method::post;
        case bhttp::verb::put:
            return Method::put;
        case bhttp::verb::patch:
            return Method::patch;
        case bhttp::verb::delete_:
            return Method::del;
        case bhttp::verb::options:
            return Method::options;
        default:
            return Method::other;
    }
}

/// The path and query of a request target: origin-form (`/healthz`) as it is; absolute-form
/// (`http://host/healthz`, RFC 9112 3.2.2, which proxies send) without its scheme and authority.
std::string_view origin_form(std::string_view target) {
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
            auto rest = target.substr(scheme.size());
            auto start = rest.find_first_of("/?");
            return start == std::string_view::npos ? std::string_view{} : rest.substr(start);
        }
    }
    return target;
}

}  // namespace

void view_request(const BeastRequest& msg, Request& out) {
    out.method = to_method(msg.method());
    out.method_text = msg.method_string();
    out.target = msg.target();
    std::string_view target = origin_form(out.target);
    auto question = target.find('?');
    out.path = target.substr(0, question);
    if (out.path.empty()) out.path = "/";  // `http://host` and `http://host?q` name the root
    out.query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    out.headers.clear();
    for (const auto& field : msg) out.headers.push_back({field.name_string(), field.value()});
    out.body = msg.body();
    out.version = msg.version();
}

std::optional<TransportError> classify_read_error(boost::system::error_code ec) {
    if (ec == bhttp::error::header_limit) return TransportError::header_too_large;
    if (ec == bhttp::error::body_limit) return TransportError::body_too_large;
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        return TransportError::malformed;
    }
    return std::nullopt;
}

ParsedRequest parse_request(std::string_view bytes, const ServerLimits& limits) {
    ParsedRequest out;
    auto parser = std::make_shared<bhttp::request_parser<bhttp::string_body>>();
    parser->header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser->body_limit(limits.max_body_bytes);
    parser->eager(true);
    bool head_checked = false;
    while (!parser->is_done()) {
        boost::system::error_code ec;
        std::size_t used = parser->put(
            boost::asio::buffer(bytes.data() + out.consumed, bytes.size() - out.consumed), ec);
        out.consumed += used;
        if (ec == bhttp::error::need_more) break;
        if (ec) {
            out.error = classify_read_error(ec).value_or(TransportError::malformed);
            break;
        }
        if (parser->is_header_done() && !head_checked) {
            head_checked = true;
            view_request(parser->get(), out.request);
            if ((out.error = check_head(out.request, limits))) break;
        }
        if (used == 0) break;
    }
    if (parser->is_header_done()) view_request(parser->get(), out.request);
    out.complete = parser->is_done() && !out.error;
    out.storage = parser;  // the views point into the parser's message
    return out;
}

}  // namespace chatgate::http

// application/x-www-form-urlencoded bodies (json_io's percent-decoder, via api::parse_body) and
// the same decoder on URL query strings (api::query_param).
#include "api/wire/json_io.hpp"
#include "app/settings.hpp"
#include "http/message.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using namespace chatgate;

static const api::JsonLimits kJsonLimits = app::json_limits(Config{});  // out of the box

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    http::Request request;
    request.method = http::Method::post;
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    request.body = text;
    if (auto body = api::parse_body(request, kJsonLimits)) {
        if (!body->is_object()) __builtin_trap();  // a form is always an object of strings
        for (const auto& [key, value] : body->get_object()) {
            if (!value.is_string()) __builtin_trap();
        }
        // Whatever a form carried must be text that JSON answers (and JSON clients) can hold:
        // the answer we would write must read back as the same value.
        boost::system::error_code ec;
        auto again = boost::json::parse(boost::json::serialize(*body), ec);
        if (ec || again != *body) __builtin_trap();
        std::vector<FieldError> errors;
        (void)api::read_char_field(*body, "username", 150, errors);
        (void)api::read_char_field(*body, "message", 10000, errors);
    }
    for (std::string_view name : {"page", "page_size", "format", ""}) {
        (void)api::query_param(text, name);
    }
    return 0;
}

// A JSON request body through api::parse_body and DRF's field readers, as the handlers use
// them: parse, refuse non-objects with DRF's message, read the usual fields.
#include "api/wire/json_io.hpp"
#include "app/settings.hpp"
#include "http/message.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace chatgate;

static const api::JsonLimits kJsonLimits = app::json_limits(Config{});  // out of the box

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    http::Request request;
    request.method = http::Method::post;
    request.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
    request.body = std::string_view(reinterpret_cast<const char*>(data), size);
    auto body = api::parse_body(request, kJsonLimits);
    if (!body) return 0;
    if (!body->is_object()) {
        (void)api::not_an_object(*body);
        return 0;
    }
    // Fields read from the body are echoed in answers (the chat message, error texts): what we
    // write must read back as the same text. (Numbers are never echoed: 1e400 reads as an
    // infinity, which JSON cannot spell.)
    std::vector<FieldError> errors;
    boost::json::object answer;
    for (std::string_view field : {"username", "password", "message", "refresh", "tokens"}) {
        auto value = api::read_char_field(*body, field, 150, errors);
        if (!value) continue;
        if (value->empty()) __builtin_trap();
        answer[field] = *value;
    }
    for (const auto& error : errors) answer[error.field] = error.messages.front();
    auto response = api::json_response(400, answer);
    boost::system::error_code ec;
    auto again = boost::json::parse(response.body, ec);
    if (ec || again != answer) __builtin_trap();
    return 0;
}

#include "api/openai/openai_body.hpp"

#include "api/wire/json_io.hpp"

#include <algorithm>

namespace chatgate::api::openai {

Result<boost::json::value> read_json_body(const http::Request& request, const JsonLimits& limits) {
    http::Request as_json = request;
    std::erase_if(as_json.headers,
                  [](const http::Header& h) { return http::iequals(h.name, "Content-Type"); });
    as_json.headers.push_back({"Content-Type", "application/json"});
    return parse_body(as_json, limits);
}

}  // namespace chatgate::api::openai

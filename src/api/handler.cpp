#include "api/handler.hpp"

#include "core/text.hpp"

#include <stdexcept>

namespace chatgate::api {

bool PathParams::well_typed() const {
    for (const auto& param : params_) {
        if (param.type == "int" && !text::parse_integer<std::int64_t>(param.value)) return false;
    }
    return true;
}

std::int64_t PathParams::integer(std::string_view name) const {
    for (const auto& param : params_) {
        if (param.name != name || param.type != "int") continue;
        if (auto value = text::parse_integer<std::int64_t>(param.value)) return *value;
    }
    // The route has no such parameter, or the pipeline let an ill-typed one through: both are
    // programming errors.
    throw std::logic_error("no integer path parameter " + std::string(name));
}

std::string_view PathParams::text(std::string_view name) const {
    for (const auto& param : params_) {
        if (param.name == name) return param.value;
    }
    throw std::logic_error("no path parameter " + std::string(name));
}

domain::ChatInput caller_chat_input(const RequestContext& ctx) {
    domain::ChatInput input;
    input.user = ctx.user_id;
    input.key = ctx.key;
    return input;
}

}  // namespace chatgate::api

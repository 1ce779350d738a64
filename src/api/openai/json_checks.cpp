#include "api/openai/json_checks.hpp"

#include <cmath>
#include <sstream>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

std::string show(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

}  // namespace

Error invalid(std::string param, std::string message) {
    return Error::fields_invalid({{std::move(param), {std::move(message)}}});
}

Error missing(const std::string& param) {
    return invalid(param, "Missing required parameter: '" + param + "'.");
}

std::string_view type_name(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
        case json::kind::uint64:
            return "an integer";
        case json::kind::double_:
            return "a decimal";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "an unknown type";
}

Error wrong_type(const std::string& param, std::string_view expected, const json::value& got) {
    return invalid(param, "Invalid type for '" + param + "': expected " + std::string(expected) +
                              ", but got " + std::string(type_name(got)) + " instead.");
}

Error not_one_of(const std::string& param, std::string_view got,
                 std::initializer_list<std::string_view> allowed) {
    std::string list;
    std::size_t i = 0;
    for (std::string_view name : allowed) {
        if (i > 0) list += i + 1 == allowed.size() ? " and " : ", ";
        list.append("'").append(name).append("'");
        ++i;
    }
    return invalid(
        param, "Invalid value: '" + std::string(got) + "'. Supported values are: " + list + ".");
}

Result<const json::object*> body_object(const json::value& body) {
    if (const auto* object = body.if_object()) return object;
    return Error{
        ErrorCode::invalid_argument,
        "The request body must be a JSON object, but got " + std::string(type_name(body)) + ".",
        {}};
}

const json::value* member(const json::object& object, std::string_view name) {
    const json::value* v = object.if_contains(name);
    return v && !v->is_null() ? v : nullptr;
}

Result<double> read_number(const json::value& v, const std::string& param, double min, double max) {
    if (!v.is_number()) return wrong_type(param, "a number", v);
    double value = v.to_number<double>();
    if (!std::isfinite(value) || value < min) {
        return invalid(param, "Invalid '" + param +
                                  "': decimal below minimum value. Expected a value >= " +
                                  show(min) + ", but got " + show(value) + " instead.");
    }
    if (value > max) {
        return invalid(param, "Invalid '" + param +
                                  "': decimal above maximum value. Expected a value <= " +
                                  show(max) + ", but got " + show(value) + " instead.");
    }
    return value;
}

Result<std::int64_t> read_integer(const json::value& v, const std::string& param, std::int64_t min,
                                  std::int64_t max) {
    if (!v.is_int64() && !v.is_uint64()) return wrong_type(param, "an integer", v);
    if (v.is_uint64() || v.get_int64() > max) {
        return invalid(param, "Invalid '" + param +
                                  "': integer above maximum value. Expected a value <= " +
                                  std::to_string(max) + ".");
    }
    std::int64_t value = v.get_int64();
    if (value < min) {
        return invalid(
            param, "Invalid '" + param + "': integer below minimum value. Expected a value >= " +
                       std::to_string(min) + ", but got " + std::to_string(value) + " instead.");
    }
    return value;
}

Result<std::string_view> read_string(const json::value& v, const std::string& param,
                                     std::initializer_list<std::string_view> allowed) {
    if (!v.is_string()) return wrong_type(param, "a string", v);
    std::string_view value = v.get_string();
    if (allowed.size() == 0) return value;
    for (std::string_view name : allowed) {
        if (name == value) return value;
    }
    return not_one_of(param, value, allowed);
}

}  // namespace chatgate::api::openai

#pragma once

#include "core/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

/// The checks OpenAI applies to request fields, with its wording, shared by every /v1 request
/// reader. Each error names one field (OpenAI's `param`, such as "messages[1].role").
namespace chatgate::api::openai {

Error invalid(std::string param, std::string message);
Error missing(const std::string& param);
/// OpenAI's names for JSON types in "Invalid type" messages ("a string", "an integer", ...).
std::string_view type_name(const boost::json::value& v);
Error wrong_type(const std::string& param, std::string_view expected,
                 const boost::json::value& got);
/// "Invalid value: 'x'. Supported values are: 'a', 'b' and 'c'."
Error not_one_of(const std::string& param, std::string_view got,
                 std::initializer_list<std::string_view> allowed);

/// The request body as an object. Errors: invalid_argument ("The request body must be a JSON
/// object, but got an array.").
Result<const boost::json::object*> body_object(const boost::json::value& body);

/// A present, non-null member; OpenAI treats an explicit null like an absent field.
const boost::json::value* member(const boost::json::object& object, std::string_view name);

/// A number within [min, max] (integers count as numbers).
Result<double> read_number(const boost::json::value& v, const std::string& param, double min,
                           double max);
/// An integer within [min, max].
Result<std::int64_t> read_integer(const boost::json::value& v, const std::string& param,
                                  std::int64_t min, std::int64_t max);
/// A string, one of `allowed` when that is not empty.
Result<std::string_view> read_string(const boost::json::value& v, const std::string& param,
                                     std::initializer_list<std::string_view> allowed = {});

}  // namespace chatgate::api::openai

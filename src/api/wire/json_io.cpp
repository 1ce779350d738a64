#include "api/wire/json_io.hpp"

#include "core/text.hpp"
#include "core/unicode.hpp"
#include "domain/accounts/credential_rules.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace chatgate::api {
namespace {

/// Strict UTF-8 (RFC 3629), as JSON bodies get from Boost.JSON: no overlong forms, no
/// surrogates, nothing above U+10FFFF. Anything looser would let a form body store text that
/// JSON answers cannot carry.
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;  // overlong below U+0800
            if (c == 0xED) hi = 0x9F;  // surrogates U+D800..U+DFFF
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;  // overlong below U+10000
            if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
        } else {
            return false;  // a continuation byte, C0/C1 (overlong) or F5..FF
        }
        if (i + len > s.size()) return false;
        auto second = static_cast<unsigned char>(s[i + 1]);
        if (second < lo || second > hi) return false;
        for (std::size_t k = 2; k < len; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += len;
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Percent-decoding with '+' as space, as in form bodies and query strings. False for a broken
/// escape.
bool form_decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%') {
            if (i + 2 >= in.size()) return false;
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += in[i];
        }
    }
    return true;
}

/// Calls `visit(key, value)` for each decoded `key=value` pair; false if any is malformed.
template <class Visit>
bool for_each_pair(std::string_view text, Visit visit) {
    std::string key, value;
    while (!text.empty()) {
        auto amp = text.find('&');
        std::string_view pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        if (!form_decode(pair.substr(0, eq), key)) return false;
        if (!form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
                         value)) {
            return false;
        }
        if (!visit(key, value)) return true;
    }
    return true;
}

Result<boost::json::value> parse_form(std::string_view body, const JsonLimits& limits) {
    boost::json::object out;
    bool utf8 = true;
    bool short_enough = true;
    std::size_t max_bytes = limits.max_string_bytes;
    bool ok = for_each_pair(body, [&](const std::string& key, const std::string& value) {
        short_enough = key.size() <= max_bytes && value.size() <= max_bytes;
        utf8 = valid_utf8(key) && valid_utf8(value);
        if (utf8 && short_enough) out[key] = value;  // the last value of a repeated key wins
        return utf8 && short_enough;
    });
    if (!ok) return Error{ErrorCode::malformed_request, "Form data could not be parsed.", {}};
    if (!utf8) return Error{ErrorCode::malformed_request, "Form data is not valid UTF-8.", {}};
    if (!short_enough) {
        return Error{ErrorCode::malformed_request,
                     "Form field longer than " + std::to_string(max_bytes) + " bytes.",
                     {}};
    }
    return boost::json::value(std::move(out));
}

/// True when every string and key in `value` fits `max_bytes`. The parser has already bounded
/// the nesting, so the recursion is shallow.
bool strings_fit(const boost::json::value& value, std::size_t max_bytes) {
    switch (value.kind()) {
        case boost::json::kind::string:
            return value.get_string().size() <= max_bytes;
        case boost::json::kind::array:
            for (const auto& item : value.get_array()) {
                if (!strings_fit(item, max_bytes)) return false;
            }
            return true;
        case boost::json::kind::object:
            for (const auto& [key, item] : value.get_object()) {
                if (key.size() > max_bytes || !strings_fit(item, max_bytes)) return false;
            }
            return true;
        default:
            return true;
    }
}

const char* python_type_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::array:
            return "list";
        case boost::json::kind::string:
            return "str";
        case boost::json::kind::bool_:
            return "bool";
        case boost::json::kind::double_:
            return "float";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
            return "int";
        default:
            return "NoneType";
    }
}

}  // namespace

Result<boost::json::value> parse_json(std::string_view text, const JsonLimits& limits) {
    boost::json::parse_options options;
    options.max_depth = limits.max_depth;
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec, {}, options);
    if (ec) {
        return Error{ErrorCode::malformed_request, "JSON parse error - " + ec.message(), {}};
    }
    // Checked after parsing, which the body limit already bounds: Boost.JSON has no option
    // for it, and one walk costs little next to the parse.
    if (!strings_fit(value, limits.max_string_bytes)) {
        return Error{ErrorCode::malformed_request,
                     "JSON parse error - a string is longer than " +
                         std::to_string(limits.max_string_bytes) + " bytes",
                     {}};
    }
    return value;
}

Result<boost::json::value> parse_body(const http::Request& request, const JsonLimits& limits) {
    std::string_view content_type = request.header("Content-Type");
    std::string media = text::lowercase(text::trim(content_type.substr(0, content_type.find(';'))));
    if (request.body.empty() && (media.empty() || media == "application/json" ||
                                 media == "application/x-www-form-urlencoded")) {
        return boost::json::value(boost::json::object{});
    }
    if (media == "application/json") return parse_json(request.body, limits);
    if (media == "application/x-www-form-urlencoded") return parse_form(request.body, limits);
    return Error{ErrorCode::unsupported_media_type,
                 "Unsupported media type \"" + std::string(content_type) + "\" in request.",
                 {}};
}

Error not_an_object(const boost::json::value& body) {
    std::string message = body.is_null()
                              ? std::string("No data provided")
                              : std::string("Invalid data. Expected a dictionary, but got ") +
                                    python_type_name(body) + ".";
    return Error::fields_invalid({{"non_field_errors", {std::move(message)}}});
}

std::optional<std::string> read_char_field(const boost::json::value& body, std::string_view name,
                                           std::size_t max_chars, std::vector<FieldError>& errors) {
    auto fail = [&](std::string message) -> std::optional<std::string> {
        errors.push_back({std::string(name), {std::move(message)}});
        return std::nullopt;
    };
    const auto* object = body.if_object();
    const boost::json::value* value = object ? object->if_contains(name) : nullptr;
    if (!value) return fail("This field is required.");
    std::string text;
    switch (value->kind()) {
        case boost::json::kind::null:
            return fail("This field may not be null.");
        case boost::json::kind::string:
            text = std::string(value->get_string());
            break;
        case boost::json::kind::int64:
            text = std::to_string(value->get_int64());
            break;
        case boost::json::kind::uint64:
            text = std::to_string(value->get_uint64());
            break;
        case boost::json::kind::double_: {
            char buf[32];
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value->get_double());
            text.assign(buf, end);
            break;
        }
        default:
            return fail("Not a valid string.");
    }
    text = std::string(text::trim(text));
    if (text.empty()) return fail("This field may not be blank.");
    if (domain::count_chars(text) > max_chars) {
        return fail("Ensure this field has no more than " + std::to_string(max_chars) +
                    " characters.");
    }
    return text;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    std::optional<std::string> found;
    for_each_pair(query, [&](const std::string& key, const std::string& value) {
        if (key != name) return true;
        found = value;
        return false;
    });
    return found;
}

http::Response json_response(int status, const boost::json::value& body) {
    http::Response response;
    response.status = status;
    response.body = boost::json::serialize(body);
    // Bodies may echo what a client sent (a path, a Content-Type) byte for byte; strict JSON
    // decoders refuse text that is not UTF-8.
    unicode::make_valid_utf8(response.body);
    return response;
}

}  // namespace chatgate::api

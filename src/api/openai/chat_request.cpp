#include "api/openai/chat_request.hpp"

#include "api/openai/json_checks.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace chatgate::api::openai {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxTools = 128;
constexpr std::size_t kMaxStops = 4;

std::string at(const std::string& param, std::size_t i) {
    return param + "[" + std::to_string(i) + "]";
}

bool valid_function_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

// ---- messages ----

/// What a message's content holds: its text, for the turn, and what the bound counts.
struct ContentRead {
    std::string text;
    std::int64_t images = 0;
};

/// One content part; `images` says whether image_url parts are allowed in this message.
Result<void> read_part(const json::value& value, const std::string& param, bool images,
                       ContentRead& out) {
    const auto* part = value.if_object();
    if (!part) return wrong_type(param, "an object", value);
    const json::value* type = member(*part, "type");
    if (!type) return missing(param + ".type");
    auto name = read_string(*type, param + ".type");
    if (!name) return name.error();
    if (*name == "text" || *name == "refusal") {
        const char* key = *name == "text" ? "text" : "refusal";
        const json::value* text = member(*part, key);
        if (!text) return missing(param + "." + key);
        if (!text->is_string()) return wrong_type(param + "." + key, "a string", *text);
        if (!out.text.empty()) out.text += '\n';
        out.text += text->get_string();
        return {};
    }
    if (*name == "image_url" && images) {
        const json::value* image = member(*part, "image_url");
        if (!image) return missing(param + ".image_url");
        const auto* fields = image->if_object();
        if (!fields) return wrong_type(param + ".image_url", "an object", *image);
        const json::value* url = member(*fields, "url");
        if (!url) return missing(param + ".image_url.url");
        if (auto ok = read_string(*url, param + ".image_url.url"); !ok) return ok.error();
        if (const json::value* detail = member(*fields, "detail")) {
            auto ok = read_string(*detail, param + ".image_url.detail", {"auto", "low", "high"});
            if (!ok) return ok.error();
        }
        ++out.images;
        return {};
    }
    if (*name == "image_url" || *name == "input_audio" || *name == "file") {
        return invalid(param + ".type", "Content parts of type '" + std::string(*name) +
                                            "' are not supported in this message.");
    }
    return not_one_of(param + ".type", *name, {"text", "image_url"});
}

Result<ContentRead> read_content(const json::value* content, const std::string& param,
                                 bool optional, bool images) {
    ContentRead out;
    if (!content) {
        if (optional) return out;
        return missing(param);
    }
    if (content->is_string()) {
        out.text = std::string(content->get_string());
        return out;
    }
    if (!content->is_array()) return wrong_type(param, "a string or an array", *content);
    const auto& parts = content->get_array();
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (auto ok = read_part(parts[i], at(param, i), images, out); !ok) return ok.error();
    }
    return out;
}

/// An assistant message's `tool_calls`, copied into `wire`; their bytes into `bytes`.
Result<void> read_tool_calls(const json::value& calls, const std::string& param, json::object& wire,
                             std::int64_t& bytes) {
    const auto* list = calls.if_array();
    if (!list) return wrong_type(param, "an array", calls);
    json::array out;
    for (std::size_t i = 0; i < list->size(); ++i) {
        std::string p = at(param, i);
        const auto* call = (*list)[i].if_object();
        if (!call) return wrong_type(p, "an object", (*list)[i]);
        const json::value* id = member(*call, "id");
        if (!id) return missing(p + ".id");
        if (auto ok = read_string(*id, p + ".id"); !ok) return ok.error();
        if (const json::value* type = member(*call, "type")) {
            if (auto ok = read_string(*type, p + ".type", {"function"}); !ok) return ok.error();
        }
        const json::value* function = member(*call, "function");
        if (!function) return missing(p + ".function");
        const auto* f = function->if_object();
        if (!f) return wrong_type(p + ".function", "an object", *function);
        const json::value* name = member(*f, "name");
        if (!name) return missing(p + ".function.name");
        if (auto ok = read_string(*name, p + ".function.name"); !ok) return ok.error();
        const json::value* arguments = member(*f, "arguments");
        if (!arguments) return missing(p + ".function.arguments");
        if (auto ok = read_string(*arguments, p + ".function.arguments"); !ok) return ok.error();
        bytes += static_cast<std::int64_t>(id->get_string().size() + name->get_string().size() +
                                           arguments->get_string().size());
        out.push_back(json::object{
            {"id", id->get_string()},
            {"type", "function"},
            {"function", {{"name", name->get_string()}, {"arguments", arguments->get_string()}}}});
    }
    wire["tool_calls"] = std::move(out);
    return {};
}

Result<domain::ChatRole> read_role(const json::value* role, const std::string& param) {
    if (!role) return missing(param);
    auto name = read_string(*role, param);
    if (!name) return name.error();
    if (*name == "user") return domain::ChatRole::user;
    if (*name == "assistant") return domain::ChatRole::assistant;
    if (*name == "tool") return domain::ChatRole::tool;
    // Developer messages are OpenAI's newer name for system messages; upstreams that predate
    // them all understand "system".
    if (*name == "system" || *name == "developer") return domain::ChatRole::system;
    if (*name == "function") {
        return invalid(param,
                       "Messages with role 'function' are deprecated and not supported: "
                       "use 'tool' messages.");
    }
    return not_one_of(param, *name, {"system", "developer", "user", "assistant", "tool"});
}

Result<domain::ChatTurn> read_message(const json::value& value, const std::string& param,
                                      const domain::ChatModel& model) {
    const auto* message = value.if_object();
    if (!message) return wrong_type(param, "an object", value);
    auto role = read_role(member(*message, "role"), param + ".role");
    if (!role) return role.error();
    const json::value* tool_calls = member(*message, "tool_calls");
    bool assistant = *role == domain::ChatRole::assistant;
    // An assistant turn may have no content (OpenAI allows it next to tool calls).
    auto content = read_content(member(*message, "content"), param + ".content", assistant,
                                *role == domain::ChatRole::user);
    if (!content) return content.error();
    if (content->images > 0 && !model.capabilities.vision) {
        return capability_missing(model, "vision (image inputs)", param + ".content");
    }

    domain::ChatTurn turn{*role, std::move(content->text), {}, 0, content->images};
    json::object wire{{"role", domain::to_string(*role)}};
    if (const json::value* c = member(*message, "content")) wire["content"] = *c;
    if (const json::value* name = member(*message, "name")) {
        if (auto ok = read_string(*name, param + ".name"); !ok) return ok.error();
        wire["name"] = *name;
        turn.extra_bytes += static_cast<std::int64_t>(name->get_string().size());
    }
    if (tool_calls && !assistant) {
        return invalid(param + ".tool_calls", "Only assistant messages can have tool_calls.");
    }
    if (tool_calls || *role == domain::ChatRole::tool) {
        if (!model.capabilities.tools) return capability_missing(model, "tools", param);
    }
    if (tool_calls) {
        auto ok = read_tool_calls(*tool_calls, param + ".tool_calls", wire, turn.extra_bytes);
        if (!ok) return ok.error();
    }
    if (assistant && !member(*message, "content") && !tool_calls) wire["content"] = "";
    if (*role == domain::ChatRole::tool) {
        const json::value* id = member(*message, "tool_call_id");
        if (!id) return missing(param + ".tool_call_id");
        if (auto ok = read_string(*id, param + ".tool_call_id"); !ok) return ok.error();
        wire["tool_call_id"] = *id;
        turn.extra_bytes += static_cast<std::int64_t>(id->get_string().size());
    }
    turn.wire = json::serialize(wire);
    return turn;
}

Result<std::vector<domain::ChatTurn>> read_messages(const json::object& body,
                                                    const domain::ChatModel& model) {
    const json::value* messages = member(body, "messages");
    if (!messages) return missing("messages");
    if (!messages->is_array()) return wrong_type("messages", "an array of objects", *messages);
    const auto& list = messages->get_array();
    if (list.empty()) {
        return invalid("messages",
                       "Invalid 'messages': empty array. Expected an array with minimum length "
                       "1, but got an empty array instead.");
    }
    std::vector<domain::ChatTurn> turns;
    turns.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        auto turn = read_message(list[i], at("messages", i), model);
        if (!turn) return turn.error();
        turns.push_back(std::move(*turn));
    }
    return turns;
}

/// A positive integer within `cap` (0: no cap), or 0 when absent.
Result<std::int64_t> read_max_tokens(const json::object& body, std::string_view name,
                                     std::int64_t cap) {
    const json::value* v = member(body, name);
    if (!v) return 0;
    std::string param(name);
    if (!v->is_int64() && !v->is_uint64()) return wrong_type(param, "an integer", *v);
    std::int64_t n = v->is_uint64() ? INT64_MAX : v->get_int64();
    if (n < 1) {
        return invalid(param,
                       "Invalid '" + param +
                           "': integer below minimum value. Expected a value >= 1, but got " +
                           std::to_string(n) + " instead.");
    }
    if (cap > 0 && n > cap) {
        return invalid(param, param + " is too large: " + std::to_string(n) +
                                  ". This model supports at most " + std::to_string(cap) +
                                  " completion tokens, whereas you provided " + std::to_string(n) +
                                  ".");
    }
    return n;
}

// ---- the passed fields ----

Result<void> check_stop(const json::value& v) {
    if (v.is_string()) return {};
    const auto* list = v.if_array();
    if (!list) return wrong_type("stop", "a string or an array of strings", v);
    if (list->size() > kMaxStops) {
        return invalid("stop",
                       "Invalid 'stop': array too long. Expected an array with maximum "
                       "length 4, but got an array with length " +
                           std::to_string(list->size()) + " instead.");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        if (auto ok = read_string((*list)[i], at("stop", i)); !ok) return ok.error();
    }
    return {};
}

Result<void> check_logit_bias(const json::value& v) {
    const auto* biases = v.if_object();
    if (!biases) return wrong_type("logit_bias", "an object", v);
    for (const auto& [token, bias] : *biases) {
        std::string param = "logit_bias." + std::string(token);
        bool digits = !token.empty() && std::all_of(token.begin(), token.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) return invalid(param, "Invalid key in 'logit_bias': expected a token id.");
        if (auto ok = read_number(bias, param, -100, 100); !ok) return ok.error();
    }
    return {};
}

Result<void> check_response_format(const json::value& v) {
    const auto* format = v.if_object();
    if (!format) return wrong_type("response_format", "an object", v);
    const json::value* type = member(*format, "type");
    if (!type) return missing("response_format.type");
    auto name = read_string(*type, "response_format.type", {"text", "json_object", "json_schema"});
    if (!name) return name.error();
    if (*name != "json_schema") return {};
    const json::value* schema = member(*format, "json_schema");
    if (!schema) return missing("response_format.json_schema");
    const auto* fields = schema->if_object();
    if (!fields) return wrong_type("response_format.json_schema", "an object", *schema);
    const json::value* schema_name = member(*fields, "name");
    if (!schema_name) return missing("response_format.json_schema.name");
    auto text = read_string(*schema_name, "response_format.json_schema.name");
    if (!text) return text.error();
    if (!valid_function_name(*text)) {
        return invalid("response_format.json_schema.name",
                       "Invalid 'response_format.json_schema.name': letters, digits, '_' and "
                       "'-' only, at most 64.");
    }
    if (const json::value* body = member(*fields, "schema"); body && !body->is_object()) {
        return wrong_type("response_format.json_schema.schema", "an object", *body);
    }
    if (const json::value* strict = member(*fields, "strict"); strict && !strict->is_bool()) {
        return wrong_type("response_format.json_schema.strict", "a boolean", *strict);
    }
    return {};
}

Result<void> check_tool_choice(const json::value& v, const json::value* tools) {
    if (!tools) {
        return invalid("tool_choice",
                       "Invalid value for 'tool_choice': 'tool_choice' is only allowed when "
                       "'tools' are specified.");
    }
    if (v.is_string()) {
        auto ok = read_string(v, "tool_choice", {"none", "auto", "required"});
        return ok ? Result<void>{} : Result<void>{ok.error()};
    }
    const auto* choice = v.if_object();
    if (!choice) return wrong_type("tool_choice", "a string or an object", v);
    const json::value* type = member(*choice, "type");
    if (!type) return missing("tool_choice.type");
    if (auto ok = read_string(*type, "tool_choice.type", {"function"}); !ok) return ok.error();
    const json::value* function = member(*choice, "function");
    const auto* f = function ? function->if_object() : nullptr;
    const json::value* name = f ? member(*f, "name") : nullptr;
    if (!name) return missing("tool_choice.function.name");
    auto wanted = read_string(*name, "tool_choice.function.name");
    if (!wanted) return wanted.error();
    for (const auto& tool : tools->get_array()) {
        const auto& fn = tool.get_object().at("function").get_object();
        if (fn.at("name").get_string() == *wanted) return {};
    }
    return invalid("tool_choice.function.name", "Invalid 'tool_choice': no tool named '" +
                                                    std::string(*wanted) + "' in 'tools'.");
}

/// Fields refused with their reason: chatgate cannot honour them for its users.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kRefused{{
    {"functions", "'functions' is deprecated: use 'tools'."},
    {"function_call", "'function_call' is deprecated: use 'tool_choice'."},
    {"audio", "Audio output is not supported."},
    {"web_search_options", "Web search is not offered."},
    {"metadata", "Stored completions are not offered, so 'metadata' has no use."},
    {"logprobs", "Log probabilities are not relayed."},
    {"top_logprobs", "Log probabilities are not relayed."},
    {"store", "Stored completions are not offered ('store' may only be false)."},
}};

/// Copies every passed field into `options` after checking it; refuses the others.
Result<void> read_options(const json::object& body, json::object& options) {
    const json::value* tools = member(body, "tools");
    // Before tool_choice, which names one of them.
    if (tools) {
        if (auto ok = check_tools(*tools, "tools"); !ok) return ok.error();
    }
    for (const auto& [key, value] : body) {
        if (value.is_null()) continue;
        std::string name(key);
        Result<void> ok;
        if (name == "model" || name == "messages" || name == "n" || name == "stream" ||
            name == "stream_options" || name == "max_tokens" || name == "max_completion_tokens") {
            continue;  // read by the caller
        } else if (name == "temperature") {
            if (auto n = read_number(value, name, 0, 2); !n) ok = n.error();
        } else if (name == "top_p") {
            if (auto n = read_number(value, name, 0, 1); !n) ok = n.error();
        } else if (name == "presence_penalty" || name == "frequency_penalty") {
            if (auto n = read_number(value, name, -2, 2); !n) ok = n.error();
        } else if (name == "seed") {
            if (auto n = read_integer(value, name, INT64_MIN, INT64_MAX); !n) ok = n.error();
        } else if (name == "stop") {
            ok = check_stop(value);
        } else if (name == "logit_bias") {
            ok = check_logit_bias(value);
        } else if (name == "user" || name == "prompt_cache_key" || name == "safety_identifier") {
            if (auto s = read_string(value, name); !s) ok = s.error();
        } else if (name == "response_format") {
            ok = check_response_format(value);
        } else if (name == "tools") {
            // checked above
        } else if (name == "tool_choice") {
            ok = check_tool_choice(value, tools);
        } else if (name == "parallel_tool_calls") {
            if (!value.is_bool())
                ok = wrong_type(name, "a boolean", value);
            else if (!tools)
                ok = invalid(name,
                             "'parallel_tool_calls' is only allowed when 'tools' are specified.");
        } else if (name == "reasoning_effort") {
            auto s = read_string(value, name, {"none", "minimal", "low", "medium", "high"});
            if (!s) ok = s.error();
        } else if (name == "verbosity") {
            if (auto s = read_string(value, name, {"low", "medium", "high"}); !s) ok = s.error();
        } else if (name == "service_tier") {
            // Other tiers change what the operator pays per token, which prices do not follow.
            if (auto s = read_string(value, name, {"auto", "default"}); !s) ok = s.error();
        } else if (name == "prediction") {
            if (!value.is_object()) ok = wrong_type(name, "an object", value);
        } else if (name == "modalities") {
            const auto* list = value.if_array();
            bool text_only =
                list && std::all_of(list->begin(), list->end(), [](const json::value& m) {
                    return m.is_string() && m.get_string() == "text";
                });
            if (!text_only)
                ok = invalid(name, "Only the 'text' modality is supported.");
            else
                continue;  // the default anyway
        } else {
            auto refused = std::find_if(kRefused.begin(), kRefused.end(),
                                        [&](const auto& entry) { return entry.first == name; });
            bool harmless =
                (name == "logprobs" || name == "store") && value.is_bool() && !value.get_bool();
            if (harmless) continue;
            if (refused != kRefused.end()) return invalid(name, std::string(refused->second));
            return invalid(name, "Unrecognized request argument supplied: " + name);
        }
        if (!ok) return ok.error();
        options[key] = value;
    }
    return {};
}

}  // namespace

Error capability_missing(const domain::ChatModel& model, std::string_view capability,
                         std::string param) {
    std::string message =
        "The model `" + model.id + "` does not support " + std::string(capability) + ".";
    return invalid(std::move(param), std::move(message));
}

Result<void> check_tools(const json::value& tools, const std::string& param) {
    const auto* list = tools.if_array();
    if (!list) return wrong_type(param, "an array", tools);
    if (list->size() > kMaxTools) {
        return invalid(param, "Invalid '" + param + "': at most 128 tools.");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        std::string p = at(param, i);
        const auto* tool = (*list)[i].if_object();
        if (!tool) return wrong_type(p, "an object", (*list)[i]);
        const json::value* type = member(*tool, "type");
        if (!type) return missing(p + ".type");
        if (auto ok = read_string(*type, p + ".type", {"function"}); !ok) return ok.error();
        const json::value* function = member(*tool, "function");
        if (!function) return missing(p + ".function");
        const auto* f = function->if_object();
        if (!f) return wrong_type(p + ".function", "an object", *function);
        const json::value* name = member(*f, "name");
        if (!name) return missing(p + ".function.name");
        auto text = read_string(*name, p + ".function.name");
        if (!text) return text.error();
        if (!valid_function_name(*text)) {
            return invalid(
                p + ".function.name",
                "Invalid '" + p +
                    ".function.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.");
        }
        if (const json::value* d = member(*f, "description"); d && !d->is_string()) {
            return wrong_type(p + ".function.description", "a string", *d);
        }
        if (const json::value* params = member(*f, "parameters"); params && !params->is_object()) {
            return wrong_type(p + ".function.parameters", "an object", *params);
        }
        if (const json::value* strict = member(*f, "strict"); strict && !strict->is_bool()) {
            return wrong_type(p + ".function.strict", "a boolean", *strict);
        }
    }
    return {};
}

Result<ChatCompletionRequest> parse_chat_completion_request(const json::value& body,
                                                            const domain::ModelCatalog& models) {
    auto checked = body_object(body);
    if (!checked) return checked.error();
    const json::object* object = *checked;
    ChatCompletionRequest out;

    const json::value* model = member(*object, "model");
    if (!model) return invalid("model", "you must provide a model parameter");
    if (!model->is_string()) return wrong_type("model", "a string", *model);
    out.model = models.find(model->get_string());
    if (!out.model) {
        std::string message = "The model `" + std::string(model->get_string()) +
                              "` does not exist or you do not have access to it.";
        return Error{ErrorCode::not_found, message, {{"model", {message}}}};
    }
    if (!out.model->capabilities.chat) {
        return capability_missing(*out.model, "chat completions", "model");
    }

    auto turns = read_messages(*object, *out.model);
    if (!turns) return turns.error();
    out.turns = std::move(*turns);

    if (const json::value* n = member(*object, "n")) {
        if (!n->is_int64() && !n->is_uint64()) return wrong_type("n", "an integer", *n);
        if (!n->is_int64() || n->get_int64() != 1) {
            return invalid("n", "Only one choice per request is supported: n must be 1.");
        }
    }

    std::int64_t cap = out.model->max_completion_tokens;
    auto max_completion = read_max_tokens(*object, "max_completion_tokens", cap);
    if (!max_completion) return max_completion.error();
    auto max_tokens = read_max_tokens(*object, "max_tokens", cap);
    if (!max_tokens) return max_tokens.error();
    // max_tokens is the deprecated spelling; the newer field wins when both are given.
    out.max_completion_tokens = *max_completion > 0 ? *max_completion
                                : *max_tokens > 0   ? *max_tokens
                                                    : cap;

    if (const json::value* stream = member(*object, "stream")) {
        if (!stream->is_bool()) return wrong_type("stream", "a boolean", *stream);
        out.stream = stream->get_bool();
    }
    if (const json::value* options = member(*object, "stream_options")) {
        if (!out.stream) {
            return invalid("stream_options",
                           "The 'stream_options' parameter is only allowed when 'stream' is "
                           "enabled.");
        }
        const auto* fields = options->if_object();
        if (!fields) return wrong_type("stream_options", "an object", *options);
        if (const json::value* usage = member(*fields, "include_usage")) {
            if (!usage->is_bool()) {
                return wrong_type("stream_options.include_usage", "a boolean", *usage);
            }
            out.include_usage = usage->get_bool();
        }
    }

    json::object options;
    if (auto ok = read_options(*object, options); !ok) return ok.error();
    if (const json::value* tools = member(*object, "tools");
        tools && !tools->get_array().empty() && !out.model->capabilities.tools) {
        return capability_missing(*out.model, "tools", "tools");
    }
    if (!options.empty()) out.options = json::serialize(options);
    return out;
}

}  // namespace chatgate::api::openai

#include "config/model_config.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace chatgate {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxTokens = 10'000'000;
constexpr std::int64_t kMaxPrice = 1'000'000'000'000;
constexpr std::int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxKeyBytes = 4096;

/// Reads one model object, remembering the key path for messages.
class Reader {
public:
    Reader(std::string_view origin, std::string path) : origin_(origin), path_(std::move(path)) {}

    Error bad(std::string_view key, std::string_view why) const {
        std::string message = "configuration key '";
        message.append(path_);
        if (!key.empty()) message.append(".").append(key);
        message.append("' from ").append(origin_).append(": ").append(why);
        return Error{ErrorCode::invalid_argument, std::move(message), {}};
    }

    Result<void> check_keys(const json::object& object,
                            std::initializer_list<std::string_view> known) const {
        for (const auto& [key, value] : object) {
            bool found = false;
            for (auto k : known) found = found || k == key;
            if (!found) return bad(key, "unknown key");
        }
        return {};
    }

    Result<void> string(const json::object& object, std::string_view key, std::string& out) const {
        auto it = object.find(key);
        if (it == object.end()) return {};
        if (!it->value().is_string()) return bad(key, "expected a string");
        out = std::string(it->value().get_string());
        return {};
    }

    Result<void> integer(const json::object& object, std::string_view key, std::int64_t& out,
                         std::int64_t min, std::int64_t max) const {
        auto it = object.find(key);
        if (it == object.end()) return {};
        const json::value& v = it->value();
        std::int64_t n = 0;
        if (v.is_int64()) {
            n = v.get_int64();
        } else if (v.is_uint64() && v.get_uint64() <= INT64_MAX) {
            n = static_cast<std::int64_t>(v.get_uint64());
        } else {
            return bad(key, "expected an integer");
        }
        if (n < min || n > max) {
            return bad(key,
                       "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        out = n;
        return {};
    }

    Result<const json::object*> object(const json::object& parent, std::string_view key) const {
        auto it = parent.find(key);
        if (it == parent.end()) return nullptr;
        if (!it->value().is_object()) return bad(key, "expected an object");
        return &it->value().get_object();
    }

    Reader child(std::string_view key) const {
        std::string path = path_;
        path.append(".").append(key);
        return Reader(origin_, std::move(path));
    }

private:
    std::string_view origin_;
    std::string path_;
};

Result<std::string> read_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{ErrorCode::invalid_argument, "cannot read the file", {}};
    std::string key(kMaxKeyBytes + 1, '\0');
    in.read(key.data(), static_cast<std::streamsize>(key.size()));
    key.resize(static_cast<std::size_t>(in.gcount()));
    if (key.size() > kMaxKeyBytes) return Error{ErrorCode::invalid_argument, "is too large", {}};
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    if (key.empty()) return Error{ErrorCode::invalid_argument, "is empty", {}};
    return key;
}

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                  c == ':' || c == '/';
        if (!ok) return false;
    }
    return true;
}

Result<void> read_price(const Reader& r, const json::object& model, ModelPriceConfig& price) {
    auto object = r.object(model, "price");
    if (!object) return object.error();
    if (!*object) return {};
    Reader p = r.child("price");
    if (auto ok = p.check_keys(**object,
                               {"per_message", "per_1k_prompt_tokens", "per_1k_completion_tokens"});
        !ok)
        return ok;
    if (auto ok = p.integer(**object, "per_message", price.per_message, 0, kMaxPrice); !ok)
        return ok;
    if (auto ok =
            p.integer(**object, "per_1k_prompt_tokens", price.per_1k_prompt_tokens, 0, kMaxPrice);
        !ok)
        return ok;
    return p.integer(**object, "per_1k_completion_tokens", price.per_1k_completion_tokens, 0,
                     kMaxPrice);
}

Result<void> read_timeouts(const Reader& r, const json::object& model, ModelTimeouts& t) {
    auto object = r.object(model, "timeouts_ms");
    if (!object) return object.error();
    if (!*object) return {};
    Reader p = r.child("timeouts_ms");
    if (auto ok = p.check_keys(**object, {"connect", "first_byte", "idle", "total"}); !ok)
        return ok;
    for (auto [key, member] : {std::pair{"connect", &t.connect},
                               {"first_byte", &t.first_byte},
                               {"idle", &t.idle},
                               {"total", &t.total}}) {
        if (auto ok = p.integer(**object, key, *member, 1, kMaxTimeoutMs); !ok) return ok;
    }
    return {};
}

Result<void> resolve_api_key(const Reader& r, ModelConfig& model) {
    if (!model.api_key_env.empty() && !model.api_key_file.empty()) {
        return r.bad("api_key_env", "give api_key_env or api_key_file, not both");
    }
    if (!model.api_key_env.empty()) {
        const char* value = std::getenv(model.api_key_env.c_str());
        if (!value || !*value) {
            return r.bad("api_key_env",
                         "environment variable " + model.api_key_env + " is not set");
        }
        model.api_key = value;
    } else if (!model.api_key_file.empty()) {
        auto key = read_key_file(model.api_key_file);
        if (!key) return r.bad("api_key_file", key.error().message);
        model.api_key = std::move(*key);
    }
    for (char c : model.api_key) {
        if (static_cast<unsigned char>(c) < ' ' || c == '\x7f') {
            return r.bad(model.api_key_env.empty() ? "api_key_file" : "api_key_env",
                         "the key contains a control character");
        }
    }
    return {};
}

Result<void> read_capabilities(const Reader& r, const json::object& model,
                               ModelCapabilityConfig& out) {
    auto it = model.find("capabilities");
    if (it == model.end()) return {};
    const json::array* list = it->value().if_array();
    if (!list || list->empty()) {
        return r.bad("capabilities",
                     "expected a non-empty array of chat, tools, vision, embeddings");
    }
    out = {false, false, false, false};
    for (std::size_t i = 0; i < list->size(); ++i) {
        const json::value& item = (*list)[i];
        std::string_view name = item.is_string() ? std::string_view(item.get_string()) : "";
        bool* flag = name == "chat"         ? &out.chat
                     : name == "tools"      ? &out.tools
                     : name == "vision"     ? &out.vision
                     : name == "embeddings" ? &out.embeddings
                                            : nullptr;
        if (!flag) {
            return r.bad("capabilities[" + std::to_string(i) + "]",
                         "expected \"chat\", \"tools\", \"vision\" or \"embeddings\"");
        }
        *flag = true;
    }
    if ((out.tools || out.vision) && !out.chat) {
        return r.bad("capabilities", "tools and vision are capabilities of a chat model");
    }
    return {};
}

Result<ModelConfig> read_model(const Reader& r, const json::value& value,
                               std::int64_t default_per_message) {
    if (!value.is_object()) return r.bad("", "expected an object");
    const json::object& object = value.get_object();
    if (auto ok = r.check_keys(
            object, {"id", "provider", "base_url", "api_key_env", "api_key_file", "upstream_model",
                     "max_completion_tokens", "context_budget_chars", "price", "timeouts_ms",
                     "max_retries", "owned_by", "capabilities", "image_token_bound"});
        !ok)
        return ok.error();
    ModelConfig model;
    model.price.per_message = default_per_message;
    std::string provider = "builtin";
    for (auto [key, member] : {std::pair{"id", &model.id},
                               {"provider", &provider},
                               {"base_url", &model.base_url},
                               {"api_key_env", &model.api_key_env},
                               {"api_key_file", &model.api_key_file},
                               {"upstream_model", &model.upstream_model},
                               {"owned_by", &model.owned_by}}) {
        if (auto ok = r.string(object, key, *member); !ok) return ok.error();
    }
    if (!valid_id(model.id)) {
        return r.bad("id", "required: 1 to 128 letters, digits or - _ . : /");
    }
    if (provider == "builtin") {
        model.provider = ProviderKind::builtin;
    } else if (provider == "openai") {
        model.provider = ProviderKind::openai;
    } else if (provider == "anthropic") {
        model.provider = ProviderKind::anthropic;
    } else {
        return r.bad("provider", "expected \"builtin\", \"openai\" or \"anthropic\"");
    }
    if (auto ok =
            r.integer(object, "max_completion_tokens", model.max_completion_tokens, 0, kMaxTokens);
        !ok)
        return ok.error();
    if (auto ok =
            r.integer(object, "context_budget_chars", model.context_budget_chars, 0, 100'000'000);
        !ok)
        return ok.error();
    if (auto ok = r.integer(object, "max_retries", model.max_retries, 0, 10); !ok)
        return ok.error();
    if (auto ok = read_price(r, object, model.price); !ok) return ok.error();
    if (model.provider != ProviderKind::builtin) model.capabilities.tools = true;
    if (auto ok = read_capabilities(r, object, model.capabilities); !ok) return ok.error();
    if (model.provider == ProviderKind::builtin &&
        (model.capabilities.tools || model.capabilities.vision || model.capabilities.embeddings)) {
        return r.bad("capabilities", "the builtin model only chats");
    }
    if (auto ok = r.integer(object, "image_token_bound", model.image_token_bound, 1, kMaxTokens);
        !ok)
        return ok.error();
    if (auto ok = read_timeouts(r, object, model.timeouts_ms); !ok) return ok.error();

    if (model.price.per_1k_completion_tokens > 0 && model.max_completion_tokens == 0) {
        return r.bad("max_completion_tokens",
                     "must be > 0 when price.per_1k_completion_tokens is set (it bounds the "
                     "reservation)");
    }
    if (model.upstream_model.empty()) model.upstream_model = model.id;
    if (model.owned_by.empty()) {
        model.owned_by = model.provider == ProviderKind::openai      ? "openai"
                         : model.provider == ProviderKind::anthropic ? "anthropic"
                                                                     : "chatgate";
    }
    if (model.provider == ProviderKind::anthropic && model.capabilities.embeddings) {
        return r.bad("capabilities", "Anthropic has no embeddings");
    }
    if (model.provider != ProviderKind::builtin) {
        auto url = parse_base_url(model.base_url);
        if (!url) return r.bad("base_url", url.error().message);
        model.url = std::move(*url);
        if (auto ok = resolve_api_key(r, model); !ok) return ok.error();
    } else if (!model.base_url.empty() || !model.api_key_env.empty() ||
               !model.api_key_file.empty()) {
        return r.bad("base_url", "only an upstream model has a base_url or an API key");
    }
    return model;
}

}  // namespace

Result<std::vector<ModelConfig>> parse_models(std::string_view json_text, std::string_view origin,
                                              std::int64_t default_per_message) {
    Reader top(origin, "models");
    boost::system::error_code ec;
    json::value doc = json::parse(json_text, ec);
    if (ec) return top.bad("", "not valid JSON (" + ec.message() + ")");
    if (!doc.is_array() || doc.get_array().empty()) {
        return top.bad("", "expected a non-empty array of models");
    }
    std::vector<ModelConfig> models;
    std::set<std::string, std::less<>> ids;
    for (std::size_t i = 0; i < doc.get_array().size(); ++i) {
        Reader r(origin, "models[" + std::to_string(i) + "]");
        auto model = read_model(r, doc.get_array()[i], default_per_message);
        if (!model) return model.error();
        if (!ids.insert(model->id).second) return r.bad("id", "duplicate id " + model->id);
        if (i == 0 && !model->capabilities.chat) {
            return r.bad("capabilities", "the first model is the default chat model: it must chat");
        }
        models.push_back(std::move(*model));
    }
    return models;
}

std::vector<ModelConfig> default_models(std::int64_t per_message) {
    ModelConfig model;
    model.id = std::string(kBuiltinModelId);
    model.upstream_model = model.id;
    model.owned_by = "chatgate";
    model.price.per_message = per_message;
    return {std::move(model)};
}

namespace {

json::array capability_names(const ModelCapabilityConfig& c) {
    json::array out;
    if (c.chat) out.emplace_back("chat");
    if (c.tools) out.emplace_back("tools");
    if (c.vision) out.emplace_back("vision");
    if (c.embeddings) out.emplace_back("embeddings");
    return out;
}

}  // namespace

std::string describe_models(const std::vector<ModelConfig>& models) {
    json::array out;
    for (const auto& m : models) {
        json::object o{{"id", m.id},
                       {"provider", m.provider == ProviderKind::openai      ? "openai"
                                    : m.provider == ProviderKind::anthropic ? "anthropic"
                                                                            : "builtin"},
                       {"upstream_model", m.upstream_model},
                       {"owned_by", m.owned_by},
                       {"max_completion_tokens", m.max_completion_tokens},
                       {"context_budget_chars", m.context_budget_chars},
                       {"price",
                        {{"per_message", m.price.per_message},
                         {"per_1k_prompt_tokens", m.price.per_1k_prompt_tokens},
                         {"per_1k_completion_tokens", m.price.per_1k_completion_tokens}}},
                       {"timeouts_ms",
                        {{"connect", m.timeouts_ms.connect},
                         {"first_byte", m.timeouts_ms.first_byte},
                         {"idle", m.timeouts_ms.idle},
                         {"total", m.timeouts_ms.total}}},
                       {"max_retries", m.max_retries},
                       {"capabilities", capability_names(m.capabilities)},
                       {"image_token_bound", m.image_token_bound}};
        if (m.provider != ProviderKind::builtin) {
            o["base_url"] = m.base_url;
            o["api_key_env"] = m.api_key_env;
            o["api_key_file"] = m.api_key_file;
            o["api_key"] = m.api_key.empty() ? "" : "<redacted>";
        }
        out.push_back(std::move(o));
    }
    return json::serialize(out);
}

}  // namespace chatgate

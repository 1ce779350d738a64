#include "config/config.hpp"

#include "config/base_url.hpp"
#include "core/text.hpp"

#include <boost/json.hpp>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <variant>

namespace chatgate {
namespace {

using Member = std::variant<std::string Config::*, std::int64_t Config::*, bool Config::*>;

struct Knob {
    std::string_view key;
    Member member;
    std::int64_t min = 0;
    std::int64_t max = INT64_MAX;
    bool secret = false;
};

constexpr std::int64_t kYear = 366LL * 24 * 3600;

// The one list of configuration keys; `Config` holds their defaults.
const std::array kKnobs{
    Knob{"listen", &Config::listen},
    Knob{"data_dir", &Config::data_dir},
    Knob{"database_path", &Config::database_path},
    Knob{"database_url", &Config::database_url},
    Knob{"database_password_env", &Config::database_password_env},
    Knob{"database_password_file", &Config::database_password_file},
    Knob{"node_id", &Config::node_id},
    Knob{"node_lease_seconds", &Config::node_lease_seconds, 3, 3600},
    Knob{"io_threads", &Config::io_threads, 0, 256},
    Knob{"db_threads", &Config::db_threads, 0, 256},
    Knob{"hash_threads", &Config::hash_threads, 1, 64},
    Knob{"hash_queue_limit", &Config::hash_queue_limit, 1, 1'000'000},
    Knob{"password_hash_iterations", &Config::password_hash_iterations, 1, 64},
    Knob{"password_hash_memory_kib", &Config::password_hash_memory_kib, 8, 4 * 1024 * 1024},
    Knob{"log_level", &Config::log_level},
    Knob{"jwt_secret", &Config::jwt_secret, 0, INT64_MAX, true},
    Knob{"jwt_secret_file", &Config::jwt_secret_file},
    Knob{"access_token_lifetime_seconds", &Config::access_token_lifetime_seconds, 1, kYear},
    Knob{"refresh_token_lifetime_seconds", &Config::refresh_token_lifetime_seconds, 1, kYear},
    Knob{"idempotency_key_ttl_seconds", &Config::idempotency_key_ttl_seconds, 0, kYear},
    Knob{"session_check_enabled", &Config::session_check_enabled},
    Knob{"session_cache_ms", &Config::session_cache_ms, -1, 60'000},
    Knob{"metrics_listen", &Config::metrics_listen},
    Knob{"metrics_token", &Config::metrics_token, 0, INT64_MAX, true},
    Knob{"signup_grant_tokens", &Config::signup_grant_tokens, 0, 1'000'000'000'000},
    Knob{"chat_cost_tokens", &Config::chat_cost_tokens, 0, 1'000'000'000'000},
    Knob{"max_message_chars", &Config::max_message_chars, 1, 10'000'000},
    Knob{"stream_keepalive_ms", &Config::stream_keepalive_ms, 10, 3'600'000},
    Knob{"top_up_enabled", &Config::top_up_enabled},
    Knob{"top_up_max_per_request", &Config::top_up_max_per_request, 1, 1'000'000'000'000},
    Knob{"balance_cap", &Config::balance_cap, 1, 1'000'000'000'000'000},
    Knob{"api_keys_per_user", &Config::api_keys_per_user, 1, 100'000},
    Knob{"api_key_last_used_resolution_seconds", &Config::api_key_last_used_resolution_seconds, 0,
         86'400},
    Knob{"max_body_bytes", &Config::max_body_bytes, 1024, 1LL << 30},
    Knob{"max_header_bytes", &Config::max_header_bytes, 1024, 1LL << 20},
    Knob{"request_timeout_seconds", &Config::request_timeout_seconds, 1, 3600},
    Knob{"idle_timeout_seconds", &Config::idle_timeout_seconds, 1, 3600},
    Knob{"shutdown_grace_seconds", &Config::shutdown_grace_seconds, 0, 3600},
    Knob{"header_timeout_seconds", &Config::header_timeout_seconds, 1, 3600},
    Knob{"max_header_count", &Config::max_header_count, 1, 10'000},
    Knob{"max_url_bytes", &Config::max_url_bytes, 16, 1LL << 20},
    Knob{"max_json_depth", &Config::max_json_depth, 1, 512},
    Knob{"max_json_string_bytes", &Config::max_json_string_bytes, 1, 1LL << 30},
    Knob{"max_connections", &Config::max_connections, 1, 10'000'000},
    Knob{"max_connections_per_address", &Config::max_connections_per_address, 0, 10'000'000},
    Knob{"rate_limit_enabled", &Config::rate_limit_enabled},
    Knob{"rate_limits", &Config::rate_limits},
    Knob{"rate_limit_max_keys", &Config::rate_limit_max_keys, 64, 100'000'000},
    Knob{"shared_rate_limits", &Config::shared_rate_limits},
    Knob{"trusted_proxies", &Config::trusted_proxies},
    Knob{"cors_allowed_origins", &Config::cors_allowed_origins},
    Knob{"cors_allow_credentials", &Config::cors_allow_credentials},
    Knob{"cors_max_age_seconds", &Config::cors_max_age_seconds, 0, 86400},
    Knob{"public_url", &Config::public_url},
    Knob{"page_size", &Config::page_size, 1, 1000},
    Knob{"max_page_size", &Config::max_page_size, 1, 1000},
};

Error bad_key(std::string_view key, std::string_view origin, std::string_view why) {
    std::string message = "configuration key '";
    message.append(key).append("' from ").append(origin).append(": ").append(why);
    return Error{ErrorCode::invalid_argument, std::move(message), {}};
}

std::string env_name(std::string_view key) {
    std::string name = "CHATGATE_";
    for (char c : key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

Result<void> check_range(const Knob& knob, std::int64_t value, std::string_view origin) {
    if (value < knob.min || value > knob.max) {
        return bad_key(
            knob.key, origin,
            "must be between " + std::to_string(knob.min) + " and " + std::to_string(knob.max));
    }
    return {};
}

/// Applies a textual value (command line, environment).
Result<void> apply_text(Config& config, const Knob& knob, std::string_view text,
                        std::string_view origin) {
    if (auto str = std::get_if<std::string Config::*>(&knob.member)) {
        config.** str = std::string(text);
        return {};
    }
    if (auto flag = std::get_if<bool Config::*>(&knob.member)) {
        if (text == "true" || text == "1" || text == "yes" || text == "on") {
            config.** flag = true;
        } else if (text == "false" || text == "0" || text == "no" || text == "off") {
            config.** flag = false;
        } else {
            return bad_key(knob.key, origin, "expected true or false");
        }
        return {};
    }
    auto num = std::get<std::int64_t Config::*>(knob.member);
    auto value = text::parse_integer<std::int64_t>(text);
    if (!value) return bad_key(knob.key, origin, "expected an integer");
    if (auto r = check_range(knob, *value, origin); !r) return r;
    config.*num = *value;
    return {};
}

Result<void> apply_json(Config& config, const Knob& knob, const boost::json::value& value,
                        std::string_view origin) {
    if (auto str = std::get_if<std::string Config::*>(&knob.member)) {
        if (!value.is_string()) return bad_key(knob.key, origin, "expected a string");
        config.** str = std::string(value.get_string());
        return {};
    }
    if (auto flag = std::get_if<bool Config::*>(&knob.member)) {
        if (!value.is_bool()) return bad_key(knob.key, origin, "expected true or false");
        config.** flag = value.get_bool();
        return {};
    }
    auto num = std::get<std::int64_t Config::*>(knob.member);
    std::int64_t v = 0;
    if (value.is_int64()) {
        v = value.get_int64();
    } else if (value.is_uint64() && value.get_uint64() <= INT64_MAX) {
        v = static_cast<std::int64_t>(value.get_uint64());
    } else {
        return bad_key(knob.key, origin, "expected an integer");
    }
    if (auto r = check_range(knob, v, origin); !r) return r;
    config.*num = v;
    return {};
}

const Knob* find_knob(std::string_view key) {
    for (const auto& knob : kKnobs) {
        if (knob.key == key) return &knob;
    }
    return nullptr;
}

/// The `models` key is a JSON array, not a scalar knob; it is parsed once every other key is
/// known, since prices default to chat_cost_tokens.
constexpr std::string_view kModelsKey = "models";
/// `stripe` is a JSON object, read like `models`.
constexpr std::string_view kStripeKey = "stripe";

struct ModelsSource {
    std::string text;
    std::string origin;
};

Result<void> apply_file(Config& config, const std::string& path,
                        std::optional<ModelsSource>& models, std::optional<ModelsSource>& stripe) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return bad_key("config", path, "cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto doc = boost::json::parse(text.str(), ec);
    if (ec) return bad_key("config", path, "not valid JSON (" + ec.message() + ")");
    if (!doc.is_object()) return bad_key("config", path, "expected a JSON object");
    for (const auto& [key, value] : doc.get_object()) {
        if (key == kModelsKey) {
            models = ModelsSource{boost::json::serialize(value), path};
            continue;
        }
        if (key == kStripeKey) {
            stripe = ModelsSource{boost::json::serialize(value), path};
            continue;
        }
        const Knob* knob = find_knob(key);
        if (!knob) return bad_key(key, path, "unknown key");
        if (auto r = apply_json(config, *knob, value, path); !r) return r;
    }
    return {};
}

Result<void> check_address(std::string_view key, const std::string& address) {
    auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return bad_key(key, "the configuration", "expected HOST:PORT");
    }
    std::string_view port_text = std::string_view(address).substr(colon + 1);
    auto port = text::parse_integer<unsigned>(port_text);
    if (!port || *port > 65535) {
        return bad_key(key, "the configuration", "port must be a number from 0 to 65535");
    }
    return {};
}

std::string host_of(const std::string& address) {
    std::string host = address.substr(0, address.rfind(':'));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);  // [::1]:8000
    }
    return host;
}

std::uint16_t port_of(const std::string& address) {
    return static_cast<std::uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
}

Result<void> check_database(const Config& config) {
    const auto& url = config.database_url;
    if (!url.empty() && url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) {
        return bad_key("database_url", "the configuration",
                       "expected a postgresql:// URL, not " + masked_database_url(url));
    }
    if (url.empty() &&
        (!config.database_password_env.empty() || !config.database_password_file.empty())) {
        return bad_key("database_password_env", "the configuration",
                       "a database password needs database_url");
    }
    if (auto password = database_password(config); !password) return password.error();
    return {};
}

Result<void> validate(const Config& config) {
    if (auto r = check_address("listen", config.listen); !r) return r;
    if (!config.metrics_listen.empty()) {
        if (auto r = check_address("metrics_listen", config.metrics_listen); !r) return r;
    }
    if (!config.metrics_token.empty() && config.metrics_token.size() < 16) {
        return bad_key("metrics_token", "the configuration", "must be at least 16 bytes");
    }
    if (config.log_level != "debug" && config.log_level != "info" && config.log_level != "warn" &&
        config.log_level != "error") {
        return bad_key("log_level", "the configuration", "expected debug, info, warn or error");
    }
    if (!config.jwt_secret.empty() && config.jwt_secret.size() < 32) {
        return bad_key("jwt_secret", "the configuration", "must be at least 32 bytes");
    }
    if (config.page_size > config.max_page_size) {
        return bad_key("page_size", "the configuration", "must not exceed max_page_size");
    }
    if (config.data_dir.empty()) return bad_key("data_dir", "the configuration", "is empty");
    if (auto r = check_database(config); !r) return r;
    if (!config.public_url.empty()) {
        auto url = parse_base_url(config.public_url);
        if (!url) return bad_key("public_url", "the configuration", url.error().message);
    }
    return {};
}

}  // namespace

Result<std::optional<std::string>> database_password(const Config& config) {
    constexpr std::size_t kMaxPasswordBytes = 1024;
    const auto& env = config.database_password_env;
    const auto& file = config.database_password_file;
    if (!env.empty() && !file.empty()) {
        return bad_key("database_password_env", "the configuration",
                       "give database_password_env or database_password_file, not both");
    }
    if (!env.empty()) {
        const char* value = std::getenv(env.c_str());
        if (!value || !*value) {
            return bad_key("database_password_env", "the configuration",
                           "environment variable " + env + " is not set");
        }
        return std::optional<std::string>(value);
    }
    if (file.empty()) return std::optional<std::string>();
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        return bad_key("database_password_file", "the configuration", "cannot read " + file);
    }
    if ((st.st_mode & 077) != 0) {
        return bad_key("database_password_file", "the configuration",
                       file + " is readable by other users; chmod 600 it");
    }
    std::ifstream in(file, std::ios::binary);
    std::string password(kMaxPasswordBytes + 1, '\0');
    in.read(password.data(), static_cast<std::streamsize>(password.size()));
    if (!in && !in.eof()) {
        return bad_key("database_password_file", "the configuration", "cannot read " + file);
    }
    password.resize(static_cast<std::size_t>(in.gcount()));
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
        password.pop_back();
    }
    if (password.empty() || password.size() > kMaxPasswordBytes) {
        return bad_key("database_password_file", "the configuration",
                       file + " must hold a password of 1 to 1024 bytes");
    }
    return std::optional<std::string>(std::move(password));
}

std::string masked_database_url(std::string_view url) {
    std::string out(url);
    // URI form: scheme://user:password@host...
    if (auto scheme = out.find("://"); scheme != std::string::npos) {
        auto start = scheme + 3;
        auto at = out.find('@', start);
        auto slash = out.find('/', start);
        auto colon = out.find(':', start);
        if (at != std::string::npos && (slash == std::string::npos || at < slash) &&
            colon != std::string::npos && colon < at) {
            out.replace(colon + 1, at - colon - 1, "***");
        }
    }
    // A password=... parameter, in the query string.
    for (auto at = out.find("password="); at != std::string::npos;
         at = out.find("password=", at + 1)) {
        auto value = at + 9;
        auto end = out.find_first_of("& ", value);
        out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
    return out;
}

std::string Config::effective_database_path() const {
    if (!database_path.empty()) return database_path;
    return (std::filesystem::path(data_dir) / "chatgate.sqlite3").string();
}

std::int64_t Config::effective_session_cache_ms() const {
    if (session_cache_ms >= 0) return session_cache_ms;
    // Several nodes share a PostgreSQL database: a cached check would let a revocation made on
    // another node pass here for the cache's lifetime (docs/architecture.md, "Sessions").
    constexpr std::int64_t kSqliteDefault = 1000;
    return uses_postgresql() ? 0 : kSqliteDefault;
}

std::string Config::listen_host() const {
    return host_of(listen);
}

std::uint16_t Config::listen_port() const {
    return port_of(listen);
}

std::string Config::metrics_host() const {
    return host_of(metrics_listen);
}

std::uint16_t Config::metrics_port() const {
    return port_of(metrics_listen);
}

Result<Config> load_config(const ConfigSources& sources) {
    Config config;
    std::optional<ModelsSource> models;
    std::optional<ModelsSource> stripe;
    if (sources.file) {
        if (auto r = apply_file(config, *sources.file, models, stripe); !r) return r.error();
    }
    if (sources.use_environment) {
        for (const auto& knob : kKnobs) {
            std::string name = env_name(knob.key);
            if (const char* value = std::getenv(name.c_str())) {
                if (auto r = apply_text(config, knob, value, name); !r) return r.error();
            }
        }
        std::string name = env_name(kModelsKey);
        if (const char* value = std::getenv(name.c_str())) models = ModelsSource{value, name};
        std::string stripe_name = env_name(kStripeKey);
        if (const char* value = std::getenv(stripe_name.c_str())) {
            stripe = ModelsSource{value, stripe_name};
        }
    }
    for (const auto& [key, value] : sources.cli) {
        if (key == kModelsKey) {
            models = ModelsSource{value, "the command line"};
            continue;
        }
        if (key == kStripeKey) {
            stripe = ModelsSource{value, "the command line"};
            continue;
        }
        const Knob* knob = find_knob(key);
        if (!knob) return bad_key(key, "the command line", "unknown key");
        if (auto r = apply_text(config, *knob, value, "the command line"); !r) return r.error();
    }
    if (auto r = validate(config); !r) return r.error();
    if (models) {
        auto parsed = parse_models(models->text, models->origin, config.chat_cost_tokens);
        if (!parsed) return parsed.error();
        config.models = std::move(*parsed);
    } else {
        config.models = default_models(config.chat_cost_tokens);
    }
    if (stripe) {
        auto parsed = parse_stripe(stripe->text, stripe->origin);
        if (!parsed) return parsed.error();
        config.stripe = std::move(*parsed);
    }
    return config;
}

std::string describe(const Config& config) {
    boost::json::object out;
    for (const auto& knob : kKnobs) {
        std::visit(
            [&](auto member) {
                if (knob.secret) {
                    out[knob.key] =
                        (config.*member == decltype(config.*member){}) ? "" : "<redacted>";
                } else if (knob.key == "database_url") {
                    out[knob.key] = masked_database_url(config.database_url);
                } else {
                    out[knob.key] = config.*member;
                }
            },
            knob.member);
    }
    out[kModelsKey] = boost::json::parse(describe_models(config.models));
    out[kStripeKey] = boost::json::parse(describe_stripe(config.stripe));
    return boost::json::serialize(out);
}

}  // namespace chatgate

#include "config/stripe_config.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <set>

namespace chatgate {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxSecretBytes = 4096;
constexpr std::size_t kMaxPrices = 100;
constexpr std::int64_t kMaxTokens = 1'000'000'000'000;
constexpr std::int64_t kMaxTimeoutMs = 600'000;

class Problem {
public:
    explicit Problem(std::string_view origin) : origin_(origin) {}
    Error operator()(std::string_view key, std::string_view why) const {
        std::string message = "configuration key 'stripe";
        if (!key.empty()) message.append(".").append(key);
        message.append("' from ").append(origin_).append(": ").append(why);
        return Error{ErrorCode::invalid_argument, std::move(message), {}};
    }

private:
    std::string_view origin_;
};

Result<std::string> read_secret(const Problem& bad, std::string_view key, const std::string& env,
                                const std::string& file) {
    std::string env_key = std::string(key) + "_env";
    std::string file_key = std::string(key) + "_file";
    if (!env.empty() && !file.empty()) return bad(env_key, "give _env or _file, not both");
    std::string secret;
    if (!env.empty()) {
        const char* value = std::getenv(env.c_str());
        if (!value || !*value) return bad(env_key, "environment variable " + env + " is not set");
        secret = value;
    } else if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return bad(file_key, "cannot read the file");
        secret.assign(kMaxSecretBytes + 1, '\0');
        in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
        secret.resize(static_cast<std::size_t>(in.gcount()));
        if (secret.size() > kMaxSecretBytes) return bad(file_key, "is too large");
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
            secret.pop_back();
        }
    } else {
        return bad(env_key, "is required (or " + file_key + ")");
    }
    if (secret.empty()) return bad(env.empty() ? file_key : env_key, "is empty");
    for (char c : secret) {
        if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f') {
            return bad(env.empty() ? file_key : env_key, "contains a blank or control character");
        }
    }
    return secret;
}

/// `label`: the key's full path for messages (default: the key).
Result<void> read_string(const Problem& bad, const json::object& o, std::string_view key,
                         std::string& out, std::string_view label = {}) {
    auto it = o.find(key);
    if (it == o.end()) return {};
    if (!it->value().is_string()) return bad(label.empty() ? key : label, "expected a string");
    out = std::string(it->value().get_string());
    return {};
}

Result<void> read_integer(const Problem& bad, const json::object& o, std::string_view key,
                          std::int64_t& out, std::int64_t min, std::int64_t max,
                          std::string_view label = {}) {
    auto it = o.find(key);
    if (it == o.end()) return {};
    if (!it->value().is_int64() || it->value().get_int64() < min || it->value().get_int64() > max) {
        return bad(label.empty() ? key : label, "expected an integer from " + std::to_string(min) +
                                                    " to " + std::to_string(max));
    }
    out = it->value().get_int64();
    return {};
}

Result<void> read_prices(const Problem& bad, const json::object& o, StripeConfig& out) {
    auto it = o.find("prices");
    if (it == o.end() || !it->value().is_array() || it->value().get_array().empty()) {
        return bad("prices", "expected a non-empty array of {\"price\", \"tokens\"}");
    }
    const auto& rows = it->value().get_array();
    if (rows.size() > kMaxPrices) return bad("prices", "at most 100 prices");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::string key = "prices[" + std::to_string(i) + "]";
        if (!rows[i].is_object()) return bad(key, "expected an object");
        const auto& row = rows[i].get_object();
        for (const auto& [name, value] : row) {
            if (name != "price" && name != "tokens")
                return bad(key + "." + std::string(name), "unknown key");
        }
        StripePrice price;
        if (auto r = read_string(bad, row, "price", price.price, key + ".price"); !r) return r;
        if (price.price.empty() || price.price.size() > 255) {
            return bad(key + ".price", "expected a price id such as price_...");
        }
        if (auto r = read_integer(bad, row, "tokens", price.tokens, 1, kMaxTokens, key + ".tokens");
            !r)
            return r;
        if (price.tokens == 0) return bad(key + ".tokens", "is required");
        if (!seen.insert(price.price).second) return bad(key + ".price", "listed twice");
        out.prices.push_back(std::move(price));
    }
    return {};
}

Result<void> check_url(const Problem& bad, std::string_view key, const std::string& url) {
    if (url.empty()) return bad(key, "is required");
    auto parsed = parse_base_url(url.substr(0, url.find('?')));
    if (!parsed) return bad(key, parsed.error().message);
    return {};
}

}  // namespace

Result<StripeConfig> parse_stripe(std::string_view json_text, std::string_view origin) {
    Problem bad(origin);
    boost::system::error_code ec;
    auto doc = json::parse(json_text, ec);
    if (ec || !doc.is_object()) return bad("", "expected a JSON object");
    const auto& o = doc.get_object();
    for (const auto& [key, value] : o) {
        static const std::set<std::string_view> known = {"api_base",
                                                         "secret_key_env",
                                                         "secret_key_file",
                                                         "webhook_secret_env",
                                                         "webhook_secret_file",
                                                         "webhook_tolerance_seconds",
                                                         "prices",
                                                         "success_url",
                                                         "cancel_url",
                                                         "connect_timeout_ms",
                                                         "total_timeout_ms"};
        if (!known.contains(key)) return bad(key, "unknown key");
    }
    StripeConfig out;
    out.enabled = true;
    for (auto [key, member] : {std::pair{"api_base", &out.api_base},
                               {"secret_key_env", &out.secret_key_env},
                               {"secret_key_file", &out.secret_key_file},
                               {"webhook_secret_env", &out.webhook_secret_env},
                               {"webhook_secret_file", &out.webhook_secret_file},
                               {"success_url", &out.success_url},
                               {"cancel_url", &out.cancel_url}}) {
        if (auto r = read_string(bad, o, key, *member); !r) return r.error();
    }
    if (auto r = read_integer(bad, o, "webhook_tolerance_seconds", out.webhook_tolerance_seconds, 1,
                              86'400);
        !r)
        return r.error();
    if (auto r =
            read_integer(bad, o, "connect_timeout_ms", out.connect_timeout_ms, 1, kMaxTimeoutMs);
        !r)
        return r.error();
    if (auto r = read_integer(bad, o, "total_timeout_ms", out.total_timeout_ms, 1, kMaxTimeoutMs);
        !r)
        return r.error();
    auto url = parse_base_url(out.api_base);
    if (!url) return bad("api_base", url.error().message);
    out.url = std::move(*url);
    if (auto r = read_prices(bad, o, out); !r) return r.error();
    if (auto r = check_url(bad, "success_url", out.success_url); !r) return r.error();
    if (auto r = check_url(bad, "cancel_url", out.cancel_url); !r) return r.error();
    auto secret = read_secret(bad, "secret_key", out.secret_key_env, out.secret_key_file);
    if (!secret) return secret.error();
    out.secret_key = std::move(*secret);
    auto webhook =
        read_secret(bad, "webhook_secret", out.webhook_secret_env, out.webhook_secret_file);
    if (!webhook) return webhook.error();
    out.webhook_secret = std::move(*webhook);
    return out;
}

std::string describe_stripe(const StripeConfig& s) {
    if (!s.enabled) return "null";
    json::array prices;
    for (const auto& p : s.prices)
        prices.push_back(json::object{{"price", p.price}, {"tokens", p.tokens}});
    return json::serialize(json::object{{"api_base", s.api_base},
                                        {"secret_key_env", s.secret_key_env},
                                        {"secret_key_file", s.secret_key_file},
                                        {"webhook_secret_env", s.webhook_secret_env},
                                        {"webhook_secret_file", s.webhook_secret_file},
                                        {"webhook_tolerance_seconds", s.webhook_tolerance_seconds},
                                        {"prices", std::move(prices)},
                                        {"success_url", s.success_url},
                                        {"cancel_url", s.cancel_url},
                                        {"connect_timeout_ms", s.connect_timeout_ms},
                                        {"total_timeout_ms", s.total_timeout_ms}});
}

}  // namespace chatgate

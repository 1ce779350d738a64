#pragma once

#include "config/model_config.hpp"
#include "config/stripe_config.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chatgate {

/// Every knob chatgate has, with its default. Loaded by `load_config` from (highest precedence
/// first) the command line, `CHATGATE_<KEY>` environment variables, a JSON file, and these
/// defaults. Secrets (`jwt_secret`) have no default and are redacted in `describe`.
struct Config {
    // Network and process.
    std::string listen = "127.0.0.1:8000";  ///< HOST:PORT; port 0 picks a free port
    std::string data_dir = "./data";        ///< database and generated key live here
    std::string database_path;              ///< empty: DATA_DIR/chatgate.sqlite3
    /// PostgreSQL instead of SQLite: a libpq URL (`postgresql://user@host:port/db`,
    /// `postgresql:///db?host=/socket/dir`); empty: SQLite at database_path.
    std::string database_url;
    std::string database_password_env;   ///< name of the variable holding its password
    std::string database_password_file;  ///< or a private (0600) file holding it
    /// This node's name among the nodes sharing a database (stable across restarts, unique
    /// among them); empty: the host name and the data directory.
    std::string node_id;
    /// A node that has not renewed its lease for this long is taken for dead: the others
    /// refund its open reservations. Renewed every third of it.
    std::int64_t node_lease_seconds = 10;
    std::int64_t io_threads = 0;    ///< 0: one per core
    std::int64_t db_threads = 0;    ///< database readers; 0: max(1, cores / 2)
    std::int64_t hash_threads = 1;  ///< password hashing is slow; keep it off the rest
    /// Hashes waiting beyond this get 503; counted apart for logins from addresses with recent
    /// failed logins, which wait behind everybody else's.
    std::int64_t hash_queue_limit = 256;
    /// Argon2id for new password hashes (OWASP's recommendation: t=2, m=19 MiB, p=1). Older
    /// hashes verify by the parameters stored in them and are rehashed at the next login.
    std::int64_t password_hash_iterations = 2;
    std::int64_t password_hash_memory_kib = 19 * 1024;
    std::string log_level = "info";

    // Tokens (JWT).
    std::string jwt_secret;       ///< >= 32 bytes; empty: generated into DATA_DIR/jwt.key
    std::string jwt_secret_file;  ///< file holding the key (>= 32 bytes)
    std::int64_t access_token_lifetime_seconds = 30 * 60;
    std::int64_t refresh_token_lifetime_seconds = 7 * 24 * 60 * 60;

    // Sessions and idempotency.
    /// How long the first answer to an Idempotency-Key is replayed (0: never; for tests).
    std::int64_t idempotency_key_ttl_seconds = 24 * 60 * 60;
    /// Benchmark/testing knob, never for production: false skips the per-request check of
    /// access tokens against revoked sessions and deactivated users (logged as unsafe).
    bool session_check_enabled = true;
    /// How long a checked session's state is reused without a database read (0: every request
    /// reads). Revocations by this process take effect at once regardless; a direct database
    /// edit (deactivating a user), or another node's revocation, within this bound. -1: 1000 on
    /// SQLite, 0 on PostgreSQL (several nodes: every revocation seen at the next request).
    std::int64_t session_cache_ms = -1;

    // Metrics (GET /metrics, Prometheus's text format); off unless one of these is set.
    std::string metrics_listen;  ///< HOST:PORT of a listener serving only /metrics
    std::string metrics_token;   ///< >= 16 bytes: /metrics on the main listener, with this bearer

    // The money path.
    std::int64_t signup_grant_tokens = 4000;
    std::int64_t chat_cost_tokens = 100;
    std::int64_t max_message_chars = 10000;
    std::int64_t stream_keepalive_ms = 15000;  ///< ": ping" comments while an AI stream is silent
    bool top_up_enabled = true;
    std::int64_t top_up_max_per_request = 1'000'000;
    std::int64_t balance_cap = 1'000'000'000;

    // Operators.
    std::int64_t api_keys_per_user = 50;  ///< live (unrevoked) keys a user may hold
    /// How often a key's last_used_at is written at most (the rest of its uses cost no write).
    std::int64_t api_key_last_used_resolution_seconds = 60;

    // HTTP limits and deadlines.
    std::int64_t max_body_bytes = 1024 * 1024;
    std::int64_t max_header_bytes = 16 * 1024;
    std::int64_t request_timeout_seconds = 30;  ///< to read one request once it has started
    std::int64_t idle_timeout_seconds = 60;     ///< keep-alive wait for the next request
    std::int64_t shutdown_grace_seconds = 10;   ///< in-flight requests get this long to finish
    // Hostile input: limits on what one client may send or hold.
    std::int64_t header_timeout_seconds = 10;  ///< a request's whole header, from its first byte
    std::int64_t max_header_count = 100;       ///< header fields per request; more: 431
    std::int64_t max_url_bytes = 8192;         ///< request target length; longer: 414
    std::int64_t max_json_depth = 32;          ///< nesting of JSON bodies; deeper: 400
    std::int64_t max_json_string_bytes = 256 * 1024;  ///< any JSON string or key; longer: 400
    std::int64_t max_connections = 10000;  ///< open connections; more are closed at accept
    /// Open connections per client address; more are closed at accept. 0: no limit (behind a
    /// reverse proxy every client shares the proxy's address).
    std::int64_t max_connections_per_address = 256;

    // Rate limits, reverse proxies and CORS (api/rate_limits.hpp, api/cors.hpp).
    bool rate_limit_enabled = true;
    /// NAME=LIMIT/PERIOD pairs; a setting overrides only the names it mentions. Route classes
    /// (`rate_class` in api/routes.cpp) count per user on authenticated routes and per client
    /// address on anonymous ones; failed_login_* count only failed logins, failed_redeem_* only
    /// failed redemptions (a guesser must not enumerate codes).
    std::string rate_limits =
        "read=1200/1m,write=120/1m,pages=600/1m,register=20/1h,login=30/1m,refresh=60/1m,"
        "chat=60/1m,top_up=30/1m,failed_login_user=5/15m,failed_login_address=20/15m,"
        "redeem=30/1m,failed_redeem_user=5/1h,failed_redeem_address=20/1h,webhook=600/1m";
    std::int64_t rate_limit_max_keys = 100'000;  ///< limiter memory bound (least recent dropped)
    /// On PostgreSQL: the rate_limits names also counted in the database, one quota for all
    /// the nodes on it ("*": every one; empty: each node counts alone). All by default, so no
    /// client multiplies a quota by the number of nodes; leaving out `read` and `pages` (which
    /// only shed load on the node itself) saves a database round trip on the cheapest requests.
    /// No effect on SQLite (one process).
    std::string shared_rate_limits = "*";
    /// Addresses and CIDR blocks of reverse proxies whose X-Forwarded-For is believed.
    std::string trusted_proxies;
    std::string cors_allowed_origins;  ///< comma-separated exact origins or "*"; empty: off
    bool cors_allow_credentials = false;
    std::int64_t cors_max_age_seconds = 600;

    /// The URL clients reach chatgate at (`https://chat.example.com`), for absolute links in
    /// listings; empty: links are relative (`/api/transactions/?page=2`). Never the Host header.
    std::string public_url;

    // Listings.
    std::int64_t page_size = 20;
    std::int64_t max_page_size = 100;

    // AI models (`models`: a JSON array, also as text in CHATGATE_MODELS or --models); the
    // first is the default. Without the key: one builtin model priced at chat_cost_tokens.
    std::vector<ModelConfig> models;

    // Selling tokens through Stripe (`stripe`: a JSON object, also as text in CHATGATE_STRIPE or
    // --stripe); without it the payment routes answer 404.
    StripeConfig stripe;

    std::string effective_database_path() const;
    bool uses_postgresql() const { return !database_url.empty(); }
    std::int64_t effective_session_cache_ms() const;
    std::string listen_host() const;
    std::uint16_t listen_port() const;
    std::string metrics_host() const;  ///< of metrics_listen, when set
    std::uint16_t metrics_port() const;
};

/// Where configuration comes from. `cli` maps knob keys to their text values.
struct ConfigSources {
    std::optional<std::string> file;
    std::map<std::string, std::string> cli;
    bool use_environment = true;
};

/// Loads and validates. A bad or unknown key is an `invalid_argument` whose message names it.
Result<Config> load_config(const ConfigSources& sources);

/// The effective configuration as one JSON object, secrets replaced by "<redacted>".
std::string describe(const Config& config);

/// The PostgreSQL password from `database_password_env` or `database_password_file`; nullopt
/// when neither is set (the URL or libpq's own files may carry it). An error names the key.
Result<std::optional<std::string>> database_password(const Config& config);

/// `url` with any password in it replaced by "***", for logs and messages.
std::string masked_database_url(std::string_view url);

}  // namespace chatgate

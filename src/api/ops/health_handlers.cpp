#include "api/ops/health_handlers.hpp"

#include "api/wire/json_io.hpp"

namespace chatgate::api {

namespace json = boost::json;

boost::asio::awaitable<Result<http::Response>> get_healthz([[maybe_unused]] Services& services,
                                                           [[maybe_unused]] RequestContext& ctx) {
    co_return json_response(200, json::object{{"status", "ok"}});
}

boost::asio::awaitable<Result<http::Response>> get_readyz(Services& services,
                                                          [[maybe_unused]] RequestContext& ctx) {
    bool ready = false;
    try {
        ready = co_await services.db_pool.run([&] { return services.store.ping(); });
    } catch (const std::exception&) {
        ready = false;  // a failing database is exactly what readiness reports
    }
    co_return json_response(ready ? 200 : 503,
                            json::object{{"status", ready ? "ready" : "unavailable"}});
}

}  // namespace chatgate::api

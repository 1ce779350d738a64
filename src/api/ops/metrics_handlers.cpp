#include "api/ops/metrics_handlers.hpp"

#include "api/wire/error_mapping.hpp"
#include "observability/metrics.hpp"
#include "security/digest.hpp"

namespace chatgate::api {
namespace {

constexpr std::string_view kBearer = "Bearer ";

http::Response exposition() {
    http::Response response;
    response.content_type = std::string(metrics::kContentType);
    response.headers.emplace_back("Cache-Control", "no-store");
    response.body = metrics::registry().render();
    response.route = "/metrics";
    return response;
}

std::string_view bearer_of(const http::Request& request) {
    for (const auto& header : request.headers) {
        if (!http::iequals(header.name, "Authorization")) continue;
        std::string_view value = header.value;
        if (value.size() > kBearer.size() &&
            http::iequals(value.substr(0, kBearer.size()), kBearer)) {
            return value.substr(kBearer.size());
        }
    }
    return {};
}

}  // namespace

boost::asio::awaitable<Result<http::Response>> get_metrics(Services& services,
                                                           RequestContext& ctx) {
    const std::string& token = services.settings.metrics_token;
    if (token.empty()) co_return Error{ErrorCode::not_found, "Not found.", {}};
    std::string_view presented = bearer_of(ctx.request);
    if (presented.empty()) {
        co_return Error{
            ErrorCode::not_authenticated, "Authentication credentials were not provided.", {}};
    }
    if (!security::same_secret(presented, token)) {
        co_return Error{
            ErrorCode::permission_denied, "You do not have permission to perform this action.", {}};
    }
    co_return exposition();
}

boost::asio::awaitable<http::Response> MetricsEndpoint::handle(const http::Request& request) {
    if (request.path == "/metrics" &&
        (request.method == http::Method::get || request.method == http::Method::head)) {
        co_return exposition();
    }
    http::Response response =
        error_response({ErrorCode::not_found, "Not found.", {}}, "", ErrorStyle::seed);
    response.route = "404";
    co_return response;
}

http::Response MetricsEndpoint::transport_error([[maybe_unused]] http::TransportError error,
                                                [[maybe_unused]] const http::Request& partial) {
    http::Response response = error_response(
        {ErrorCode::malformed_request, "Malformed request.", {}}, "", ErrorStyle::seed);
    response.close = true;
    response.route = "transport";
    return response;
}

}  // namespace chatgate::api

// One call to Stripe's API: resolve, connect, TLS, write the form, read the JSON answer, all
// under the connect and total deadlines.

#include "payments/stripe_client.hpp"

#include "observability/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

namespace chatgate::payments {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr std::size_t kLoggedBody = 500;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Response = bhttp::response<bhttp::string_body>;

Error unavailable() {
    return {ErrorCode::upstream_unavailable, "The payment provider is not available.", {}};
}

Error timed_out() {
    return {ErrorCode::upstream_timeout, "The payment provider did not answer in time.", {}};
}

void append_encoded(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 15];
        }
    }
}

void add_field(std::string& form, std::string_view key, std::string_view value) {
    if (!form.empty()) form += '&';
    append_encoded(form, key);
    form += '=';
    append_encoded(form, value);
}

milliseconds left(SteadyClock::time_point end) {
    return std::max(milliseconds(1),
                    std::chrono::duration_cast<milliseconds>(end - SteadyClock::now()));
}

template <class Stream>
net::awaitable<boost::system::error_code> exchange(Stream& stream,
                                                   bhttp::request<bhttp::string_body>& request,
                                                   Response& response) {
    auto [write_ec, written] = co_await bhttp::async_write(stream, request, kUseTuple);
    if (write_ec) co_return write_ec;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kBodyLimit);
    auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
    if (!read_ec) response = parser.release();
    co_return read_ec;
}

}  // namespace

std::string checkout_form(const domain::CheckoutRequest& request, const std::string& success_url,
                          const std::string& cancel_url) {
    std::string form;
    std::string user = std::to_string(request.user);
    add_field(form, "mode", "payment");
    add_field(form, "line_items[0][price]", request.price_id);
    add_field(form, "line_items[0][quantity]", "1");
    add_field(form, "client_reference_id", user);
    add_field(form, "metadata[chatgate_user]", user);
    add_field(form, "success_url", success_url);
    add_field(form, "cancel_url", cancel_url);
    return form;
}

struct StripeCheckoutClient::Impl {
    explicit Impl(StripeClientSettings s) : settings(std::move(s)), tls(ssl::context::tls_client) {
        tls.set_default_verify_paths();
        tls.set_verify_mode(ssl::verify_peer);
        SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    }

    /// Resolves and connects within the connect deadline; nothing on failure (logged).
    net::awaitable<bool> connect(beast::tcp_stream& tcp, SteadyClock::time_point end) {
        auto executor = co_await net::this_coro::executor;
        milliseconds deadline = std::min(milliseconds(settings.connect_timeout_ms), left(end));
        tcp::resolver resolver(executor);
        net::steady_timer timer(executor, deadline);
        timer.async_wait([&resolver](boost::system::error_code ec) {
            if (!ec) resolver.cancel();
        });
        auto [resolve_ec, results] = co_await resolver.async_resolve(
            settings.url.host, std::to_string(settings.url.port), kUseTuple);
        timer.cancel();
        if (resolve_ec) {
            log::warn("payment provider: resolve failed", {{"error", resolve_ec.message()}});
            co_return false;
        }
        tcp.expires_after(deadline);
        auto [connect_ec, endpoint] = co_await tcp.async_connect(results, kUseTuple);
        if (connect_ec) {
            log::warn("payment provider: connect failed", {{"error", connect_ec.message()}});
            co_return false;
        }
        co_return true;
    }

    StripeClientSettings settings;
    ssl::context tls;
};

StripeCheckoutClient::StripeCheckoutClient(StripeClientSettings settings)
    : impl_(std::make_unique<Impl>(std::move(settings))) {}

StripeCheckoutClient::~StripeCheckoutClient() = default;

net::awaitable<Result<domain::CheckoutSession>> StripeCheckoutClient::create(
    const domain::CheckoutRequest& request) {
    const auto& s = impl_->settings;
    auto end = SteadyClock::now() + milliseconds(s.total_timeout_ms);
    auto executor = co_await net::this_coro::executor;
    TlsStream stream(executor, impl_->tls);
    beast::tcp_stream& tcp = stream.next_layer();
    if (!co_await impl_->connect(tcp, end)) {
        co_return SteadyClock::now() >= end ? timed_out() : unavailable();
    }
    bhttp::request<bhttp::string_body> http_request{bhttp::verb::post,
                                                    s.url.target("/v1/checkout/sessions"), 11};
    http_request.set(bhttp::field::host, s.url.host_header());
    http_request.set(bhttp::field::authorization, "Bearer " + s.secret_key);
    http_request.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    http_request.set(bhttp::field::connection, "close");
    http_request.set("Idempotency-Key", request.idempotency_key);
    http_request.body() = checkout_form(request, s.success_url, s.cancel_url);
    http_request.prepare_payload();
    Response response;
    boost::system::error_code ec;
    tcp.expires_after(left(end));
    if (s.url.tls) {
        SSL_set_tlsext_host_name(stream.native_handle(), s.url.host.c_str());
        stream.set_verify_callback(ssl::host_name_verification(s.url.host));
        auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, kUseTuple);
        ec = handshake_ec;
        if (!ec) ec = co_await exchange(stream, http_request, response);
    } else {
        ec = co_await exchange(tcp, http_request, response);
    }
    if (ec) {
        log::warn("payment provider: exchange failed", {{"error", ec.message()}});
        co_return ec == beast::error::timeout ? timed_out() : unavailable();
    }
    std::string_view body = response.body();
    if (response.result_int() != 200) {
        log::warn("payment provider refused the checkout",
                  {{"status", std::to_string(response.result_int())},
                   {"body", std::string(body.substr(0, kLoggedBody))}});
        co_return unavailable();
    }
    boost::system::error_code parse_ec;
    auto doc = boost::json::parse(body, parse_ec);
    const boost::json::object* object = parse_ec ? nullptr : doc.if_object();
    const boost::json::value* id = object ? object->if_contains("id") : nullptr;
    const boost::json::value* url = object ? object->if_contains("url") : nullptr;
    if (!id || !id->is_string() || !url || !url->is_string() || id->get_string().empty()) {
        log::warn("payment provider: unreadable checkout answer", {});
        co_return unavailable();
    }
    co_return domain::CheckoutSession{std::string(id->get_string()),
                                      std::string(url->get_string())};
}

}  // namespace chatgate::payments

#include "ai/openai_provider.hpp"

#include "ai/upstream_codec.hpp"
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

#include <array>
#include <mutex>
#include <random>
#include <sys/socket.h>
#include <unordered_map>

namespace chatgate::ai {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kReadBufferLimit = 64 * 1024;  ///< beast's read buffer per connection
constexpr std::size_t kChunkBytes = 16 * 1024;       ///< one read of a body, at most
constexpr std::size_t kErrorBodyLimit = 16 * 1024;   ///< of an error answer, kept for the log
constexpr auto kMaxIdleAge = std::chrono::seconds(15);

/// One kept-alive connection to the upstream. Plain HTTP uses the TCP layer of the TLS stream
/// directly, so both kinds share one type.
struct Connection {
    Connection(const net::any_io_executor& executor, ssl::context& tls_context, bool use_tls)
        : stream(executor, tls_context), tls(use_tls), buffer(kReadBufferLimit) {}

    beast::tcp_stream& tcp() { return stream.next_layer(); }

    /// True when the peer closed or sent something while the connection sat idle: either way it
    /// cannot carry another exchange. A non-blocking peek, so it costs one system call.
    bool looks_closed() {
        char byte = 0;
        ssize_t n = ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }

    beast::ssl_stream<beast::tcp_stream> stream;
    bool tls;
    beast::flat_buffer buffer;
    Clock::time_point idle_since{};
    bool reused = false;
};

/// Calls `f` with the stream to talk through: the TLS stream or the bare TCP stream.
template <class F>
auto on_stream(Connection& connection, F&& f) {
    if (connection.tls) return f(connection.stream);
    return f(connection.tcp());
}

using Parser = http::response_parser<http::buffer_body>;

/// A request sent and its answer's header read.
struct Exchange {
    std::unique_ptr<Connection> connection;
    std::unique_ptr<Parser> parser;
};

enum class Failure { none, connect, timeout, status, broken };

/// How one attempt failed, with what the retry loop and the log need.
struct AttemptFailure {
    Failure kind = Failure::none;
    unsigned status = 0;
    std::optional<std::chrono::seconds> retry_after;
    std::string detail;  ///< for the log only
};

milliseconds remaining(Clock::time_point end) {
    return std::chrono::duration_cast<milliseconds>(end - Clock::now());
}

milliseconds phase(std::int64_t phase_ms, Clock::time_point end) {
    return std::max(milliseconds(1), std::min(milliseconds(phase_ms), remaining(end)));
}

double unit_random() {
    thread_local std::minstd_rand engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

bool is_timeout(const boost::system::error_code& ec) {
    return ec == beast::error::timeout;
}

}  // namespace

struct OpenAiProvider::Impl {
    explicit Impl(OpenAiSettings s)
        : settings(std::move(s)), tls_context(ssl::context::tls_client) {
        tls_context.set_default_verify_paths();
        tls_context.set_verify_mode(ssl::verify_peer);
        SSL_CTX_set_min_proto_version(tls_context.native_handle(), TLS1_2_VERSION);
        target = settings.url.target("/chat/completions");
        host_header = settings.url.host_header();
        if (!settings.api_key.empty()) authorization = "Bearer " + settings.api_key;
    }

    // ---- the idle pool: per execution context, so a connection stays on its I/O thread ----

    std::unique_ptr<Connection> take_idle(net::execution_context* context) {
        std::lock_guard lock(mutex);
        auto it = idle.find(context);
        if (it == idle.end()) return nullptr;
        auto& list = it->second;
        while (!list.empty()) {
            std::unique_ptr<Connection> connection = std::move(list.back());
            list.pop_back();
            if (Clock::now() - connection->idle_since < kMaxIdleAge &&
                !connection->looks_closed()) {
                connection->reused = true;
                return connection;
            }
        }
        return nullptr;
    }

    void put_idle(net::execution_context* context, std::unique_ptr<Connection> connection) {
        if (connection->buffer.size() != 0) return;  // unread bytes: not a clean boundary
        connection->idle_since = Clock::now();
        std::lock_guard lock(mutex);
        auto& list = idle[context];
        if (list.size() >= settings.max_idle_connections_per_thread) list.erase(list.begin());
        list.push_back(std::move(connection));
    }

    // ---- one attempt ----

    net::awaitable<std::unique_ptr<Connection>> connect(AttemptFailure& failure,
                                                        Clock::time_point end) {
        auto executor = co_await net::this_coro::executor;
        auto connection = std::make_unique<Connection>(executor, tls_context, settings.url.tls);
        milliseconds deadline = phase(settings.timeouts_ms.connect, end);
        std::vector<tcp::endpoint> endpoints;
        boost::system::error_code ec;
        auto address = net::ip::make_address(settings.url.host, ec);
        bool by_address = !ec;
        if (by_address) {
            endpoints.emplace_back(address, settings.url.port);
        } else {
            // The resolver has no deadline of its own: a timer cancels it.
            tcp::resolver resolver(executor);
            net::steady_timer timer(executor, deadline);
            timer.async_wait([&resolver](boost::system::error_code wait_ec) {
                if (!wait_ec) resolver.cancel();
            });
            std::string port = std::to_string(settings.url.port);
            auto [resolve_ec, results] =
                co_await resolver.async_resolve(settings.url.host, port, kUseTuple);
            timer.cancel();
            if (resolve_ec) {
                // A resolver timeout is a connect error too: retried like one.
                failure = {Failure::connect, 0, std::nullopt, "resolve: " + resolve_ec.message()};
                co_return nullptr;
            }
            for (const auto& entry : results) endpoints.push_back(entry.endpoint());
        }
        connection->tcp().expires_after(deadline);
        auto [connect_ec, endpoint] =
            co_await connection->tcp().async_connect(endpoints, kUseTuple);
        if (connect_ec) {
            failure = {Failure::connect, 0, std::nullopt, "connect: " + connect_ec.message()};
            co_return nullptr;
        }
        connection->tcp().socket().set_option(tcp::no_delay(true));
        if (settings.url.tls) {
            // SNI carries names only; a literal address is matched against the certificate's IP
            // entries by the same verification callback.
            if (!by_address) {
                SSL_set_tlsext_host_name(connection->stream.native_handle(),
                                         settings.url.host.c_str());
            }
            connection->stream.set_verify_callback(ssl::host_name_verification(settings.url.host));
            auto [handshake_ec] =
                co_await connection->stream.async_handshake(ssl::stream_base::client, kUseTuple);
            if (handshake_ec) {
                failure = {Failure::connect, 0, std::nullopt,
                           "TLS handshake: " + handshake_ec.message()};
                co_return nullptr;
            }
        }
        co_return connection;
    }

    /// Reads the rest of an error answer (bounded) for the log.
    net::awaitable<std::string> read_error_body(Connection& connection, Parser& parser,
                                                Clock::time_point end) {
        std::string body;
        std::array<char, 4096> chunk;
        while (!parser.is_done() && body.size() < kErrorBodyLimit) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            connection.tcp().expires_after(phase(settings.timeouts_ms.idle, end));
            auto [ec, n] = co_await on_stream(connection, [&](auto& s) {
                return http::async_read(s, connection.buffer, parser, kUseTuple);
            });
            if (ec && ec != http::error::need_buffer) break;
            body.append(chunk.data(), chunk.size() - parser.get().body().size);
        }
        co_return body;
    }

    net::awaitable<std::optional<Exchange>> attempt(const std::string& body, bool stream,
                                                    AttemptFailure& failure,
                                                    Clock::time_point end) {
        auto executor = co_await net::this_coro::executor;
        net::execution_context* context = &net::query(executor, net::execution::context);
        http::request<http::string_body> request{http::verb::post, target, 11};
        request.set(http::field::host, host_header);
        request.set(http::field::user_agent, "chatgate");
        request.set(http::field::content_type, "application/json");
        request.set(http::field::accept, stream ? "text/event-stream" : "application/json");
        if (!authorization.empty()) request.set(http::field::authorization, authorization);
        request.keep_alive(true);
        request.body() = body;
        request.prepare_payload();

        // A pooled connection the upstream dropped just now fails before any answer byte;
        // then one fresh connection is tried within the same attempt.
        for (int round = 0; round < 2; ++round) {
            std::unique_ptr<Connection> connection = round == 0 ? take_idle(context) : nullptr;
            if (!connection) {
                connection = co_await connect(failure, end);
                if (!connection) co_return std::nullopt;
            }
            connection->tcp().expires_after(phase(settings.timeouts_ms.first_byte, end));
            auto [write_ec, written] = co_await on_stream(
                *connection, [&](auto& s) { return http::async_write(s, request, kUseTuple); });
            auto parser = std::make_unique<Parser>();
            parser->header_limit(kHeaderLimit);
            parser->body_limit(boost::none);  // bounded by the caller's reads instead
            boost::system::error_code ec = write_ec;
            if (!ec) {
                auto [read_ec, read] = co_await on_stream(*connection, [&](auto& s) {
                    return http::async_read_header(s, connection->buffer, *parser, kUseTuple);
                });
                ec = read_ec;
            }
            if (ec) {
                bool stale = connection->reused && !is_timeout(ec) &&
                             connection->buffer.size() == 0 && !parser->got_some();
                if (stale) continue;
                failure = {is_timeout(ec) ? Failure::timeout : Failure::broken, 0, std::nullopt,
                           "reading the answer's header: " + ec.message()};
                co_return std::nullopt;
            }
            unsigned status = parser->get().result_int();
            if (status == 200) co_return Exchange{std::move(connection), std::move(parser)};
            failure.kind = Failure::status;
            failure.status = status;
            if (auto it = parser->get().find(http::field::retry_after); it != parser->get().end()) {
                failure.retry_after = parse_retry_after(it->value());
            }
            std::string text = co_await read_error_body(*connection, *parser, end);
            if (parser->is_done() && parser->get().keep_alive()) {
                put_idle(context, std::move(connection));  // the retry can use it at once
            }
            failure.detail = "HTTP " + std::to_string(status) + ": " +
                             loggable_upstream_text(text, settings.api_key);
            co_return std::nullopt;
        }
        failure = {Failure::broken, 0, std::nullopt, "the connection closed before an answer"};
        co_return std::nullopt;
    }

    Error final_error(const AttemptFailure& failure, int attempts) const {
        log::warn("upstream failed", {{"model", settings.model_id},
                                      {"attempts", attempts},
                                      {"status", static_cast<std::int64_t>(failure.status)},
                                      {"detail", failure.detail}});
        switch (failure.kind) {
            case Failure::timeout:
                return {ErrorCode::upstream_timeout, "The AI provider did not answer in time.", {}};
            case Failure::status:
                if (failure.status == 429) {
                    Error error{
                        ErrorCode::rate_limited, "The AI provider is busy; try again later.", {}};
                    error.retry_after_seconds =
                        failure.retry_after
                            ? std::max<std::int64_t>(1, failure.retry_after->count())
                            : 1;
                    return error;
                }
                break;
            default:
                break;
        }
        return {ErrorCode::upstream_unavailable, "The AI provider could not answer.", {}};
    }

    /// Sends the request, retrying where allowed, until a 200 header arrives.
    net::awaitable<Result<Exchange>> open(const std::string& body, bool stream,
                                          Clock::time_point end) {
        auto executor = co_await net::this_coro::executor;
        for (int retry = 0;; ++retry) {
            AttemptFailure failure;
            std::optional<Exchange> exchange = co_await attempt(body, stream, failure, end);
            if (exchange) co_return std::move(*exchange);
            bool retryable =
                failure.kind == Failure::connect ||
                (failure.kind == Failure::status && is_retryable_status(failure.status));
            if (!retryable || retry >= settings.max_retries)
                co_return final_error(failure, retry + 1);
            milliseconds delay = backoff_delay(settings.retry, retry, unit_random());
            if (failure.retry_after) {
                if (*failure.retry_after > settings.retry.max_retry_after) {
                    co_return final_error(failure, retry + 1);
                }
                delay = std::max<milliseconds>(delay, *failure.retry_after);
            }
            if (delay >= remaining(end)) co_return final_error(failure, retry + 1);
            log::info("upstream retry", {{"model", settings.model_id},
                                         {"attempt", retry + 1},
                                         {"delay_ms", static_cast<std::int64_t>(delay.count())},
                                         {"detail", failure.detail}});
            net::steady_timer timer(executor, delay);
            co_await timer.async_wait(kUseTuple);
        }
    }

    std::string prompt_body(const domain::ChatPrompt& prompt, bool stream) const {
        const std::string& model =
            prompt.upstream_model.empty() ? settings.upstream_model : prompt.upstream_model;
        std::int64_t max_tokens = prompt.max_completion_tokens > 0 ? prompt.max_completion_tokens
                                                                   : settings.max_completion_tokens;
        return completion_request_body(prompt, model, max_tokens, stream);
    }

    OpenAiSettings settings;
    ssl::context tls_context;
    std::string target;
    std::string host_header;
    std::string authorization;
    std::mutex mutex;
    std::unordered_map<net::execution_context*, std::vector<std::unique_ptr<Connection>>> idle;
};

namespace {

/// Reads what has arrived of the body, up to `size` bytes, into `data` (possibly 0 bytes, when
/// only framing arrived). Bytes that came with an error are returned first; the error shows on
/// the next call, since the stream repeats it.
net::awaitable<Result<std::size_t>> read_body_some(Connection& connection, Parser& parser,
                                                   char* data, std::size_t size,
                                                   milliseconds deadline) {
    parser.get().body().data = data;
    parser.get().body().size = size;
    connection.tcp().expires_after(deadline);
    auto [ec, n] = co_await on_stream(connection, [&](auto& s) {
        return http::async_read_some(s, connection.buffer, parser, kUseTuple);
    });
    std::size_t got = size - parser.get().body().size;
    if (ec && ec != http::error::need_buffer && got == 0) {
        if (is_timeout(ec)) {
            co_return Error{
                ErrorCode::upstream_timeout, "The AI provider did not answer in time.", {}};
        }
        co_return Error{ErrorCode::upstream_unavailable, "reading the answer: " + ec.message(), {}};
    }
    co_return got;
}

class OpenAiStream final : public domain::ChatStream {
public:
    OpenAiStream(OpenAiProvider::Impl& impl, Exchange exchange, Clock::time_point end,
                 net::execution_context* context)
        : impl_(impl), exchange_(std::move(exchange)), end_(end), context_(context) {}

    net::awaitable<Result<std::optional<std::string>>> next() override {
        if (failure_) co_return *failure_;
        while (true) {
            if (decoder_.has_delta()) co_return std::optional<std::string>(decoder_.pop_delta());
            if (finished_) co_return std::optional<std::string>{};
            if (decoder_.done()) {
                co_await finish();
                co_return std::optional<std::string>{};
            }
            if (exchange_.parser->is_done()) {
                // The body ended without [DONE]. An answer that said how it finished is whole;
                // anything else was cut.
                if (decoder_.finish_reason().empty()) {
                    co_return fail({ErrorCode::upstream_unavailable, "the stream ended early", {}});
                }
                finished_ = true;
                release();
                continue;
            }
            milliseconds deadline = phase(impl_.settings.timeouts_ms.idle, end_);
            auto read = co_await read_body_some(*exchange_.connection, *exchange_.parser,
                                                chunk_.data(), chunk_.size(), deadline);
            if (!read) co_return fail(read.error());
            if (cancelled_) co_return fail({ErrorCode::upstream_unavailable, "cancelled", {}});
            auto fed = decoder_.feed(std::string_view(chunk_.data(), *read));
            if (!fed) co_return fail(fed.error());
        }
    }

    const std::string& finish_reason() const override {
        static const std::string stop = "stop";
        return decoder_.finish_reason().empty() ? stop : decoder_.finish_reason();
    }
    domain::TokenUsage usage() const override { return decoder_.usage(); }

    void cancel() override {
        cancelled_ = true;
        if (!failure_) failure_ = Error{ErrorCode::upstream_unavailable, "cancelled", {}};
        if (exchange_.connection) {
            boost::system::error_code ignored;
            exchange_.connection->tcp().socket().close(ignored);
        }
    }

private:
    Error fail(Error error) {
        if (!cancelled_ && error.message != "cancelled") {
            log::warn("upstream stream failed",
                      {{"model", impl_.settings.model_id}, {"detail", error.message}});
        }
        if (error.code == ErrorCode::upstream_unavailable) {
            error.message = "The AI provider could not answer.";
        }
        failure_ = error;
        if (exchange_.connection) {
            boost::system::error_code ignored;
            exchange_.connection->tcp().socket().close(ignored);
        }
        return error;
    }

    /// After [DONE]: reads what is left of the body (normally the last empty chunk) so the
    /// connection can serve the next exchange; gives up on it after a few reads.
    net::awaitable<void> finish() {
        finished_ = true;
        for (int reads = 0; reads < 4 && !exchange_.parser->is_done(); ++reads) {
            milliseconds deadline = phase(impl_.settings.timeouts_ms.idle, end_);
            auto read = co_await read_body_some(*exchange_.connection, *exchange_.parser,
                                                chunk_.data(), chunk_.size(), deadline);
            if (!read) co_return;
        }
        release();
    }

    void release() {
        if (!cancelled_ && exchange_.parser->is_done() && exchange_.parser->get().keep_alive()) {
            impl_.put_idle(context_, std::move(exchange_.connection));
        }
    }

    OpenAiProvider::Impl& impl_;
    Exchange exchange_;
    Clock::time_point end_;
    net::execution_context* context_;
    CompletionStreamDecoder decoder_;
    std::array<char, kChunkBytes> chunk_;
    std::optional<Error> failure_;
    bool finished_ = false;
    bool cancelled_ = false;
};

}  // namespace

OpenAiProvider::OpenAiProvider(OpenAiSettings settings)
    : impl_(std::make_unique<Impl>(std::move(settings))) {}

OpenAiProvider::~OpenAiProvider() = default;

void OpenAiProvider::close_idle_connections() {
    std::lock_guard lock(impl_->mutex);
    impl_->idle.clear();
}

net::awaitable<Result<domain::ChatAnswer>> OpenAiProvider::complete(
    const domain::ChatPrompt& prompt) {
    std::string body = impl_->prompt_body(prompt, false);  // before the first suspension
    Clock::time_point end = Clock::now() + milliseconds(impl_->settings.timeouts_ms.total);
    auto executor = co_await net::this_coro::executor;
    net::execution_context* context = &net::query(executor, net::execution::context);
    auto exchange = co_await impl_->open(body, false, end);
    if (!exchange) co_return exchange.error();
    Connection& connection = *exchange->connection;
    Parser& parser = *exchange->parser;
    std::string answer_text;
    auto chunk = std::make_unique<std::array<char, kChunkBytes>>();
    while (!parser.is_done()) {
        milliseconds deadline = phase(impl_->settings.timeouts_ms.idle, end);
        auto read =
            co_await read_body_some(connection, parser, chunk->data(), chunk->size(), deadline);
        if (!read) {
            AttemptFailure failure{read.error().code == ErrorCode::upstream_timeout
                                       ? Failure::timeout
                                       : Failure::broken,
                                   200, std::nullopt, read.error().message};
            co_return impl_->final_error(failure, 1);
        }
        answer_text.append(chunk->data(), *read);
        if (answer_text.size() > impl_->settings.max_body_bytes) {
            AttemptFailure failure{Failure::broken, 200, std::nullopt,
                                   "the answer is larger than " +
                                       std::to_string(impl_->settings.max_body_bytes) + " bytes"};
            co_return impl_->final_error(failure, 1);
        }
    }
    if (parser.get().keep_alive()) impl_->put_idle(context, std::move(exchange->connection));
    auto answer = parse_completion(answer_text);
    if (!answer) {
        AttemptFailure failure{Failure::broken, 200, std::nullopt,
                               answer.error().message + ": " +
                                   loggable_upstream_text(answer_text, impl_->settings.api_key)};
        co_return impl_->final_error(failure, 1);
    }
    co_return std::move(*answer);
}

net::awaitable<Result<std::unique_ptr<domain::ChatStream>>> OpenAiProvider::stream(
    const domain::ChatPrompt& prompt) {
    std::string body = impl_->prompt_body(prompt, true);  // before the first suspension
    Clock::time_point end = Clock::now() + milliseconds(impl_->settings.timeouts_ms.total);
    auto executor = co_await net::this_coro::executor;
    net::execution_context* context = &net::query(executor, net::execution::context);
    auto exchange = co_await impl_->open(body, true, end);
    if (!exchange) co_return exchange.error();
    std::unique_ptr<domain::ChatStream> stream =
        std::make_unique<OpenAiStream>(*impl_, std::move(*exchange), end, context);
    co_return stream;
}

}  // namespace chatgate::ai

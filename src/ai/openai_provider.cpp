// The OpenAI client: one attempt (the request, the answer's header, an error answer's body),
// the retry loop, the provider's two calls and the streamed answer. Connecting and the idle pool
// are in openai_connect.cpp, Beast's I/O in openai_io_tcp.cpp and openai_io_tls.cpp.
#include "ai/openai_provider.hpp"

#include "ai/anthropic_codec.hpp"
#include "ai/openai_transport.hpp"
#include "ai/upstream_codec.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <array>
#include <random>

namespace chatgate::ai {

using namespace openai;

namespace {

double unit_random() {
    thread_local std::minstd_rand engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

/// Reads what has arrived of the body, up to `size` bytes, into `data` (possibly 0 bytes, when
/// only framing arrived). Bytes that came with an error are returned first; the error shows on
/// the next call, since the stream repeats it.
net::awaitable<Result<std::size_t>> read_body_some(Connection& connection, Parser& parser,
                                                   char* data, std::size_t size,
                                                   milliseconds deadline) {
    parser.get().body().data = data;
    parser.get().body().size = size;
    connection.tcp().expires_after(deadline);
    auto [ec, n] = co_await on_stream(
        connection, [&](auto& s) { return read_some(s, connection.buffer, parser); });
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

std::string_view outcome_of(const Error& error) {
    switch (error.code) {
        case ErrorCode::upstream_timeout:
            return "timeout";
        case ErrorCode::rate_limited:
            return "rate_limited";
        default:
            return "error";
    }
}

/// One exchange ended: its outcome and how long it took, from the request to the last byte.
void count_upstream(const std::string& model, std::string_view outcome, Clock::time_point start) {
    if (!metrics::enabled()) return;
    auto& m = metrics::registry();
    m.upstream_requests.with({model, outcome}).add();
    m.upstream_duration.with({model}).observe(Clock::now() - start);
}

}  // namespace

// ---- one attempt ----

net::awaitable<std::string> OpenAiProvider::Impl::read_error_body(Connection& connection,
                                                                  Parser& parser,
                                                                  Clock::time_point end) {
    std::string body;
    std::array<char, 4096> chunk;
    while (!parser.is_done() && body.size() < kErrorBodyLimit) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        connection.tcp().expires_after(phase(settings.timeouts_ms.idle, end));
        auto [ec, n] = co_await on_stream(
            connection, [&](auto& s) { return read_all(s, connection.buffer, parser); });
        if (ec && ec != http::error::need_buffer) break;
        body.append(chunk.data(), chunk.size() - parser.get().body().size);
    }
    co_return body;
}

net::awaitable<std::optional<Exchange>> OpenAiProvider::Impl::attempt(const std::string& body,
                                                                      bool stream,
                                                                      AttemptFailure& failure,
                                                                      Clock::time_point end,
                                                                      const std::string* path) {
    auto executor = co_await net::this_coro::executor;
    net::execution_context* context = &net::query(executor, net::execution::context);
    Request request{http::verb::post, path ? *path : target, 11};
    request.set(http::field::host, host_header);
    request.set(http::field::user_agent, "chatgate");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::accept, stream ? "text/event-stream" : "application/json");
    if (!authorization.empty()) request.set(http::field::authorization, authorization);
    for (const auto& [name, value] : protocol_headers) request.set(name, value);
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
        auto [write_ec, written] =
            co_await on_stream(*connection, [&](auto& s) { return write_request(s, request); });
        auto parser = std::make_unique<Parser>();
        parser->header_limit(kHeaderLimit);
        parser->body_limit(boost::none);  // bounded by the caller's reads instead
        boost::system::error_code ec = write_ec;
        if (!ec) {
            auto [read_ec, read] = co_await on_stream(
                *connection, [&](auto& s) { return read_header(s, connection->buffer, *parser); });
            ec = read_ec;
        }
        if (ec) {
            bool stale = connection->reused && !is_timeout(ec) && connection->buffer.size() == 0 &&
                         !parser->got_some();
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

// ---- the retry loop ----

Error OpenAiProvider::Impl::final_error(const AttemptFailure& failure, int attempts) const {
    log::warn("upstream failed", {{"model", settings.model_id},
                                  {"attempts", attempts},
                                  {"status", static_cast<std::int64_t>(failure.status)},
                                  {"detail", failure.detail}});
    switch (failure.kind) {
        case Failure::timeout:
            return {ErrorCode::upstream_timeout,
                    "The AI provider did not answer in time.",
                    {},
                    0,
                    attempts > 1};
        case Failure::status:
            if (failure.status == 429) {
                Error error{
                    ErrorCode::rate_limited, "The AI provider is busy; try again later.", {}};
                error.retry_after_seconds =
                    failure.retry_after ? std::max<std::int64_t>(1, failure.retry_after->count())
                                        : 1;
                return error;
            }
            break;
        default:
            break;
    }
    return {
        ErrorCode::upstream_unavailable, "The AI provider could not answer.", {}, 0, attempts > 1};
}

net::awaitable<Result<Exchange>> OpenAiProvider::Impl::open(const std::string& body, bool stream,
                                                            Clock::time_point end,
                                                            const std::string* path) {
    auto executor = co_await net::this_coro::executor;
    for (int retry = 0;; ++retry) {
        AttemptFailure failure;
        std::optional<Exchange> exchange = co_await attempt(body, stream, failure, end, path);
        if (exchange) co_return std::move(*exchange);
        bool retryable = failure.kind == Failure::connect ||
                         (failure.kind == Failure::status && is_retryable_status(failure.status));
        if (!retryable || retry >= settings.max_retries) co_return final_error(failure, retry + 1);
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

std::string OpenAiProvider::Impl::prompt_body(const domain::ChatPrompt& prompt, bool stream) const {
    const std::string& model =
        prompt.upstream_model.empty() ? settings.upstream_model : prompt.upstream_model;
    std::int64_t max_tokens = prompt.max_completion_tokens > 0 ? prompt.max_completion_tokens
                                                               : settings.max_completion_tokens;
    if (settings.protocol == UpstreamProtocol::anthropic) {
        return anthropic_request_body(prompt, model, max_tokens, stream);
    }
    return completion_request_body(prompt, model, max_tokens, stream);
}

net::awaitable<Result<std::string>> OpenAiProvider::Impl::read_whole(Exchange& exchange,
                                                                     Clock::time_point end) {
    auto executor = co_await net::this_coro::executor;
    net::execution_context* context = &net::query(executor, net::execution::context);
    Connection& connection = *exchange.connection;
    Parser& parser = *exchange.parser;
    std::string text;
    auto chunk = std::make_unique<std::array<char, kChunkBytes>>();
    while (!parser.is_done()) {
        milliseconds deadline = phase(settings.timeouts_ms.idle, end);
        auto read =
            co_await read_body_some(connection, parser, chunk->data(), chunk->size(), deadline);
        if (!read) {
            AttemptFailure failure{read.error().code == ErrorCode::upstream_timeout
                                       ? Failure::timeout
                                       : Failure::broken,
                                   200, std::nullopt, read.error().message};
            co_return final_error(failure, 1);
        }
        text.append(chunk->data(), *read);
        if (text.size() > settings.max_body_bytes) {
            AttemptFailure failure{
                Failure::broken, 200, std::nullopt,
                "the answer is larger than " + std::to_string(settings.max_body_bytes) + " bytes"};
            co_return final_error(failure, 1);
        }
    }
    if (parser.get().keep_alive()) put_idle(context, std::move(exchange.connection));
    co_return text;
}

namespace {

class OpenAiStream final : public domain::ChatStream {
public:
    OpenAiStream(OpenAiProvider::Impl& impl, Exchange exchange, Clock::time_point end,
                 net::execution_context* context, Clock::time_point start)
        : impl_(impl),
          exchange_(std::move(exchange)),
          end_(end),
          context_(context),
          start_(start),
          decoder_(impl.settings.protocol == UpstreamProtocol::anthropic
                       ? std::unique_ptr<StreamDecoder>(std::make_unique<AnthropicStreamDecoder>())
                       : std::make_unique<CompletionStreamDecoder>()) {}

    ~OpenAiStream() override {
        if (!counted_) count_upstream(impl_.settings.model_id, "cancelled", start_);
    }

    net::awaitable<Result<std::optional<domain::ChatDelta>>> next() override {
        if (failure_) co_return *failure_;
        while (true) {
            if (decoder_->has_delta()) {
                domain::ChatDelta delta = decoder_->pop_delta();
                if (!delta.empty()) first_text();
                co_return std::optional<domain::ChatDelta>(std::move(delta));
            }
            if (finished_) co_return std::optional<domain::ChatDelta>{};
            if (decoder_->done()) {
                co_await finish();
                count("ok");
                co_return std::optional<domain::ChatDelta>{};
            }
            if (exchange_.parser->is_done()) {
                // The body ended without [DONE]. An answer that said how it finished is whole;
                // anything else was cut.
                if (decoder_->finish_reason().empty()) {
                    co_return fail({ErrorCode::upstream_unavailable, "the stream ended early", {}});
                }
                finished_ = true;
                release();
                count("ok");
                continue;
            }
            milliseconds deadline = phase(impl_.settings.timeouts_ms.idle, end_);
            auto read = co_await read_body_some(*exchange_.connection, *exchange_.parser,
                                                chunk_.data(), chunk_.size(), deadline);
            if (!read) co_return fail(read.error());
            if (cancelled_) co_return fail({ErrorCode::upstream_unavailable, "cancelled", {}});
            auto fed = decoder_->feed(std::string_view(chunk_.data(), *read));
            if (!fed) co_return fail(fed.error());
        }
    }

    const std::string& finish_reason() const override {
        static const std::string stop = "stop";
        return decoder_->finish_reason().empty() ? stop : decoder_->finish_reason();
    }
    domain::TokenUsage usage() const override { return decoder_->usage(); }

    void cancel() override {
        cancelled_ = true;
        if (!failure_) failure_ = Error{ErrorCode::upstream_unavailable, "cancelled", {}};
        if (exchange_.connection) {
            boost::system::error_code ignored;
            exchange_.connection->tcp().socket().close(ignored);
        }
    }

private:
    void first_text() {
        if (ttft_seen_ || !metrics::enabled()) return;
        ttft_seen_ = true;
        metrics::registry()
            .upstream_ttft.with({impl_.settings.model_id})
            .observe(Clock::now() - start_);
    }
    void count(std::string_view outcome) {
        if (counted_) return;
        counted_ = true;
        count_upstream(impl_.settings.model_id, outcome, start_);
    }

    Error fail(Error error) {
        count(cancelled_ ? "cancelled" : outcome_of(error));
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
    Clock::time_point start_;
    bool ttft_seen_ = false;
    bool counted_ = false;
    std::unique_ptr<StreamDecoder> decoder_;
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
    Clock::time_point start = Clock::now();
    Clock::time_point end = start + milliseconds(impl_->settings.timeouts_ms.total);
    auto result = co_await impl_->complete_once(body, end);
    count_upstream(impl_->settings.model_id, result ? "ok" : outcome_of(result.error()), start);
    co_return result;
}

net::awaitable<Result<domain::ChatAnswer>> OpenAiProvider::Impl::complete_once(
    const std::string& body, Clock::time_point end) {
    auto exchange = co_await open(body, false, end);
    if (!exchange) co_return exchange.error();
    auto whole = co_await read_whole(*exchange, end);
    if (!whole) co_return whole.error();
    std::string& answer_text = *whole;
    auto answer = settings.protocol == UpstreamProtocol::anthropic
                      ? parse_anthropic_message(answer_text)
                      : parse_completion(answer_text);
    if (!answer) {
        AttemptFailure failure{
            Failure::broken, 200, std::nullopt,
            answer.error().message + ": " + loggable_upstream_text(answer_text, settings.api_key)};
        co_return final_error(failure, 1);
    }
    co_return std::move(*answer);
}

net::awaitable<Result<domain::EmbeddingAnswer>> OpenAiProvider::embed(
    const domain::EmbeddingPrompt& prompt) {
    if (impl_->settings.protocol == UpstreamProtocol::anthropic) {
        co_return Error{ErrorCode::upstream_unavailable, "Anthropic has no embeddings.", {}};
    }
    const std::string& model =
        prompt.upstream_model.empty() ? impl_->settings.upstream_model : prompt.upstream_model;
    std::string body = embedding_request_body(prompt, model);  // before the first suspension
    Clock::time_point end = Clock::now() + milliseconds(impl_->settings.timeouts_ms.total);
    auto exchange = co_await impl_->open(body, false, end, &impl_->embeddings_target);
    if (!exchange) co_return exchange.error();
    auto whole = co_await impl_->read_whole(*exchange, end);
    if (!whole) co_return whole.error();
    auto answer = parse_embeddings(*whole);
    if (!answer) {
        AttemptFailure failure{Failure::broken, 200, std::nullopt,
                               answer.error().message + ": " +
                                   loggable_upstream_text(*whole, impl_->settings.api_key)};
        co_return impl_->final_error(failure, 1);
    }
    co_return std::move(*answer);
}

net::awaitable<Result<std::unique_ptr<domain::ChatStream>>> OpenAiProvider::stream(
    const domain::ChatPrompt& prompt) {
    std::string body = impl_->prompt_body(prompt, true);  // before the first suspension
    Clock::time_point start = Clock::now();
    Clock::time_point end = start + milliseconds(impl_->settings.timeouts_ms.total);
    auto executor = co_await net::this_coro::executor;
    net::execution_context* context = &net::query(executor, net::execution::context);
    auto exchange = co_await impl_->open(body, true, end);
    if (!exchange) {
        count_upstream(impl_->settings.model_id, outcome_of(exchange.error()), start);
        co_return exchange.error();
    }
    std::unique_ptr<domain::ChatStream> stream =
        std::make_unique<OpenAiStream>(*impl_, std::move(*exchange), end, context, start);
    co_return stream;
}

}  // namespace chatgate::ai

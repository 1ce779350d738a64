// The OpenAI client's HTTP I/O over plain TCP (see openai_transport.hpp).
#include "ai/openai_transport.hpp"

namespace chatgate::ai::openai {

net::awaitable<IoResult> write_request(beast::tcp_stream& stream, Request& request) {
    co_return co_await http::async_write(stream, request, kUseTuple);
}

net::awaitable<IoResult> read_header(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                     Parser& parser) {
    co_return co_await http::async_read_header(stream, buffer, parser, kUseTuple);
}

net::awaitable<IoResult> read_all(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  Parser& parser) {
    co_return co_await http::async_read(stream, buffer, parser, kUseTuple);
}

net::awaitable<IoResult> read_some(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                   Parser& parser) {
    co_return co_await http::async_read_some(stream, buffer, parser, kUseTuple);
}

}  // namespace chatgate::ai::openai

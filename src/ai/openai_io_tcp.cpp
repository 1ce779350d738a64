// The OpenAI client's HTTP I/O over plain TCP (see openai_transport.hpp).
#include "ai/openai_transport.hpp"

namespace chatgate::ai::openai {

CHATGATE_OPENAI_IO(, beast::tcp_stream);

}  // namespace chatgate::ai::openai

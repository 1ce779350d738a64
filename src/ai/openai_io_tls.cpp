// The OpenAI client's HTTP I/O over TLS (see openai_transport.hpp).
#include "ai/openai_transport.hpp"

namespace chatgate::ai::openai {

CHATGATE_OPENAI_IO(, TlsStream);

}  // namespace chatgate::ai::openai

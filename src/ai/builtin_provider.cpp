#include "ai/builtin_provider.hpp"

namespace chatgate::ai {

boost::asio::awaitable<Result<std::string>> BuiltinProvider::complete(
    [[maybe_unused]] const domain::ChatPrompt& prompt) {
    co_return std::string(kReply);
}

}  // namespace chatgate::ai

#include "domain/chat/chat_provider.hpp"

namespace chatgate::domain {

std::string_view to_string(ChatRole role) {
    switch (role) {
        case ChatRole::system:
            return "system";
        case ChatRole::user:
            return "user";
        case ChatRole::assistant:
            return "assistant";
    }
    return "user";
}

}  // namespace chatgate::domain

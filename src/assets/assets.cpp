#include "assets/assets.hpp"

#include "assets/embedded_index.hpp"

#include <stdexcept>
#include <string>

namespace chatgate::assets {

std::string_view find(std::string_view name) {
    for (const auto& entry : detail::embedded_files()) {
        if (entry.name == name)
            return {entry.begin, static_cast<std::size_t>(entry.end - entry.begin)};
    }
    throw std::out_of_range("no embedded file named " + std::string(name));
}

}  // namespace chatgate::assets

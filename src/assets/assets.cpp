#include "assets/assets.hpp"

#include "assets/embedded_index.hpp"

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatgate::assets {
namespace {

std::string tag_of(std::string_view bytes) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    char out[24];
    std::snprintf(out, sizeof out, "\"%016llx\"", static_cast<unsigned long long>(hash));
    return out;
}

/// One tag per embedded file, in the index's order; built once (a few milliseconds).
const std::vector<std::string>& tags() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> out;
        for (const auto& entry : detail::embedded_files()) {
            out.push_back(tag_of({entry.begin, static_cast<std::size_t>(entry.end - entry.begin)}));
        }
        return out;
    }();
    return all;
}

}  // namespace

std::string_view find(std::string_view name) {
    for (const auto& entry : detail::embedded_files()) {
        if (entry.name == name)
            return {entry.begin, static_cast<std::size_t>(entry.end - entry.begin)};
    }
    throw std::out_of_range("no embedded file named " + std::string(name));
}

File find_file(std::string_view name) {
    auto files = detail::embedded_files();
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (files[i].name != name) continue;
        return {{files[i].begin, static_cast<std::size_t>(files[i].end - files[i].begin)},
                tags()[i]};
    }
    throw std::out_of_range("no embedded file named " + std::string(name));
}

}  // namespace chatgate::assets

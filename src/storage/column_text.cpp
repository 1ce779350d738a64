#include "storage/column_text.hpp"

namespace chatgate::storage {

std::optional<std::string> join_models(const std::optional<std::vector<std::string>>& models) {
    if (!models) return std::nullopt;
    std::string out;
    for (const auto& model : *models) {
        if (!out.empty()) out += '\n';
        out += model;
    }
    return out;
}

std::optional<std::vector<std::string>> split_models(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text->size()) {
        auto end = text->find('\n', start);
        if (end == std::string::npos) end = text->size();
        if (end > start) out.push_back(text->substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::optional<std::int64_t> optional_flag(const std::optional<bool>& flag) {
    if (!flag) return std::nullopt;
    return std::int64_t{*flag};
}

std::string_view sort_name(domain::UserSort sort) {
    switch (sort) {
        case domain::UserSort::username:
            return "username";
        case domain::UserSort::tokens:
            return "tokens";
        case domain::UserSort::date_joined:
            return "date_joined";
        case domain::UserSort::id:
            break;
    }
    return "id";
}

std::string contains_pattern(std::string_view search) {
    if (search.empty()) return {};
    std::string out = "%";
    for (char c : search) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}

}  // namespace chatgate::storage

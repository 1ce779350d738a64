#include "http/router.hpp"

#include <algorithm>

namespace chatgate::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    while (!path.empty()) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

bool is_param(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// "{name}" or "{name:type}" holding `value`.
Router::PathParam path_param(std::string_view pattern, std::string_view value) {
    std::string_view inner = pattern.substr(1, pattern.size() - 2);
    auto colon = inner.find(':');
    if (colon == std::string_view::npos) return {inner, {}, value};
    return {inner.substr(0, colon), inner.substr(colon + 1), value};
}

bool segments_match(const std::vector<std::string_view>& pattern,
                    const std::vector<std::string_view>& path,
                    std::vector<Router::PathParam>* params) {
    if (pattern.size() != path.size()) return false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (is_param(pattern[i])) {
            if (path[i].empty()) return false;
            if (params) params->push_back(path_param(pattern[i], path[i]));
        } else if (pattern[i] != path[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

void Router::add(Method method, std::string_view pattern, std::size_t id) {
    entries_.push_back({method, split_path(pattern), id});
}

Router::Match Router::match(Method method, std::string_view path) const {
    auto segments = split_path(path);
    // An empty segment inside the path ("/api//chat/") never matches anything.
    if (std::find(segments.begin(), segments.end(), std::string_view{}) != segments.end()) {
        return {};
    }
    Match out;
    std::vector<Method> allowed;
    for (const auto& entry : entries_) {
        if (!segments_match(entry.segments, segments, nullptr)) continue;
        allowed.push_back(entry.method);
        bool same =
            entry.method == method || (method == Method::head && entry.method == Method::get);
        if (same && out.kind != Match::Kind::found) {
            out.kind = Match::Kind::found;
            out.route = entry.id;
            segments_match(entry.segments, segments, &out.params);
        }
    }
    if (allowed.empty()) return out;
    if (std::find(allowed.begin(), allowed.end(), Method::get) != allowed.end()) {
        allowed.push_back(Method::head);
    }
    allowed.push_back(Method::options);
    for (Method m : allowed) {
        if (!out.allow.empty()) out.allow += ", ";
        out.allow += to_string(m);
    }
    if (out.kind != Match::Kind::found) out.kind = Match::Kind::method_not_allowed;
    return out;
}

}  // namespace chatgate::http

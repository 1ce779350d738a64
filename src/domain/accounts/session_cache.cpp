#include "domain/accounts/session_cache.hpp"

#include <algorithm>

namespace chatgate::domain {

SessionCache::SessionCache(const Clock& clock, Options options)
    : clock_(clock), options_(options) {}

SessionCache::Shard& SessionCache::shard_of(UserId user, std::size_t* index) {
    std::size_t i = static_cast<std::size_t>(user) % kShards;
    if (index) *index = i;
    return shards_[i];
}

std::optional<AccessState> SessionCache::find(UserId user, SessionId session, Ticket& ticket) {
    Shard& shard = shard_of(user, &ticket.shard);
    std::lock_guard lock(shard.mutex);
    ticket.invalidations = shard.invalidations;
    auto it = shard.users.find(user);
    if (it == shard.users.end()) return std::nullopt;
    auto now = clock_.now();
    for (const Entry& entry : it->second) {
        if (entry.session == session && entry.expires > now) return entry.state;
    }
    return std::nullopt;
}

void SessionCache::store(UserId user, SessionId session, const AccessState& state,
                         const Ticket& ticket) {
    if (!enabled()) return;
    Shard& shard = shards_[ticket.shard];
    std::lock_guard lock(shard.mutex);
    if (shard.invalidations != ticket.invalidations) return;  // read before a revocation
    if (shard.entries >= std::max<std::size_t>(1, options_.max_entries / kShards)) {
        shard.users.clear();
        shard.entries = 0;
    }
    auto expires = clock_.now() + options_.ttl;
    auto& entries = shard.users[user];
    for (Entry& entry : entries) {
        if (entry.session == session) {
            entry = {session, state, expires};
            return;
        }
    }
    entries.push_back({session, state, expires});
    ++shard.entries;
}

void SessionCache::forget_session(UserId user, SessionId session) {
    Shard& shard = shard_of(user);
    std::lock_guard lock(shard.mutex);
    ++shard.invalidations;
    auto it = shard.users.find(user);
    if (it == shard.users.end()) return;
    auto& entries = it->second;
    auto gone = std::remove_if(entries.begin(), entries.end(),
                               [session](const Entry& e) { return e.session == session; });
    shard.entries -= static_cast<std::size_t>(entries.end() - gone);
    entries.erase(gone, entries.end());
    if (entries.empty()) shard.users.erase(it);
}

void SessionCache::forget_user(UserId user) {
    Shard& shard = shard_of(user);
    std::lock_guard lock(shard.mutex);
    ++shard.invalidations;
    auto it = shard.users.find(user);
    if (it == shard.users.end()) return;
    shard.entries -= it->second.size();
    shard.users.erase(it);
}

}  // namespace chatgate::domain

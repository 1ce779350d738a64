// The shared rate limits' port (guards::SharedRateStore) on PostgreSQL: each call one
// statement in its own (autocommit) transaction on a read connection, never the writer's batch,
// so a check waits for no group commit.

#include "storage/postgresql/store_scopes.hpp"

namespace chatgate::storage::pg {
namespace {

/// PostgreSQL's text holds no NUL byte, and a key may carry one (a username as a client sent
/// it): escaped one to one (NUL as a backslash and '0', a backslash doubled), so no key is
/// refused (which would pass for the store being unreachable) and no two keys meet.
std::string stored_key(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    for (char c : key) {
        if (c == '\0') {
            out += "\\0";
        } else if (c == '\\') {
            out += "\\\\";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

guards::SharedRateStore::Taken PgStore::take_rate(std::string_view key, std::int64_t now_ns,
                                                  std::int64_t interval_ns,
                                                  std::int64_t tolerance_ns) {
    auto db = read();
    auto rows = db->run(sql::kTakeRate, {stored_key(key), now_ns, interval_ns, tolerance_ns});
    // No row at all: refused by a row another node inserted after this statement's snapshot.
    if (rows.empty()) return {false, std::nullopt};
    return {rows.int64(0, 0) != 0, rows.int64(0, 1)};
}

void PgStore::give_back_rate(std::string_view key, std::int64_t interval_ns) {
    auto db = read();
    db->run(sql::kGiveBackRate, {stored_key(key), interval_ns});
}

std::int64_t PgStore::purge_rates(std::int64_t now_ns, std::int64_t limit) {
    auto db = read();
    return db->run(sql::kPurgeRates, {now_ns, limit}).affected();
}

}  // namespace chatgate::storage::pg

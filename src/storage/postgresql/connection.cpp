#include "storage/postgresql/connection.hpp"

#include "config/config.hpp"

#include <charconv>
#include <cstring>
#include <libpq-fe.h>
#include <vector>

namespace chatgate::storage::pg {
namespace {

constexpr std::int64_t kRetryAfterSeconds = 2;
// Every wait on the database has a deadline: the connection attempt, and each statement
// (lock waits included); past it the operation fails with 503.
constexpr const char* kConnectTimeoutSeconds = "5";
constexpr const char* kSessionOptions = "-c statement_timeout=30000 -c lock_timeout=20000";

bool starts_with(const char* text, const char* prefix) {
    return text && std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

/// Lost connections and a server going away or not yet accepting: retry later.
bool unavailable(const char* sqlstate) {
    return starts_with(sqlstate, "08") || starts_with(sqlstate, "57P") ||
           starts_with(sqlstate, "53") || starts_with(sqlstate, "57014") ||
           starts_with(sqlstate, "55P03");
}

bool conflict(const char* sqlstate) {
    return starts_with(sqlstate, "40P01") || starts_with(sqlstate, "40001");
}

}  // namespace

StorageUnavailable::StorageUnavailable()
    : ErrorException(Error{ErrorCode::busy,
                           "The server cannot reach its database right now; retry later.",
                           {},
                           kRetryAfterSeconds}) {}

WriteConflict::WriteConflict()
    : ErrorException(Error{ErrorCode::busy,
                           "The database was too busy to complete the request; retry later.",
                           {},
                           kRetryAfterSeconds}) {}

Rows::~Rows() {
    if (result_) PQclear(result_);
}

int Rows::size() const noexcept {
    return result_ ? PQntuples(result_) : 0;
}

std::int64_t Rows::affected() const {
    const char* count = PQcmdTuples(result_);
    std::int64_t out = 0;
    if (count && *count) std::from_chars(count, count + std::strlen(count), out);
    return out;
}

bool Rows::null(int row, int column) const {
    return PQgetisnull(result_, row, column) != 0;
}

std::int64_t Rows::int64(int row, int column) const {
    const char* value = PQgetvalue(result_, row, column);
    std::int64_t out = 0;
    auto length = static_cast<std::size_t>(PQgetlength(result_, row, column));
    auto [end, error] = std::from_chars(value, value + length, out);
    if (error != std::errc{} && length != 0) {
        throw DatabaseError("not an integer in column " + std::to_string(column), "");
    }
    return out;
}

std::string Rows::text(int row, int column) const {
    return std::string(PQgetvalue(result_, row, column),
                       static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::optional<std::string> Rows::optional_text(int row, int column) const {
    if (null(row, column)) return std::nullopt;
    return text(row, column);
}

std::optional<std::int64_t> Rows::optional_int(int row, int column) const {
    if (null(row, column)) return std::nullopt;
    return int64(row, column);
}

Connection::Connection(std::string url, std::optional<std::string> password, bool at_start)
    : url_(std::move(url)), password_(std::move(password)) {
    connect(at_start);
}

Connection::~Connection() {
    if (conn_) PQfinish(conn_);
}

void Connection::connect(bool at_start) {
    if (conn_) PQfinish(conn_);
    prepared_.clear();
    // Defaults first, then the URL (expanded), then the password: later entries win.
    std::vector<const char*> keys{"connect_timeout", "options", "application_name", "dbname"};
    std::vector<const char*> values{kConnectTimeoutSeconds, kSessionOptions, "chatgate",
                                    url_.c_str()};
    if (password_) {
        keys.push_back("password");
        values.push_back(password_->c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) {
        // The server's notices ("already exists, skipping") are not chatgate's log lines.
        PQsetNoticeProcessor(
            conn_, [](void*, const char*) {}, nullptr);
        return;
    }
    std::string reason = conn_ ? PQerrorMessage(conn_) : "out of memory";
    if (!reason.empty() && reason.back() == '\n') reason.pop_back();
    // No half-open handle is kept: `broken()` stays true and the next `ensure` tries again.
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    if (at_start) {
        throw DatabaseError("cannot connect to PostgreSQL at " + masked_database_url(url_) + ": " +
                                masked_database_url(reason),
                            "08006");
    }
    throw StorageUnavailable();
}

void Connection::ensure() {
    if (broken()) connect(false);
}

bool Connection::broken() const noexcept {
    return !conn_ || PQstatus(conn_) != CONNECTION_OK;
}

bool Connection::in_transaction() const noexcept {
    auto status = conn_ ? PQtransactionStatus(conn_) : PQTRANS_UNKNOWN;
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

void Connection::fail(pg_result* result, const std::string& what) {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state ? state : "";
    std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
    if (result) PQclear(result);
    if (broken() || unavailable(sqlstate.c_str())) throw StorageUnavailable();
    if (conflict(sqlstate.c_str())) {
        conflicted_ = true;
        throw WriteConflict();
    }
    if (!message.empty() && message.back() == '\n') message.pop_back();
    throw DatabaseError(what + ": " + message, sqlstate);
}

void Connection::exec(const char* sql) {
    if (broken()) throw StorageUnavailable();
    bool idle = !in_transaction();
    PGresult* result = PQexec(conn_, sql);
    if (idle && lost(result)) {
        // The server went away while this connection was idle (a restart): the statement never
        // ran, since none was open; once connected again it runs as if nothing had happened.
        connect(false);
        result = PQexec(conn_, sql);
    }
    auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fail(result, std::string("exec: ") + std::string(sql).substr(0, 80));
    }
    PQclear(result);
}

bool Connection::lost(pg_result*& result) {
    auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || !broken()) return false;
    if (result) PQclear(result);
    result = nullptr;
    return true;
}

Rows Connection::run(const char* sql, std::initializer_list<Param> params) {
    return run(sql, std::vector<Param>(params));
}

Rows Connection::run(const char* sql, const std::vector<Param>& params) {
    if (broken()) throw StorageUnavailable();
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& param : params) values.push_back(param.c_str());
    bool idle = !in_transaction();
    PGresult* result = run_prepared(sql, values);
    if (idle && lost(result)) {
        // As in exec: outside a transaction nothing ran; prepare and run on a new connection.
        connect(false);
        result = run_prepared(sql, values);
    }
    auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fail(result, std::string("run: ") + sql);
    }
    return Rows(result);
}

pg_result* Connection::run_prepared(const char* sql, const std::vector<const char*>& values) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        std::string name = "s" + std::to_string(prepared_.size());
        PGresult* prepared = PQprepare(conn_, name.c_str(), sql, 0, nullptr);
        if (!prepared || PQresultStatus(prepared) != PGRES_COMMAND_OK) return prepared;
        PQclear(prepared);
        it = prepared_.emplace(sql, std::move(name)).first;
    }
    return PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0);
}

}  // namespace chatgate::storage::pg

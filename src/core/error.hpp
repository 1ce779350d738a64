#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatgate {

/// The closed set of expected failures. `api/error_mapping.cpp` is the only place that turns
/// them into HTTP statuses and wire shapes.
enum class ErrorCode {
    invalid_argument,        ///< bad field values: a field map, or a single message
    malformed_request,       ///< unreadable body (JSON syntax, not an object where one is needed)
    unsupported_media_type,  ///< body in a content type we do not parse
    not_authenticated,       ///< no credentials at all
    bad_authorization_header,
    token_not_valid,          ///< access token refused; message says why
    refresh_token_not_valid,  ///< refresh token refused; message says why
    user_not_found,           ///< a valid token whose user no longer exists
    user_inactive,            ///< a valid token whose user was deactivated
    invalid_credentials,      ///< login with a wrong username or password
    insufficient_tokens,
    key_limit_reached,  ///< the API key's token_limit cannot cover the request
    permission_denied,
    not_found,
    already_exists,
    no_active_account,     ///< refresh token whose user is gone or inactive
    upstream_unavailable,  ///< the AI provider failed to answer
    upstream_timeout,      ///< the AI provider missed a deadline
    rate_limited,          ///< too many requests; `retry_after_seconds` says when to come back
    method_not_allowed,
    payload_too_large,
    header_too_large,
    /// A request target (URL) over the limit.
    uri_too_long,
    busy,                       ///< a bounded pool is saturated; retry later
    idempotency_key_reused,     ///< an Idempotency-Key sent again with a different request
    idempotency_key_in_flight,  ///< the first request with the key has not answered (yet)
    internal,
};

/// Messages for one request field, in the order the checks ran.
struct FieldError {
    std::string field;
    std::vector<std::string> messages;
};

/// An expected failure. `message` is safe to show to the client; detail for operators goes to
/// the log, never here.
struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;
    std::vector<FieldError> fields;
    std::int64_t retry_after_seconds = 0;  ///< > 0: sent as Retry-After (429 and 503 answers)
    /// chatgate already asked the upstream again before failing: clients should not retry on
    /// top (sent as `x-should-retry: false`, which OpenAI's libraries obey).
    bool retried = false;

    static Error fields_invalid(std::vector<FieldError> fields) {
        return {ErrorCode::invalid_argument, {}, std::move(fields)};
    }
};

/// Thrown only by a deliberate `.value()` on a failed Result; the dispatcher maps it like a value.
class ErrorException : public std::runtime_error {
public:
    explicit ErrorException(Error error)
        : std::runtime_error(error.message), error_(std::move(error)) {}
    const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace chatgate

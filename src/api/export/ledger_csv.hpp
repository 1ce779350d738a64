#pragma once

#include "api/handler.hpp"

#include <optional>

/// The ledger as CSV, streamed: one keyset page of rows at a time is read, written as one
/// chunk and dropped, so memory stays flat however many rows there are.
namespace chatgate::api {

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (both optional, UTC days, inclusive) over `user`'s
/// ledger, or every user's when `user` is empty. Errors: invalid_argument for a bad day.
Result<http::Response> ledger_csv(Services& services, const RequestContext& ctx,
                                  std::optional<UserId> user);

/// A CSV field: quoted when it holds a separator, a quote or a line break; text that a
/// spreadsheet would run as a formula (= + - @ first) is prefixed with a quote mark.
std::string csv_field(std::string_view text);

}  // namespace chatgate::api

#pragma once

#include <cstdint>

namespace chatgate {

using UserId = std::int64_t;
using LedgerEntryId = std::int64_t;
/// Token amounts are whole tokens; int64 so a sum of many entries can never overflow in practice.
using TokenAmount = std::int64_t;

}  // namespace chatgate

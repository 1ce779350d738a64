#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/work_pool.hpp"
#include "domain/admin/admin_store.hpp"
#include "domain/keys/key_crypto.hpp"
#include "domain/payments/payment_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

/// Filled from the configuration by the composition root.
struct CodePolicy {
    TokenAmount balance_cap{};  ///< a redemption may not pass it
    TokenAmount max_tokens{};   ///< per code
};

struct CodeRequest {
    TokenAmount tokens = 0;
    std::int64_t count = 1;
    std::int64_t max_uses = 1;               ///< redemptions per code, each by another user
    std::optional<std::int64_t> expires_at;  ///< unix seconds
};

struct CreatedCodes {
    CodeBatchId batch = 0;
    std::vector<std::string> codes;  ///< shown once: only their digests are kept
};

struct CodeBatchPage {
    std::int64_t count = 0;
    std::vector<CodeBatchRow> batches;
};

/// Redemption codes: batches made by staff (the admin API and the command line share this),
/// redeemed by users. A code is `CG-` and 32 base32 characters in groups of four (160 random
/// bits); only the SHA-256 of its canonical text is stored. Every create and revoke writes its
/// audit row in its transaction; a redemption claims the code and credits the balance in one.
/// Thread-safe.
class CodeService {
public:
    static constexpr std::int64_t kMaxCount = 1000;
    static constexpr std::int64_t kMaxUses = 1'000'000;
    static constexpr std::size_t kRandomBytes = 20;

    CodeService(PaymentStore& store, const KeyCrypto& crypto, DbPools db, const Clock& clock,
                CodePolicy policy);

    /// Errors: invalid_argument (tokens, count, max_uses, an expiry in the past).
    boost::asio::awaitable<Result<CreatedCodes>> create(const Actor& actor,
                                                        const CodeRequest& request);
    boost::asio::awaitable<CodeBatchPage> batches(std::int64_t offset, std::int64_t limit);
    /// Revokes the batch's codes that have uses left, or only `code` of it. Returns how many.
    /// Errors: not_found (no such batch), invalid_argument (not a code's format).
    boost::asio::awaitable<Result<std::int64_t>> revoke(const Actor& actor, CodeBatchId batch,
                                                        const std::optional<std::string>& code);
    /// Credits the code's tokens; returns the new balance. Every failure (no such code, used up,
    /// expired, revoked, redeemed by this user before) is the same `redeem_refused()`.
    boost::asio::awaitable<Result<TokenAmount>> redeem(UserId user, std::string_view code);

    /// The one answer to every failed redemption.
    static Error redeem_refused();
    /// The code's 32 characters, upper-cased, without the prefix, dashes and blanks; nothing
    /// for text that cannot be a code.
    static std::optional<std::string> canonical(std::string_view code);
    /// `CG-XXXX-...` from the random bytes.
    static std::string format(std::string_view random);

private:
    PaymentStore& store_;
    const KeyCrypto& crypto_;
    DbPools db_;
    const Clock& clock_;
    CodePolicy policy_;
};

}  // namespace chatgate::domain

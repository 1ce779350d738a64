#include "domain/payments/code_service.hpp"

#include <cctype>
#include <chrono>

namespace chatgate::domain {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";  // RFC 4648 base32
constexpr std::string_view kPrefix = "CG";
constexpr std::size_t kCodeChars = CodeService::kRandomBytes * 8 / 5;  // 32
constexpr std::size_t kGroup = 4;

Error invalid(std::string field, std::string message) {
    return Error::fields_invalid({{std::move(field), {std::move(message)}}});
}

std::int64_t unix_now(const Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

AuditEntry entry(const Actor& actor, std::string action) {
    return {actor, std::move(action), std::nullopt, "{}", "{}", std::nullopt};
}

}  // namespace

CodeService::CodeService(PaymentStore& store, const KeyCrypto& crypto, DbPools db,
                         const Clock& clock, CodePolicy policy)
    : store_(store), crypto_(crypto), db_(db), clock_(clock), policy_(policy) {}

Error CodeService::redeem_refused() {
    return invalid("code", "This code is not valid.");
}

std::string CodeService::format(std::string_view random) {
    std::string chars;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : random) {
        buffer = (buffer << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 5) {
            chars += kAlphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) chars += kAlphabet[(buffer << (5 - bits)) & 31];
    std::string out(kPrefix);
    for (std::size_t i = 0; i < chars.size(); i += kGroup) {
        out += '-';
        out += chars.substr(i, kGroup);
    }
    return out;
}

std::optional<std::string> CodeService::canonical(std::string_view code) {
    std::string out;
    for (char c : code) {
        if (c == '-' || std::isspace(static_cast<unsigned char>(c))) continue;
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (out.size() > kPrefix.size() + kCodeChars) return std::nullopt;
    }
    if (out.size() != kPrefix.size() + kCodeChars || !out.starts_with(kPrefix)) return std::nullopt;
    out.erase(0, kPrefix.size());
    for (char c : out) {
        if (kAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    }
    return out;
}

boost::asio::awaitable<Result<CreatedCodes>> CodeService::create(const Actor& actor,
                                                                 const CodeRequest& request) {
    if (request.tokens < 1 || request.tokens > policy_.max_tokens) {
        co_return invalid("tokens", "Ensure this value is a whole number from 1 to " +
                                        std::to_string(policy_.max_tokens) + ".");
    }
    if (request.count < 1 || request.count > kMaxCount) {
        co_return invalid("count", "Ensure this value is a whole number from 1 to " +
                                       std::to_string(kMaxCount) + ".");
    }
    if (request.max_uses < 1 || request.max_uses > kMaxUses) {
        co_return invalid("max_uses", "Ensure this value is a whole number from 1 to " +
                                          std::to_string(kMaxUses) + ".");
    }
    if (request.expires_at && *request.expires_at <= unix_now(clock_)) {
        co_return invalid("expires_at", "The expiry must be in the future.");
    }
    CreatedCodes created;
    NewCodeBatch batch{request.tokens, request.max_uses, request.expires_at, {}, actor.name};
    for (std::int64_t i = 0; i < request.count; ++i) {
        created.codes.push_back(format(crypto_.random_bytes(kRandomBytes)));
        batch.code_digests.push_back(crypto_.code_digest(*canonical(created.codes.back())));
    }
    AuditEntry audit = entry(actor, "codes.create");
    created.batch = co_await db_.writes.run([&] { return store_.create_code_batch(batch, audit); });
    co_return created;
}

boost::asio::awaitable<CodeBatchPage> CodeService::batches(std::int64_t offset,
                                                           std::int64_t limit) {
    co_return co_await db_.reads.run([&] {
        return CodeBatchPage{store_.count_code_batches(), store_.list_code_batches(offset, limit)};
    });
}

boost::asio::awaitable<Result<std::int64_t>> CodeService::revoke(
    const Actor& actor, CodeBatchId batch, const std::optional<std::string>& code) {
    std::optional<std::string> digest;
    if (code) {
        auto text = canonical(*code);
        if (!text) co_return invalid("code", "This is not a redemption code.");
        digest = crypto_.code_digest(*text);
    }
    AuditEntry audit = entry(actor, "codes.revoke");
    std::int64_t now = unix_now(clock_);
    auto revoked =
        co_await db_.writes.run([&] { return store_.revoke_codes(batch, digest, now, audit); });
    if (!revoked) co_return Error{ErrorCode::not_found, "Not found.", {}};
    co_return *revoked;
}

boost::asio::awaitable<Result<TokenAmount>> CodeService::redeem(UserId user,
                                                                std::string_view code) {
    auto text = canonical(code);
    if (!text) co_return redeem_refused();
    CodeClaim claim{user, crypto_.code_digest(*text), unix_now(clock_), policy_.balance_cap};
    auto result = co_await db_.writes.run([&] { return store_.redeem_code(claim); });
    if (result.status != RedeemStatus::credited) co_return redeem_refused();
    co_return result.balance;
}

}  // namespace chatgate::domain

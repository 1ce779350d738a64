#include "domain/payments/payment_service.hpp"

#include <chrono>

namespace chatgate::domain {
namespace {

constexpr std::size_t kIdempotencyKeyBytes = 18;

}  // namespace

PaymentService::PaymentService(PaymentStore& store, const WebhookVerifier* verifier,
                               CheckoutGateway* gateway, const KeyCrypto& crypto, DbPools db,
                               const Clock& clock, PaymentPolicy policy)
    : store_(store),
      verifier_(verifier),
      gateway_(gateway),
      crypto_(crypto),
      db_(db),
      clock_(clock),
      policy_(std::move(policy)) {}

Error PaymentService::not_configured() {
    return {ErrorCode::not_found, "Payments are not configured.", {}};
}

bool PaymentService::verify(std::string_view header, std::string_view payload) const {
    if (!policy_.enabled || !verifier_) return false;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch());
    return verifier_->verify(header, payload, now.count());
}

boost::asio::awaitable<EventResult> PaymentService::handle(const WebhookEvent& event) {
    // A delayed payment method (a bank debit) completes the session unpaid and succeeds later.
    if (event.type == "checkout.session.completed" ||
        event.type == "checkout.session.async_payment_succeeded") {
        if (!event.paid) co_return EventResult{EventOutcome::ignored};
        co_return co_await db_.writes.run([&] { return store_.credit_checkout(event.checkout); });
    }
    if (event.type == "charge.refunded") {
        co_return co_await db_.writes.run([&] { return store_.refund_charge(event.refund); });
    }
    co_return EventResult{EventOutcome::ignored};
}

boost::asio::awaitable<Result<CheckoutSession>> PaymentService::checkout(UserId user,
                                                                         const std::string& price) {
    if (!policy_.enabled || !gateway_) co_return not_configured();
    const PriceTokens* row = nullptr;
    for (const auto& p : policy_.prices) {
        if (p.price == price) row = &p;
    }
    if (!row) co_return Error::fields_invalid({{"price", {"Unknown price."}}});
    CheckoutRequest request{user, row->price,
                            "chatgate-" + crypto_.random_text(kIdempotencyKeyBytes)};
    auto session = co_await gateway_->create(request);
    if (!session) co_return session.error();
    NewCheckout stored{session->id, user, row->price, row->tokens};
    co_await db_.writes.run([&] {
        store_.save_checkout(stored);
        return true;
    });
    co_return std::move(*session);
}

boost::asio::awaitable<TokenAmount> PaymentService::debt(UserId user) {
    co_return co_await db_.reads.run([&] { return store_.debt(user); });
}

}  // namespace chatgate::domain

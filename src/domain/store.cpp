#include "domain/store.hpp"

namespace chatgate::domain {

std::string_view to_string(LedgerKind kind) {
    switch (kind) {
        case LedgerKind::signup_grant:
            return "signup_grant";
        case LedgerKind::chat_charge:
            return "chat_charge";
        case LedgerKind::chat_refund:
            return "chat_refund";
        case LedgerKind::top_up:
            return "top_up";
        case LedgerKind::admin_grant:
            return "admin_grant";
        case LedgerKind::admin_deduct:
            return "admin_deduct";
        case LedgerKind::code_redeem:
            return "code_redeem";
        case LedgerKind::payment_credit:
            return "payment_credit";
        case LedgerKind::payment_refund:
            return "payment_refund";
        case LedgerKind::debt_repayment:
            return "debt_repayment";
    }
    return "unknown";
}

}  // namespace chatgate::domain

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

std::optional<LedgerKind> ledger_kind_from(std::string_view text) {
    for (auto kind : {LedgerKind::signup_grant, LedgerKind::chat_charge, LedgerKind::chat_refund,
                      LedgerKind::top_up, LedgerKind::admin_grant, LedgerKind::admin_deduct,
                      LedgerKind::code_redeem, LedgerKind::payment_credit,
                      LedgerKind::payment_refund, LedgerKind::debt_repayment}) {
        if (to_string(kind) == text) return kind;
    }
    return std::nullopt;
}

}  // namespace chatgate::domain

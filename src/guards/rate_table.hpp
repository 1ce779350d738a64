#pragma once

#include "core/error.hpp"
#include "guards/rate_limiter.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace chatgate::guards {

/// The named limits: one per class of route (each route names its class in api/routes.cpp),
/// plus the limits on failed logins and failed redemptions. The order is the order of
/// `RateTable::kNames`.
enum class RateClass : std::uint8_t {
    read,   ///< authenticated reads
    write,  ///< authenticated writes
    pages,  ///< anonymous pages and assets
    register_account,
    login,    ///< every login attempt (and password changes, which are guesses too)
    refresh,  ///< refresh and logout
    chat,     ///< every chat answer, /api/chat/ and /v1 alike
    top_up,
    failed_login_user,
    failed_login_address,
    redeem,                 ///< every redemption attempt
    failed_redeem_user,     ///< failed redemptions, per user
    failed_redeem_address,  ///< failed redemptions, per client address
    webhook,                ///< a payment provider's deliveries, per address
};

/// The rates of every class, as the `rate_limits` setting gives them.
class RateTable {
public:
    /// Every name a `rate_limits` setting may use, by RateClass.
    static constexpr std::array<std::string_view, 14> kNames = {"read",
                                                                "write",
                                                                "pages",
                                                                "register",
                                                                "login",
                                                                "refresh",
                                                                "chat",
                                                                "top_up",
                                                                "failed_login_user",
                                                                "failed_login_address",
                                                                "redeem",
                                                                "failed_redeem_user",
                                                                "failed_redeem_address",
                                                                "webhook"};

    /// Parses "name=LIMIT/PERIOD,..." over `base` (names not mentioned keep their rate). PERIOD
    /// is a count and unit, "30s", "1m", "15m", "1h", "1d" (the count may be left out: "m");
    /// "name=off" removes the limit. Errors say what is wrong, for the caller to name the key.
    static Result<RateTable> parse(std::string_view text, const RateTable& base);
    /// The same over a table without limits.
    static Result<RateTable> parse(std::string_view text);

    /// The rate of `name`, or nothing for an unknown name.
    std::optional<Rate> find(std::string_view name) const;
    const Rate& at(RateClass rate_class) const { return rates_[index(rate_class)]; }

    static constexpr std::size_t index(RateClass rate_class) {
        return static_cast<std::size_t>(rate_class);
    }

private:
    static std::optional<std::size_t> index_of(std::string_view name);

    std::array<Rate, kNames.size()> rates_{};
};

}  // namespace chatgate::guards

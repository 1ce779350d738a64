#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chatgate::domain {

inline constexpr std::size_t kMaxUsernameChars = 50;
inline constexpr std::size_t kMaxPasswordChars = 128;

/// A username as it is stored and looked up: NFKC-normalised, as Django does before validating,
/// so look-alikes (fullwidth `ａｄｍｉｎ`, `ⓐdmin`) are the name they look like.
std::string normalize_username(std::string_view username);

/// Django's username rule on a normalised name: only Unicode letters and numbers (Python's `\w`)
/// and @/./+/-/_, at most kMaxUsernameChars; empty when the name is acceptable.
std::vector<std::string> username_problems(std::string_view username);

/// Django's default password validators, in Django's order and with its messages:
/// similarity to the username, minimum length 8, common passwords, entirely numeric.
/// Immutable after construction; thread-safe.
class PasswordRules {
public:
    /// `common_passwords`: one lowercase password per line (Django's list).
    explicit PasswordRules(std::string common_passwords);

    std::vector<std::string> problems(std::string_view password, std::string_view username) const;

private:
    bool is_common(std::string_view password) const;

    std::string common_text_;
    std::vector<std::string_view> common_;  ///< sorted views into common_text_
};

/// Number of Unicode code points in valid UTF-8 text (what Python's len() counts).
std::size_t count_chars(std::string_view utf8);

}  // namespace chatgate::domain

#pragma once
// Small text utilities shared by every parser: trimming, hex, UTF-8 validation and
// bounded integer parsing with errors that name the field.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"

namespace wg::core {

std::string_view Trim(std::string_view s);
std::string ToHex(std::span<const std::uint8_t> bytes);
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex, std::string_view field = "hex");
// RFC 4648 §5 base64url without padding.
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text, std::string_view field = "base64");
bool IsValidUtf8(std::string_view s);
// Number of Unicode code points; s must be valid UTF-8.
std::size_t Utf8Length(std::string_view s);
// Parses a base-10 integer in [min, max]; the whole string must be the number.
Result<std::int64_t> ParseInt(std::string_view s, std::int64_t min, std::int64_t max,
                              std::string_view field);
std::vector<std::string_view> Split(std::string_view s, char sep);
// Checks a free-text field: valid UTF-8, 1..max_chars code points (0 allowed when
// !required), no control characters.
Status CheckText(std::string_view s, std::string_view field, std::size_t max_chars,
                 bool required = true);

}  // namespace wg::core

#pragma once
// National ID numbers (居民身份证号码, GB 11643-1999): validation and keyed digests.
// The number itself is never stored or logged; a worker keeps a random salt, the digest
// HMAC-SM3(installation key, salt || normalized number) and the last four characters.

#include <string>
#include <string_view>

#include "wg/core/status.h"

namespace wg::registry {

// Checks an 18-character resident ID: 17 digits, a real birth date (1900..today's
// century) and the ISO 7064 MOD 11-2 check character ('X' allowed, case-insensitive).
// Returns the normalized form (upper-case X).
core::Result<std::string> NormalizeResidentId(std::string_view id,
                                              std::string_view field = "national_id");

// Computes the check character for 17 digits (used by generators and tests).
char ResidentIdCheckChar(std::string_view first17);

class IdDigester {
 public:
  // key: at least 32 secret bytes, kept in DATA/keys/id-digest.key (mode 0600).
  explicit IdDigester(std::string key) : key_(std::move(key)) {}
  // Hex digest for a normalized ID and a hex salt.
  core::Result<std::string> Digest(std::string_view salt_hex, std::string_view normalized) const;
  // Unsalted keyed digest of a normalized ID: the same person always maps to the same
  // value, so a second registration can be found (never stored with the number).
  core::Result<std::string> Lookup(std::string_view normalized) const;
  // True when `presented` (raw user input) digests to `digest_hex` under `salt_hex`;
  // invalid input is an error naming `field`.
  core::Result<bool> Matches(std::string_view presented, std::string_view salt_hex,
                             std::string_view digest_hex,
                             std::string_view field = "national_id") const;

 private:
  std::string key_;
};

}  // namespace wg::registry

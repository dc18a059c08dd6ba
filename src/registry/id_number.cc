#include "wg/registry/id_number.h"

#include "wg/core/strings.h"
#include "wg/core/time.h"
#include "wg/crypto/crypto.h"

namespace wg::registry {

char ResidentIdCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kChecks[] = "10X98765432";
  int sum = 0;
  for (std::size_t i = 0; i < 17 && i < first17.size(); ++i) {
    sum += (first17[i] - '0') * kWeights[i];
  }
  return kChecks[sum % 11];
}

core::Result<std::string> NormalizeResidentId(std::string_view id, std::string_view field) {
  std::string f(field);
  id = core::Trim(id);
  if (id.size() != 18) {
    return core::Status::InvalidArgument(
        "must be an 18-character resident ID number, got " + std::to_string(id.size()) +
            " characters",
        f);
  }
  std::string s(id);
  for (std::size_t i = 0; i < 17; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return core::Status::InvalidArgument("character " + std::to_string(i + 1) +
                                               " must be a digit",
                                           f);
    }
  }
  if (s[17] == 'x') s[17] = 'X';
  if (!((s[17] >= '0' && s[17] <= '9') || s[17] == 'X')) {
    return core::Status::InvalidArgument("the check character must be a digit or X", f);
  }
  std::string birth = s.substr(6, 4) + "-" + s.substr(10, 2) + "-" + s.substr(12, 2);
  if (!core::ParseDate(birth).has_value()) {
    return core::Status::InvalidArgument("birth date " + birth + " in the number is not a real day",
                                         f);
  }
  if (ResidentIdCheckChar(s) != s[17]) {
    return core::Status::InvalidArgument(
        "check character does not match (GB 11643-1999 ISO 7064 MOD 11-2)", f);
  }
  return s;
}

core::Result<std::string> IdDigester::Digest(std::string_view salt_hex,
                                             std::string_view normalized) const {
  WG_ASSIGN_OR_RETURN(std::string salt, core::FromHex(salt_hex, "id_salt"));
  std::string msg = salt;
  msg += normalized;
  WG_ASSIGN_OR_RETURN(auto mac, crypto::HmacSm3(key_, msg));
  return core::ToHex(mac);
}

core::Result<std::string> IdDigester::Lookup(std::string_view normalized) const {
  std::string msg = "wg-id-lookup|";
  msg += normalized;
  WG_ASSIGN_OR_RETURN(auto mac, crypto::HmacSm3(key_, msg));
  return core::ToHex(mac);
}

core::Result<bool> IdDigester::Matches(std::string_view presented, std::string_view salt_hex,
                                       std::string_view digest_hex,
                                       std::string_view field) const {
  WG_ASSIGN_OR_RETURN(std::string normalized, NormalizeResidentId(presented, field));
  WG_ASSIGN_OR_RETURN(std::string digest, Digest(salt_hex, normalized));
  return crypto::ConstantTimeEqual(digest, digest_hex);
}

}  // namespace wg::registry

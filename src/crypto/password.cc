// argon2id password hashing (libargon2), encoded as a PHC string.

#include <argon2.h>
#include <openssl/crypto.h>

#include <string>

#include "wg/crypto/crypto.h"

namespace wg::crypto {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// Longer inputs are rejected before any hashing: a password this long is not a typed
// secret, and the bound caps the work one login attempt can ask of the server.
constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr std::string_view kArgon2idPrefix = "$argon2id$";

core::Status CheckPasswordLength(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return core::Status::InvalidArgument(
        "password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes", "password");
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<std::string> HashPassword(std::string_view password, const PasswordParams& p) {
  WG_RETURN_IF_ERROR(CheckPasswordLength(password));
  WG_ASSIGN_OR_RETURN(std::string salt, RandomBytes(kSaltBytes));
  std::string encoded(argon2_encodedlen(p.t_cost, p.m_cost_kib, p.parallelism,
                                        static_cast<std::uint32_t>(kSaltBytes),
                                        static_cast<std::uint32_t>(kHashBytes), Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(p.t_cost, p.m_cost_kib, p.parallelism, password.data(),
                                       password.size(), salt.data(), salt.size(), kHashBytes,
                                       encoded.data(), encoded.size());
  OPENSSL_cleanse(salt.data(), salt.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return core::Status::ResourceExhausted(std::string("argon2id: ") + argon2_error_message(rc));
  }
  if (rc != ARGON2_OK) {
    // Everything else libargon2 reports here is a parameter out of its range.
    return core::Status::InvalidArgument(
        std::string("argon2id parameters rejected: ") + argon2_error_message(rc), "params");
  }
  // argon2_encodedlen counts the terminating NUL.
  encoded.resize(encoded.find('\0'));
  return encoded;
}

core::Status VerifyPassword(std::string_view password, std::string_view encoded) {
  WG_RETURN_IF_ERROR(CheckPasswordLength(password));
  // Only argon2id is accepted: a stored hash of a weaker variant is treated as malformed
  // rather than silently verified.
  if (encoded.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix ||
      encoded.find('\0') != std::string_view::npos) {
    return core::Status::InvalidArgument("password hash is not an argon2id PHC string",
                                         "password_hash");
  }
  const std::string encoded_z(encoded);  // libargon2 wants a NUL-terminated string
  const int rc = argon2id_verify(encoded_z.c_str(), password.data(), password.size());
  switch (rc) {
    case ARGON2_OK:
      return core::Status::Ok();
    case ARGON2_VERIFY_MISMATCH:
      return core::Status::Unauthenticated("password does not match");
    case ARGON2_MEMORY_ALLOCATION_ERROR:
      return core::Status::ResourceExhausted(std::string("argon2id: ") +
                                             argon2_error_message(rc));
    default:
      return core::Status::InvalidArgument(
          std::string("malformed argon2id hash: ") + argon2_error_message(rc), "password_hash");
  }
}

}  // namespace wg::crypto

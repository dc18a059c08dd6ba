#pragma once
// Cryptographic primitives over OpenSSL 3 EVP (SM3, SHA-256, HMAC, CSPRNG) and libargon2
// (password hashing). Every OpenSSL object lives in a unique_ptr with its free function
// and every return value is checked; failures come back as Status, never exceptions.
// Every function is thread-safe, and a PayloadSigner is immutable once made, so one
// instance may be shared by all server threads.
//
// SM2 signatures and SM4 encryption are in wg/crypto/sm.h, which also provides an SM2
// PayloadSigner beside the HMAC-SM3 one here: whoever builds the signer picks the
// algorithm, and code that holds a PayloadSigner does not change.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wg/core/status.h"

namespace wg::crypto {

using Digest32 = std::array<std::uint8_t, 32>;

Digest32 Sm3(std::string_view data);
Digest32 Sha256(std::string_view data);
core::Result<Digest32> HmacSm3(std::string_view key, std::string_view data);
core::Result<Digest32> HmacSha256(std::string_view key, std::string_view data);

// Constant-time comparison of equal-length byte strings (false when lengths differ).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// Fetches SM3, SHA-256 and HMAC and runs an SM3 known-answer test. Binaries call it once
// at start-up: Sm3/Sha256 cannot return an error, so on an OpenSSL build without SM3 they
// stop the process; this check turns that into a clear kFailedPrecondition first.
core::Status CheckCryptoAvailable();

// `n` bytes from the OS CSPRNG (RAND_bytes).
core::Result<std::string> RandomBytes(std::size_t n);
// 2n lowercase hex characters of fresh randomness (tokens, salts).
core::Result<std::string> RandomHex(std::size_t n_bytes);

// argon2id password hashing, encoded PHC string ("$argon2id$v=19$m=...").
struct PasswordParams {
  std::uint32_t t_cost = 2;
  std::uint32_t m_cost_kib = 19 * 1024;  // OWASP 2023 minimum for argon2id
  std::uint32_t parallelism = 1;
};
// Passwords over 1024 bytes are rejected (kInvalidArgument, field "password") by both
// functions; parameters libargon2 refuses are kInvalidArgument (field "params").
core::Result<std::string> HashPassword(std::string_view password, const PasswordParams& p = {});
// OK when the password matches; kUnauthenticated when it does not; kInvalidArgument for
// a malformed encoded hash.
core::Status VerifyPassword(std::string_view password, std::string_view encoded);

// Signs and verifies short canonical payloads (QR codes). Implementations name their
// algorithm in the payload so verifiers can reject a downgrade.
class PayloadSigner {
 public:
  virtual ~PayloadSigner() = default;
  virtual std::string_view Algorithm() const = 0;  // "HMAC-SM3", "SM2"
  virtual std::string_view KeyId() const = 0;
  virtual core::Result<std::string> Sign(std::string_view payload) const = 0;  // raw bytes
  // OK, or kCorruption naming what did not match.
  virtual core::Status Verify(std::string_view payload, std::string_view signature) const = 0;
};

// HMAC-SM3 signer; key must be at least 32 bytes. key_id is published in payloads.
core::Result<std::unique_ptr<PayloadSigner>> MakeHmacSm3Signer(std::string key,
                                                               std::string key_id);

}  // namespace wg::crypto

#pragma once
// Chinese national cryptography beyond SM3: SM2 signatures (GB/T 32918.2) and SM4
// authenticated encryption (GB/T 32907 block cipher in CTR mode, encrypt-then-MAC with
// HMAC-SM3), over OpenSSL 3 EVP. docs/adr/0006-sm2-sm4.md records the choices: the SM2
// distinguishing ID is always set explicitly (default "1234567812345678", GB/T 35276-2017
// §5.3 / GM/T 0009), and SM4-CTR + HMAC-SM3 replaces SM4-GCM which OpenSSL 3.0 lacks.
//
// Keys are immutable values; copies share the underlying EVP_PKEY (reference counted by
// OpenSSL, never mutated after construction), so a key may be used from many threads. A
// moved-from key is empty: Raw()/Pem() return "" and its operations kFailedPrecondition.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "wg/core/status.h"
#include "wg/crypto/crypto.h"

namespace wg::crypto {

// GB/T 35276-2017 default user ID for SM2 signatures when none is agreed.
inline constexpr std::string_view kSm2DefaultId = "1234567812345678";

class Sm2PublicKey {
 public:
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"). Rejects non-SM2 keys.
  static core::Result<Sm2PublicKey> FromPem(std::string_view pem);
  // 65-byte uncompressed point 0x04 || X || Y on the SM2 recommended curve; kInvalidArgument
  // (field "raw") for any other length or prefix and for a point not on the curve.
  static core::Result<Sm2PublicKey> FromRaw(std::string_view raw);

  std::string Raw() const;  // 65 bytes
  std::string Pem() const;
  // Verifies a DER-encoded (SEQUENCE{r,s}) signature over `message`, with Z computed from
  // `id` (GB/T 32918.2 §6.1). OK, or kCorruption saying the signature does not verify /
  // is malformed. An empty ID, or one over 8190 bytes, is kInvalidArgument (field "id"),
  // here and in Sign.
  core::Status Verify(std::string_view message, std::string_view signature_der,
                      std::string_view id = kSm2DefaultId) const;

  struct Impl;  // defined in sm2.cc; public only so its file-local helpers can name it

 private:
  friend class Sm2PrivateKey;  // PublicKey() wraps the public half it derived
  explicit Sm2PublicKey(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;  // shared: immutable EVP_PKEY, cheap copies
};

class Sm2PrivateKey {
 public:
  static core::Result<Sm2PrivateKey> Generate();
  // Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"); callers seal it at rest.
  // kInvalidArgument (field "pem") for anything else, including a key on another curve.
  static core::Result<Sm2PrivateKey> FromPem(std::string_view pem);
  // 32-byte big-endian private scalar d in [1, n-2] (test vectors); kInvalidArgument
  // (field "d") otherwise.
  static core::Result<Sm2PrivateKey> FromScalar(std::string_view d);

  core::Result<std::string> Pem() const;
  Sm2PublicKey PublicKey() const;
  // DER-encoded signature (random k, so two signatures of one message differ).
  core::Result<std::string> Sign(std::string_view message,
                                 std::string_view id = kSm2DefaultId) const;

  struct Impl;

 private:
  explicit Sm2PrivateKey(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;  // shared: immutable EVP_PKEY, cheap copies
};

// DER SEQUENCE{r,s} <-> 64-byte r||s (big-endian, zero-padded). kInvalidArgument naming
// "signature" on malformed input.
core::Result<std::string> Sm2SignatureToRaw(std::string_view der);
core::Result<std::string> Sm2SignatureFromRaw(std::string_view raw);

// PayloadSigner over SM2 (Algorithm() == "SM2"); signatures are the 64-byte raw r||s.
core::Result<std::unique_ptr<PayloadSigner>> MakeSm2Signer(
    Sm2PrivateKey key, std::string key_id, std::string id = std::string(kSm2DefaultId));
// Verify-only PayloadSigner: Sign() returns kFailedPrecondition.
core::Result<std::unique_ptr<PayloadSigner>> MakeSm2Verifier(
    Sm2PublicKey key, std::string key_id, std::string id = std::string(kSm2DefaultId));

// --- SM4 -------------------------------------------------------------------------------

// One 16-byte block with SM4 (ECB, no padding): known-answer tests only.
core::Result<std::string> Sm4EncryptBlock(std::string_view key16, std::string_view block16);

// Authenticated encryption "WGAE1" (docs/formats/sealed-box.md):
//   key32 -> enc_key = first 16 bytes of HMAC-SM3(key32, "wg-ae-enc"),
//            mac_key = HMAC-SM3(key32, "wg-ae-mac")
//   box   = "WGAE1" || iv(16 random) || SM4-CTR(enc_key, iv, plaintext) || tag(32)
//   tag   = HMAC-SM3(mac_key, u64be(len(aad)) || aad || "WGAE1" || iv || ciphertext)
// Open checks the tag (constant time) before decrypting: kCorruption "authentication tag
// does not match" on any change of box or aad, or a wrong key. kInvalidArgument for a key
// that is not 32 bytes (field "key32") or a box too short to hold header and tag (field
// "box"). A box of sufficient length whose magic is not "WGAE1" is kCorruption too: the
// magic is authenticated, so a changed magic is indistinguishable from any other change
// (the message says so). One random IV per box: keep one key per object
// (docs/adr/0006-sm2-sm4.md).
inline constexpr std::size_t kSealOverhead = 5 + 16 + 32;
core::Result<std::string> Seal(std::string_view key32, std::string_view plaintext,
                               std::string_view aad);
core::Result<std::string> Open(std::string_view key32, std::string_view box, std::string_view aad);

// Streaming form of the same construction for large objects (video). Seal: Begin, then
// Update with plaintext chunks (returns ciphertext chunks), then Finish (returns the tag).
// The header ("WGAE1" || iv) is returned by Begin; header || chunks || tag is a box that
// Open accepts. Open is two-pass: feed the whole ciphertext to a StreamVerifier first;
// only when its tag matches decrypt with StreamDecryptor, which returns unauthenticated
// plaintext and must never be used on bytes that were not verified (nor on a file that
// can change between the two passes). Chunk boundaries are free on every side.
//
// A stream object has one owner (not thread-safe). After Finish, after any error, and
// when moved from, every call returns kFailedPrecondition. Begin takes the same key32 and
// header errors as Seal/Open: kInvalidArgument for a wrong-size key or header, kCorruption
// for a header whose magic is not "WGAE1".
class StreamSealer {
 public:
  static core::Result<StreamSealer> Begin(std::string_view key32, std::string_view aad,
                                          std::string* header);
  core::Result<std::string> Update(std::string_view plaintext);
  core::Result<std::string> Finish();  // 32-byte tag
  struct Impl;
  ~StreamSealer();
  StreamSealer(StreamSealer&&) noexcept;
  StreamSealer& operator=(StreamSealer&&) noexcept;

 private:
  explicit StreamSealer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class StreamVerifier {
 public:
  // `header` is the 21-byte "WGAE1" || iv.
  static core::Result<StreamVerifier> Begin(std::string_view key32, std::string_view aad,
                                            std::string_view header);
  core::Status Update(std::string_view ciphertext);
  // kCorruption when the tag does not match; kInvalidArgument (field "tag") unless 32 bytes.
  core::Status Finish(std::string_view tag);
  struct Impl;
  ~StreamVerifier();
  StreamVerifier(StreamVerifier&&) noexcept;
  StreamVerifier& operator=(StreamVerifier&&) noexcept;

 private:
  explicit StreamVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class StreamDecryptor {
 public:
  // `header` is the 21-byte "WGAE1" || iv. Decrypts only; see StreamVerifier first.
  static core::Result<StreamDecryptor> Begin(std::string_view key32, std::string_view header);
  core::Result<std::string> Update(std::string_view ciphertext);
  struct Impl;
  ~StreamDecryptor();
  StreamDecryptor(StreamDecryptor&&) noexcept;
  StreamDecryptor& operator=(StreamDecryptor&&) noexcept;

 private:
  explicit StreamDecryptor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::crypto

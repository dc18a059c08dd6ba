// SM2 keys and signatures (GB/T 32918.2 with SM3) over OpenSSL 3 EVP, and the SM2
// PayloadSigner. Every signature operation sets the distinguishing ID explicitly on the
// EVP_PKEY_CTX (EVP_PKEY_CTX_set1_id): without one OpenSSL 3.0 hashes an empty ID into Z,
// and implementations that default to "1234567812345678" then reject the signature
// (docs/adr/0006-sm2-sm4.md).

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "openssl_util.h"
#include "wg/core/strings.h"
#include "wg/crypto/sm.h"

namespace wg::crypto {

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;

// The public half only (never a private scalar), with its encodings computed once so the
// accessors cannot fail.
struct Sm2PublicKey::Impl {
  PkeyPtr pkey;
  std::string raw;  // 0x04 || X || Y
  std::string pem;  // SubjectPublicKeyInfo
};

struct Sm2PrivateKey::Impl {
  PkeyPtr pkey;                                    // key pair
  std::shared_ptr<Sm2PublicKey::Impl> public_key;  // its public half, for PublicKey()
};

namespace {

using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT_clear_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
// OSSL_PARAM_free clears the block that holds secure-heap BIGNUMs (the private scalar).
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

constexpr std::size_t kCoordinateBytes = 32;
constexpr std::size_t kRawPointBytes = 1 + 2 * kCoordinateBytes;
constexpr std::size_t kRawSignatureBytes = 2 * kCoordinateBytes;
// SEQUENCE{INTEGER r, INTEGER s} with 32-byte values and a sign byte each: 2 + 2 * 35.
constexpr std::size_t kMaxDerSignatureBytes = 72;
// Z hashes ENTL, the ID length in bits, as two bytes (GB/T 32918.2); OpenSSL refuses
// id_len >= 0xFFFF / 8, so the longest usable ID is one byte shorter than that.
constexpr std::size_t kMaxIdBytes = 0xFFFF / 8 - 1;
constexpr std::size_t kMaxPemBytes = 16 * 1024;
constexpr std::string_view kAlgorithm = "SM2";
constexpr char kGroupName[] = "SM2";
constexpr std::string_view kPrivatePemLabel = "-----BEGIN PRIVATE KEY-----";
constexpr std::string_view kPublicPemLabel = "-----BEGIN PUBLIC KEY-----";

// n - 1 for the SM2 recommended curve (GB/T 32918.5): a private scalar must lie in
// [1, n - 2] (GB/T 32918.1, key pair generation), i.e. be non-zero and below n - 1.
constexpr std::array<std::uint8_t, kCoordinateBytes> kOrderMinusOne = {
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x22};

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Range check of a secret scalar without data-dependent branches, so how far the check
// got does not leak through timing.
bool ScalarInPrivateKeyRange(std::string_view d) {
  unsigned nonzero = 0;
  unsigned less = 0;   // d < n - 1 decided at the first differing byte
  unsigned equal = 1;  // all bytes so far equal
  for (std::size_t i = 0; i < kCoordinateBytes; ++i) {
    const unsigned a = static_cast<std::uint8_t>(d[i]);
    const unsigned b = kOrderMinusOne[i];
    nonzero |= a;
    const unsigned lt = ((a - b) >> 8) & 1U;  // 1 when a < b (a, b < 256)
    less |= equal & lt;
    equal &= static_cast<unsigned>(a == b);
  }
  return (nonzero != 0) & (less != 0);
}

core::Status CheckId(std::string_view id) {
  // An empty ID is legal in the standard but some implementations read it as "use the
  // default", so we refuse it rather than produce signatures that verify ambiguously.
  if (id.empty()) {
    return core::Status::InvalidArgument("SM2 distinguishing ID must not be empty", "id");
  }
  if (id.size() > kMaxIdBytes) {
    return core::Status::InvalidArgument("SM2 distinguishing ID is " + std::to_string(id.size()) +
                                             " bytes, more than the " +
                                             std::to_string(kMaxIdBytes) + "-byte maximum",
                                         "id");
  }
  return core::Status::Ok();
}

// Both SM2 "type" and SM2 curve: OpenSSL 3.0 decodes an id-ecPublicKey key on the SM2
// curve as "SM2", so either test alone would do today; checking both keeps a P-256 (or
// any other curve) key out whatever a later decoder decides.
core::Status CheckIsSm2(EVP_PKEY* pkey, std::string_view field) {
  if (EVP_PKEY_is_a(pkey, "SM2") != 1) {
    const char* type = EVP_PKEY_get0_type_name(pkey);
    return core::Status::InvalidArgument(
        "key is " + std::string(type != nullptr ? type : "of unknown type") + ", want SM2",
        std::string(field));
  }
  char group[64] = {};
  std::size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &group_len) != 1 ||
      std::string_view(group, group_len) != kGroupName) {
    ERR_clear_error();
    return core::Status::InvalidArgument(
        "key is not on the SM2 curve (group '" + std::string(group, group_len) + "')",
        std::string(field));
  }
  return core::Status::Ok();
}

// 0x04 || X || Y from the key's coordinates. Reading qx/qy rather than the encoded point
// keeps the result uncompressed even for a key that was imported compressed.
core::Result<std::string> RawPublicPoint(EVP_PKEY* pkey) {
  BIGNUM* x_raw = nullptr;
  BIGNUM* y_raw = nullptr;
  const int got_x = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x_raw);
  BnPtr x(x_raw);
  const int got_y = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y_raw);
  BnPtr y(y_raw);
  if (got_x != 1 || got_y != 1) {
    return core::Status::Internal("SM2 public point unavailable: " + LastOpenSslError());
  }
  std::string raw(kRawPointBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  out[0] = POINT_CONVERSION_UNCOMPRESSED;
  if (BN_bn2binpad(x.get(), out + 1, kCoordinateBytes) != kCoordinateBytes ||
      BN_bn2binpad(y.get(), out + 1 + kCoordinateBytes, kCoordinateBytes) != kCoordinateBytes) {
    return core::Status::Internal("SM2 public point coordinate does not fit 32 bytes");
  }
  return raw;
}

core::Result<std::string> PublicPem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return core::Status::Internal("BIO_new: " + LastOpenSslError());
  if (PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
    return core::Status::Internal("PEM_write_bio_PUBKEY: " + LastOpenSslError());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) {
    return core::Status::Internal("SM2 public key PEM is empty");
  }
  return std::string(data, static_cast<std::size_t>(len));
}

// Imports a 65-byte uncompressed point as a public-only SM2 key. OpenSSL rejects a point
// that is not on the curve while importing; EVP_PKEY_public_check then also rejects the
// point at infinity and points outside the prime-order subgroup.
core::Result<std::shared_ptr<Sm2PublicKey::Impl>> PublicKeyFromRaw(std::string_view raw) {
  if (raw.size() != kRawPointBytes) {
    return core::Status::InvalidArgument(
        "SM2 public key must be " + std::to_string(kRawPointBytes) +
            " bytes (0x04 || X || Y), got " + std::to_string(raw.size()),
        "raw");
  }
  if (static_cast<std::uint8_t>(raw[0]) != POINT_CONVERSION_UNCOMPRESSED) {
    return core::Status::InvalidArgument(
        "SM2 public key must be an uncompressed point (first byte 0x04)", "raw");
  }
  std::array<unsigned char, kRawPointBytes> point{};
  std::copy(raw.begin(), raw.end(), point.begin());
  std::string group(kGroupName);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
  if (!ctx) return core::Status::Internal("EVP_PKEY_CTX_new_from_name(SM2): " + LastOpenSslError());
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return core::Status::Internal("EVP_PKEY_fromdata_init: " + LastOpenSslError());
  }
  EVP_PKEY* pkey_raw = nullptr;
  // OSSL_PARAM is not const-correct in OpenSSL 3.0; fromdata does not write to params.
  const int imported =
      EVP_PKEY_fromdata(ctx.get(), &pkey_raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params));
  PkeyPtr pkey(pkey_raw);
  if (imported != 1 || !pkey) {
    return core::Status::InvalidArgument(
        "SM2 public key is not a point on the SM2 curve: " + LastOpenSslError(), "raw");
  }
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) return core::Status::Internal("EVP_PKEY_CTX_new_from_pkey: " + LastOpenSslError());
  if (EVP_PKEY_public_check(check.get()) != 1) {
    return core::Status::InvalidArgument(
        "SM2 public key fails the public-key check: " + LastOpenSslError(), "raw");
  }
  auto impl = std::make_shared<Sm2PublicKey::Impl>();
  WG_ASSIGN_OR_RETURN(impl->raw, RawPublicPoint(pkey.get()));
  WG_ASSIGN_OR_RETURN(impl->pem, PublicPem(pkey.get()));
  impl->pkey = std::move(pkey);
  return impl;
}

// Validates a key pair (type, curve, scalar range, public point matches the scalar) and
// derives its separate public-only key.
core::Result<std::shared_ptr<Sm2PrivateKey::Impl>> PrivateKeyFromPkey(PkeyPtr pkey,
                                                                      std::string_view field) {
  WG_RETURN_IF_ERROR(CheckIsSm2(pkey.get(), field));
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) return core::Status::Internal("EVP_PKEY_CTX_new_from_pkey: " + LastOpenSslError());
  if (EVP_PKEY_check(check.get()) != 1) {
    return core::Status::InvalidArgument(
        "SM2 private key fails the key-pair check: " + LastOpenSslError(), std::string(field));
  }
  WG_ASSIGN_OR_RETURN(std::string raw, RawPublicPoint(pkey.get()));
  auto impl = std::make_shared<Sm2PrivateKey::Impl>();
  WG_ASSIGN_OR_RETURN(impl->public_key, PublicKeyFromRaw(raw));
  impl->pkey = std::move(pkey);
  return impl;
}

// A memory BIO reading `pem`, after checking it is one PEM object with the expected label.
core::Result<BioPtr> PemReader(std::string_view pem, std::string_view label) {
  const std::string_view text = core::Trim(pem);
  if (text.size() > kMaxPemBytes) {
    return core::Status::InvalidArgument("PEM is " + std::to_string(text.size()) +
                                             " bytes, more than the " +
                                             std::to_string(kMaxPemBytes) + "-byte maximum",
                                         "pem");
  }
  if (text.substr(0, label.size()) != label) {
    return core::Status::InvalidArgument("PEM must start with '" + std::string(label) + "'", "pem");
  }
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return core::Status::Internal("BIO_new_mem_buf: " + LastOpenSslError());
  return bio;
}

// After PEM_read_bio_*: anything but whitespace after the END line is a second object or
// garbage, which we refuse rather than silently ignore.
core::Status CheckNothingAfterPem(BIO* bio) {
  char* rest = nullptr;
  const long len = BIO_get_mem_data(bio, &rest);
  if (len > 0 && rest != nullptr &&
      !core::Trim(std::string_view(rest, static_cast<std::size_t>(len))).empty()) {
    return core::Status::InvalidArgument("unexpected data after the PEM END line", "pem");
  }
  return core::Status::Ok();
}

// Never prompts: an encrypted PEM fails instead of reading a passphrase from the terminal.
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return 0; }

// An EVP_MD_CTX for one SM2-with-SM3 signature operation whose EVP_PKEY_CTX carries `id`.
// The EVP_PKEY_CTX is attached with EVP_MD_CTX_set_pkey_ctx, which leaves it owned by us;
// members are declared so the EVP_MD_CTX is freed first.
struct SignatureContext {
  PkeyCtxPtr pkey_ctx;
  MdCtxPtr md_ctx;
};

core::Result<SignatureContext> NewSignatureContext(EVP_PKEY* pkey, std::string_view id) {
  WG_RETURN_IF_ERROR(CheckId(id));
  SignatureContext sc;
  sc.pkey_ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!sc.pkey_ctx) {
    return core::Status::Internal("EVP_PKEY_CTX_new_from_pkey: " + LastOpenSslError());
  }
  // The length is an int in OpenSSL 3.0; CheckId bounded it to kMaxIdBytes.
  if (EVP_PKEY_CTX_set1_id(sc.pkey_ctx.get(), id.data(), static_cast<int>(id.size())) <= 0) {
    return core::Status::Internal("EVP_PKEY_CTX_set1_id: " + LastOpenSslError());
  }
  sc.md_ctx.reset(EVP_MD_CTX_new());
  if (!sc.md_ctx) return core::Status::Internal("EVP_MD_CTX_new: " + LastOpenSslError());
  EVP_MD_CTX_set_pkey_ctx(sc.md_ctx.get(), sc.pkey_ctx.get());
  return sc;
}

core::Status VerifyRawSignature(const Sm2PublicKey& key, std::string_view payload,
                                std::string_view signature, std::string_view id,
                                std::string_view key_id) {
  if (signature.size() != kRawSignatureBytes) {
    return core::Status::Corruption("SM2 signature has wrong length: got " +
                                    std::to_string(signature.size()) + " bytes, want " +
                                    std::to_string(kRawSignatureBytes));
  }
  auto der = Sm2SignatureFromRaw(signature);
  if (!der.has_value()) {
    return core::Status::Corruption("SM2 signature is malformed: " + der.error().message());
  }
  core::Status s = key.Verify(payload, *der, id);
  if (!s.ok() && s.code() == core::StatusCode::kCorruption) {
    return core::Status::Corruption(s.message() + " (key id '" + std::string(key_id) + "')");
  }
  return s;
}

class Sm2Signer final : public PayloadSigner {
 public:
  Sm2Signer(Sm2PrivateKey key, std::string key_id, std::string id)
      : key_(std::move(key)),
        public_key_(key_.PublicKey()),
        key_id_(std::move(key_id)),
        id_(std::move(id)) {}

  std::string_view Algorithm() const override { return kAlgorithm; }
  std::string_view KeyId() const override { return key_id_; }

  core::Result<std::string> Sign(std::string_view payload) const override {
    WG_ASSIGN_OR_RETURN(std::string der, key_.Sign(payload, id_));
    return Sm2SignatureToRaw(der);
  }

  core::Status Verify(std::string_view payload, std::string_view signature) const override {
    return VerifyRawSignature(public_key_, payload, signature, id_, key_id_);
  }

 private:
  Sm2PrivateKey key_;
  Sm2PublicKey public_key_;
  std::string key_id_;
  std::string id_;
};

class Sm2Verifier final : public PayloadSigner {
 public:
  Sm2Verifier(Sm2PublicKey key, std::string key_id, std::string id)
      : key_(std::move(key)), key_id_(std::move(key_id)), id_(std::move(id)) {}

  std::string_view Algorithm() const override { return kAlgorithm; }
  std::string_view KeyId() const override { return key_id_; }

  core::Result<std::string> Sign(std::string_view /*payload*/) const override {
    return core::Status::FailedPrecondition("SM2 key '" + key_id_ +
                                            "' is a public key: it can verify but not sign");
  }

  core::Status Verify(std::string_view payload, std::string_view signature) const override {
    return VerifyRawSignature(key_, payload, signature, id_, key_id_);
  }

 private:
  Sm2PublicKey key_;
  std::string key_id_;
  std::string id_;
};

}  // namespace

// --- Sm2PublicKey ----------------------------------------------------------------------

core::Result<Sm2PublicKey> Sm2PublicKey::FromPem(std::string_view pem) {
  WG_ASSIGN_OR_RETURN(BioPtr bio, PemReader(pem, kPublicPemLabel));
  PkeyPtr pkey(PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!pkey) {
    return core::Status::InvalidArgument("not a SubjectPublicKeyInfo PEM: " + LastOpenSslError(),
                                         "pem");
  }
  WG_RETURN_IF_ERROR(CheckNothingAfterPem(bio.get()));
  WG_RETURN_IF_ERROR(CheckIsSm2(pkey.get(), "pem"));
  // Re-imported from the point so every Sm2PublicKey is built (and checked) one way.
  WG_ASSIGN_OR_RETURN(std::string raw, RawPublicPoint(pkey.get()));
  auto impl = PublicKeyFromRaw(raw);
  if (!impl.has_value()) {
    return core::Status::InvalidArgument(impl.error().message(), "pem");
  }
  return Sm2PublicKey(std::move(*impl));
}

core::Result<Sm2PublicKey> Sm2PublicKey::FromRaw(std::string_view raw) {
  WG_ASSIGN_OR_RETURN(std::shared_ptr<Impl> impl, PublicKeyFromRaw(raw));
  return Sm2PublicKey(std::move(impl));
}

std::string Sm2PublicKey::Raw() const { return impl_ ? impl_->raw : std::string(); }
std::string Sm2PublicKey::Pem() const { return impl_ ? impl_->pem : std::string(); }

core::Status Sm2PublicKey::Verify(std::string_view message, std::string_view signature_der,
                                  std::string_view id) const {
  if (!impl_) return core::Status::FailedPrecondition("SM2 public key is empty (moved from)");
  // Parsed here first so a malformed signature is reported as such, not as a mismatch.
  auto raw = Sm2SignatureToRaw(signature_der);
  if (!raw.has_value()) {
    return core::Status::Corruption("SM2 signature is malformed: " + raw.error().message());
  }
  WG_ASSIGN_OR_RETURN(SignatureContext sc, NewSignatureContext(impl_->pkey.get(), id));
  if (EVP_DigestVerifyInit_ex(sc.md_ctx.get(), nullptr, "SM3", nullptr, nullptr, impl_->pkey.get(),
                              nullptr) != 1) {
    return core::Status::Internal("EVP_DigestVerifyInit_ex(SM2, SM3): " + LastOpenSslError());
  }
  if (EVP_DigestVerifyUpdate(sc.md_ctx.get(), message.data(), message.size()) != 1) {
    return core::Status::Internal("EVP_DigestVerifyUpdate: " + LastOpenSslError());
  }
  if (EVP_DigestVerifyFinal(sc.md_ctx.get(), Bytes(signature_der), signature_der.size()) != 1) {
    ERR_clear_error();  // the reason is always "bad signature"; keep the queue clean
    return core::Status::Corruption(
        "SM2 signature does not verify for this message, public key and ID");
  }
  return core::Status::Ok();
}

// --- Sm2PrivateKey ---------------------------------------------------------------------

core::Result<Sm2PrivateKey> Sm2PrivateKey::Generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
  if (!ctx) return core::Status::Internal("EVP_PKEY_CTX_new_from_name(SM2): " + LastOpenSslError());
  if (EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return core::Status::Internal("EVP_PKEY_keygen_init(SM2): " + LastOpenSslError());
  }
  EVP_PKEY* pkey_raw = nullptr;
  const int generated = EVP_PKEY_generate(ctx.get(), &pkey_raw);
  PkeyPtr pkey(pkey_raw);
  if (generated != 1 || !pkey) {
    return core::Status::Internal("EVP_PKEY_generate(SM2): " + LastOpenSslError());
  }
  auto impl = PrivateKeyFromPkey(std::move(pkey), "key");
  if (!impl.has_value()) {
    return core::Status::Internal("generated SM2 key is invalid: " + impl.error().message());
  }
  return Sm2PrivateKey(std::move(*impl));
}

core::Result<Sm2PrivateKey> Sm2PrivateKey::FromPem(std::string_view pem) {
  WG_ASSIGN_OR_RETURN(BioPtr bio, PemReader(pem, kPrivatePemLabel));
  PkeyPtr pkey(
      PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, RefusePassphrase, nullptr, nullptr, nullptr));
  if (!pkey) {
    return core::Status::InvalidArgument(
        "not an unencrypted PKCS#8 private key PEM: " + LastOpenSslError(), "pem");
  }
  WG_RETURN_IF_ERROR(CheckNothingAfterPem(bio.get()));
  WG_ASSIGN_OR_RETURN(std::shared_ptr<Impl> impl, PrivateKeyFromPkey(std::move(pkey), "pem"));
  return Sm2PrivateKey(std::move(impl));
}

core::Result<Sm2PrivateKey> Sm2PrivateKey::FromScalar(std::string_view d) {
  if (d.size() != kCoordinateBytes) {
    return core::Status::InvalidArgument("SM2 private scalar must be " +
                                             std::to_string(kCoordinateBytes) + " bytes, got " +
                                             std::to_string(d.size()),
                                         "d");
  }
  if (!ScalarInPrivateKeyRange(d)) {
    return core::Status::InvalidArgument("SM2 private scalar must lie in [1, n-2]", "d");
  }
  BnPtr scalar(BN_secure_new());
  if (!scalar || BN_bin2bn(Bytes(d), static_cast<int>(d.size()), scalar.get()) == nullptr) {
    return core::Status::Internal("BN_bin2bn: " + LastOpenSslError());
  }
  BN_set_flags(scalar.get(), BN_FLG_CONSTTIME);

  // OpenSSL 3.0's EVP_PKEY_fromdata does not derive the public point from a private
  // scalar, and SM2 signing needs it (Z covers the public key), so compute d·G here. The
  // EC_GROUP/EC_POINT calls are the non-deprecated 3.0 API; generator multiplication
  // takes OpenSSL's constant-time ladder.
  EcGroupPtr group(EC_GROUP_new_by_curve_name_ex(nullptr, nullptr, NID_sm2));
  if (!group)
    return core::Status::Internal("EC_GROUP_new_by_curve_name(SM2): " + LastOpenSslError());
  EcPointPtr point(EC_POINT_new(group.get()));
  BnCtxPtr bn_ctx(BN_CTX_secure_new());
  if (!point || !bn_ctx) return core::Status::Internal("EC_POINT_new: " + LastOpenSslError());
  if (EC_POINT_mul(group.get(), point.get(), scalar.get(), nullptr, nullptr, bn_ctx.get()) != 1) {
    return core::Status::Internal("EC_POINT_mul: " + LastOpenSslError());
  }
  std::array<unsigned char, kRawPointBytes> pub{};
  if (EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED, pub.data(),
                         pub.size(), bn_ctx.get()) != pub.size()) {
    return core::Status::Internal("EC_POINT_point2oct: " + LastOpenSslError());
  }

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroupName, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(),
                                       pub.size()) != 1) {
    return core::Status::Internal("OSSL_PARAM_BLD: " + LastOpenSslError());
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return core::Status::Internal("OSSL_PARAM_BLD_to_param: " + LastOpenSslError());
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
  if (!ctx) return core::Status::Internal("EVP_PKEY_CTX_new_from_name(SM2): " + LastOpenSslError());
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return core::Status::Internal("EVP_PKEY_fromdata_init: " + LastOpenSslError());
  }
  EVP_PKEY* pkey_raw = nullptr;
  const int imported = EVP_PKEY_fromdata(ctx.get(), &pkey_raw, EVP_PKEY_KEYPAIR, params.get());
  PkeyPtr pkey(pkey_raw);
  if (imported != 1 || !pkey) {
    return core::Status::Internal("EVP_PKEY_fromdata(SM2 key pair): " + LastOpenSslError());
  }
  WG_ASSIGN_OR_RETURN(std::shared_ptr<Impl> impl, PrivateKeyFromPkey(std::move(pkey), "d"));
  return Sm2PrivateKey(std::move(impl));
}

core::Result<std::string> Sm2PrivateKey::Pem() const {
  if (!impl_) return core::Status::FailedPrecondition("SM2 private key is empty (moved from)");
  // A secure-memory BIO: its buffer is cleared when freed, so the PEM text leaves no copy
  // behind but the one returned.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) return core::Status::Internal("BIO_new(secmem): " + LastOpenSslError());
  if (PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return core::Status::Internal("PEM_write_bio_PrivateKey: " + LastOpenSslError());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return core::Status::Internal("SM2 private key PEM is empty");
  return std::string(data, static_cast<std::size_t>(len));
}

Sm2PublicKey Sm2PrivateKey::PublicKey() const {
  return Sm2PublicKey(impl_ ? impl_->public_key : nullptr);
}

core::Result<std::string> Sm2PrivateKey::Sign(std::string_view message, std::string_view id) const {
  if (!impl_) return core::Status::FailedPrecondition("SM2 private key is empty (moved from)");
  WG_ASSIGN_OR_RETURN(SignatureContext sc, NewSignatureContext(impl_->pkey.get(), id));
  if (EVP_DigestSignInit_ex(sc.md_ctx.get(), nullptr, "SM3", nullptr, nullptr, impl_->pkey.get(),
                            nullptr) != 1) {
    return core::Status::Internal("EVP_DigestSignInit_ex(SM2, SM3): " + LastOpenSslError());
  }
  if (EVP_DigestSignUpdate(sc.md_ctx.get(), message.data(), message.size()) != 1) {
    return core::Status::Internal("EVP_DigestSignUpdate: " + LastOpenSslError());
  }
  const int max_len = EVP_PKEY_get_size(impl_->pkey.get());
  if (max_len <= 0) return core::Status::Internal("EVP_PKEY_get_size: " + LastOpenSslError());
  std::string signature(static_cast<std::size_t>(max_len), '\0');
  std::size_t len = signature.size();
  if (EVP_DigestSignFinal(sc.md_ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
                          &len) != 1 ||
      len > signature.size()) {
    return core::Status::Internal("EVP_DigestSignFinal(SM2): " + LastOpenSslError());
  }
  signature.resize(len);
  return signature;
}

// --- Signature encodings ---------------------------------------------------------------

core::Result<std::string> Sm2SignatureToRaw(std::string_view der) {
  if (der.empty() || der.size() > kMaxDerSignatureBytes) {
    return core::Status::InvalidArgument("DER signature is " + std::to_string(der.size()) +
                                             " bytes, want 8 to " +
                                             std::to_string(kMaxDerSignatureBytes),
                                         "signature");
  }
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) {
    ERR_clear_error();
    return core::Status::InvalidArgument("signature is not a DER SEQUENCE{r, s}", "signature");
  }
  if (p != Bytes(der) + der.size()) {
    return core::Status::InvalidArgument("signature has trailing bytes after the DER SEQUENCE",
                                         "signature");
  }
  // d2i accepts some non-minimal (BER) encodings; re-encoding must give the input back,
  // so one signature has exactly one accepted encoding.
  const int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (der_len <= 0 || static_cast<std::size_t>(der_len) != der.size()) {
    return core::Status::InvalidArgument("signature is not in canonical DER", "signature");
  }
  std::string reencoded(der.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(reencoded.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != der_len || reencoded != der) {
    return core::Status::InvalidArgument("signature is not in canonical DER", "signature");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  for (const BIGNUM* v : {r, s}) {
    if (BN_is_zero(v) || BN_is_negative(v) ||
        BN_num_bytes(v) > static_cast<int>(kCoordinateBytes)) {
      return core::Status::InvalidArgument(
          "signature r or s is out of range (zero, negative or "
          "longer than 32 bytes)",
          "signature");
    }
  }
  std::string raw(kRawSignatureBytes, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, dst, kCoordinateBytes) != kCoordinateBytes ||
      BN_bn2binpad(s, dst + kCoordinateBytes, kCoordinateBytes) != kCoordinateBytes) {
    return core::Status::Internal("BN_bn2binpad: " + LastOpenSslError());
  }
  return raw;
}

core::Result<std::string> Sm2SignatureFromRaw(std::string_view raw) {
  if (raw.size() != kRawSignatureBytes) {
    return core::Status::InvalidArgument("raw signature must be " +
                                             std::to_string(kRawSignatureBytes) +
                                             " bytes (r || s), got " + std::to_string(raw.size()),
                                         "signature");
  }
  BnPtr r(BN_bin2bn(Bytes(raw), kCoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(Bytes(raw) + kCoordinateBytes, kCoordinateBytes, nullptr));
  if (!r || !s) return core::Status::Internal("BN_bin2bn: " + LastOpenSslError());
  if (BN_is_zero(r.get()) || BN_is_zero(s.get())) {
    return core::Status::InvalidArgument("signature r or s is zero", "signature");
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!sig) return core::Status::Internal("ECDSA_SIG_new: " + LastOpenSslError());
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return core::Status::Internal("ECDSA_SIG_set0: " + LastOpenSslError());
  }
  // ECDSA_SIG_set0 took ownership of both numbers.
  (void)r.release();
  (void)s.release();
  const int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (der_len <= 0) return core::Status::Internal("i2d_ECDSA_SIG: " + LastOpenSslError());
  std::string der(static_cast<std::size_t>(der_len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != der_len) {
    return core::Status::Internal("i2d_ECDSA_SIG: " + LastOpenSslError());
  }
  return der;
}

// --- PayloadSigner ---------------------------------------------------------------------

core::Result<std::unique_ptr<PayloadSigner>> MakeSm2Signer(Sm2PrivateKey key, std::string key_id,
                                                           std::string id) {
  WG_RETURN_IF_ERROR(CheckId(id));
  if (key.PublicKey().Raw().empty()) {
    return core::Status::InvalidArgument("SM2 private key is empty (moved from)", "key");
  }
  return std::unique_ptr<PayloadSigner>(
      std::make_unique<Sm2Signer>(std::move(key), std::move(key_id), std::move(id)));
}

core::Result<std::unique_ptr<PayloadSigner>> MakeSm2Verifier(Sm2PublicKey key, std::string key_id,
                                                             std::string id) {
  WG_RETURN_IF_ERROR(CheckId(id));
  if (key.Raw().empty()) {
    return core::Status::InvalidArgument("SM2 public key is empty (moved from)", "key");
  }
  return std::unique_ptr<PayloadSigner>(
      std::make_unique<Sm2Verifier>(std::move(key), std::move(key_id), std::move(id)));
}

}  // namespace wg::crypto

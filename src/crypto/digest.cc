// Digests, HMAC, constant-time comparison and the CSPRNG over OpenSSL 3 EVP.

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "openssl_util.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::crypto {
namespace {

using MdPtr = std::unique_ptr<EVP_MD, Deleter<EVP_MD_free>>;
using MacPtr = std::unique_ptr<EVP_MAC, Deleter<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>>;

// Fetched algorithm objects are immutable and safe to share between threads, so each is
// fetched once (thread-safe static initialisation) instead of on every call.
const EVP_MD* Sm3Md() {
  static const MdPtr md(EVP_MD_fetch(nullptr, "SM3", nullptr));
  return md.get();
}
const EVP_MD* Sha256Md() {
  static const MdPtr md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

// Sm3/Sha256 return a plain digest: hashing a buffer in memory cannot fail on a working
// OpenSSL, so a failure means a broken installation (e.g. a provider without SM3). That
// is the "cannot happen" case where the process stops with a message instead of
// returning a wrong digest. CheckCryptoAvailable() lets a binary find out at start-up.
Digest32 DigestOrDie(const EVP_MD* md, const char* name, std::string_view data) {
  Digest32 out{};
  unsigned int len = 0;
  if (md == nullptr || EVP_MD_get_size(md) != static_cast<int>(out.size()) ||
      EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 ||
      len != out.size()) {
    std::fprintf(stderr, "wg::crypto: %s digest unavailable: %s\n", name,
                 LastOpenSslError().c_str());
    std::abort();
  }
  return out;
}

core::Result<Digest32> Hmac(const char* digest_name, std::string_view key,
                            std::string_view data) {
  // EVP_MAC objects are fetched per call: HMAC is used on short payloads at request
  // rate, far below the cost that would justify another cached global.
  MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return core::Status::Internal("EVP_MAC_fetch(HMAC): " + LastOpenSslError());
  MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return core::Status::Internal("EVP_MAC_CTX_new: " + LastOpenSslError());

  std::string digest(digest_name);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_end(),
  };
  // A non-null pointer even for an empty key: HMAC with a zero-length key is valid and
  // OpenSSL treats a null key as "no key set".
  static constexpr unsigned char kEmpty[1] = {0};
  const auto* key_ptr =
      key.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1) {
    return core::Status::Internal(std::string("HMAC-") + digest_name +
                                  " init: " + LastOpenSslError());
  }
  if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return core::Status::Internal("EVP_MAC_update: " + LastOpenSslError());
  }
  Digest32 out{};
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return core::Status::Internal("EVP_MAC_final: " + LastOpenSslError());
  }
  return out;
}

}  // namespace

std::string LastOpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "no OpenSSL error queued";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

Digest32 Sm3(std::string_view data) { return DigestOrDie(Sm3Md(), "SM3", data); }
Digest32 Sha256(std::string_view data) { return DigestOrDie(Sha256Md(), "SHA-256", data); }

core::Result<Digest32> HmacSm3(std::string_view key, std::string_view data) {
  return Hmac("SM3", key, data);
}
core::Result<Digest32> HmacSha256(std::string_view key, std::string_view data) {
  return Hmac("SHA256", key, data);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

core::Result<std::string> RandomBytes(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    return core::Status::InvalidArgument("too many random bytes requested", "n");
  }
  std::string out(n, '\0');
  if (n == 0) return out;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return core::Status::Unavailable("RAND_bytes: " + LastOpenSslError());
  }
  return out;
}

core::Result<std::string> RandomHex(std::size_t n_bytes) {
  WG_ASSIGN_OR_RETURN(std::string bytes, RandomBytes(n_bytes));
  std::string hex = core::ToHex(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return hex;
}

core::Status CheckCryptoAvailable() {
  MdPtr sm3(EVP_MD_fetch(nullptr, "SM3", nullptr));
  if (!sm3) return core::Status::FailedPrecondition("OpenSSL lacks SM3: " + LastOpenSslError());
  MdPtr sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!sha256) {
    return core::Status::FailedPrecondition("OpenSSL lacks SHA-256: " + LastOpenSslError());
  }
  // Known-answer test (GB/T 32905-2016 example 1) so a miscompiled provider is caught
  // before it signs anything.
  static constexpr std::string_view kSm3Abc =
      "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";
  if (core::ToHex(Sm3("abc")) != kSm3Abc) {
    return core::Status::FailedPrecondition("SM3 known-answer test failed");
  }
  WG_ASSIGN_OR_RETURN(Digest32 mac, HmacSm3(std::string(32, 'k'), "probe"));
  (void)mac;
  WG_ASSIGN_OR_RETURN(std::string probe, RandomBytes(16));
  (void)probe;
  return core::Status::Ok();
}

}  // namespace wg::crypto

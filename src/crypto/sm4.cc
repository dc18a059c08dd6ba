// SM4 block encryption and the WGAE1 authenticated encryption (SM4-CTR, then HMAC-SM3
// over the result) over OpenSSL 3 EVP. docs/formats/sealed-box.md gives the byte layout
// and docs/adr/0006-sm2-sm4.md the reasons for the construction.

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "openssl_util.h"
#include "sm4_internal.h"
#include "wg/crypto/crypto.h"
#include "wg/crypto/sm.h"

namespace wg::crypto {
namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using MacPtr = std::unique_ptr<EVP_MAC, Deleter<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>>;

constexpr std::string_view kMagic = "WGAE1";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kSm4KeyBytes = 16;
constexpr std::size_t kIvBytes = 16;
constexpr std::size_t kTagBytes = 32;
constexpr std::size_t kHeaderBytes = 5 + kIvBytes;
static_assert(kMagic.size() + kIvBytes == kHeaderBytes);
static_assert(kSealOverhead == kHeaderBytes + kTagBytes);
constexpr std::string_view kEncLabel = "wg-ae-enc";
constexpr std::string_view kMacLabel = "wg-ae-mac";
// EVP_*Update take an int length; larger inputs are fed in pieces of this size.
constexpr std::size_t kMaxPiece = std::size_t{1} << 30;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

core::Status CheckKey(std::string_view key32) {
  if (key32.size() != kKeyBytes) {
    return core::Status::InvalidArgument("WGAE1 key must be " + std::to_string(kKeyBytes) +
                                             " bytes, got " + std::to_string(key32.size()),
                                         "key32");
  }
  return core::Status::Ok();
}

// A header that is not 21 bytes is a caller error; a header of the right size with another
// magic is a changed (or foreign) box, reported like any other change: kCorruption.
core::Status CheckHeader(std::string_view header, std::string_view field) {
  if (header.size() != kHeaderBytes) {
    return core::Status::InvalidArgument("WGAE1 header must be " + std::to_string(kHeaderBytes) +
                                             " bytes (magic and IV), got " +
                                             std::to_string(header.size()),
                                         std::string(field));
  }
  if (header.substr(0, kMagic.size()) != kMagic) {
    return core::Status::Corruption("box does not start with the WGAE1 magic");
  }
  return core::Status::Ok();
}

// Incremental HMAC-SM3 (the one-shot HmacSm3 in digest.cc cannot stream). The EVP_MAC_CTX
// holds the key; EVP_MAC_CTX_free cleanses it.
class HmacSm3Stream {
 public:
  static core::Result<HmacSm3Stream> Make(const unsigned char* key, std::size_t key_len) {
    MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) return core::Status::Internal("EVP_MAC_fetch(HMAC): " + LastOpenSslError());
    MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));  // holds its own reference to `mac`
    if (!ctx) return core::Status::Internal("EVP_MAC_CTX_new: " + LastOpenSslError());
    char digest[] = "SM3";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx.get(), key, key_len, params) != 1) {
      return core::Status::Internal("HMAC-SM3 init: " + LastOpenSslError());
    }
    return HmacSm3Stream(std::move(ctx));
  }

  core::Status Update(std::string_view data) {
    if (data.empty()) return core::Status::Ok();
    if (EVP_MAC_update(ctx_.get(), Bytes(data), data.size()) != 1) {
      return core::Status::Internal("HMAC-SM3 update: " + LastOpenSslError());
    }
    return core::Status::Ok();
  }

  core::Status Final(Digest32& out) {
    std::size_t len = 0;
    if (EVP_MAC_final(ctx_.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
      return core::Status::Internal("HMAC-SM3 final: " + LastOpenSslError());
    }
    return core::Status::Ok();
  }

 private:
  explicit HmacSm3Stream(MacCtxPtr ctx) : ctx_(std::move(ctx)) {}
  MacCtxPtr ctx_;
};

// SM4 in CTR mode: the 16-byte IV is the initial counter block, incremented as one
// 128-bit big-endian number. Encryption and decryption are the same operation.
class Sm4Ctr {
 public:
  static core::Result<Sm4Ctr> Make(const unsigned char* key16, std::string_view iv) {
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return core::Status::Internal("EVP_CIPHER_CTX_new: " + LastOpenSslError());
    if (EVP_EncryptInit_ex2(ctx.get(), EVP_sm4_ctr(), key16, Bytes(iv), nullptr) != 1) {
      return core::Status::Internal("SM4-CTR init: " + LastOpenSslError());
    }
    return Sm4Ctr(std::move(ctx));
  }

  // Appends the transformed `in` to `out`.
  core::Status Apply(std::string_view in, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + in.size());
    auto* dst = reinterpret_cast<unsigned char*>(out.data()) + start;
    while (!in.empty()) {
      const std::size_t piece = std::min(in.size(), kMaxPiece);
      int written = 0;
      if (EVP_EncryptUpdate(ctx_.get(), dst, &written, Bytes(in), static_cast<int>(piece)) != 1 ||
          written != static_cast<int>(piece)) {
        out.resize(start);
        return core::Status::Internal("SM4-CTR update: " + LastOpenSslError());
      }
      dst += piece;
      in.remove_prefix(piece);
    }
    return core::Status::Ok();
  }

 private:
  explicit Sm4Ctr(CipherCtxPtr ctx) : ctx_(std::move(ctx)) {}
  CipherCtxPtr ctx_;
};

// enc_key and mac_key from the caller's 32-byte key (the two HMAC-SM3 labels keep the two
// uses of the key independent). Cleansed when they go out of scope.
struct Subkeys {
  Digest32 enc{};  // the first 16 bytes are the SM4 key
  Digest32 mac{};
  Subkeys() = default;
  Subkeys(const Subkeys&) = delete;
  Subkeys& operator=(const Subkeys&) = delete;
  ~Subkeys() {
    OPENSSL_cleanse(enc.data(), enc.size());
    OPENSSL_cleanse(mac.data(), mac.size());
  }
};

core::Status DeriveSubkeys(std::string_view key32, Subkeys& out) {
  WG_RETURN_IF_ERROR(CheckKey(key32));
  for (auto [label, dst] : {std::pair{kEncLabel, &out.enc}, std::pair{kMacLabel, &out.mac}}) {
    WG_ASSIGN_OR_RETURN(HmacSm3Stream mac, HmacSm3Stream::Make(Bytes(key32), key32.size()));
    WG_RETURN_IF_ERROR(mac.Update(label));
    WG_RETURN_IF_ERROR(mac.Final(*dst));
  }
  return core::Status::Ok();
}

// The tag MAC after its fixed prefix u64be(len(aad)) || aad; the caller then feeds
// header and ciphertext.
core::Result<HmacSm3Stream> BeginTag(const Subkeys& keys, std::string_view aad) {
  WG_ASSIGN_OR_RETURN(HmacSm3Stream mac, HmacSm3Stream::Make(keys.mac.data(), keys.mac.size()));
  std::array<char, 8> length{};
  std::uint64_t n = aad.size();
  for (std::size_t i = length.size(); i-- > 0;) {
    length[i] = static_cast<char>(n & 0xFF);
    n >>= 8;
  }
  WG_RETURN_IF_ERROR(mac.Update(std::string_view(length.data(), length.size())));
  WG_RETURN_IF_ERROR(mac.Update(aad));
  return mac;
}

core::Result<Sm4Ctr> BeginCtr(const Subkeys& keys, std::string_view header) {
  return Sm4Ctr::Make(keys.enc.data(), header.substr(kMagic.size(), kIvBytes));
}

std::string_view View(const Digest32& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

core::Result<std::string> NewHeader() {
  WG_ASSIGN_OR_RETURN(std::string iv, RandomBytes(kIvBytes));
  return std::string(kMagic) + iv;
}

core::Status Finished() {
  return core::Status::FailedPrecondition(
      "stream is finished, has failed, or was moved from; start a new one");
}

}  // namespace

// --- Single blocks -----------------------------------------------------------------------

void Sm4BlockCipher::CtxFree::operator()(evp_cipher_ctx_st* ctx) const { EVP_CIPHER_CTX_free(ctx); }

core::Result<Sm4BlockCipher> Sm4BlockCipher::Make(std::string_view key16) {
  if (key16.size() != kSm4KeyBytes) {
    return core::Status::InvalidArgument(
        "SM4 key must be 16 bytes, got " + std::to_string(key16.size()), "key16");
  }
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return core::Status::Internal("EVP_CIPHER_CTX_new: " + LastOpenSslError());
  if (EVP_EncryptInit_ex2(ctx.get(), EVP_sm4_ecb(), Bytes(key16), nullptr, nullptr) != 1) {
    return core::Status::Internal("SM4-ECB init: " + LastOpenSslError());
  }
  if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return core::Status::Internal("EVP_CIPHER_CTX_set_padding: " + LastOpenSslError());
  }
  return Sm4BlockCipher(std::move(ctx));
}

core::Status Sm4BlockCipher::EncryptInPlace(Block& block) {
  int written = 0;
  // EVP allows `out == in` (exact overlap) for ECB.
  if (EVP_EncryptUpdate(ctx_.get(), block.data(), &written, block.data(),
                        static_cast<int>(block.size())) != 1 ||
      written != static_cast<int>(block.size())) {
    return core::Status::Internal("SM4-ECB update: " + LastOpenSslError());
  }
  return core::Status::Ok();
}

core::Result<std::string> Sm4EncryptBlock(std::string_view key16, std::string_view block16) {
  if (block16.size() != Sm4BlockCipher::Block{}.size()) {
    return core::Status::InvalidArgument(
        "SM4 block must be 16 bytes, got " + std::to_string(block16.size()), "block16");
  }
  WG_ASSIGN_OR_RETURN(Sm4BlockCipher cipher, Sm4BlockCipher::Make(key16));
  Sm4BlockCipher::Block block{};
  std::copy(block16.begin(), block16.end(), block.begin());
  WG_RETURN_IF_ERROR(cipher.EncryptInPlace(block));
  return std::string(block.begin(), block.end());
}

// --- Seal / Open ---------------------------------------------------------------------------

core::Result<std::string> Seal(std::string_view key32, std::string_view plaintext,
                               std::string_view aad) {
  Subkeys keys;
  WG_RETURN_IF_ERROR(DeriveSubkeys(key32, keys));
  if (plaintext.size() > std::string().max_size() - kSealOverhead) {
    return core::Status::InvalidArgument("plaintext too large to seal", "plaintext");
  }
  WG_ASSIGN_OR_RETURN(std::string box, NewHeader());
  box.reserve(kSealOverhead + plaintext.size());
  WG_ASSIGN_OR_RETURN(Sm4Ctr ctr, BeginCtr(keys, box));
  WG_RETURN_IF_ERROR(ctr.Apply(plaintext, box));
  WG_ASSIGN_OR_RETURN(HmacSm3Stream mac, BeginTag(keys, aad));
  WG_RETURN_IF_ERROR(mac.Update(box));  // header || ciphertext
  Digest32 tag{};
  WG_RETURN_IF_ERROR(mac.Final(tag));
  box.append(View(tag));
  return box;
}

core::Result<std::string> Open(std::string_view key32, std::string_view box, std::string_view aad) {
  WG_RETURN_IF_ERROR(CheckKey(key32));
  if (box.size() < kSealOverhead) {
    return core::Status::InvalidArgument(
        "box is " + std::to_string(box.size()) + " bytes, shorter than the " +
            std::to_string(kSealOverhead) + "-byte WGAE1 header and tag",
        "box");
  }
  const std::string_view header = box.substr(0, kHeaderBytes);
  WG_RETURN_IF_ERROR(CheckHeader(header, "box"));
  const std::string_view authenticated = box.substr(0, box.size() - kTagBytes);
  const std::string_view tag = box.substr(box.size() - kTagBytes);

  Subkeys keys;
  WG_RETURN_IF_ERROR(DeriveSubkeys(key32, keys));
  WG_ASSIGN_OR_RETURN(HmacSm3Stream mac, BeginTag(keys, aad));
  WG_RETURN_IF_ERROR(mac.Update(authenticated));
  Digest32 want{};
  WG_RETURN_IF_ERROR(mac.Final(want));
  // Verified before any decryption: a changed box never yields plaintext.
  if (!ConstantTimeEqual(View(want), tag)) {
    return core::Status::Corruption(
        "authentication tag does not match (wrong key, or box or aad changed)");
  }
  WG_ASSIGN_OR_RETURN(Sm4Ctr ctr, BeginCtr(keys, header));
  std::string plaintext;
  WG_RETURN_IF_ERROR(ctr.Apply(authenticated.substr(kHeaderBytes), plaintext));
  return plaintext;
}

// --- Streaming -----------------------------------------------------------------------------

struct StreamSealer::Impl {
  Sm4Ctr ctr;
  HmacSm3Stream mac;
  bool done = false;  // finished or failed: no further use
};

StreamSealer::StreamSealer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamSealer::~StreamSealer() = default;
StreamSealer::StreamSealer(StreamSealer&&) noexcept = default;
StreamSealer& StreamSealer::operator=(StreamSealer&&) noexcept = default;

core::Result<StreamSealer> StreamSealer::Begin(std::string_view key32, std::string_view aad,
                                               std::string* header) {
  if (header == nullptr) {
    return core::Status::InvalidArgument("header output must not be null", "header");
  }
  Subkeys keys;
  WG_RETURN_IF_ERROR(DeriveSubkeys(key32, keys));
  WG_ASSIGN_OR_RETURN(std::string head, NewHeader());
  WG_ASSIGN_OR_RETURN(Sm4Ctr ctr, BeginCtr(keys, head));
  WG_ASSIGN_OR_RETURN(HmacSm3Stream mac, BeginTag(keys, aad));
  WG_RETURN_IF_ERROR(mac.Update(head));
  *header = std::move(head);
  return StreamSealer(std::make_unique<Impl>(Impl{std::move(ctr), std::move(mac)}));
}

core::Result<std::string> StreamSealer::Update(std::string_view plaintext) {
  if (!impl_ || impl_->done) return Finished();
  std::string ciphertext;
  core::Status s = impl_->ctr.Apply(plaintext, ciphertext);
  if (s.ok()) s = impl_->mac.Update(ciphertext);
  if (!s.ok()) {
    impl_->done = true;
    return s;
  }
  return ciphertext;
}

core::Result<std::string> StreamSealer::Finish() {
  if (!impl_ || impl_->done) return Finished();
  impl_->done = true;
  Digest32 tag{};
  WG_RETURN_IF_ERROR(impl_->mac.Final(tag));
  return std::string(View(tag));
}

struct StreamVerifier::Impl {
  HmacSm3Stream mac;
  bool done = false;
};

StreamVerifier::StreamVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamVerifier::~StreamVerifier() = default;
StreamVerifier::StreamVerifier(StreamVerifier&&) noexcept = default;
StreamVerifier& StreamVerifier::operator=(StreamVerifier&&) noexcept = default;

core::Result<StreamVerifier> StreamVerifier::Begin(std::string_view key32, std::string_view aad,
                                                   std::string_view header) {
  WG_RETURN_IF_ERROR(CheckKey(key32));
  WG_RETURN_IF_ERROR(CheckHeader(header, "header"));
  Subkeys keys;
  WG_RETURN_IF_ERROR(DeriveSubkeys(key32, keys));
  WG_ASSIGN_OR_RETURN(HmacSm3Stream mac, BeginTag(keys, aad));
  WG_RETURN_IF_ERROR(mac.Update(header));
  return StreamVerifier(std::make_unique<Impl>(Impl{std::move(mac)}));
}

core::Status StreamVerifier::Update(std::string_view ciphertext) {
  if (!impl_ || impl_->done) return Finished();
  core::Status s = impl_->mac.Update(ciphertext);
  if (!s.ok()) impl_->done = true;
  return s;
}

core::Status StreamVerifier::Finish(std::string_view tag) {
  if (!impl_ || impl_->done) return Finished();
  if (tag.size() != kTagBytes) {
    return core::Status::InvalidArgument("WGAE1 tag must be " + std::to_string(kTagBytes) +
                                             " bytes, got " + std::to_string(tag.size()),
                                         "tag");
  }
  impl_->done = true;
  Digest32 want{};
  WG_RETURN_IF_ERROR(impl_->mac.Final(want));
  if (!ConstantTimeEqual(View(want), tag)) {
    return core::Status::Corruption(
        "authentication tag does not match (wrong key, or stream or aad changed)");
  }
  return core::Status::Ok();
}

struct StreamDecryptor::Impl {
  Sm4Ctr ctr;
  bool done = false;
};

StreamDecryptor::StreamDecryptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamDecryptor::~StreamDecryptor() = default;
StreamDecryptor::StreamDecryptor(StreamDecryptor&&) noexcept = default;
StreamDecryptor& StreamDecryptor::operator=(StreamDecryptor&&) noexcept = default;

core::Result<StreamDecryptor> StreamDecryptor::Begin(std::string_view key32,
                                                     std::string_view header) {
  WG_RETURN_IF_ERROR(CheckKey(key32));
  WG_RETURN_IF_ERROR(CheckHeader(header, "header"));
  Subkeys keys;
  WG_RETURN_IF_ERROR(DeriveSubkeys(key32, keys));
  WG_ASSIGN_OR_RETURN(Sm4Ctr ctr, BeginCtr(keys, header));
  return StreamDecryptor(std::make_unique<Impl>(Impl{std::move(ctr)}));
}

core::Result<std::string> StreamDecryptor::Update(std::string_view ciphertext) {
  if (!impl_ || impl_->done) return Finished();
  std::string plaintext;
  core::Status s = impl_->ctr.Apply(ciphertext, plaintext);
  if (!s.ok()) {
    impl_->done = true;
    return s;
  }
  return plaintext;
}

}  // namespace wg::crypto

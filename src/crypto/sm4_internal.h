#pragma once
// Private: SM4 single-block encryption with one EVP context kept across calls. The public
// Sm4EncryptBlock makes a context per call; the GB/T 32907 iterated known-answer test
// encrypts a million blocks in a chain, where that setup would dominate. Not part of the
// public interface; not thread-safe (one owner).

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "wg/core/status.h"

struct evp_cipher_ctx_st;  // EVP_CIPHER_CTX, kept out of this header's includes

namespace wg::crypto {

class Sm4BlockCipher {
 public:
  using Block = std::array<std::uint8_t, 16>;

  // kInvalidArgument (field "key16") unless the key is 16 bytes.
  static core::Result<Sm4BlockCipher> Make(std::string_view key16);

  // Replaces `block` with its SM4 encryption (ECB, no padding).
  core::Status EncryptInPlace(Block& block);

 private:
  struct CtxFree {
    void operator()(evp_cipher_ctx_st* ctx) const;
  };
  using CtxPtr = std::unique_ptr<evp_cipher_ctx_st, CtxFree>;

  explicit Sm4BlockCipher(CtxPtr ctx) : ctx_(std::move(ctx)) {}
  CtxPtr ctx_;
};

}  // namespace wg::crypto

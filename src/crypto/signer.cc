// HMAC-SM3 implementation of PayloadSigner.

#include <openssl/crypto.h>

#include <string>
#include <utility>

#include "wg/crypto/crypto.h"

namespace wg::crypto {
namespace {

constexpr std::size_t kMinKeyBytes = 32;
constexpr std::string_view kAlgorithm = "HMAC-SM3";

class HmacSm3Signer final : public PayloadSigner {
 public:
  HmacSm3Signer(std::string key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}
  ~HmacSm3Signer() override { OPENSSL_cleanse(key_.data(), key_.size()); }
  HmacSm3Signer(const HmacSm3Signer&) = delete;
  HmacSm3Signer& operator=(const HmacSm3Signer&) = delete;

  std::string_view Algorithm() const override { return kAlgorithm; }
  std::string_view KeyId() const override { return key_id_; }

  core::Result<std::string> Sign(std::string_view payload) const override {
    WG_ASSIGN_OR_RETURN(Digest32 mac, HmacSm3(key_, payload));
    return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
  }

  core::Status Verify(std::string_view payload, std::string_view signature) const override {
    if (signature.size() != std::tuple_size_v<Digest32>) {
      return core::Status::Corruption(
          "HMAC-SM3 signature has wrong length: got " + std::to_string(signature.size()) +
          " bytes, want " + std::to_string(std::tuple_size_v<Digest32>));
    }
    WG_ASSIGN_OR_RETURN(std::string expected, Sign(payload));
    if (!ConstantTimeEqual(expected, signature)) {
      return core::Status::Corruption("HMAC-SM3 signature does not match the payload (key id '" +
                                      key_id_ + "')");
    }
    return core::Status::Ok();
  }

 private:
  std::string key_;
  std::string key_id_;
};

}  // namespace

core::Result<std::unique_ptr<PayloadSigner>> MakeHmacSm3Signer(std::string key,
                                                               std::string key_id) {
  if (key.size() < kMinKeyBytes) {
    const std::size_t got = key.size();
    OPENSSL_cleanse(key.data(), key.size());
    return core::Status::InvalidArgument("HMAC-SM3 key must be at least " +
                                             std::to_string(kMinKeyBytes) + " bytes, got " +
                                             std::to_string(got),
                                         "key");
  }
  return std::unique_ptr<PayloadSigner>(
      std::make_unique<HmacSm3Signer>(std::move(key), std::move(key_id)));
}

}  // namespace wg::crypto

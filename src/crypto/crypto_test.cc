#include "wg/crypto/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "wg/core/strings.h"

namespace wg::crypto {
namespace {

using core::StatusCode;
using core::ToHex;

constexpr PasswordParams kFastParams{.t_cost = 1, .m_cost_kib = 1024, .parallelism = 1};

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(CryptoTest, CryptoIsAvailable) { EXPECT_TRUE(CheckCryptoAvailable().ok()); }

// GB/T 32905-2016 appendix A, examples 1 and 2.
TEST(CryptoTest, Sm3StandardVectors) {
  EXPECT_EQ(ToHex(Sm3("abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  EXPECT_EQ(ToHex(Sm3(Repeat("abcd", 16))),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

TEST(CryptoTest, Sha256StandardVectors) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// RFC 4231 test case 2.
TEST(CryptoTest, HmacSha256Rfc4231Case2) {
  auto mac = HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_TRUE(mac.ok()) << mac.error().ToString();
  EXPECT_EQ(ToHex(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, HmacSm3IsDeterministicKeyedAndDistinctFromSha256) {
  const std::string key(32, 'k');
  auto a = HmacSm3(key, "payload");
  auto b = HmacSm3(key, "payload");
  auto other_key = HmacSm3(std::string(32, 'K'), "payload");
  auto other_data = HmacSm3(key, "payloaD");
  auto sha = HmacSha256(key, "payload");
  ASSERT_TRUE(a.ok() && b.ok() && other_key.ok() && other_data.ok() && sha.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *other_key);
  EXPECT_NE(*a, *other_data);
  EXPECT_NE(*a, *sha);
  // HMAC is not the plain hash of key || data.
  EXPECT_NE(*a, Sm3(key + "payload"));
}

TEST(CryptoTest, HmacAcceptsEmptyKey) {
  // RFC 4231 has no empty-key case; this pins the OpenSSL value so a regression in the
  // empty-key path (null key pointer) shows up.
  auto mac = HmacSha256("", "");
  ASSERT_TRUE(mac.ok()) << mac.error().ToString();
  EXPECT_EQ(ToHex(*mac), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(CryptoTest, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", ""));
}

TEST(CryptoTest, RandomBytesHaveRequestedLengthAndDiffer) {
  auto a = RandomBytes(32);
  auto b = RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  auto empty = RandomBytes(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  auto hex = RandomHex(16);
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(hex->size(), 32u);
  EXPECT_EQ(hex->find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(CryptoTest, PasswordHashVerifiesAndRejectsWrongPassword) {
  auto hash = HashPassword("correct horse", kFastParams);
  ASSERT_TRUE(hash.ok()) << hash.error().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find('\0'), std::string::npos);

  EXPECT_TRUE(VerifyPassword("correct horse", *hash).ok());
  auto wrong = VerifyPassword("correct horsf", *hash);
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyPassword("", *hash).code(), StatusCode::kUnauthenticated);
}

TEST(CryptoTest, PasswordHashesAreSalted) {
  auto a = HashPassword("same", kFastParams);
  auto b = HashPassword("same", kFastParams);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword("same", *a).ok());
  EXPECT_TRUE(VerifyPassword("same", *b).ok());
}

TEST(CryptoTest, PasswordHashWithDefaultParams) {
  auto hash = HashPassword("default params");
  ASSERT_TRUE(hash.ok()) << hash.error().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword("default params", *hash).ok());
}

TEST(CryptoTest, MalformedEncodedHashIsInvalidArgument) {
  auto good = HashPassword("pw", kFastParams);
  ASSERT_TRUE(good.ok());
  for (std::string bad : {std::string(), std::string("not a hash"),
                          std::string("$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA"),
                          std::string("$argon2id$v=19$m=1024,t=1,p=1$"),
                          good->substr(0, good->size() / 2), *good + "!",
                          *good + std::string(1, '\0')}) {
    auto s = VerifyPassword("pw", bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "input: " << bad << " -> "
                                                      << s.ToString();
  }
}

TEST(CryptoTest, OverlongPasswordIsRejected) {
  const std::string longest(1024, 'x');
  auto hash = HashPassword(longest, kFastParams);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(VerifyPassword(longest, *hash).ok());

  auto too_long = HashPassword(longest + "x", kFastParams);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.error().field(), "password");
  auto verify = VerifyPassword(longest + "x", *hash);
  EXPECT_EQ(verify.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(verify.field(), "password");
}

TEST(CryptoTest, BadArgon2ParamsAreInvalidArgument) {
  auto r = HashPassword("pw", PasswordParams{.t_cost = 0, .m_cost_kib = 1024, .parallelism = 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

class HmacSm3SignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = MakeHmacSm3Signer(std::string(32, 'a'), "k1");
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    signer_ = std::move(*s);
  }
  std::unique_ptr<PayloadSigner> signer_;
};

TEST_F(HmacSm3SignerTest, NamesAlgorithmAndKey) {
  EXPECT_EQ(signer_->Algorithm(), "HMAC-SM3");
  EXPECT_EQ(signer_->KeyId(), "k1");
}

TEST_F(HmacSm3SignerTest, SignsWithRawHmacSm3) {
  auto sig = signer_->Sign("WG1|cert|42");
  ASSERT_TRUE(sig.ok());
  ASSERT_EQ(sig->size(), 32u);
  auto mac = HmacSm3(std::string(32, 'a'), "WG1|cert|42");
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(ToHex(*sig), ToHex(*mac));
  EXPECT_TRUE(signer_->Verify("WG1|cert|42", *sig).ok());
}

TEST_F(HmacSm3SignerTest, TamperedPayloadFails) {
  auto sig = signer_->Sign("WG1|cert|42");
  ASSERT_TRUE(sig.ok());
  auto s = signer_->Verify("WG1|cert|43", *sig);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
}

TEST_F(HmacSm3SignerTest, TamperedSignatureFails) {
  auto sig = signer_->Sign("payload");
  ASSERT_TRUE(sig.ok());
  for (std::size_t i : {std::size_t{0}, std::size_t{17}, std::size_t{31}}) {
    std::string bad = *sig;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_EQ(signer_->Verify("payload", bad).code(), StatusCode::kCorruption) << "byte " << i;
  }
  auto truncated = signer_->Verify("payload", sig->substr(0, 31));
  EXPECT_EQ(truncated.code(), StatusCode::kCorruption);
  EXPECT_NE(truncated.message().find("wrong length"), std::string::npos) << truncated.message();
  EXPECT_EQ(signer_->Verify("payload", *sig + "x").code(), StatusCode::kCorruption);
  EXPECT_EQ(signer_->Verify("payload", "").code(), StatusCode::kCorruption);
}

TEST_F(HmacSm3SignerTest, WrongKeyFails) {
  auto other = MakeHmacSm3Signer(std::string(31, 'a') + "b", "k1");
  ASSERT_TRUE(other.ok());
  auto sig = (*other)->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(signer_->Verify("payload", *sig).code(), StatusCode::kCorruption);
}

TEST(HmacSm3SignerFactoryTest, ShortKeyIsRejected) {
  auto s = MakeHmacSm3Signer(std::string(31, 'a'), "k1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.error().field(), "key");
}

}  // namespace
}  // namespace wg::crypto

#include "wg/crypto/sm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "sm4_internal.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::crypto {
namespace {

using core::StatusCode;
using core::ToHex;

std::string Hex(std::string_view hex) {
  auto bytes = core::FromHex(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.ok() ? *bytes : std::string();
}

std::string FlipBit(std::string s, std::size_t bit) {
  s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
  return s;
}

std::string Pattern(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 131 + 7) & 0xFF);
  return out;
}

// --- SM4: GB/T 32907-2016 appendix A -----------------------------------------------------

constexpr std::string_view kSm4KeyAndPlaintext = "0123456789abcdeffedcba9876543210";

TEST(Sm4Test, BlockKnownAnswer) {
  const std::string key = Hex(kSm4KeyAndPlaintext);
  auto c = Sm4EncryptBlock(key, key);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(ToHex(*c), "681edf34d206965e86b3e94f536e4246");
}

TEST(Sm4Test, MillionTimesIteratedKnownAnswer) {
  const std::string key = Hex(kSm4KeyAndPlaintext);
  auto cipher = Sm4BlockCipher::Make(key);
  ASSERT_TRUE(cipher.ok()) << cipher.error().ToString();
  Sm4BlockCipher::Block block{};
  std::copy(key.begin(), key.end(), block.begin());
  for (int i = 0; i < 1'000'000; ++i) {
    ASSERT_TRUE(cipher->EncryptInPlace(block).ok()) << "iteration " << i;
  }
  EXPECT_EQ(ToHex(std::span<const std::uint8_t>(block)), "595298c7c6fd271f0402f804c33d3f66");
}

TEST(Sm4Test, BlockRejectsWrongSizes) {
  auto short_key = Sm4EncryptBlock(std::string(15, 'k'), std::string(16, 'p'));
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_key.error().field(), "key16");
  auto long_block = Sm4EncryptBlock(std::string(16, 'k'), std::string(17, 'p'));
  ASSERT_FALSE(long_block.ok());
  EXPECT_EQ(long_block.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(long_block.error().field(), "block16");
}

// --- SM2: GM/T 0003.5-2012 / GB/T 32918.5-2017 appendix A signature example --------------
// On the SM2 recommended curve, with the default ID; the same values are in OpenSSL's
// test/sm2_internal_test.c ("From Annex A in both GM/T0003.5-2012 and GB/T 32918.5-2016").

constexpr std::string_view kVectorD =
    "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
constexpr std::string_view kVectorPublic =
    "04"
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";
constexpr std::string_view kVectorMessage = "message digest";
constexpr std::string_view kVectorR =
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3";
constexpr std::string_view kVectorS =
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";

std::string VectorRawSignature() { return Hex(std::string(kVectorR) + std::string(kVectorS)); }

// Both r and s have the top bit set, so each INTEGER carries a 0x00 sign byte.
std::string VectorDerSignature() {
  return Hex("3046022100" + std::string(kVectorR) + "022100" + std::string(kVectorS));
}

Sm2PublicKey VectorPublicKey() {
  auto key = Sm2PublicKey::FromRaw(Hex(kVectorPublic));
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  return std::move(key).value();
}

TEST(Sm2VectorTest, ScalarDerivesPublishedPublicKey) {
  auto key = Sm2PrivateKey::FromScalar(Hex(kVectorD));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(ToHex(key->PublicKey().Raw()), kVectorPublic);
}

TEST(Sm2VectorTest, PublishedSignatureVerifies) {
  const Sm2PublicKey key = VectorPublicKey();
  auto s = key.Verify(kVectorMessage, VectorDerSignature());
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(key.Verify(kVectorMessage, VectorDerSignature(), "1234567812345678").ok());

  // The key derived from d verifies it too (its public half is the published point).
  auto private_key = Sm2PrivateKey::FromScalar(Hex(kVectorD));
  ASSERT_TRUE(private_key.ok());
  EXPECT_TRUE(private_key->PublicKey().Verify(kVectorMessage, VectorDerSignature()).ok());
}

TEST(Sm2VectorTest, OneBitChangeFails) {
  const Sm2PublicKey key = VectorPublicKey();
  const std::string raw = VectorRawSignature();
  for (std::size_t bit : {std::size_t{0}, std::size_t{255}, std::size_t{256}, std::size_t{511}}) {
    auto der = Sm2SignatureFromRaw(FlipBit(raw, bit));
    ASSERT_TRUE(der.ok());
    EXPECT_EQ(key.Verify(kVectorMessage, *der).code(), StatusCode::kCorruption) << "bit " << bit;
  }
  EXPECT_EQ(key.Verify(FlipBit(std::string(kVectorMessage), 0), VectorDerSignature()).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(key.Verify(kVectorMessage, VectorDerSignature(), "1234567812345679").code(),
            StatusCode::kCorruption);
}

TEST(Sm2VectorTest, SignaturesOfTheVectorKeyVerify) {
  auto key = Sm2PrivateKey::FromScalar(Hex(kVectorD));
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign(kVectorMessage);
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  EXPECT_TRUE(VectorPublicKey().Verify(kVectorMessage, *sig).ok());
}

// --- SM2 keys and signatures --------------------------------------------------------------

class Sm2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = Sm2PrivateKey::Generate();
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    key_.emplace(std::move(*key));
  }
  const Sm2PrivateKey& key() const { return *key_; }
  std::optional<Sm2PrivateKey> key_;  // no default constructor
};

// A P-256 key pair (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256).
constexpr std::string_view kP256PrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYOKR81ZIJm3GSoMN\n"
    "Z51rNWqLwhy3g5Fev4p6Y2YTjluhRANCAAQbA8fHHvNcDCZ1091ilbtpQoIecurC\n"
    "tu5TJrYMnb6oI1efsnyERFhSpjmfEvgAliSB8EDA3FILkBzfG058vIBE\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kP256PublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGwPHxx7zXAwmddPdYpW7aUKCHnLq\n"
    "wrbuUya2DJ2+qCNXn7J8hERYUqY5nxL4AJYkgfBAwNxSC5Ac3xtOfLyARA==\n"
    "-----END PUBLIC KEY-----\n";

TEST_F(Sm2Test, SignVerifyRoundTrip) {
  auto a = key().Sign("permit 42 closed");
  auto b = key().Sign("permit 42 closed");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0], 0x30);  // DER SEQUENCE
  EXPECT_NE(*a, *b);         // random k
  EXPECT_TRUE(key().PublicKey().Verify("permit 42 closed", *a).ok());
  EXPECT_TRUE(key().PublicKey().Verify("permit 42 closed", *b).ok());
  auto empty = key().Sign("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(key().PublicKey().Verify("", *empty).ok());
}

TEST_F(Sm2Test, WrongIdFails) {
  auto sig = key().Sign("payload", "worker-app@site-7");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key().PublicKey().Verify("payload", *sig, "worker-app@site-7").ok());
  auto s = key().PublicKey().Verify("payload", *sig);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("does not verify"), std::string::npos) << s.message();

  auto with_default = key().Sign("payload");
  ASSERT_TRUE(with_default.ok());
  EXPECT_EQ(key().PublicKey().Verify("payload", *with_default, "1234567812345679").code(),
            StatusCode::kCorruption);
}

TEST_F(Sm2Test, EmptyOrOverlongIdIsRejected) {
  auto sig = key().Sign("payload", "");
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sig.error().field(), "id");
  auto good = key().Sign("payload");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(key().PublicKey().Verify("payload", *good, "").field(), "id");
  EXPECT_TRUE(key().Sign("payload", std::string(8190, 'i')).ok());
  EXPECT_EQ(key().Sign("payload", std::string(8191, 'i')).error().field(), "id");
}

TEST_F(Sm2Test, TamperedMessageFails) {
  auto sig = key().Sign("WG1|cert|42");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(key().PublicKey().Verify("WG1|cert|43", *sig).code(), StatusCode::kCorruption);
  EXPECT_EQ(key().PublicKey().Verify("WG1|cert|42 ", *sig).code(), StatusCode::kCorruption);
}

TEST_F(Sm2Test, SignatureFromAnotherKeyFails) {
  auto other = Sm2PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->PublicKey().Raw(), key().PublicKey().Raw());
  auto sig = other->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(key().PublicKey().Verify("payload", *sig).code(), StatusCode::kCorruption);
}

TEST_F(Sm2Test, MalformedSignatureIsCorruption) {
  auto sig = key().Sign("payload");
  ASSERT_TRUE(sig.ok());
  for (const std::string& bad :
       {std::string(), std::string("garbage"), *sig + "x", sig->substr(0, sig->size() - 1)}) {
    auto s = key().PublicKey().Verify("payload", bad);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << ToHex(bad);
    EXPECT_NE(s.message().find("malformed"), std::string::npos) << s.message();
  }
}

// The header promises that one key (shared EVP_PKEY) may be used from many threads.
TEST_F(Sm2Test, OneKeySignsAndVerifiesFromManyThreads) {
  const Sm2PublicKey public_key = key().PublicKey();
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string message = "thread " + std::to_string(t) + " message " + std::to_string(i);
        auto sig = key().Sign(message);
        if (!sig.ok() || !public_key.Verify(message, *sig).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST_F(Sm2Test, PrivatePemRoundTrip) {
  auto pem = key().Pem();
  ASSERT_TRUE(pem.ok()) << pem.error().ToString();
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << *pem;
  auto restored = Sm2PrivateKey::FromPem(*pem);
  ASSERT_TRUE(restored.ok()) << restored.error().ToString();
  EXPECT_EQ(restored->PublicKey().Raw(), key().PublicKey().Raw());
  auto sig = restored->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key().PublicKey().Verify("payload", *sig).ok());
  auto again = restored->Pem();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *pem);
}

TEST_F(Sm2Test, PublicPemRoundTrip) {
  const std::string pem = key().PublicKey().Pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u) << pem;
  auto restored = Sm2PublicKey::FromPem(pem);
  ASSERT_TRUE(restored.ok()) << restored.error().ToString();
  EXPECT_EQ(restored->Raw(), key().PublicKey().Raw());
  EXPECT_EQ(restored->Pem(), pem);
  auto sig = key().Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(restored->Verify("payload", *sig).ok());

  auto raw = Sm2PublicKey::FromRaw(key().PublicKey().Raw());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->Pem(), pem);
}

TEST(Sm2KeyTest, FromRawRejectsPointsNotOnTheCurve) {
  const std::string good = Hex(kVectorPublic);
  ASSERT_TRUE(Sm2PublicKey::FromRaw(good).ok());
  std::string compressed = good.substr(0, 33);
  compressed[0] = 0x02;
  std::string bad_prefix = good;
  bad_prefix[0] = 0x05;
  for (const std::string& bad : {FlipBit(good, 64 * 8 + 0), FlipBit(good, 8 + 3),
                                 std::string(1, '\x04') + std::string(64, '\0'), compressed,
                                 bad_prefix, good.substr(0, 64), good + "x", std::string()}) {
    auto key = Sm2PublicKey::FromRaw(bad);
    ASSERT_FALSE(key.ok()) << ToHex(bad);
    EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument) << ToHex(bad);
    EXPECT_EQ(key.error().field(), "raw");
  }
  auto off_curve = Sm2PublicKey::FromRaw(FlipBit(good, 64 * 8));
  EXPECT_NE(off_curve.error().message().find("not a point on the SM2 curve"), std::string::npos)
      << off_curve.error().message();
}

TEST(Sm2KeyTest, P256KeysAreRejected) {
  auto priv = Sm2PrivateKey::FromPem(kP256PrivatePem);
  ASSERT_FALSE(priv.ok());
  EXPECT_EQ(priv.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(priv.error().field(), "pem");
  EXPECT_NE(priv.error().message().find("want SM2"), std::string::npos) << priv.error().message();

  auto pub = Sm2PublicKey::FromPem(kP256PublicPem);
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pub.error().message().find("want SM2"), std::string::npos) << pub.error().message();
}

TEST(Sm2KeyTest, MalformedPemIsRejected) {
  auto key = Sm2PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto pem = key->Pem();
  ASSERT_TRUE(pem.ok());
  const std::string public_pem = key->PublicKey().Pem();
  std::string corrupted = *pem;
  corrupted[40] = corrupted[40] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string(), std::string("not a pem"), public_pem,
                                 *pem + public_pem, pem->substr(0, pem->size() / 2), corrupted}) {
    auto r = Sm2PrivateKey::FromPem(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.error().field(), "pem") << bad;
  }
  for (const std::string& bad :
       {std::string(), *pem, public_pem + "junk", public_pem.substr(0, public_pem.size() / 2)}) {
    auto r = Sm2PublicKey::FromPem(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
  }
  // Surrounding whitespace is not an error.
  EXPECT_TRUE(Sm2PrivateKey::FromPem("\n" + *pem + "\n\n").ok());
}

TEST(Sm2KeyTest, FromScalarChecksRange) {
  const std::string n_minus_2 =
      Hex("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54121");
  EXPECT_TRUE(Sm2PrivateKey::FromScalar(n_minus_2).ok());
  EXPECT_TRUE(Sm2PrivateKey::FromScalar(std::string(31, '\0') + "\x01").ok());
  for (const std::string& bad :
       {std::string(32, '\0'),
        Hex("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122"),  // n - 1
        Hex("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123"),  // n
        std::string(32, '\xff'), std::string(31, '\x01'), std::string(33, '\x01')}) {
    auto key = Sm2PrivateKey::FromScalar(bad);
    ASSERT_FALSE(key.ok()) << ToHex(bad);
    EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(key.error().field(), "d");
  }
}

// --- Signature encodings ------------------------------------------------------------------

TEST(Sm2SignatureEncodingTest, DerRawRoundTrip) {
  auto der = Sm2SignatureFromRaw(VectorRawSignature());
  ASSERT_TRUE(der.ok()) << der.error().ToString();
  EXPECT_EQ(ToHex(*der), ToHex(VectorDerSignature()));
  auto raw = Sm2SignatureToRaw(*der);
  ASSERT_TRUE(raw.ok()) << raw.error().ToString();
  EXPECT_EQ(*raw, VectorRawSignature());

  // Small values: minimal INTEGERs in DER, zero-padded to 32 bytes in raw form.
  const std::string small = std::string(31, '\0') + "\x01" + std::string(31, '\0') + "\x7f";
  auto small_der = Sm2SignatureFromRaw(small);
  ASSERT_TRUE(small_der.ok());
  EXPECT_EQ(ToHex(*small_der), "300602010102017f");
  auto small_raw = Sm2SignatureToRaw(*small_der);
  ASSERT_TRUE(small_raw.ok());
  EXPECT_EQ(*small_raw, small);

  auto key = Sm2PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  for (int i = 0; i < 8; ++i) {
    auto sig = key->Sign("round trip");
    ASSERT_TRUE(sig.ok());
    auto r = Sm2SignatureToRaw(*sig);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 64u);
    auto back = Sm2SignatureFromRaw(*r);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, *sig);
  }
}

TEST(Sm2SignatureEncodingTest, MalformedDerIsRejected) {
  const std::string good = VectorDerSignature();
  const std::string r33 = "022100" + std::string(kVectorR);
  const std::string s33 = "022100" + std::string(kVectorS);
  for (const std::string& bad : {
           std::string(), Hex("30"), good.substr(0, good.size() - 1),  // truncated
           good + std::string(1, '\0'),                                // trailing byte
           Hex("3146" + r33 + s33),                                    // SET, not SEQUENCE
           Hex("304702220000" + std::string(kVectorR) + s33),          // non-minimal INTEGER
           Hex("3006810101020101"),                                    // wrong inner tag
           Hex("3006020100020101"),                                    // r = 0
           Hex("3006020101020180"),                                    // s negative
           Hex("3026022101" + std::string(kVectorR) + "020101"),       // r of 33 bytes
           Hex("308146022100" + std::string(kVectorR) + s33),          // 73 bytes
           Hex("308106020101020101"),                                  // long-form length
       }) {
    auto raw = Sm2SignatureToRaw(bad);
    ASSERT_FALSE(raw.ok()) << ToHex(bad);
    EXPECT_EQ(raw.error().code(), StatusCode::kInvalidArgument) << ToHex(bad);
    EXPECT_EQ(raw.error().field(), "signature") << ToHex(bad);
  }
}

TEST(Sm2SignatureEncodingTest, MalformedRawIsRejected) {
  for (const std::string& bad : {std::string(), std::string(63, '\x01'), std::string(65, '\x01'),
                                 std::string(32, '\0') + std::string(32, '\x01'),
                                 std::string(32, '\x01') + std::string(32, '\0')}) {
    auto der = Sm2SignatureFromRaw(bad);
    ASSERT_FALSE(der.ok()) << ToHex(bad);
    EXPECT_EQ(der.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(der.error().field(), "signature");
  }
}

// --- SM2 PayloadSigner ----------------------------------------------------------------------

TEST(Sm2PayloadSignerTest, SignsRawAndVerifiesWithSignerAndVerifier) {
  auto key = Sm2PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto signer = MakeSm2Signer(*key, "sm2-k1");
  ASSERT_TRUE(signer.ok()) << signer.error().ToString();
  auto verifier = MakeSm2Verifier(key->PublicKey(), "sm2-k1");
  ASSERT_TRUE(verifier.ok()) << verifier.error().ToString();
  EXPECT_EQ((*signer)->Algorithm(), "SM2");
  EXPECT_EQ((*signer)->KeyId(), "sm2-k1");
  EXPECT_EQ((*verifier)->Algorithm(), "SM2");
  EXPECT_EQ((*verifier)->KeyId(), "sm2-k1");

  auto sig = (*signer)->Sign("WG1|cert|42");
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  ASSERT_EQ(sig->size(), 64u);
  EXPECT_TRUE((*signer)->Verify("WG1|cert|42", *sig).ok());
  EXPECT_TRUE((*verifier)->Verify("WG1|cert|42", *sig).ok());
  // The raw r||s is the DER signature re-encoded: the key verifies it directly too.
  auto der = Sm2SignatureFromRaw(*sig);
  ASSERT_TRUE(der.ok());
  EXPECT_TRUE(key->PublicKey().Verify("WG1|cert|42", *der).ok());
}

TEST(Sm2PayloadSignerTest, VerifierCannotSign) {
  auto verifier = MakeSm2Verifier(VectorPublicKey(), "vector");
  ASSERT_TRUE(verifier.ok());
  auto sig = (*verifier)->Sign("payload");
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.error().code(), StatusCode::kFailedPrecondition);
}

TEST(Sm2PayloadSignerTest, VerifierAcceptsPublishedVector) {
  auto verifier = MakeSm2Verifier(VectorPublicKey(), "vector");
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRUE((*verifier)->Verify(kVectorMessage, VectorRawSignature()).ok());
  auto s = (*verifier)->Verify(kVectorMessage, FlipBit(VectorRawSignature(), 100));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("vector"), std::string::npos) << s.message();
  auto other_id = MakeSm2Verifier(VectorPublicKey(), "vector", "ALICE123@YAHOO.COM");
  ASSERT_TRUE(other_id.ok());
  EXPECT_EQ((*other_id)->Verify(kVectorMessage, VectorRawSignature()).code(),
            StatusCode::kCorruption);
}

TEST(Sm2PayloadSignerTest, TamperingAndWrongLengthAreCorruption) {
  auto key = Sm2PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto signer = MakeSm2Signer(*key, "k");
  ASSERT_TRUE(signer.ok());
  auto sig = (*signer)->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ((*signer)->Verify("payloaD", *sig).code(), StatusCode::kCorruption);
  EXPECT_EQ((*signer)->Verify("payload", FlipBit(*sig, 7)).code(), StatusCode::kCorruption);
  EXPECT_EQ((*signer)->Verify("payload", FlipBit(*sig, 300)).code(), StatusCode::kCorruption);
  auto short_sig = (*signer)->Verify("payload", sig->substr(0, 63));
  EXPECT_EQ(short_sig.code(), StatusCode::kCorruption);
  EXPECT_NE(short_sig.message().find("wrong length"), std::string::npos);
  EXPECT_EQ((*signer)->Verify("payload", "").code(), StatusCode::kCorruption);
  EXPECT_EQ((*signer)->Verify("payload", std::string(64, '\0')).code(), StatusCode::kCorruption);
}

TEST(Sm2PayloadSignerTest, IdIsPartOfTheSignature) {
  auto key = Sm2PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto signer = MakeSm2Signer(*key, "k", "site-7");
  auto default_verifier = MakeSm2Verifier(key->PublicKey(), "k");
  auto site_verifier = MakeSm2Verifier(key->PublicKey(), "k", "site-7");
  ASSERT_TRUE(signer.ok() && default_verifier.ok() && site_verifier.ok());
  auto sig = (*signer)->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE((*site_verifier)->Verify("payload", *sig).ok());
  EXPECT_EQ((*default_verifier)->Verify("payload", *sig).code(), StatusCode::kCorruption);

  auto empty_id = MakeSm2Signer(*key, "k", "");
  ASSERT_FALSE(empty_id.ok());
  EXPECT_EQ(empty_id.error().field(), "id");
}

// --- WGAE1 Seal / Open ----------------------------------------------------------------------

const std::string& Key() {
  static const std::string key(
      "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
      "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f",
      32);
  return key;
}

TEST(SealTest, RoundTrip) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16},
                        std::size_t{17}, std::size_t{1} << 20}) {
    const std::string plaintext = Pattern(n);
    auto box = Seal(Key(), plaintext, "evidence/17");
    ASSERT_TRUE(box.ok()) << box.error().ToString();
    EXPECT_EQ(box->size(), plaintext.size() + kSealOverhead);
    EXPECT_EQ(box->substr(0, 5), "WGAE1");
    if (n > 0) {
      EXPECT_NE(box->substr(21, n), plaintext);
    }
    auto opened = Open(Key(), *box, "evidence/17");
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(*opened, plaintext) << "size " << n;
  }
}

// Rebuilds the box from the description in docs/formats/sealed-box.md with independent
// primitives (HMAC-SM3, single SM4 blocks as the CTR keystream), so the format and the
// code cannot drift apart unnoticed.
TEST(SealTest, LayoutMatchesTheFormatDocument) {
  const std::string plaintext = Pattern(40);  // 2.5 blocks: the counter carries over
  const std::string aad = "aad";
  auto box = Seal(Key(), plaintext, aad);
  ASSERT_TRUE(box.ok());
  const std::string iv = box->substr(5, 16);
  const std::string ciphertext = box->substr(21, plaintext.size());
  const std::string tag = box->substr(21 + plaintext.size());

  auto enc_full = HmacSm3(Key(), "wg-ae-enc");
  auto mac_key = HmacSm3(Key(), "wg-ae-mac");
  ASSERT_TRUE(enc_full.ok() && mac_key.ok());
  const std::string enc_key(reinterpret_cast<const char*>(enc_full->data()), 16);

  std::string counter = iv;
  std::string expected_ct;
  for (std::size_t off = 0; off < plaintext.size(); off += 16) {
    auto keystream = Sm4EncryptBlock(enc_key, counter);
    ASSERT_TRUE(keystream.ok());
    for (std::size_t i = off; i < std::min(off + 16, plaintext.size()); ++i) {
      expected_ct.push_back(static_cast<char>(plaintext[i] ^ (*keystream)[i - off]));
    }
    for (std::size_t i = 16; i-- > 0;) {  // 128-bit big-endian increment
      counter[i] = static_cast<char>(static_cast<std::uint8_t>(counter[i]) + 1);
      if (counter[i] != '\0') break;
    }
  }
  EXPECT_EQ(ToHex(ciphertext), ToHex(expected_ct));

  const std::string mac_input = std::string(7, '\0') + "\x03" + aad + "WGAE1" + iv + ciphertext;
  auto expected_tag = HmacSm3(
      std::string_view(reinterpret_cast<const char*>(mac_key->data()), mac_key->size()), mac_input);
  ASSERT_TRUE(expected_tag.ok());
  EXPECT_EQ(ToHex(tag), ToHex(*expected_tag));
}

// The worked example in docs/formats/sealed-box.md, computed with the openssl command
// line (independent of this code).
TEST(SealTest, OpensTheFormatDocumentExample) {
  const std::string box =
      Hex("5747414531"
          "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
          "48172c3cf0307e68fdc8daa64890e217c9e4d29d38d0d1bb210f34fcc08a89b19b"
          "0c18164cb2d23de2b0e0dd1d06aee187a0f1342c1264d13d80cc055a956e1e27");
  auto opened = Open(Key(), box, "permit/2026-0042");
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(*opened, "gas test O2 20.9% LEL 0% at 08:00");
  EXPECT_EQ(Open(Key(), box, "permit/2026-0043").error().code(), StatusCode::kCorruption);
}

TEST(SealTest, EveryFlippedBitIsCorruption) {
  auto box = Seal(Key(), "gas test 18.5% O2", "permit/9");
  ASSERT_TRUE(box.ok());
  for (std::size_t bit = 0; bit < box->size() * 8; ++bit) {
    auto opened = Open(Key(), FlipBit(*box, bit), "permit/9");
    ASSERT_FALSE(opened.ok()) << "bit " << bit;
    EXPECT_EQ(opened.error().code(), StatusCode::kCorruption) << "bit " << bit;
  }
}

TEST(SealTest, ChangedAadIsCorruption) {
  auto box = Seal(Key(), "plaintext", "permit/9");
  ASSERT_TRUE(box.ok());
  ASSERT_TRUE(Open(Key(), *box, "permit/9").ok());
  for (std::string_view aad : {"permit/8", "", "permit/9 ", "permit/", "Permit/9"}) {
    auto opened = Open(Key(), *box, aad);
    ASSERT_FALSE(opened.ok()) << aad;
    EXPECT_EQ(opened.error().code(), StatusCode::kCorruption) << aad;
    EXPECT_NE(opened.error().message().find("authentication tag does not match"),
              std::string::npos);
  }
  auto empty_aad = Seal(Key(), "plaintext", "");
  ASSERT_TRUE(empty_aad.ok());
  EXPECT_TRUE(Open(Key(), *empty_aad, "").ok());
  EXPECT_EQ(Open(Key(), *empty_aad, std::string(1, '\0')).error().code(), StatusCode::kCorruption);
}

TEST(SealTest, ShortBoxIsInvalidArgumentAndTruncationIsDetected) {
  auto box = Seal(Key(), "", "");
  ASSERT_TRUE(box.ok());
  ASSERT_EQ(box->size(), kSealOverhead);
  for (std::size_t n = 0; n < kSealOverhead; ++n) {
    auto opened = Open(Key(), box->substr(0, n), "");
    ASSERT_FALSE(opened.ok()) << n;
    EXPECT_EQ(opened.error().code(), StatusCode::kInvalidArgument) << n;
    EXPECT_EQ(opened.error().field(), "box");
  }
  // A truncated box still long enough for header and tag fails its tag.
  auto longer = Seal(Key(), "0123456789", "");
  ASSERT_TRUE(longer.ok());
  for (std::size_t cut = 1; cut <= 10; ++cut) {
    auto opened = Open(Key(), longer->substr(0, longer->size() - cut), "");
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code(), StatusCode::kCorruption) << cut;
  }
  EXPECT_EQ(Open(Key(), *longer + "x", "").error().code(), StatusCode::kCorruption);
}

TEST(SealTest, WrongKeyIsCorruption) {
  auto box = Seal(Key(), "plaintext", "aad");
  ASSERT_TRUE(box.ok());
  auto opened = Open(FlipBit(Key(), 255), *box, "aad");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kCorruption);
}

TEST(SealTest, KeyMustBe32Bytes) {
  for (std::size_t n : {std::size_t{0}, std::size_t{16}, std::size_t{31}, std::size_t{33}}) {
    const std::string key(n, 'k');
    auto box = Seal(key, "x", "");
    ASSERT_FALSE(box.ok());
    EXPECT_EQ(box.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(box.error().field(), "key32");
    EXPECT_EQ(Open(key, std::string(64, 'b'), "").error().field(), "key32");
    std::string header;
    EXPECT_EQ(StreamSealer::Begin(key, "", &header).error().field(), "key32");
    EXPECT_EQ(StreamVerifier::Begin(key, "", "WGAE1" + std::string(16, 'i')).error().field(),
              "key32");
    EXPECT_EQ(StreamDecryptor::Begin(key, "WGAE1" + std::string(16, 'i')).error().field(), "key32");
  }
}

TEST(SealTest, SealsOfTheSamePlaintextDiffer) {
  auto a = Seal(Key(), "same plaintext", "aad");
  auto b = Seal(Key(), "same plaintext", "aad");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_NE(a->substr(5, 16), b->substr(5, 16));  // fresh IVs
  EXPECT_NE(a->substr(21), b->substr(21));
}

// --- Streaming ------------------------------------------------------------------------------

struct SealedStream {
  std::string header;
  std::vector<std::string> chunks;
  std::string tag;
  std::string Box() const {
    std::string box = header;
    for (const auto& c : chunks) box += c;
    return box + tag;
  }
};

SealedStream SealInChunks(std::string_view plaintext, std::string_view aad,
                          const std::vector<std::size_t>& sizes) {
  SealedStream out;
  auto sealer = StreamSealer::Begin(Key(), aad, &out.header);
  EXPECT_TRUE(sealer.ok()) << sealer.error().ToString();
  if (!sealer.ok()) return out;
  std::size_t i = 0;
  while (!plaintext.empty()) {
    const std::size_t n = std::min(sizes[i++ % sizes.size()], plaintext.size());
    auto chunk = sealer->Update(plaintext.substr(0, n));
    EXPECT_TRUE(chunk.ok());
    EXPECT_EQ(chunk->size(), n);
    out.chunks.push_back(*chunk);
    plaintext.remove_prefix(n);
  }
  auto tag = sealer->Finish();
  EXPECT_TRUE(tag.ok());
  out.tag = *tag;
  return out;
}

core::Status VerifyInChunks(std::string_view header, std::string_view ciphertext,
                            std::string_view tag, std::string_view aad, std::size_t chunk) {
  WG_ASSIGN_OR_RETURN(StreamVerifier verifier, StreamVerifier::Begin(Key(), aad, header));
  while (!ciphertext.empty()) {
    const std::size_t n = std::min(chunk, ciphertext.size());
    WG_RETURN_IF_ERROR(verifier.Update(ciphertext.substr(0, n)));
    ciphertext.remove_prefix(n);
  }
  return verifier.Finish(tag);
}

TEST(StreamTest, StreamOutputIsABoxThatOpenAccepts) {
  const std::string plaintext = Pattern(300'001);
  const SealedStream s = SealInChunks(plaintext, "video/3", {1, 4096, 0, 17, 65536});
  EXPECT_EQ(s.header.size(), 21u);
  EXPECT_EQ(s.header.substr(0, 5), "WGAE1");
  EXPECT_EQ(s.tag.size(), 32u);
  auto opened = Open(Key(), s.Box(), "video/3");
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(*opened, plaintext);
}

TEST(StreamTest, VerifierAcceptsAnyChunkingAndSealedBoxes) {
  const std::string plaintext = Pattern(10'000);
  const SealedStream s = SealInChunks(plaintext, "aad", {333});
  std::string ciphertext;
  for (const auto& c : s.chunks) ciphertext += c;
  for (std::size_t chunk :
       {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{1'000'000}}) {
    auto st = VerifyInChunks(s.header, ciphertext, s.tag, "aad", chunk);
    EXPECT_TRUE(st.ok()) << chunk << ": " << st.ToString();
  }
  // And a box from the one-shot Seal, split into its parts.
  auto box = Seal(Key(), plaintext, "aad");
  ASSERT_TRUE(box.ok());
  EXPECT_TRUE(VerifyInChunks(box->substr(0, 21), box->substr(21, plaintext.size()),
                             box->substr(21 + plaintext.size()), "aad", 999)
                  .ok());
}

TEST(StreamTest, VerifierRejectsTamperedStream) {
  const std::string plaintext = Pattern(5'000);
  const SealedStream s = SealInChunks(plaintext, "aad", {1000});
  std::string ciphertext;
  for (const auto& c : s.chunks) ciphertext += c;
  ASSERT_TRUE(VerifyInChunks(s.header, ciphertext, s.tag, "aad", 512).ok());

  for (std::size_t bit : {std::size_t{0}, std::size_t{12'345}, ciphertext.size() * 8 - 1}) {
    EXPECT_EQ(VerifyInChunks(s.header, FlipBit(ciphertext, bit), s.tag, "aad", 512).code(),
              StatusCode::kCorruption)
        << "ciphertext bit " << bit;
  }
  for (std::size_t bit = 0; bit < 21 * 8; bit += 13) {
    EXPECT_EQ(VerifyInChunks(FlipBit(s.header, bit), ciphertext, s.tag, "aad", 512).code(),
              StatusCode::kCorruption)
        << "header bit " << bit;
  }
  EXPECT_EQ(VerifyInChunks(s.header, ciphertext, FlipBit(s.tag, 77), "aad", 512).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(VerifyInChunks(s.header, ciphertext, s.tag, "aae", 512).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(VerifyInChunks(s.header, ciphertext.substr(1), s.tag, "aad", 512).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(VerifyInChunks(s.header, ciphertext + "x", s.tag, "aad", 512).code(),
            StatusCode::kCorruption);
  auto short_tag = VerifyInChunks(s.header, ciphertext, s.tag.substr(0, 31), "aad", 512);
  EXPECT_EQ(short_tag.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_tag.field(), "tag");
  auto short_header = StreamVerifier::Begin(Key(), "aad", s.header.substr(0, 20));
  EXPECT_EQ(short_header.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_header.error().field(), "header");
}

TEST(StreamTest, DecryptorRecoversPlaintextAcrossOddChunks) {
  const std::string plaintext = Pattern(100'003);
  const SealedStream s = SealInChunks(plaintext, "", {4096});
  std::string ciphertext;
  for (const auto& c : s.chunks) ciphertext += c;
  ASSERT_TRUE(VerifyInChunks(s.header, ciphertext, s.tag, "", 4096).ok());

  auto decryptor = StreamDecryptor::Begin(Key(), s.header);
  ASSERT_TRUE(decryptor.ok()) << decryptor.error().ToString();
  std::string recovered;
  std::string_view rest = ciphertext;
  const std::size_t sizes[] = {1, 3, 17, 0, 15, 16, 31, 1000, 4097};
  for (std::size_t i = 0; !rest.empty(); ++i) {
    const std::size_t n = std::min(sizes[i % std::size(sizes)], rest.size());
    auto part = decryptor->Update(rest.substr(0, n));
    ASSERT_TRUE(part.ok());
    ASSERT_EQ(part->size(), n);
    recovered += *part;
    rest.remove_prefix(n);
  }
  EXPECT_EQ(recovered, plaintext);
}

TEST(StreamTest, DecryptorReadsOneShotBoxes) {
  const std::string plaintext = Pattern(777);
  auto box = Seal(Key(), plaintext, "x");
  ASSERT_TRUE(box.ok());
  auto decryptor = StreamDecryptor::Begin(Key(), box->substr(0, 21));
  ASSERT_TRUE(decryptor.ok());
  auto a = decryptor->Update(box->substr(21, 100));
  auto b = decryptor->Update(box->substr(121, plaintext.size() - 100));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a + *b, plaintext);

  std::string alien = box->substr(0, 21);
  alien[4] = '2';
  EXPECT_EQ(StreamDecryptor::Begin(Key(), alien).error().code(), StatusCode::kCorruption);
  EXPECT_EQ(StreamDecryptor::Begin(Key(), alien.substr(0, 5)).error().code(),
            StatusCode::kInvalidArgument);
}

TEST(StreamTest, FinishedStreamsRefuseFurtherUse) {
  std::string header;
  auto sealer = StreamSealer::Begin(Key(), "", &header);
  ASSERT_TRUE(sealer.ok());
  ASSERT_TRUE(sealer->Update("abc").ok());
  ASSERT_TRUE(sealer->Finish().ok());
  EXPECT_EQ(sealer->Update("more").error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(sealer->Finish().error().code(), StatusCode::kFailedPrecondition);

  StreamSealer moved = std::move(*sealer);
  EXPECT_EQ(moved.Update("x").error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(sealer->Update("x").error().code(), StatusCode::kFailedPrecondition);  // NOLINT

  auto null_header = StreamSealer::Begin(Key(), "", nullptr);
  ASSERT_FALSE(null_header.ok());
  EXPECT_EQ(null_header.error().field(), "header");

  auto verifier = StreamVerifier::Begin(Key(), "", header);
  ASSERT_TRUE(verifier.ok());
  EXPECT_EQ(verifier->Finish(std::string(32, '\0')).code(), StatusCode::kCorruption);
  EXPECT_EQ(verifier->Finish(std::string(32, '\0')).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(verifier->Update("x").code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace wg::crypto

#include <gtest/gtest.h>

#include "registry_fixture.h"
#include "wg/core/strings.h"

namespace wg::registry {
namespace {

using testing::RegistryFixture;
using QrTest = RegistryFixture;

TEST_F(QrTest, SignedPayloadRendersAndVerifies) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto c = AddWelding(org_a_, w.id, "T-QR-1", "2024-01-10");
  auto qr = registry_->MakeQr(org_a_, c.id);
  ASSERT_TRUE(qr.has_value()) << qr.error().ToString();
  // Signed with the organization's SM2 key, version 1.
  EXPECT_EQ(qr->payload.rfind("WG1|plant-a/k1|SM2|", 0), 0u) << qr->payload;
  EXPECT_EQ(qr->png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_NE(qr->svg.find("<svg"), std::string::npos);
  auto check = registry_->CheckQr(org_a_, qr->payload, std::string("hot_work"));
  ASSERT_TRUE(check.has_value());
  EXPECT_TRUE(check->signature_valid);
  ASSERT_TRUE(check->verification.has_value());
  EXPECT_TRUE(check->verification->may_work);
  // Without an operation, a covering operation is chosen.
  auto implicit = registry_->CheckQr(org_a_, qr->payload, std::nullopt);
  ASSERT_TRUE(implicit->verification.has_value());
}

TEST_F(QrTest, TamperedPayloadsFail) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto c = AddWelding(org_a_, w.id, "T-QR-1", "2024-01-10");
  auto qr = registry_->MakeQr(org_a_, c.id);
  ASSERT_TRUE(qr.has_value());
  std::string forged = qr->payload;
  auto pos = forged.find("2030-01-10");
  ASSERT_NE(pos, std::string::npos);
  forged.replace(pos, 4, "2035");  // extend the expiry
  auto r = registry_->CheckQr(org_a_, forged, std::nullopt);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->signature_valid);
  EXPECT_FALSE(r->verification.has_value());
  // A flipped signature character.
  std::string bad_sig = qr->payload;
  bad_sig.back() = bad_sig.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(registry_->CheckQr(org_a_, bad_sig, std::nullopt)->signature_valid);
  // Algorithm downgrade / other key.
  std::string other_alg = qr->payload;
  other_alg.replace(other_alg.find("|SM2|"), 5, "|HMAC-SM3|");
  auto downgraded = registry_->CheckQr(org_a_, other_alg, std::nullopt);
  EXPECT_FALSE(downgraded->signature_valid);
  EXPECT_NE(downgraded->detail.find("SM2"), std::string::npos) << downgraded->detail;
  std::string unknown_key = qr->payload;
  unknown_key.replace(unknown_key.find("plant-a/k1"), 10, "plant-a/k7");
  auto unknown = registry_->CheckQr(org_a_, unknown_key, std::nullopt);
  EXPECT_FALSE(unknown->signature_valid);
  EXPECT_NE(unknown->detail.find("unknown key"), std::string::npos) << unknown->detail;
  EXPECT_FALSE(registry_->CheckQr(org_a_, "garbage", std::nullopt)->signature_valid);
  EXPECT_FALSE(registry_->CheckQr(org_a_, std::string(5000, 'x'), std::nullopt).has_value());
  // Another organization's scanner learns nothing.
  auto foreign = registry_->CheckQr(org_b_, qr->payload, std::nullopt);
  EXPECT_FALSE(foreign->verification.has_value());
}

TEST_F(QrTest, QrPrintedBeforeKeyRotationStillVerifies) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto c = AddWelding(org_a_, w.id, "T-QR-1", "2024-01-10");
  auto old_qr = registry_->MakeQr(org_a_, c.id);
  ASSERT_TRUE(old_qr.has_value());
  auto rotated = evidence_->RotateKey(org_a_, "user:admin");
  ASSERT_TRUE(rotated.has_value()) << rotated.error().ToString();
  EXPECT_EQ(rotated->version, 2);
  auto new_qr = registry_->MakeQr(org_a_, c.id);
  ASSERT_TRUE(new_qr.has_value());
  EXPECT_EQ(new_qr->payload.rfind("WG1|plant-a/k2|SM2|", 0), 0u) << new_qr->payload;
  EXPECT_TRUE(registry_->CheckQr(org_a_, old_qr->payload, std::nullopt)->signature_valid);
  EXPECT_TRUE(registry_->CheckQr(org_a_, new_qr->payload, std::nullopt)->signature_valid);
  // The old payload re-labelled as signed by the new key does not verify.
  std::string relabelled = old_qr->payload;
  relabelled.replace(relabelled.find("plant-a/k1"), 10, "plant-a/k2");
  EXPECT_FALSE(registry_->CheckQr(org_a_, relabelled, std::nullopt)->signature_valid);
}

TEST_F(QrTest, RevokedCertificateOldQrNoLongerVerifiesAsMayWork) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto c = AddWelding(org_a_, w.id, "T-QR-1", "2024-01-10");
  auto qr = registry_->MakeQr(org_a_, c.id);
  ASSERT_TRUE(registry_->RevokeCertificate(org_a_, c.id, "fraud_bribery").has_value());
  auto r = registry_->CheckQr(org_a_, qr->payload, std::string("hot_work"));
  EXPECT_TRUE(r->signature_valid);
  ASSERT_TRUE(r->verification.has_value());
  EXPECT_FALSE(r->verification->may_work);
  EXPECT_EQ(r->verification->verdict, Verdict::kRevoked);
}

}  // namespace
}  // namespace wg::registry

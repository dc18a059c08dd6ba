#include <gtest/gtest.h>

#include "test_env.h"
#include "wg/core/strings.h"
#include "wg/evidence/bundle.h"

namespace wg::evidence {
namespace {

using testing::Draft;

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.dir = testing::MakeTempDir("wg-bundle");
    ASSERT_TRUE(env_.Open().ok());
    auto org = env_.store->CreateOrganization({"plant-a", "A"}, {Draft("org.created", "org:plant-a")});
    ASSERT_TRUE(org.has_value());
    org_ = org->id;
    const std::string cert = CertificateSubject("special_operation", "T-1");
    ASSERT_TRUE(env_.store
                    ->AppendFacts(org_, {Draft("cert.issued", cert, R"({"number":"T-1"})"),
                                         Draft("worker.registered", "worker:W1"),
                                         Draft("cert.reviewed", cert, R"({"review":"2026-01-02"})"),
                                         Draft("cert.issued", CertificateSubject("special_operation", "T-2"))})
                    .ok());
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(env_.store->AppendFacts(org_, {Draft("noise", "thing:" + std::to_string(i))}).ok());
    }
    ASSERT_TRUE(env_.store->AppendFacts(org_, {Draft("cert.revoked", cert)}).ok());
    auto b = ExportSubject(*env_.ev, org_, cert);
    ASSERT_TRUE(b.has_value()) << b.error().ToString();
    bundle_ = *b;
  }

  static core::Result<BundleReport> RoundTrip(const Bundle& b,
                                              const std::optional<std::string>& key = std::nullopt) {
    WG_ASSIGN_OR_RETURN(Bundle parsed, ParseBundle(core::DumpJson(BundleToJson(b))));
    return VerifyBundle(parsed, key);
  }

  testing::Env env_;
  core::OrgId org_;
  Bundle bundle_;
};

TEST_F(BundleTest, ExportsEveryFactAboutTheSubjectAndVerifiesOffline) {
  ASSERT_EQ(bundle_.items.size(), 3u);
  auto rep = RoundTrip(bundle_);
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->facts[0].kind, "cert.issued");
  EXPECT_EQ(rep->facts[1].kind, "cert.reviewed");
  EXPECT_EQ(rep->facts[2].kind, "cert.revoked");
  EXPECT_EQ(rep->signed_by, "workguard.test/ev/plant-a/k1");
  // Pinned to the organization's published key.
  auto key = env_.keys->Current("plant-a");
  ASSERT_TRUE(RoundTrip(bundle_, key->vkey).has_value());
  EXPECT_EQ(ExportSubject(*env_.ev, org_, "cert:none/X").error().code(), core::StatusCode::kNotFound);
}

TEST_F(BundleTest, TamperedBundlesAreRejectedWithTheReason) {
  auto expect_corrupt = [](const Bundle& b, const std::string& needle,
                           const std::optional<std::string>& key = std::nullopt) {
    auto r = RoundTrip(b, key);
    ASSERT_FALSE(r.has_value()) << "accepted a tampered bundle (" << needle << ")";
    EXPECT_EQ(r.error().code(), core::StatusCode::kCorruption) << r.error().ToString();
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
  };
  {  // A flipped bit in an entry.
    Bundle b = bundle_;
    b.items[1].entry[b.items[1].entry.size() - 3] ^= 0x01;
    expect_corrupt(b, "fact " + std::to_string(b.items[1].seq));
  }
  {  // A flipped bit in a proof.
    Bundle b = bundle_;
    b.items[0].proof[0][5] ^= 0x10;
    expect_corrupt(b, "computed root");
  }
  {  // A fact about another subject slipped in.
    Bundle b = bundle_;
    b.subject = CertificateSubject("special_operation", "T-2");
    expect_corrupt(b, "not \"cert:special_operation/T-2\"");
  }
  {  // Reordered facts.
    Bundle b = bundle_;
    std::swap(b.items[0], b.items[1]);
    expect_corrupt(b, "increasing seq");
  }
  {  // A dropped proof hash.
    Bundle b = bundle_;
    b.items[2].proof.pop_back();
    expect_corrupt(b, "fact");
  }
  {  // A checkpoint re-signed by a stranger's key, pinned to the organization's key.
    Bundle b = bundle_;
    auto stranger = crypto::Sm2PrivateKey::Generate();
    auto nk = ledger::NoteKey::ForSigning("workguard.test/ev/plant-a/k1", *stranger);
    auto note = ledger::ParseNote(b.checkpoint);
    note->signatures.clear();
    ASSERT_TRUE(nk->Sign(&*note).ok());
    b.checkpoint = ledger::FormatNote(*note);
    b.verifier_keys = {nk->VerifierKey()};
    auto org_key = env_.keys->Current("plant-a");
    expect_corrupt(b, "trusted key", org_key->vkey);
  }
  {  // A bundled key named for another log does not count.
    Bundle b = bundle_;
    auto stranger = crypto::Sm2PrivateKey::Generate();
    auto nk = ledger::NoteKey::ForSigning("elsewhere/k1", *stranger);
    auto note = ledger::ParseNote(b.checkpoint);
    note->signatures.clear();
    ASSERT_TRUE(nk->Sign(&*note).ok());
    b.checkpoint = ledger::FormatNote(*note);
    b.verifier_keys = {nk->VerifierKey()};
    expect_corrupt(b, "no valid signature");
  }
}

TEST_F(BundleTest, ParseRejectsMalformedDocumentsNamingTheField) {
  auto field = [](const std::string& text) {
    auto r = ParseBundle(text);
    return r.has_value() ? std::string("ok") : r.error().field();
  };
  core::Json good = BundleToJson(bundle_);
  EXPECT_EQ(field(core::DumpJson(good)), "ok");
  core::Json j = good;
  j["format"] = "other/1";
  EXPECT_EQ(field(core::DumpJson(j)), "format");
  j = good;
  j["hash"] = "md5";
  EXPECT_EQ(field(core::DumpJson(j)), "hash");
  j = good;
  j["facts"][0]["proof"][0] = "zz";
  EXPECT_EQ(field(core::DumpJson(j)), "facts[0].proof");
  j = good;
  j["facts"][1]["entry"] = "!!!";
  EXPECT_EQ(field(core::DumpJson(j)), "facts[1].entry");
  j = good;
  j.erase("checkpoint");
  EXPECT_EQ(field(core::DumpJson(j)), "checkpoint");
  EXPECT_EQ(field("[1,2]"), "bundle");
  EXPECT_EQ(field("{"), "bundle");
}

}  // namespace
}  // namespace wg::evidence

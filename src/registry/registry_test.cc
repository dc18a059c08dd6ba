#include "wg/registry/registry.h"

#include <gtest/gtest.h>

#include "registry_fixture.h"

namespace wg::registry {
namespace {

using testing::D;
using testing::MakeResidentId;
using testing::RegistryFixture;

using RegistryTest = RegistryFixture;

TEST_F(RegistryTest, VerifyAgainstTheIndexAndTheRules) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto c = AddWelding(org_a_, w.id, "T3201021990", "2024-01-10");
  // Now (2026-11-28) the 3-year review (due 2027-01-10) window is open: may still work.
  auto v = registry_->Verify(org_a_, w.id, "hot_work");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->verdict, Verdict::kReviewDue);
  EXPECT_TRUE(v->may_work);
  EXPECT_EQ(v->certificate_number, "T3201021990");
  EXPECT_EQ(c.expiry_date, D("2030-01-10"));  // default: issue + 6 years

  // At a given time: before the review window, after the missed review.
  EXPECT_EQ(registry_->Verify(org_a_, w.id, "hot_work", testing::AtNoon("2026-11-10"))->verdict,
            Verdict::kValid);
  EXPECT_EQ(registry_->Verify(org_a_, w.id, "hot_work", testing::AtNoon("2027-01-10"))->verdict,
            Verdict::kReviewOverdue);
  ASSERT_TRUE(registry_->RecordReview(org_a_, c.id, D("2026-11-28")).has_value());
  EXPECT_EQ(registry_->Verify(org_a_, w.id, "hot_work", testing::AtNoon("2027-01-10"))->verdict,
            Verdict::kValid);
}

TEST_F(RegistryTest, UnknownOperationIsAnErrorUnknownWorkerIsAVerdict) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto bad = registry_->Verify(org_a_, w.id, "juggling");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field(), "operation");
  auto unknown = registry_->Verify(org_a_, core::WorkerId{9999}, "hot_work");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->verdict, Verdict::kUnknownWorker);
}

TEST_F(RegistryTest, OtherOrganizationsWorkerIsUnknown) {
  auto wb = AddWorker(org_b_, "W001", "32010219900101123");
  AddWelding(org_b_, wb.id, "B-1", "2024-01-10");
  auto v = registry_->Verify(org_a_, wb.id, "hot_work");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->verdict, Verdict::kUnknownWorker);
  // Nor can org A add a certificate to org B's worker.
  NewCertificate c;
  c.worker_id = wb.id;
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = "A-steal";
  c.authority = "x";
  c.issue_date = D("2024-01-10");
  auto r = registry_->AddCertificate(org_a_, c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), core::StatusCode::kNotFound);
}

TEST_F(RegistryTest, PresentedIdMustBelongToTheWorker) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  AddWelding(org_a_, w.id, "T-1", "2024-06-10");
  EXPECT_EQ(w.id_last4, MakeResidentId("32010219900101123").substr(14));
  EXPECT_EQ(w.id_digest.size(), 64u);
  auto same = registry_->Verify(org_a_, w.id, "hot_work", std::nullopt,
                                MakeResidentId("32010219900101123"));
  EXPECT_EQ(same->verdict, Verdict::kValid);
  auto other = registry_->Verify(org_a_, w.id, "hot_work", std::nullopt,
                                 MakeResidentId("32010219851111123"));
  EXPECT_EQ(other->verdict, Verdict::kIdMismatch);
  EXPECT_FALSE(other->may_work);
  auto malformed = registry_->Verify(org_a_, w.id, "hot_work", std::nullopt, "123");
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().field(), "national_id");
}

TEST_F(RegistryTest, OnePersonOneWorkerRecordPerOrganization) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  EXPECT_EQ(w.id_lookup.size(), 64u);
  auto twice = registry_->CreateWorker(
      org_a_, {"W002", "张三", "x", MakeResidentId("32010219900101123"), "", ""});
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code(), core::StatusCode::kAlreadyExists);
  EXPECT_EQ(twice.error().field(), "national_id");
  EXPECT_NE(twice.error().message().find("W001"), std::string::npos);
  // The same person may work for another organization.
  EXPECT_TRUE(registry_->CreateWorker(
                  org_b_, {"W002", "张三", "x", MakeResidentId("32010219900101123"), "", ""})
                  .has_value());
}

TEST_F(RegistryTest, RevocationNeedsAKnownReasonAndTakesEffectImmediately) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto c = AddWelding(org_a_, w.id, "T-1", "2024-01-10");
  auto bad = registry_->RevokeCertificate(org_a_, c.id, "because");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field(), "reason");
  ASSERT_TRUE(registry_->RevokeCertificate(org_a_, c.id, "accident_responsibility").has_value());
  EXPECT_EQ(registry_->Verify(org_a_, w.id, "hot_work")->verdict, Verdict::kRevoked);
  auto again = registry_->RevokeCertificate(org_a_, c.id, "health_unfit");
  EXPECT_EQ(again.error().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->RevokeCertificate(org_b_, c.id, "health_unfit").error().code(),
            core::StatusCode::kNotFound);
}

TEST_F(RegistryTest, CertificateInputIsValidated) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  NewCertificate c;
  c.worker_id = w.id;
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = "T-1";
  c.authority = "x";
  c.issue_date = D("2027-01-01");
  EXPECT_EQ(registry_->AddCertificate(org_a_, c).error().field(), "issue_date");  // future
  c.issue_date = D("2024-01-10");
  c.expiry_date = D("2031-01-10");
  EXPECT_EQ(registry_->AddCertificate(org_a_, c).error().field(), "expiry_date");  // > 6 years
  c.expiry_date.reset();
  c.item = "Q2";
  EXPECT_EQ(registry_->AddCertificate(org_a_, c).error().field(), "item");
  c.item = "fusion_welding";
  c.number = "a|b";
  EXPECT_EQ(registry_->AddCertificate(org_a_, c).error().field(), "number");
  c.number = "T-1";
  ASSERT_TRUE(registry_->AddCertificate(org_a_, c).has_value());
  EXPECT_EQ(registry_->AddCertificate(org_a_, c).error().code(), core::StatusCode::kAlreadyExists);
}

TEST_F(RegistryTest, WorkerInputIsValidatedAndInactiveWorkersMayNotWork) {
  auto bad = registry_->CreateWorker(org_a_, {"W 1", "张三", "x", MakeResidentId("32010219900101123"), "", ""});
  EXPECT_EQ(bad.error().field(), "code");
  auto bad_id = registry_->CreateWorker(org_a_, {"W1", "张三", "x", "320102199001011230", "", ""});
  EXPECT_EQ(bad_id.error().field(), "national_id");
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  AddWelding(org_a_, w.id, "T-1", "2024-01-10");
  ASSERT_TRUE(registry_->SetWorkerStatus(org_a_, w.id, domain::WorkerStatus::kSuspended).ok());
  EXPECT_EQ(registry_->Verify(org_a_, w.id, "hot_work")->verdict, Verdict::kWorkerInactive);
}

TEST_F(RegistryTest, ExpiringListsReviewAndExpiryDueInTheWindow) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  AddWelding(org_a_, w.id, "DUE-REVIEW", "2023-12-20");     // review due 2026-12-20
  AddWelding(org_a_, w.id, "LATER", "2025-06-01");          // review due 2028-06-01
  auto w2 = AddWorker(org_a_, "W002", "32010219900101131");
  NewCertificate q2;
  q2.worker_id = w2.id;
  q2.kind = domain::CertKind::kSpecialEquipment;
  q2.category = "lifting_machinery";
  q2.item = "Q2";
  q2.number = "Q2-EXP";
  q2.authority = "江苏省市场监管局";
  q2.issue_date = D("2022-12-10");  // expires 2026-12-10
  ASSERT_TRUE(registry_->AddCertificate(org_a_, q2).has_value());
  auto wb = AddWorker(org_b_, "W001", "32010219900101123");
  AddWelding(org_b_, wb.id, "OTHER-ORG", "2023-12-20");

  auto list = registry_->Expiring(org_a_, 30);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].certificate.number, "Q2-EXP");
  EXPECT_EQ((*list)[0].due_kind, "renewal");
  EXPECT_EQ((*list)[0].days_left, 12);
  EXPECT_EQ((*list)[1].certificate.number, "DUE-REVIEW");
  EXPECT_EQ((*list)[1].due_kind, "review");
  EXPECT_EQ((*list)[1].days_left, 22);
  EXPECT_EQ(registry_->Expiring(org_a_, 10)->size(), 0u);
  EXPECT_EQ(registry_->Expiring(std::nullopt, 30)->size(), 3u);
  EXPECT_FALSE(registry_->Expiring(org_a_, -1).has_value());
}

TEST_F(RegistryTest, IndexCatchesUpWithWritesFromAnotherProcess) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  // A second registry over the same database stands in for the CLI.
  auto other_store = store::OpenSqliteStore({.path = dir_ + "/wg.db"});
  ASSERT_TRUE(other_store.has_value());
  // Its evidence service cannot take the log lock this process's registry holds: its
  // facts wait in the outbox for the log owner.
  auto other_ev = evidence::Evidence::Open({.ledger_dir = dir_ + "/ledger", .sync = false},
                                           **other_store, *keys_, clock_);
  ASSERT_TRUE(other_ev.has_value());
  Registry cli(**other_store, clock_, testing::DefaultBook(), IdDigester(std::string(32, 'k')),
               **other_ev);
  ASSERT_TRUE(cli.LoadIndex().ok());
  NewCertificate c;
  c.worker_id = w.id;
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = "FROM-CLI";
  c.authority = "x";
  c.issue_date = D("2024-06-10");
  ASSERT_TRUE(cli.AddCertificate(org_a_, c).has_value());
  EXPECT_EQ(registry_->Verify(org_a_, w.id, "hot_work")->verdict, Verdict::kWrongCategory);
  ASSERT_TRUE(registry_->CatchUp().ok());
  EXPECT_EQ(registry_->Verify(org_a_, w.id, "hot_work")->verdict, Verdict::kValid);
  // A reload from scratch sees the same.
  ASSERT_TRUE(registry_->LoadIndex().ok());
  EXPECT_EQ(registry_->indexed_certificates(), 1u);
}

}  // namespace
}  // namespace wg::registry

namespace wg::registry {
namespace {

using ProjectionTest = testing::RegistryFixture;

TEST_F(ProjectionTest, CertificateRowsMatchTheirLatestFactUntilEditedBehindTheStore) {
  auto w = AddWorker(org_a_, "W001", "32010219900101123");
  auto c1 = AddWelding(org_a_, w.id, "T-P-1", "2024-01-10");
  auto c2 = AddWelding(org_a_, w.id, "T-P-2", "2024-03-10");
  ASSERT_TRUE(registry_->RevokeCertificate(org_a_, c1.id, "fraud_bribery").has_value());
  ASSERT_TRUE(registry_->RecordReview(org_a_, c2.id, D("2026-01-05")).has_value());
  auto ok = registry_->VerifyProjection(org_a_);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(ok->certificates, 2);
  EXPECT_EQ(ok->unrecorded, 0);

  // Reinstating the revoked certificate straight through the store: no fact says so.
  auto row = store_->GetCertificate(org_a_, c1.id);
  ASSERT_TRUE(row.has_value());
  row->status = domain::CertStatus::kActive;
  row->status_reason.clear();
  ASSERT_TRUE(store_->UpdateCertificate(*row).has_value());
  auto bad = registry_->VerifyProjection(org_a_);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(bad.error().message().find("T-P-1"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("cert.revoked"), std::string::npos);

  // A certificate written without any fact (before the evidence log existed) is counted.
  auto w2 = AddWorker(org_b_, "W002", "32010219851111123");
  domain::Certificate legacy = c2;
  legacy.id = {};
  legacy.org_id = org_b_;
  legacy.worker_id = w2.id;
  legacy.number = "LEGACY-1";
  ASSERT_TRUE(store_->CreateCertificate(legacy).has_value());
  auto b = registry_->VerifyProjection(org_b_);
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  EXPECT_EQ(b->unrecorded, 1);
}

}  // namespace
}  // namespace wg::registry

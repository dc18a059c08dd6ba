#include "cert_index.h"

#include <gtest/gtest.h>

namespace wg::registry {
namespace {

domain::Worker W(std::int64_t id, std::int64_t org) {
  domain::Worker w;
  w.id = core::WorkerId{id};
  w.org_id = core::OrgId{org};
  return w;
}

domain::Certificate C(std::int64_t id, std::int64_t worker, std::string number) {
  domain::Certificate c;
  c.id = core::CertificateId{id};
  c.worker_id = core::WorkerId{worker};
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = std::move(number);
  c.issue_date = core::Date{19000};
  c.expiry_date = core::Date{21000};
  return c;
}

TEST(CertIndexTest, GathersOnlyWithinTheOrganization) {
  CertIndex idx;
  idx.UpsertWorker(W(1, 10));
  idx.UpsertWorker(W(2, 20));
  ASSERT_TRUE(idx.UpsertCertificate(C(100, 1, "A-1")));
  ASSERT_TRUE(idx.UpsertCertificate(C(101, 1, "A-2")));
  ASSERT_TRUE(idx.UpsertCertificate(C(200, 2, "B-1")));
  EXPECT_FALSE(idx.UpsertCertificate(C(300, 99, "orphan")));
  CertIndex::WorkerView v;
  std::vector<CertFacts> certs;
  ASSERT_TRUE(idx.Gather(10, 1, &v, &certs));
  EXPECT_EQ(certs.size(), 2u);
  EXPECT_FALSE(idx.Gather(10, 2, &v, &certs));  // worker 2 is org 20's
  EXPECT_TRUE(certs.empty());
  EXPECT_FALSE(idx.Gather(10, 3, &v, &certs));
  EXPECT_EQ(idx.certificates(), 3u);
}

TEST(CertIndexTest, UpdatesInPlaceAndSurvivesGrowth) {
  CertIndex idx;
  for (int i = 1; i <= 5000; ++i) idx.UpsertWorker(W(i, 1));
  for (int i = 1; i <= 5000; ++i) ASSERT_TRUE(idx.UpsertCertificate(C(i, i, "N" + std::to_string(i))));
  auto revoked = C(77, 77, "N77-reissued");
  revoked.status = domain::CertStatus::kRevoked;
  ASSERT_TRUE(idx.UpsertCertificate(revoked));
  CertIndex::WorkerView v;
  std::vector<CertFacts> certs;
  ASSERT_TRUE(idx.Gather(1, 77, &v, &certs));
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].status, domain::CertStatus::kRevoked);
  EXPECT_EQ(certs[0].number, "N77-reissued");
  ASSERT_TRUE(idx.Gather(1, 4999, &v, &certs));
  EXPECT_EQ(certs[0].number, "N4999");
  EXPECT_EQ(idx.workers(), 5000u);
  EXPECT_EQ(idx.certificates(), 5000u);
  auto suspended = W(5, 1);
  suspended.status = domain::WorkerStatus::kSuspended;
  idx.UpsertWorker(suspended);
  ASSERT_TRUE(idx.Gather(1, 5, &v, &certs));
  EXPECT_EQ(v.status, domain::WorkerStatus::kSuspended);
  EXPECT_EQ(idx.workers(), 5000u);
}

}  // namespace
}  // namespace wg::registry

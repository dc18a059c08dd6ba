#include <gtest/gtest.h>

#include "registry_fixture.h"

namespace wg::registry {
namespace {

using testing::MakeResidentId;
using testing::RegistryFixture;

using CsvImportTest = RegistryFixture;

const char* kHeader =
    "worker_code,worker_name,national_id,employer,phone,cert_kind,category,item,cert_number,"
    "authority,issue_date,expiry_date,last_review_date,practice_since,review_extension_granted,"
    "violations,status,status_reason\n";

std::string Row(const std::string& code, const std::string& id, const std::string& number,
                const std::string& category = "welding", const std::string& item = "fusion_welding",
                const std::string& issue = "2024-06-10", const std::string& extra = ",,,,,,,") {
  return code + ",张三," + id + ",A 检修,13800000000,special_operation," + category + "," + item +
         "," + number + ",南京市应急管理局," + issue + extra + "\n";
}

TEST_F(CsvImportTest, ImportsAValidFileAndIndexesIt) {
  std::string id1 = MakeResidentId("32010219900101123");
  std::string id2 = MakeResidentId("32010219851111123");
  std::string csv = std::string(kHeader) + Row("W1", id1, "T-1") +
                    Row("W1", id1, "T-2", "电工作业", "低压电工作业") +
                    "W2,李四," + id2 + ",A 检修,,special_equipment,lifting_machinery,Q2,Q2-9,江苏省市场监管局,2023-05-01,2027-05-01,,,,,,\n";
  auto report = registry_->ImportCsv(org_a_, WriteFile("ok.csv", csv), {});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->imported);
  EXPECT_EQ(report->rows, 3u);
  EXPECT_EQ(report->summary.workers_created, 2);
  EXPECT_EQ(report->summary.certificates_created, 3);
  auto w1 = store_->FindWorkerByCode(org_a_, "W1");
  ASSERT_TRUE(w1.has_value());
  EXPECT_EQ(registry_->Verify(org_a_, w1->id, "hot_work")->verdict, Verdict::kValid);
  EXPECT_EQ(registry_->Verify(org_a_, w1->id, "temporary_power")->verdict, Verdict::kValid);
  auto w2 = store_->FindWorkerByCode(org_a_, "W2");
  EXPECT_EQ(registry_->Verify(org_a_, w2->id, "crane_driving")->verdict, Verdict::kValid);
  // The ID never reaches the database in clear.
  EXPECT_EQ(w1->id_digest.find(id1), std::string::npos);
}

TEST_F(CsvImportTest, ReportsEveryBadRowAndImportsNothing) {
  std::string id1 = MakeResidentId("32010219900101123");
  std::string csv = std::string(kHeader) +
                    Row("W1", id1, "T-1") +                                   // row 1 ok
                    Row("W2", "123", "T-2") +                                 // row 2 bad id
                    Row("W3", MakeResidentId("32010219851111123"), "T-1") +   // row 3 dup number
                    Row("W4", MakeResidentId("32010219700101123"), "T-4", "welding", "Q2") +  // item
                    Row("W5", MakeResidentId("32010219700101131"), "T-5", "welding", "fusion_welding", "2024-02-30") +
                    Row("W1", MakeResidentId("32010219851111123"), "T-6") +   // row 6: W1 other ID
                    "W7,王五\n";                                              // row 7 short
  auto report = registry_->ImportCsv(org_a_, WriteFile("bad.csv", csv), {});
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->imported);
  EXPECT_EQ(report->rows, 7u);
  EXPECT_EQ(report->invalid_rows, 6u);
  ASSERT_EQ(report->errors.size(), 6u);
  EXPECT_EQ(report->errors[0].row, 2u);
  EXPECT_EQ(report->errors[0].column, "national_id");
  EXPECT_EQ(report->errors[1].row, 3u);
  EXPECT_EQ(report->errors[1].column, "cert_number");
  EXPECT_NE(report->errors[1].reason.find("row 1"), std::string::npos);
  EXPECT_EQ(report->errors[2].column, "item");
  EXPECT_EQ(report->errors[3].column, "issue_date");
  EXPECT_EQ(report->errors[4].row, 6u);
  EXPECT_EQ(report->errors[4].column, "national_id");
  EXPECT_EQ(report->errors[5].row, 7u);
  EXPECT_EQ(*store_->CountCertificates(), 0);
  EXPECT_EQ(*store_->CountWorkers(), 0);

  // --skip-invalid imports the one good row.
  ImportOptions skip;
  skip.skip_invalid = true;
  auto partial = registry_->ImportCsv(org_a_, WriteFile("bad.csv", csv), skip);
  ASSERT_TRUE(partial.has_value());
  EXPECT_TRUE(partial->imported);
  EXPECT_EQ(partial->summary.certificates_created, 1);
  EXPECT_EQ(*store_->CountCertificates(), 1);
}

TEST_F(CsvImportTest, HeaderProblemsAreReportedAsRowZero) {
  auto missing = registry_->ImportCsv(org_a_, WriteFile("h.csv", "worker_code,worker_name\nW1,x\n"), {});
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->imported);
  ASSERT_EQ(missing->errors.size(), 1u);
  EXPECT_EQ(missing->errors[0].row, 0u);
  EXPECT_EQ(missing->errors[0].column, "national_id");
  auto unknown = registry_->ImportCsv(
      org_a_, WriteFile("u.csv", std::string("bogus,") + kHeader), {});
  EXPECT_EQ(unknown->errors[0].column, "bogus");
  auto empty = registry_->ImportCsv(org_a_, WriteFile("e.csv", ""), {});
  EXPECT_FALSE(empty->imported);
  EXPECT_FALSE(registry_->ImportCsv(org_a_, dir_ + "/missing.csv", {}).has_value());
  auto quote = registry_->ImportCsv(
      org_a_, WriteFile("q.csv", std::string(kHeader) + "W1,\"unterminated\n"), {});
  EXPECT_FALSE(quote->imported);
  EXPECT_EQ(quote->errors[0].row, 1u);
}

TEST_F(CsvImportTest, ExistingWorkerMustBeTheSamePerson) {
  AddWorker(org_a_, "W1", "32010219900101123");
  std::string csv = std::string(kHeader) + Row("W1", MakeResidentId("32010219851111123"), "T-1");
  auto report = registry_->ImportCsv(org_a_, WriteFile("x.csv", csv), {});
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->imported);
  EXPECT_EQ(report->errors[0].column, "national_id");
  std::string ok = std::string(kHeader) + Row("W1", MakeResidentId("32010219900101123"), "T-1");
  auto good = registry_->ImportCsv(org_a_, WriteFile("y.csv", ok), {});
  ASSERT_TRUE(good->imported);
  EXPECT_EQ(good->summary.workers_updated, 1);
}

TEST_F(CsvImportTest, OnePersonCannotHaveTwoWorkerCodes) {
  std::string id = MakeResidentId("32010219900101123");
  // Within the file.
  std::string csv = std::string(kHeader) + Row("W1", id, "T-1") + Row("W2", id, "T-2");
  auto report = registry_->ImportCsv(org_a_, WriteFile("p.csv", csv), {});
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->imported);
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_EQ(report->errors[0].row, 2u);
  EXPECT_EQ(report->errors[0].column, "national_id");
  EXPECT_NE(report->errors[0].reason.find("row 1"), std::string::npos);
  // Against the registry.
  AddWorker(org_a_, "W1", "32010219900101123");
  std::string again = std::string(kHeader) + Row("W9", id, "T-9");
  auto r2 = registry_->ImportCsv(org_a_, WriteFile("p2.csv", again), {});
  ASSERT_TRUE(r2.has_value());
  EXPECT_FALSE(r2->imported);
  ASSERT_EQ(r2->errors.size(), 1u);
  EXPECT_NE(r2->errors[0].reason.find("already registered as worker W1"), std::string::npos);
  // Another organization may employ the same person.
  auto other = registry_->ImportCsv(org_b_, WriteFile("p3.csv", again), {});
  EXPECT_TRUE(other->imported);
}

TEST_F(CsvImportTest, RevokedRowsNeedAMatchingReason) {
  std::string id = MakeResidentId("32010219900101123");
  std::string csv = std::string(kHeader) +
                    Row("W1", id, "T-1", "welding", "fusion_welding", "2024-06-10",
                        ",,,,,,revoked,death");  // death is a cancellation reason
  auto report = registry_->ImportCsv(org_a_, WriteFile("r.csv", csv), {});
  EXPECT_EQ(report->errors[0].column, "status_reason");
  std::string fixed = std::string(kHeader) +
                      Row("W1", id, "T-1", "welding", "fusion_welding", "2024-01-10",
                          ",,,,,,revoked,health_unfit");
  auto ok = registry_->ImportCsv(org_a_, WriteFile("r2.csv", fixed), {});
  ASSERT_TRUE(ok->imported);
  auto w = store_->FindWorkerByCode(org_a_, "W1");
  EXPECT_EQ(registry_->Verify(org_a_, w->id, "hot_work")->verdict, Verdict::kRevoked);
}

TEST_F(CsvImportTest, LargeFileCommitsAcrossChunksWithProgress) {
  std::string csv = kHeader;
  for (int i = 0; i < 2500; ++i) {
    // Unique per worker: birth day varies with i / 1000, sequence with i % 1000.
    std::string n = std::to_string(1000 + i % 1000);
    std::string id = "320102199001" + std::to_string(10 + i / 1000) + n.substr(1);
    csv += Row("W" + std::to_string(i), MakeResidentId(id), "T-" + std::to_string(i));
  }
  std::size_t calls = 0;
  ImportOptions opts;
  opts.batch_rows = 100;
  opts.progress = [&](std::size_t, std::size_t, std::size_t) { ++calls; };
  auto report = registry_->ImportCsv(org_a_, WriteFile("big.csv", csv), opts);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_TRUE(report->imported) << (report->errors.empty() ? "" : report->errors[0].reason);
  EXPECT_EQ(report->summary.certificates_created, 2500);
  EXPECT_EQ(registry_->indexed_certificates(), 2500u);
  EXPECT_GE(calls, 1u);
}

}  // namespace
}  // namespace wg::registry

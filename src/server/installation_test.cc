#include "wg/server/installation.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace wg::server {
namespace {

class InstallationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-inst-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  core::FakeClock clock_{*core::ParseTimestamp("2026-11-28T04:00:00Z")};
};

TEST_F(InstallationTest, CreatesLayoutAndKeepsKeysAcrossOpens) {
  std::string key1;
  {
    auto inst = Installation::Open({.data_dir = dir_}, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    key1 = *LoadOrCreateKey(dir_, "id-digest.key");
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/workguard.db"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/rules/catalog.json"));
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/keys/id-digest.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*LoadOrCreateKey(dir_, "id-digest.key"), key1);
}

TEST_F(InstallationTest, RejectsATruncatedKey) {
  std::filesystem::create_directories(dir_ + "/keys");
  std::ofstream(dir_ + "/keys/id-digest.key") << "short";
  auto inst = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code(), core::StatusCode::kCorruption);
}

TEST_F(InstallationTest, DemoSeedShowsEveryCertificateState) {
  auto inst = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_TRUE(inst.has_value());
  auto summary = SeedDemo(**inst, clock_);
  ASSERT_TRUE(summary.has_value()) << summary.error().ToString();
  auto org = (*inst)->OrgByCode("demo-petrochem");
  ASSERT_TRUE(org.has_value());
  auto& st = (*inst)->store();
  auto verdict = [&](const char* code, const char* op) {
    auto w = st.FindWorkerByCode(org->id, code);
    EXPECT_TRUE(w.has_value()) << code;
    auto v = (*inst)->registry().Verify(org->id, w->id, op);
    EXPECT_TRUE(v.has_value());
    return std::string(registry::VerdictName(v->verdict));
  };
  EXPECT_EQ(verdict("JX-001", "hot_work"), "valid");
  EXPECT_EQ(verdict("JX-002", "hot_work"), "review_due");
  EXPECT_EQ(verdict("JX-003", "hot_work"), "review_overdue");
  EXPECT_EQ(verdict("JX-004", "hot_work"), "review_due");
  EXPECT_EQ(verdict("JX-005", "hot_work"), "expired");
  EXPECT_EQ(verdict("DQ-003", "temporary_power"), "revoked");
  EXPECT_EQ(verdict("DQ-001", "hot_work"), "wrong_category");
  EXPECT_EQ(verdict("QZ-001", "crane_driving"), "valid");
  EXPECT_EQ(verdict("QZ-001", "crane_commanding"), "review_due");
  auto expiring = (*inst)->registry().Expiring(org->id, 30);
  ASSERT_TRUE(expiring.has_value());
  EXPECT_GE(expiring->size(), 3u);
  // Seeding twice is a no-op.
  auto again = SeedDemo(**inst, clock_);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->find("already"), std::string::npos);
}

}  // namespace
}  // namespace wg::server

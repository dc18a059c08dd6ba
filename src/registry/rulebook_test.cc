#include "wg/registry/rulebook.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace wg::registry {
namespace {

using testing::D;
using testing::DefaultBook;

TEST(RulebookTest, EmbeddedDefaultsCoverTheCatalog) {
  const Rulebook& book = DefaultBook();
  int special_operation = 0;
  for (const auto& c : book.categories()) {
    special_operation += c.kind == domain::CertKind::kSpecialOperation;
  }
  EXPECT_EQ(special_operation, 11);  // the 11 categories of the 特种作业目录
  ASSERT_NE(book.FindCategory(domain::CertKind::kSpecialOperation, "hazardous_chemicals"), nullptr);
  EXPECT_EQ(book.FindCategory(domain::CertKind::kSpecialOperation, "hazardous_chemicals")->items.size(), 16u);
  EXPECT_NE(book.FindItem(domain::CertKind::kSpecialEquipment, "lifting_machinery", "Q2"), nullptr);
  EXPECT_NE(book.FindItem(domain::CertKind::kSpecialEquipment, "site_vehicle", "N1"), nullptr);
  for (const char* op : {"hot_work", "temporary_power", "crane_driving", "crane_commanding",
                         "confined_space", "blind_plate", "work_at_height", "excavation",
                         "road_breaking"}) {
    EXPECT_NE(book.FindOperation(op), nullptr) << op;
  }
  for (const auto& op : book.operations()) EXPECT_FALSE(op.clause.empty()) << op.code;
  EXPECT_FALSE(book.catalog_source().empty());
}

TEST(RulebookTest, ResolvesCodesAndChineseNames) {
  auto r = DefaultBook().ResolveCategoryItem(domain::CertKind::kSpecialOperation, "焊接与热切割作业",
                                             "熔化焊接与热切割作业");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, "welding");
  EXPECT_EQ(r->second, "fusion_welding");
  auto bad = DefaultBook().ResolveCategoryItem(domain::CertKind::kSpecialOperation, "welding", "Q2");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field(), "item");
}

TEST(RulebookTest, RuleSetSelectionByDate) {
  auto a = DefaultBook().RuleSetFor(domain::CertKind::kSpecialOperation, D("2026-05-31"));
  auto b = DefaultBook().RuleSetFor(domain::CertKind::kSpecialOperation, D("2026-06-01"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)->id, "mem_order_30");
  EXPECT_EQ((*b)->id, "mem_order_19");
  EXPECT_FALSE(DefaultBook().RuleSetFor(domain::CertKind::kSpecialOperation, D("2009-01-01")).has_value());
}

class RulebookFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-rules-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RulebookFilesTest, InstallDefaultsThenEditWithoutRecompiling) {
  ASSERT_TRUE(Rulebook::InstallDefaults(dir_).ok());
  auto loaded = Rulebook::LoadDirectory(dir_);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  // Edit: hot work now also accepts the electrical category (a local policy change).
  auto path = std::filesystem::path(dir_) / "operations.json";
  std::ifstream in(path);
  auto ops = core::Json::parse(in);
  in.close();
  ops["operations"][0]["any_of"].push_back({{"kind", "special_operation"}, {"category", "electrical"}});
  std::ofstream(path) << ops.dump();
  auto edited = Rulebook::LoadDirectory(dir_);
  ASSERT_TRUE(edited.has_value());
  EXPECT_EQ(edited->FindOperation("hot_work")->any_of.size(), 3u);
  // InstallDefaults never overwrites an edited file.
  ASSERT_TRUE(Rulebook::InstallDefaults(dir_).ok());
  EXPECT_EQ(Rulebook::LoadDirectory(dir_)->FindOperation("hot_work")->any_of.size(), 3u);
}

TEST_F(RulebookFilesTest, BrokenFilesAreRejectedWithPath) {
  ASSERT_TRUE(Rulebook::InstallDefaults(dir_).ok());
  auto path = std::filesystem::path(dir_) / "operations.json";
  std::ifstream in(path);
  auto ops = core::Json::parse(in);
  in.close();
  ops["operations"][2]["any_of"][0]["category"] = "no_such_category";
  std::ofstream(path) << ops.dump();
  auto r = Rulebook::LoadDirectory(dir_);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().field().find("operations[2].any_of[0].category"), std::string::npos)
      << r.error().ToString();

  std::ofstream(path) << "{not json";
  auto r2 = Rulebook::LoadDirectory(dir_);
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message().find("malformed"), std::string::npos);
}

TEST_F(RulebookFilesTest, OverlappingRuleSetsAreRejected) {
  ASSERT_TRUE(Rulebook::InstallDefaults(dir_).ok());
  auto path = std::filesystem::path(dir_) / "certificate_rules.json";
  std::ifstream in(path);
  auto rules = core::Json::parse(in);
  in.close();
  rules["rule_sets"][0].erase("effective_until");  // Order 30 never ends: overlaps Order 19
  std::ofstream(path) << rules.dump();
  auto r = Rulebook::LoadDirectory(dir_);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("same time"), std::string::npos) << r.error().ToString();
}

}  // namespace
}  // namespace wg::registry

#include <gtest/gtest.h>

#include "test_env.h"
#include "wg/core/file.h"
#include "wg/evidence/keyring.h"

namespace wg::evidence {
namespace {

TEST(KeyRingTest, CreatesSealsRotatesAndReloads) {
  std::string dir = testing::MakeTempDir("wg-keyring");
  {
    auto ring = KeyRing::Open(dir, "workguard.test/x");
    ASSERT_TRUE(ring.has_value()) << ring.error().ToString();
    bool created = false;
    auto k1 = (*ring)->Current("plant-a", &created);
    ASSERT_TRUE(k1.has_value()) << k1.error().ToString();
    EXPECT_TRUE(created);
    EXPECT_EQ(k1->version, 1);
    EXPECT_EQ(k1->key_name, "workguard.test/x/plant-a/k1");
    auto again = (*ring)->Current("plant-a", &created);
    EXPECT_FALSE(created);
    EXPECT_EQ(again->vkey, k1->vkey);
    auto k2 = (*ring)->Rotate("plant-a");
    ASSERT_TRUE(k2.has_value());
    EXPECT_EQ(k2->version, 2);
    EXPECT_NE(k2->vkey, k1->vkey);
    EXPECT_EQ((*ring)->Current("plant-a")->version, 2);
    EXPECT_EQ((*ring)->All("plant-a")->size(), 2u);
    // The private key is not stored in clear.
    auto sealed = core::ReadFile(dir + "/org/plant-a/sign-1.sealed");
    ASSERT_TRUE(sealed.has_value());
    EXPECT_EQ(sealed->find("PRIVATE KEY"), std::string::npos);
    EXPECT_FALSE((*ring)->Current("Bad Org!").has_value());
  }
  {
    auto ring = KeyRing::Open(dir, "workguard.test/x");
    ASSERT_TRUE(ring.has_value());
    EXPECT_EQ((*ring)->Current("plant-a")->version, 2);
    EXPECT_EQ((*ring)->Version("plant-a", 1)->version, 1);
    EXPECT_EQ((*ring)->Version("plant-a", 3).error().code(), core::StatusCode::kNotFound);
  }
  // Another master key cannot open the sealed keys.
  ASSERT_TRUE(core::WriteFileAtomic(dir + "/master.key", std::string(32, 'z'), 0600).ok());
  auto ring = KeyRing::Open(dir, "workguard.test/x");
  ASSERT_TRUE(ring.has_value());
  auto k = (*ring)->Current("plant-a");
  ASSERT_FALSE(k.has_value());
  EXPECT_EQ(k.error().code(), core::StatusCode::kCorruption);
  std::filesystem::remove_all(dir);
}

TEST(KeyRingTest, RejectsABadMasterKeyFileAndOrigin) {
  std::string dir = testing::MakeTempDir("wg-keyring");
  ASSERT_TRUE(core::WriteFileAtomic(dir + "/master.key", "short", 0600).ok());
  auto ring = KeyRing::Open(dir, "workguard.test/x");
  ASSERT_FALSE(ring.has_value());
  EXPECT_EQ(ring.error().code(), core::StatusCode::kCorruption);
  std::filesystem::remove_all(dir);
  dir = testing::MakeTempDir("wg-keyring");
  EXPECT_FALSE(KeyRing::Open(dir, "has space").has_value());
  EXPECT_FALSE(KeyRing::Open(dir, "").has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wg::evidence

#include "wg/registry/id_number.h"

#include <gtest/gtest.h>

namespace wg::registry {
namespace {

std::string MakeId(const std::string& first17) { return first17 + ResidentIdCheckChar(first17); }

TEST(IdNumberTest, ValidatesChecksumBirthDateAndLength) {
  // GB 11643-1999 example: 11010519491231002X.
  auto ok = NormalizeResidentId("11010519491231002x");
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(*ok, "11010519491231002X");
  EXPECT_FALSE(NormalizeResidentId("110105194912310021").has_value());  // wrong check
  EXPECT_FALSE(NormalizeResidentId("11010519491331002X").has_value());  // month 13
  EXPECT_FALSE(NormalizeResidentId("1101051949123100").has_value());    // short
  auto bad = NormalizeResidentId("11010A19491231002X", "body.national_id");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field(), "body.national_id");
  EXPECT_TRUE(NormalizeResidentId(MakeId("32010219900101123")).has_value());
}

TEST(IdNumberTest, DigestIsKeyedSaltedAndComparable) {
  IdDigester a(std::string(32, 'k'));
  IdDigester b(std::string(32, 'j'));
  std::string id = MakeId("32010219900101123");
  auto d1 = a.Digest("00112233445566778899aabbccddeeff", id);
  auto d2 = a.Digest("ffeeddccbbaa99887766554433221100", id);
  auto d3 = b.Digest("00112233445566778899aabbccddeeff", id);
  ASSERT_TRUE(d1 && d2 && d3);
  EXPECT_NE(*d1, *d2);  // salt matters
  EXPECT_NE(*d1, *d3);  // key matters
  EXPECT_EQ(d1->find(id), std::string::npos);
  EXPECT_TRUE(*a.Matches(id, "00112233445566778899aabbccddeeff", *d1));
  std::string other = MakeId("32010219900101124");
  EXPECT_FALSE(*a.Matches(other, "00112233445566778899aabbccddeeff", *d1));
  EXPECT_FALSE(a.Matches("garbage", "00", *d1).has_value());
}

}  // namespace
}  // namespace wg::registry

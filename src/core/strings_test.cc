#include "wg/core/strings.h"

#include <gtest/gtest.h>

namespace wg::core {
namespace {

TEST(StringsTest, HexRoundTripAndErrors) {
  EXPECT_EQ(ToHex(std::string_view("\x01\xab", 2)), "01ab");
  EXPECT_EQ(*FromHex("01AB"), std::string("\x01\xab", 2));
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_EQ(FromHex("zz", "salt").error().field(), "salt");
}

TEST(StringsTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("焊接与热切割作业"));
  EXPECT_EQ(Utf8Length("张三"), 2u);
  EXPECT_FALSE(IsValidUtf8("\xe5\x8a"));        // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));        // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));    // surrogate
  EXPECT_TRUE(CheckText("", "phone", 20, false).ok());
  EXPECT_FALSE(CheckText("", "name", 20).ok());
  EXPECT_FALSE(CheckText("a\tb", "name", 20).ok());
  EXPECT_FALSE(CheckText("张三李四王五", "name", 5).ok());
}

TEST(StringsTest, ParseIntBounds) {
  EXPECT_EQ(*ParseInt("42", 0, 100, "n"), 42);
  EXPECT_FALSE(ParseInt("101", 0, 100, "n").has_value());
  EXPECT_FALSE(ParseInt("4x", 0, 100, "n").has_value());
  EXPECT_FALSE(ParseInt("", 0, 100, "n").has_value());
  EXPECT_EQ(ParseInt("-1", 0, 100, "limit").error().field(), "limit");
}

}  // namespace
}  // namespace wg::core

namespace wg::core {
namespace {

TEST(StringsTest, Base64UrlRoundTripAndRejects) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    auto enc = Base64UrlEncode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    EXPECT_EQ(*Base64UrlDecode(enc), s);
  }
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("Zm9v!").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());  // non-zero trailing bits
}

}  // namespace
}  // namespace wg::core

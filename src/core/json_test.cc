#include "wg/core/json.h"

#include <gtest/gtest.h>

namespace wg::core {
namespace {

TEST(JsonTest, RejectsOversizedDeepAndMalformed) {
  JsonLimits limits{.max_bytes = 64, .max_depth = 4};
  EXPECT_TRUE(ParseJson(R"({"a":[1,2]})", limits).has_value());
  EXPECT_EQ(ParseJson(std::string(100, ' '), limits).error().code(),
            StatusCode::kResourceExhausted);
  EXPECT_FALSE(ParseJson("[[[[[1]]]]]", limits).has_value());
  EXPECT_TRUE(ParseJson(R"({"s":"[[[[[[[["})", limits).has_value());  // brackets in strings
  auto bad = ParseJson(R"({"a":)", limits);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("malformed"), std::string::npos);
}

// Regression (json_parse_fuzz): a number overflowing double threw out_of_range through
// ParseJson instead of returning an error.
TEST(JsonTest, OverflowingNumberIsAnErrorNotAnException) {
  auto r = ParseJson("2e771.");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseJson(R"({"n": 1e999})").has_value());
}

TEST(JsonTest, TypedGettersNameTheField) {
  auto j = *ParseJson(R"({"name":"张三","age":"x","n":5,"b":true})");
  EXPECT_EQ(*GetString(j, "name"), "张三");
  EXPECT_EQ(GetInt(j, "age", 0, 10).error().field(), "age");
  EXPECT_FALSE(GetInt(j, "n", 0, 4).has_value());
  EXPECT_EQ(**GetOptionalBool(j, "b"), true);
  EXPECT_FALSE(GetString(j, "missing").has_value());
  EXPECT_FALSE((*GetOptionalString(j, "missing")).has_value());
  EXPECT_EQ(RejectUnknownMembers(j, {"name", "age", "n"}).field(), "b");
}

}  // namespace
}  // namespace wg::core

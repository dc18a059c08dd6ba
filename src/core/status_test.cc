#include "wg/core/status.h"

#include <gtest/gtest.h>

namespace wg::core {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd", "x");
  return x / 2;
}

Result<int> Quarter(int x) {
  WG_ASSIGN_OR_RETURN(int h, Half(x));
  WG_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkAndErrorsCarryCodeFieldAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::InvalidArgument("must not be empty", "name");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "name");
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: name: must not be empty");
  EXPECT_EQ(s.WithContext("row 3").message(), "row 3: must not be empty");
}

TEST(StatusTest, ResultPropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);  // 6/2 = 3 is odd
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field(), "x");
  EXPECT_EQ(Quarter(5).error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wg::core

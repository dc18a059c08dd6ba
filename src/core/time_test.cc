#include "wg/core/time.h"

#include <gtest/gtest.h>

#include "wg/core/clock.h"

namespace wg::core {
namespace {

TEST(DateTest, ParsesAndFormatsRealDaysOnly) {
  auto d = ParseDate("2024-02-29");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(FormatDate(*d), "2024-02-29");
  EXPECT_FALSE(ParseDate("2023-02-29").has_value());
  EXPECT_FALSE(ParseDate("2023-13-01").has_value());
  EXPECT_FALSE(ParseDate("2023-1-01").has_value());
  EXPECT_FALSE(ParseDate("20230101").has_value());
  EXPECT_EQ(ParseDate("bad", "issue_date").error().field(), "issue_date");
}

TEST(DateTest, AddYearsClampsLeapDay) {
  Date d = Date::FromYmd(2024, 2, 29);
  EXPECT_EQ(FormatDate(d.AddYears(1)), "2025-02-28");
  EXPECT_EQ(FormatDate(d.AddYears(4)), "2028-02-29");
  EXPECT_EQ(FormatDate(Date::FromYmd(2020, 1, 31).AddMonths(1)), "2020-02-29");
  EXPECT_EQ(FormatDate(Date::FromYmd(2020, 3, 15).AddYears(-6)), "2014-03-15");
}

TEST(TimestampTest, ShanghaiCalendarDayBoundary) {
  // 2026-11-27T16:00:00Z is 2026-11-28 00:00 in Beijing.
  auto t = ParseTimestamp("2026-11-27T16:00:00Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatDate(ShanghaiDate(*t)), "2026-11-28");
  EXPECT_EQ(FormatDate(ShanghaiDate(*t - Duration{1})), "2026-11-27");
  EXPECT_EQ(ShanghaiStartOfDay(Date::FromYmd(2026, 11, 28)), *t);
  EXPECT_EQ(FormatShanghai(*t), "2026-11-28 00:00:00 +08:00");
}

TEST(TimestampTest, ParsesOffsetsFractionsAndBareDates) {
  auto a = ParseTimestamp("2026-11-28T16:00:00+08:00");
  auto b = ParseTimestamp("2026-11-28T08:00:00Z");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  auto c = ParseTimestamp("2026-11-28T08:00:00.25Z");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->micros - b->micros, 250000);
  EXPECT_EQ(FormatTimestamp(*c), "2026-11-28T08:00:00.250000Z");
  auto d = ParseTimestamp("2026-11-28");
  ASSERT_TRUE(d);
  EXPECT_EQ(FormatTimestamp(*d), "2026-11-27T16:00:00Z");
  EXPECT_FALSE(ParseTimestamp("2026-11-28T08:00:00").has_value());  // no zone
  EXPECT_FALSE(ParseTimestamp("2026-11-28T25:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-11-28T08:00:00Zjunk").has_value());
  EXPECT_EQ(ParseTimestamp("x", "at").error().field(), "at");
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(Timestamp::FromSeconds(100));
  EXPECT_EQ(clock.Now().seconds(), 100);
  clock.Advance(Duration::Minutes(2));
  EXPECT_EQ(clock.Now().seconds(), 220);
  SystemClock sys;
  EXPECT_GT(sys.Now().seconds(), 1'700'000'000);
}

}  // namespace
}  // namespace wg::core

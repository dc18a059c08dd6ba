#pragma once
// Time values: Timestamp (an instant, UTC, microsecond resolution) and Date (a civil
// calendar day). Storage and the API always carry UTC instants ("2026-11-28T08:00:00Z");
// display and day-based rules use Asia/Shanghai (UTC+08:00, no daylight saving since
// 1991), which is the legal calendar for Chinese certificate dates. A certificate that
// "expires on 2027-03-01" is therefore valid through 2027-02-28 23:59:59 Beijing time.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "wg/core/status.h"

namespace wg::core {

// Microseconds since 1970-01-01T00:00:00Z.
struct Timestamp {
  std::int64_t micros = 0;
  auto operator<=>(const Timestamp&) const = default;

  static Timestamp FromSeconds(std::int64_t s) { return Timestamp{s * 1'000'000}; }
  std::int64_t seconds() const { return micros / 1'000'000; }
};

struct Duration {
  std::int64_t micros = 0;
  static constexpr Duration Seconds(std::int64_t s) { return Duration{s * 1'000'000}; }
  static constexpr Duration Minutes(std::int64_t m) { return Seconds(m * 60); }
  static constexpr Duration Hours(std::int64_t h) { return Seconds(h * 3600); }
  static constexpr Duration Days(std::int64_t d) { return Seconds(d * 86400); }
  auto operator<=>(const Duration&) const = default;
};

inline Timestamp operator+(Timestamp t, Duration d) { return Timestamp{t.micros + d.micros}; }
inline Timestamp operator-(Timestamp t, Duration d) { return Timestamp{t.micros - d.micros}; }
inline Duration operator-(Timestamp a, Timestamp b) { return Duration{a.micros - b.micros}; }

// A civil date, stored as days since 1970-01-01 (proleptic Gregorian).
struct Date {
  std::int32_t days = 0;
  auto operator<=>(const Date&) const = default;

  static Date FromYmd(int year, unsigned month, unsigned day);
  int year() const;
  unsigned month() const;
  unsigned day() const;

  Date AddDays(std::int32_t n) const { return Date{days + n}; }
  // Calendar arithmetic: 2024-02-29 plus 1 year is 2025-02-28 (clamped to month end),
  // the reading used for "valid for N years" in Chinese certificate practice.
  Date AddYears(int n) const;
  Date AddMonths(int n) const;
};

inline std::int32_t DaysBetween(Date from, Date to) { return to.days - from.days; }

// Offset of the display zone Asia/Shanghai from UTC.
inline constexpr Duration kShanghaiOffset = Duration::Hours(8);

// The Asia/Shanghai calendar date of an instant.
Date ShanghaiDate(Timestamp t);
// The instant at which a Shanghai calendar day starts.
Timestamp ShanghaiStartOfDay(Date d);

// "2026-11-28"
std::string FormatDate(Date d);
// Accepts exactly YYYY-MM-DD with a real calendar day; field names the input for errors.
Result<Date> ParseDate(std::string_view s, std::string_view field = "date");

// "2026-11-28T08:00:00Z" (seconds precision unless micros are present: ".123456Z").
std::string FormatTimestamp(Timestamp t);
// "2026-11-28 16:00:00 +08:00" — for people.
std::string FormatShanghai(Timestamp t);
// RFC 3339: "2026-11-28T08:00:00Z", "2026-11-28T16:00:00+08:00", optional fraction.
// A bare date "2026-11-28" is read as the start of that day in Asia/Shanghai.
Result<Timestamp> ParseTimestamp(std::string_view s, std::string_view field = "time");

}  // namespace wg::core

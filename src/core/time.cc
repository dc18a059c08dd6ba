#include "wg/core/time.h"

#include <chrono>
#include <cstdio>

namespace wg::core {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

year_month_day Ymd(Date d) { return year_month_day{sys_days{days{d.days}}}; }

Date FromYmdChecked(const year_month_day& ymd) {
  return Date{static_cast<std::int32_t>(sys_days{ymd}.time_since_epoch().count())};
}

// Parses exactly `n` ASCII digits at s[pos..pos+n).
bool Digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

constexpr std::int64_t kMicrosPerDay = 86'400'000'000LL;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Date Date::FromYmd(int year, unsigned month, unsigned day) {
  return FromYmdChecked(year_month_day{std::chrono::year{year}, std::chrono::month{month},
                                       std::chrono::day{day}});
}

int Date::year() const { return static_cast<int>(Ymd(*this).year()); }
unsigned Date::month() const { return static_cast<unsigned>(Ymd(*this).month()); }
unsigned Date::day() const { return static_cast<unsigned>(Ymd(*this).day()); }

Date Date::AddMonths(int n) const {
  year_month_day ymd = Ymd(*this);
  std::chrono::year_month ym = ymd.year() / ymd.month();
  ym += std::chrono::months{n};
  auto last = std::chrono::year_month_day_last{ym.year(), std::chrono::month_day_last{ym.month()}};
  std::chrono::day d = ymd.day() > last.day() ? last.day() : ymd.day();
  return FromYmdChecked(year_month_day{ym.year(), ym.month(), d});
}

Date Date::AddYears(int n) const { return AddMonths(n * 12); }

Date ShanghaiDate(Timestamp t) {
  std::int64_t local = t.micros + kShanghaiOffset.micros;
  return Date{static_cast<std::int32_t>(FloorDiv(local, kMicrosPerDay))};
}

Timestamp ShanghaiStartOfDay(Date d) {
  return Timestamp{static_cast<std::int64_t>(d.days) * kMicrosPerDay - kShanghaiOffset.micros};
}

std::string FormatDate(Date d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", d.year(), d.month(), d.day());
  return buf;
}

Result<Date> ParseDate(std::string_view s, std::string_view field) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d)) {
    return Status::InvalidArgument("expected a date as YYYY-MM-DD, got '" + std::string(s) + "'",
                                   std::string(field));
  }
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                     std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || y < 1900 || y > 2200) {
    return Status::InvalidArgument("'" + std::string(s) + "' is not a calendar day in 1900..2200",
                                   std::string(field));
  }
  return FromYmdChecked(ymd);
}

std::string FormatTimestamp(Timestamp t) {
  std::int64_t day = FloorDiv(t.micros, kMicrosPerDay);
  std::int64_t rem = t.micros - day * kMicrosPerDay;
  Date d{static_cast<std::int32_t>(day)};
  auto secs = rem / 1'000'000;
  auto frac = rem % 1'000'000;
  char buf[48];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lldZ", FormatDate(d).c_str(),
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld.%06lldZ", FormatDate(d).c_str(),
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60), static_cast<long long>(frac));
  }
  return buf;
}

std::string FormatShanghai(Timestamp t) {
  Timestamp local = t + kShanghaiOffset;
  std::string s = FormatTimestamp(Timestamp{local.micros - local.micros % 1'000'000});
  s[10] = ' ';
  s.pop_back();  // 'Z'
  return s + " +08:00";
}

Result<Timestamp> ParseTimestamp(std::string_view s, std::string_view field) {
  const std::string f(field);
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(why) + " (expected RFC 3339 such as "
                                   "2026-11-28T08:00:00Z), got '" + std::string(s) + "'", f);
  };
  if (s.size() == 10) {
    auto d = ParseDate(s, field);
    if (!d) return d.error();
    return ShanghaiStartOfDay(*d);
  }
  if (s.size() < 20 || s.size() > 40) return bad("bad length");
  auto d = ParseDate(s.substr(0, 10), field);
  if (!d) return d.error();
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return bad("missing 'T'");
  int hh = 0, mm = 0, ss = 0;
  if (!Digits(s, 11, 2, &hh) || s[13] != ':' || !Digits(s, 14, 2, &mm) || s[16] != ':' ||
      !Digits(s, 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60) {
    return bad("bad time of day");
  }
  std::size_t pos = 19;
  std::int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) frac = frac * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return bad("empty fraction");
    for (int i = n; i < 6; ++i) frac *= 10;
  }
  std::int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, &oh) || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return bad("bad UTC offset");
    }
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad("missing time zone (Z or +08:00)");
  }
  if (pos != s.size()) return bad("trailing characters");
  std::int64_t secs = static_cast<std::int64_t>(d->days) * 86400 + hh * 3600 + mm * 60 +
                      std::min(ss, 59) - offset_min * 60;
  return Timestamp{secs * 1'000'000 + frac};
}

}  // namespace wg::core

// Scenario datasets (docs/formats/predict-scenarios.md): strict parsing of the CSV,
// labels.json and thresholds.json files, loading and writing a dataset directory, and the
// Tennessee Eastman / NAB importers.
#include "wg/predict/dataset.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <istream>
#include <set>
#include <streambuf>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "wg/core/csv.h"
#include "wg/core/json.h"

namespace wg::predict {
namespace {

using core::Json;
using core::Result;
using core::Status;

namespace fs = std::filesystem;

constexpr std::string_view kHeader[] = {"ts", "point", "kind", "value"};
constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2200;
constexpr double kMaxEpoch = 7289654400.0;  // 2201-01-01T00:00:00Z: first instant past 2200
constexpr std::size_t kMaxJsonBytes = 64u << 20;
constexpr std::size_t kMaxQuoted = 40;

// TEP constants (header comment of ImportTep).
constexpr std::size_t kTepColumns = 52;
constexpr std::size_t kTepPressureColumn = 6;  // 0-based: XMEAS(7)
constexpr double kTepStart = 1767225600.0;     // 2026-01-01T00:00:00Z
constexpr double kTepStep = 180.0;
constexpr double kTepRed = 3000.0;
constexpr double kTepWarn = 2950.0;

// An istream over text already in memory, without copying it.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view s) {
    char* p = const_cast<char*>(s.data());  // read-only: the get area is never written
    setg(p, p, p + s.size());
  }
};

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

std::string Quote(std::string_view cell) {
  std::string out = "'";
  std::size_t n = std::min(cell.size(), kMaxQuoted);
  for (std::size_t i = 0; i < n; ++i) {
    char c = cell[i];
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (cell.size() > kMaxQuoted) out += "...";
  out += "'";
  return out;
}

Status CellError(std::string_view file, std::size_t line, std::string_view column,
                 std::string_view what) {
  return Status::InvalidArgument(std::string(file) + ":" + std::to_string(line) + ": column '" +
                                 std::string(column) + "': " + std::string(what));
}

Status LineError(std::string_view file, std::size_t line, std::string_view what) {
  return Status::InvalidArgument(std::string(file) + ":" + std::to_string(line) + ": " +
                                 std::string(what));
}

// A CsvReader error carries "line N" as its field.
Status FromCsvError(std::string_view file, const Status& s) {
  std::string where = s.field();
  if (where.rfind("line ", 0) == 0) where = where.substr(5);
  return Status::InvalidArgument(std::string(file) + ":" + where + ": " + s.message());
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

void CivilFromDays(std::int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2 ? 1 : 0));
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// "YYYY-MM-DD<sep>HH:MM:SS[.f...]" at the start of `s`; *end is set past it. Returns the
// error text (empty on success).
std::string ParseCivil(std::string_view s, char sep, double* out, std::size_t* end) {
  int y = 0, mo = 0, d = 0, hh = 0, mm = 0, ss = 0;
  if (s.size() < 19 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || s[10] != sep || !Digits(s, 11, 2, &hh) ||
      s[13] != ':' || !Digits(s, 14, 2, &mm) || s[16] != ':' || !Digits(s, 17, 2, &ss)) {
    return "not a timestamp";
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) return "not a calendar day";
  if (hh > 23 || mm > 59 || ss > 59) return "not a time of day";
  if (y < kMinYear || y > kMaxYear) {
    return "year " + std::to_string(y) + " outside " + std::to_string(kMinYear) + ".." +
           std::to_string(kMaxYear);
  }
  std::size_t pos = 19;
  double frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t num = 0, den = 1;
    std::size_t n = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (n < 9) {
        num = num * 10 + (s[pos] - '0');
        den *= 10;
      }
      ++n;
      ++pos;
    }
    if (n == 0) return "empty fraction of a second";
    frac = static_cast<double>(num) / static_cast<double>(den);
  }
  const std::int64_t secs = DaysFromCivil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss;
  *out = static_cast<double>(secs) + frac;
  *end = pos;
  return {};
}

// A finite number, the whole cell ("+1.5", "-2", "3e-4"); nullopt with *why otherwise.
std::optional<double> ParseFinite(std::string_view s, const char** why) {
  std::string_view body = s;
  if (body.size() > 1 && body[0] == '+' && body[1] != '-' && body[1] != '+') body.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (body.empty() || p != body.data() + body.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    *why = "not a number";
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || !std::isfinite(v)) {
    *why = "not a finite number";
    return std::nullopt;
  }
  return v;
}

bool ValidPoint(std::string_view p) {
  if (p.empty() || p.size() > 64) return false;
  for (char c : p) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '.' ||
              c == '_' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidKind(std::string_view k) {
  if (k.empty() || k.size() > 32) return false;
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || IsDigit(c) || c == '_')) return false;
  }
  return true;
}

// A scenario file name: "<name>.csv", no directory part, printable ASCII.
bool ValidFileName(std::string_view n) {
  if (n.size() < 5 || n.size() > 255 || n.substr(n.size() - 4) != ".csv") return false;
  if (n[0] == '.') return false;
  for (char c : n) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  return true;
}

// "2026-11-29T08:00:00.250Z" (fraction only when present, to the millisecond).
std::string FormatIso(double t) {
  const auto ms = static_cast<std::int64_t>(std::llround(t * 1000.0));
  std::int64_t secs = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  std::int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int y = 0, m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d,
                        static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                        static_cast<int>(rem % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(frac));
    out += buf;
  }
  out += "Z";
  return out;
}

// Shortest text that reads back as the same double.
void AppendDouble(std::string* out, double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 32 bytes always suffice for the shortest form
  out->append(buf, p);
}

Result<std::string> ReadFile(const fs::path& path, std::size_t max_bytes) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::IoError(path.string() + ": " + ec.message());
  if (size > max_bytes) {
    return Status::ResourceExhausted(path.filename().string() + ": " + std::to_string(size) +
                                     " bytes; the limit is " + std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path.string() + ": cannot open");
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::size_t>(in.gcount()) != size) {
    return Status::IoError(path.string() + ": short read");
  }
  return text;
}

Status WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IoError(path.string() + ": cannot create");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return Status::IoError(path.string() + ": write failed");
  return Status::Ok();
}

// A JSON timestamp: epoch seconds as a number, or a string ParseTs accepts.
Result<double> JsonTs(const Json& j) {
  if (j.is_number()) {
    double v = j.get<double>();
    if (!std::isfinite(v) || v < 0 || v >= kMaxEpoch) {
      return Status::InvalidArgument("epoch seconds outside 1970..2200");
    }
    return v;
  }
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    auto t = ParseTs(s);
    if (!t) return Status::InvalidArgument(t.error().message() + ": " + Quote(s));
    return *t;
  }
  return Status::InvalidArgument("expected epoch seconds or an ISO 8601 string");
}

Result<double> JsonFinite(const Json& j) {
  if (!j.is_number()) return Status::InvalidArgument("expected a number");
  double v = j.get<double>();
  if (!std::isfinite(v)) return Status::InvalidArgument("not a finite number");
  return v;
}

}  // namespace

std::size_t Dataset::readings() const {
  std::size_t n = 0;
  for (const auto& s : scenarios) {
    for (const auto& se : s.series) n += se.t.size();
  }
  return n;
}

std::size_t Dataset::events() const {
  std::size_t n = 0;
  for (const auto& s : scenarios) {
    for (const auto& se : s.series) n += se.events.size();
  }
  return n;
}

core::Result<double> ParseTs(std::string_view s) {
  if (s.empty()) return Status::InvalidArgument("empty timestamp");
  if (s.size() >= 10 && s[4] == '-') {
    double t = 0;
    std::size_t pos = 0;
    std::string why = ParseCivil(s, 'T', &t, &pos);
    if (!why.empty()) {
      return Status::InvalidArgument(
          why + " (expected ISO 8601 UTC such as 2026-11-29T08:00:00Z, or epoch seconds)");
    }
    std::string_view zone = s.substr(pos);
    if (zone != "Z" && zone != "+00:00") {
      return Status::InvalidArgument("time zone must be Z or +00:00");
    }
    return t;
  }
  // Epoch seconds: digits, optionally a '.' and more digits.
  std::size_t i = 0, int_digits = 0, frac_digits = 0;
  while (i < s.size() && IsDigit(s[i])) {
    ++i;
    ++int_digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) {
      ++i;
      ++frac_digits;
    }
    if (frac_digits == 0) int_digits = 0;  // "12." is malformed
  }
  if (int_digits == 0 || i != s.size()) {
    return Status::InvalidArgument(
        "not a timestamp (expected ISO 8601 UTC such as 2026-11-29T08:00:00Z, or epoch seconds)");
  }
  double t = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
  if (ec != std::errc() || p != s.data() + s.size() || !(t < kMaxEpoch)) {
    return Status::InvalidArgument("epoch seconds after the year 2200");
  }
  return t;
}

namespace {

constexpr std::size_t kMaxFieldBytes = 4096;
constexpr std::size_t kMaxFields = 64;

// Builds a scenario from its header and rows, whichever tokenizer produced them.
class ScenarioBuilder {
 public:
  ScenarioBuilder(std::string_view name, const LoadLimits& limits) : name_(name), limits_(limits) {
    sc_.name = std::string(name);
  }

  Status Header(std::size_t line, const std::string_view* f, std::size_t n) {
    for (std::size_t i = 0; i < std::max<std::size_t>(n, 4); ++i) {
      const std::string col = "column " + std::to_string(i + 1);
      if (i >= 4) {
        return LineError(
            name_, line,
            col + ": unexpected " + Quote(f[i]) + " (the header is ts,point,kind,value)");
      }
      if (i >= n) {
        return LineError(name_, line,
                         col + ": missing, expected '" + std::string(kHeader[i]) + "'");
      }
      if (f[i] != kHeader[i]) {
        return LineError(name_, line,
                         col + ": expected '" + std::string(kHeader[i]) + "', got " + Quote(f[i]));
      }
    }
    return Status::Ok();
  }

  Status Row(std::size_t line, const std::string_view* f, std::size_t n) {
    if (n != 4) {
      return LineError(name_, line,
                       "expected 4 fields (ts,point,kind,value), got " + std::to_string(n));
    }
    if (++readings_ > limits_.max_readings) {
      return Status::ResourceExhausted(std::string(name_) + ":" + std::to_string(line) +
                                       ": more than " + std::to_string(limits_.max_readings) +
                                       " readings");
    }
    auto t = ParseTs(f[0]);
    if (!t) return CellError(name_, line, "ts", t.error().message() + ": " + Quote(f[0]));

    std::size_t si = 0;
    if (last_ != SIZE_MAX && sc_.series[last_].point == f[1]) {
      si = last_;
    } else if (auto it = index_.find(f[1]); it != index_.end()) {
      si = it->second;
    } else {
      if (!ValidPoint(f[1])) {
        return CellError(name_, line, "point",
                         "expected 1-64 of A-Z a-z 0-9 . _ : / -, got " + Quote(f[1]));
      }
      if (!ValidKind(f[2])) {
        return CellError(name_, line, "kind", "expected 1-32 of a-z 0-9 _, got " + Quote(f[2]));
      }
      if (sc_.series.size() >= limits_.max_points_per_file) {
        return Status::ResourceExhausted(std::string(name_) + ":" + std::to_string(line) +
                                         ": more than " +
                                         std::to_string(limits_.max_points_per_file) + " points");
      }
      si = sc_.series.size();
      index_.emplace(std::string(f[1]), si);
      Series s;
      s.point = std::string(f[1]);
      s.kind = std::string(f[2]);
      sc_.series.push_back(std::move(s));
      last_line_.push_back(0);
    }
    last_ = si;
    Series& s = sc_.series[si];
    if (s.kind != f[2]) {
      return CellError(
          name_, line, "kind",
          "point '" + s.point + "' changes kind from '" + s.kind + "' to " + Quote(f[2]));
    }
    const char* why = nullptr;
    auto v = ParseFinite(f[3], &why);
    if (!v) return CellError(name_, line, "value", std::string(why) + ": " + Quote(f[3]));
    if (!s.t.empty() && !(*t > s.t.back())) {
      return CellError(name_, line, "ts",
                       "time of point '" + s.point + "' does not increase: " + FormatIso(*t) +
                           " at line " + std::to_string(line) + " is not after " +
                           FormatIso(s.t.back()) + " at line " + std::to_string(last_line_[si]));
    }
    s.t.push_back(*t);
    s.v.push_back(*v);
    last_line_[si] = line;
    return Status::Ok();
  }

  Scenario Take() { return std::move(sc_); }

 private:
  std::string_view name_;
  const LoadLimits& limits_;
  Scenario sc_;
  std::unordered_map<std::string, std::size_t, TransparentHash, std::equal_to<>> index_;
  std::vector<std::size_t> last_line_;  // per series: line of its latest reading
  std::size_t last_ = SIZE_MAX;         // series of the previous row (rows often repeat a point)
  std::size_t readings_ = 0;
};

const std::string kMissingHeader = "empty file: expected the header ts,point,kind,value";

// The general path: RFC 4180 with quoting, through core::CsvReader.
Status TokenizeQuoted(std::string_view name, std::string_view text, ScenarioBuilder& b) {
  ViewBuf buf(text);
  std::istream in(&buf);
  core::CsvReader reader(in, core::CsvLimits{kMaxFieldBytes, kMaxFields});
  std::vector<std::string> f;
  std::vector<std::string_view> views;
  bool header = true;
  while (true) {
    auto more = reader.Next(&f);
    if (!more) return FromCsvError(name, more.error());
    if (!*more) break;
    views.assign(f.begin(), f.end());
    WG_RETURN_IF_ERROR(header ? b.Header(reader.line(), views.data(), views.size())
                              : b.Row(reader.line(), views.data(), views.size()));
    header = false;
  }
  if (header) return LineError(name, 1, kMissingHeader);
  return Status::Ok();
}

// Text the fast path reads exactly as CsvReader would: no quotes, and every CR ends a line
// as part of CRLF.
bool IsPlain(std::string_view text) {
  if (text.find('"') != std::string_view::npos) return false;
  for (std::size_t p = text.find('\r'); p != std::string_view::npos; p = text.find('\r', p + 1)) {
    if (p + 1 >= text.size() || text[p + 1] != '\n') return false;
  }
  return true;
}

// The fast path: fields are views into `text`; the same limits and messages as CsvReader.
Status TokenizePlain(std::string_view name, std::string_view text, ScenarioBuilder& b) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string_view f[kMaxFields];
  bool header = true;
  std::size_t pos = 0, line = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view l = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    std::size_t n = 0, start = 0;
    while (true) {
      std::size_t comma = l.find(',', start);
      std::string_view cell =
          l.substr(start, comma == std::string_view::npos ? l.npos : comma - start);
      if (n >= kMaxFields) {
        return LineError(name, line, "more than " + std::to_string(kMaxFields) + " fields");
      }
      if (cell.size() > kMaxFieldBytes) {
        return LineError(name, line,
                         "field " + std::to_string(n + 1) + " exceeds " +
                             std::to_string(kMaxFieldBytes) + " bytes");
      }
      f[n++] = cell;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    WG_RETURN_IF_ERROR(header ? b.Header(line, f, n) : b.Row(line, f, n));
    header = false;
  }
  if (header) return LineError(name, 1, kMissingHeader);
  return Status::Ok();
}

}  // namespace

core::Result<Scenario> ParseScenarioCsv(std::string_view name, std::string_view text,
                                        const LoadLimits& limits) {
  if (text.size() > limits.max_file_bytes) {
    return Status::ResourceExhausted(std::string(name) + ": " + std::to_string(text.size()) +
                                     " bytes; the limit is " +
                                     std::to_string(limits.max_file_bytes));
  }
  ScenarioBuilder b(name, limits);
  WG_RETURN_IF_ERROR(IsPlain(text) ? TokenizePlain(name, text, b) : TokenizeQuoted(name, text, b));
  return b.Take();
}

core::Result<Labels> ParseLabels(std::string_view text) {
  auto doc = core::ParseJson(text, core::JsonLimits{kMaxJsonBytes, 8}, "labels.json");
  if (!doc) return Status::InvalidArgument("labels.json: " + doc.error().message());
  if (!doc->is_object()) return Status::InvalidArgument("labels.json: expected an object");
  Labels out;
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    const std::string& file = it.key();
    const std::string at = "labels.json: " + Quote(file);
    if (!ValidFileName(file)) {
      return Status::InvalidArgument(at + ": not a scenario file name (expected <name>.csv)");
    }
    if (!it->is_array()) return Status::InvalidArgument(at + ": expected an array of events");
    auto& events = out[file];
    for (std::size_t i = 0; i < it->size(); ++i) {
      const Json& e = (*it)[i];
      const std::string ei = at + "[" + std::to_string(i) + "]";
      if (!e.is_object()) return Status::InvalidArgument(ei + ": expected an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (m.key() != "point" && m.key() != "ts" && m.key() != "onset") {
          return Status::InvalidArgument(ei + ": unknown member " + Quote(m.key()) +
                                         " (expected point, ts, onset)");
        }
      }
      auto p = e.find("point");
      if (p == e.end() || !p->is_string() || !ValidPoint(p->get_ref<const std::string&>())) {
        return Status::InvalidArgument(
            ei + ".point: expected a point name (1-64 of A-Z a-z 0-9 . _ : / -)");
      }
      auto ts = e.find("ts");
      if (ts == e.end()) return Status::InvalidArgument(ei + ".ts: is required");
      auto t = JsonTs(*ts);
      if (!t) return Status::InvalidArgument(ei + ".ts: " + t.error().message());
      double onset = std::nan("");
      if (auto on = e.find("onset"); on != e.end()) {
        auto ot = JsonTs(*on);
        if (!ot) return Status::InvalidArgument(ei + ".onset: " + ot.error().message());
        if (*ot > *t) return Status::InvalidArgument(ei + ".onset: after the event's ts");
        onset = *ot;
      }
      events.push_back(LabelEvent{p->get<std::string>(), *t, onset});
    }
  }
  return out;
}

core::Result<ThresholdTable> ParseThresholds(std::string_view text) {
  auto doc = core::ParseJson(text, core::JsonLimits{kMaxJsonBytes, 8}, "thresholds.json");
  if (!doc) return Status::InvalidArgument("thresholds.json: " + doc.error().message());
  if (!doc->is_object()) return Status::InvalidArgument("thresholds.json: expected an object");
  ThresholdTable out;
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    const std::string& key = it.key();
    const std::string at = "thresholds.json: " + Quote(key);
    if (!ValidPoint(key)) {
      return Status::InvalidArgument(at + ": not a kind or point name");
    }
    Threshold th;
    if (it->is_number()) {
      auto v = JsonFinite(*it);
      if (!v) return Status::InvalidArgument(at + ": " + v.error().message());
      th.value = *v;
    } else if (it->is_object()) {
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (m.key() != "value" && m.key() != "direction" && m.key() != "warn") {
          return Status::InvalidArgument(at + ": unknown member " + Quote(m.key()) +
                                         " (expected value, direction, warn)");
        }
      }
      auto v = it->find("value");
      if (v == it->end()) return Status::InvalidArgument(at + ".value: is required");
      auto value = JsonFinite(*v);
      if (!value) return Status::InvalidArgument(at + ".value: " + value.error().message());
      th.value = *value;
      if (auto d = it->find("direction"); d != it->end()) {
        if (d->is_string() && *d == "high") {
          th.high = true;
        } else if (d->is_string() && *d == "low") {
          th.high = false;
        } else {
          return Status::InvalidArgument(at + ".direction: expected \"high\" or \"low\"");
        }
      }
      if (auto w = it->find("warn"); w != it->end()) {
        auto warn = JsonFinite(*w);
        if (!warn) return Status::InvalidArgument(at + ".warn: " + warn.error().message());
        if (th.high ? !(*warn < th.value) : !(*warn > th.value)) {
          return Status::InvalidArgument(at + ".warn: must be " + (th.high ? "below" : "above") +
                                         " the red value of a " + (th.high ? "high" : "low") +
                                         " threshold");
        }
        th.warn = *warn;
      }
    } else {
      return Status::InvalidArgument(at + ": expected a number or {value, direction, warn}");
    }
    out.emplace(key, th);
  }
  return out;
}

core::Result<Dataset> LoadDataset(const std::filesystem::path& dir, const ThresholdSource& source,
                                  const LoadLimits& limits) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir.string() + ": not a directory");
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.size() < 4 || n.substr(n.size() - 4) != ".csv") continue;
    if (!it->is_regular_file(ec)) continue;
    if (names.size() >= limits.max_files) {
      return Status::ResourceExhausted(dir.string() + ": more than " +
                                       std::to_string(limits.max_files) + " scenario files");
    }
    names.push_back(n);
  }
  if (ec) return Status::IoError(dir.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());

  Dataset d;
  std::size_t total = 0;
  for (const auto& n : names) {
    WG_ASSIGN_OR_RETURN(std::string text, ReadFile(dir / n, limits.max_file_bytes));
    LoadLimits l = limits;
    l.max_readings = limits.max_readings - total;
    WG_ASSIGN_OR_RETURN(Scenario sc, ParseScenarioCsv(n, text, l));
    for (const auto& s : sc.series) total += s.t.size();
    d.scenarios.push_back(std::move(sc));
  }

  Labels labels;
  if (fs::exists(dir / "labels.json", ec)) {
    WG_ASSIGN_OR_RETURN(std::string text, ReadFile(dir / "labels.json", kMaxJsonBytes));
    WG_ASSIGN_OR_RETURN(labels, ParseLabels(text));
  }
  ThresholdTable table;
  if (fs::exists(dir / "thresholds.json", ec)) {
    WG_ASSIGN_OR_RETURN(std::string text, ReadFile(dir / "thresholds.json", kMaxJsonBytes));
    WG_ASSIGN_OR_RETURN(table, ParseThresholds(text));
  }

  for (const auto& [file, events] : labels) {
    auto sc = std::lower_bound(d.scenarios.begin(), d.scenarios.end(), file,
                               [](const Scenario& s, const std::string& f) { return s.name < f; });
    if (sc == d.scenarios.end() || sc->name != file) {
      return Status::InvalidArgument("labels.json: " + Quote(file) +
                                     ": no such scenario file in the directory");
    }
    for (const auto& e : events) {
      auto se = std::find_if(sc->series.begin(), sc->series.end(),
                             [&](const Series& s) { return s.point == e.point; });
      if (se == sc->series.end()) {
        return Status::InvalidArgument("labels.json: " + Quote(file) + ": point " + Quote(e.point) +
                                       " is not in the file");
      }
      se->events.push_back(e.ts);
      se->onsets.push_back(e.onset);
    }
  }

  for (auto& sc : d.scenarios) {
    for (auto& s : sc.series) {
      {  // sort events with their onsets
        std::vector<std::pair<double, double>> ev;
        for (std::size_t k = 0; k < s.events.size(); ++k) ev.emplace_back(s.events[k], s.onsets[k]);
        std::sort(ev.begin(), ev.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t k = 0; k < ev.size(); ++k) {
          s.events[k] = ev[k].first;
          s.onsets[k] = ev[k].second;
        }
      }
      if (std::adjacent_find(s.events.begin(), s.events.end()) != s.events.end()) {
        return Status::InvalidArgument("labels.json: " + Quote(sc.name) + ": point " +
                                       Quote(s.point) + " has the same event twice");
      }
      if (auto it = table.find(s.point); it != table.end()) {
        s.red = it->second;
      } else if (auto k = table.find(s.kind); k != table.end()) {
        s.red = k->second;
      } else if (auto r = source ? source(s.kind) : std::nullopt; r) {
        s.red = *r;
      } else {
        return Status::InvalidArgument(sc.name + ": point '" + s.point + "' (kind '" + s.kind +
                                       "'): no threshold (thresholds.json names neither the "
                                       "point nor its kind, and the rulebook has no red "
                                       "threshold for the kind)");
      }
    }
  }
  return d;
}

core::Status WriteDataset(const Dataset& d, const std::filesystem::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      return Status::AlreadyExists(dir.string() + ": not a directory");
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (n.size() >= 4 && n.substr(n.size() - 4) == ".csv") {
        return Status::AlreadyExists(dir.string() + ": already holds scenario files (" + n + ")");
      }
    }
    if (ec) return Status::IoError(dir.string() + ": " + ec.message());
  }

  // Everything is validated and rendered before the first file is written.
  std::vector<std::pair<std::string, std::string>> files;
  Json labels = Json::object();
  Json thresholds = Json::object();
  std::map<std::string, std::pair<Threshold, std::string>> seen;  // point -> threshold, file
  std::set<std::string> names;
  for (const auto& sc : d.scenarios) {
    if (!ValidFileName(sc.name)) {
      return Status::InvalidArgument(Quote(sc.name) + ": not a scenario file name (<name>.csv)");
    }
    if (!names.insert(sc.name).second) {
      return Status::InvalidArgument(Quote(sc.name) + ": two scenarios with this name");
    }
    std::string text = "ts,point,kind,value\n";
    Json events = Json::array();
    std::set<std::string_view> points;
    for (const auto& s : sc.series) {
      const std::string at = sc.name + ": point " + Quote(s.point);
      if (!ValidPoint(s.point)) return Status::InvalidArgument(at + ": not a point name");
      if (!ValidKind(s.kind))
        return Status::InvalidArgument(at + ": kind " + Quote(s.kind) + " is not a kind name");
      if (!points.insert(s.point).second) return Status::InvalidArgument(at + ": appears twice");
      if (s.t.size() != s.v.size())
        return Status::InvalidArgument(at + ": t and v differ in length");
      if (!std::isfinite(s.red.value) || (!std::isnan(s.red.warn) && !std::isfinite(s.red.warn))) {
        return Status::InvalidArgument(at + ": threshold not finite");
      }
      std::int64_t prev_ms = -1;
      for (std::size_t i = 0; i < s.t.size(); ++i) {
        if (!(s.t[i] >= 0 && s.t[i] < kMaxEpoch)) {
          return Status::InvalidArgument(at + ": time outside 1970..2200");
        }
        if (!std::isfinite(s.v[i])) return Status::InvalidArgument(at + ": value not finite");
        const auto ms = static_cast<std::int64_t>(std::llround(s.t[i] * 1000.0));
        if (ms <= prev_ms) {
          return Status::InvalidArgument(at + ": times do not increase at millisecond precision (" +
                                         FormatIso(s.t[i]) + ")");
        }
        prev_ms = ms;
        char buf[48];
        int n = std::snprintf(buf, sizeof buf, "%lld.%03lld,", static_cast<long long>(ms / 1000),
                              static_cast<long long>(ms % 1000));
        text.append(buf, static_cast<std::size_t>(n));
        text += s.point;
        text += ',';
        text += s.kind;
        text += ',';
        AppendDouble(&text, s.v[i]);
        text += '\n';
      }
      for (std::size_t k = 0; k < s.events.size(); ++k) {
        const double e = s.events[k];
        if (!(e >= 0 && e < kMaxEpoch))
          return Status::InvalidArgument(at + ": event outside 1970..2200");
        Json ev{{"point", s.point}, {"ts", e}};
        if (k < s.onsets.size() && std::isfinite(s.onsets[k])) {
          if (!(s.onsets[k] >= 0 && s.onsets[k] <= e))
            return Status::InvalidArgument(at + ": event onset outside 1970..ts");
          ev["onset"] = s.onsets[k];
        }
        events.push_back(std::move(ev));
      }
      Json th{{"value", s.red.value}, {"direction", s.red.high ? "high" : "low"}};
      if (!std::isnan(s.red.warn)) th["warn"] = s.red.warn;
      auto [it, fresh] = seen.emplace(s.point, std::make_pair(s.red, sc.name));
      if (!fresh) {
        const Threshold& o = it->second.first;
        bool same = o.value == s.red.value && o.high == s.red.high &&
                    (o.warn == s.red.warn || (std::isnan(o.warn) && std::isnan(s.red.warn)));
        if (!same) {
          return Status::InvalidArgument(at + ": threshold differs from the same point's in " +
                                         it->second.second +
                                         " (thresholds.json holds one threshold per point name)");
        }
      }
      thresholds[s.point] = th;
    }
    if (!events.empty()) labels[sc.name] = std::move(events);
    files.emplace_back(sc.name, std::move(text));
  }

  fs::create_directories(dir, ec);
  if (ec) return Status::IoError(dir.string() + ": " + ec.message());
  for (const auto& [name, text] : files) WG_RETURN_IF_ERROR(WriteFile(dir / name, text));
  WG_RETURN_IF_ERROR(WriteFile(dir / "labels.json", core::DumpJson(labels, 1) + "\n"));
  WG_RETURN_IF_ERROR(WriteFile(dir / "thresholds.json", core::DumpJson(thresholds, 1) + "\n"));
  return Status::Ok();
}

namespace {

// One TEP .dat file: whitespace-separated numbers, rows of equal width.
Result<std::vector<std::vector<double>>> ParseDat(std::string_view file, std::string_view text) {
  std::vector<std::vector<double>> rows;
  std::size_t line = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view l = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line;
    std::vector<double> row;
    std::size_t i = 0;
    while (i < l.size()) {
      while (i < l.size() && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r')) ++i;
      if (i >= l.size()) break;
      std::size_t j = i;
      while (j < l.size() && l[j] != ' ' && l[j] != '\t' && l[j] != '\r') ++j;
      const char* why = nullptr;
      auto v = ParseFinite(l.substr(i, j - i), &why);
      if (!v) {
        return LineError(file, line,
                         "column " + std::to_string(row.size() + 1) + ": " + why + ": " +
                             Quote(l.substr(i, j - i)));
      }
      row.push_back(*v);
      i = j;
    }
    if (row.empty()) continue;  // blank line
    if (!rows.empty() && row.size() != rows.front().size()) {
      return LineError(file, line,
                       "expected " + std::to_string(rows.front().size()) +
                           " columns like line 1, got " + std::to_string(row.size()));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

bool IsTepName(std::string_view n, bool test) {
  // dNN.dat or dNN_te.dat
  const std::size_t want = test ? 10 : 7;
  if (n.size() != want || n[0] != 'd' || !IsDigit(n[1]) || !IsDigit(n[2])) return false;
  return n.substr(3) == (test ? "_te.dat" : ".dat");
}

}  // namespace

core::Result<Dataset> ImportTep(const std::filesystem::path& tep_dir, std::string_view which) {
  if (which != "train" && which != "test") {
    return Status::InvalidArgument("which: expected \"train\" or \"test\", got " + Quote(which));
  }
  const bool test = which == "test";
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(tep_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (IsTepName(n, test)) names.push_back(std::move(n));
  }
  if (ec) return Status::NotFound(tep_dir.string() + ": " + ec.message());
  if (names.empty()) {
    return Status::NotFound(tep_dir.string() + ": no " +
                            (test ? std::string("dNN_te.dat") : std::string("dNN.dat")) + " files");
  }
  std::sort(names.begin(), names.end());
  Dataset d;
  for (const auto& n : names) {
    WG_ASSIGN_OR_RETURN(std::string text, ReadFile(tep_dir / n, 64u << 20));
    WG_ASSIGN_OR_RETURN(auto rows, ParseDat(n, text));
    std::vector<double> p;
    const std::size_t cols = rows.empty() ? 0 : rows.front().size();
    if (cols == kTepColumns) {
      for (const auto& r : rows) p.push_back(r[kTepPressureColumn]);
    } else if (rows.size() == kTepColumns && cols > 0) {
      p = rows[kTepPressureColumn];  // stored transposed (d00.dat): one variable per row
    } else {
      return Status::InvalidArgument(n + ": " + std::to_string(rows.size()) + " rows of " +
                                     std::to_string(cols) +
                                     " columns; expected 52 columns (or 52 rows, transposed)");
    }
    Series s;
    s.point = "reactor.pressure";
    s.kind = "pressure";
    s.red = Threshold{kTepRed, true, kTepWarn};
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double t = kTepStart + kTepStep * static_cast<double>(i);
      s.t.push_back(t);
      s.v.push_back(p[i]);
      if (s.events.empty() && p[i] >= kTepRed) s.events.push_back(t);
    }
    // The fault is the precursor: test runs introduce it after 8 h (row 160); training
    // runs are recorded from the fault on.
    if (!s.events.empty()) s.onsets.push_back(kTepStart + (which == "test" ? 160 * kTepStep : 0.0));
    Scenario sc;
    sc.name = "tep-" + n.substr(0, n.size() - 4) + ".csv";
    sc.series.push_back(std::move(s));
    d.scenarios.push_back(std::move(sc));
  }
  return d;
}

core::Result<NabSeries> ImportNab(const std::filesystem::path& nab_dir, std::string_view name) {
  // "<category>/<name>.csv": no absolute path, no "..", nothing outside data/.
  bool ok_name = name.size() >= 5 && name.size() <= 255 && name.substr(name.size() - 4) == ".csv" &&
                 name.front() != '/' && name.find("..") == std::string_view::npos &&
                 name.find('\\') == std::string_view::npos;
  if (!ok_name)
    return Status::InvalidArgument("NAB series name " + Quote(name) +
                                   ": expected <category>/<name>.csv");
  const std::string file = "data/" + std::string(name);
  WG_ASSIGN_OR_RETURN(std::string text, ReadFile(nab_dir / file, 64u << 20));

  NabSeries out;
  out.name = std::string(name);
  ViewBuf buf(text);
  std::istream in(&buf);
  core::CsvReader reader(in, core::CsvLimits{4096, 16});
  std::vector<std::string> f;
  auto header = reader.Next(&f);
  if (!header) return FromCsvError(file, header.error());
  if (!*header || f.size() != 2 || f[0] != "timestamp" || f[1] != "value") {
    return LineError(file, 1, "expected the header timestamp,value");
  }
  // NAB files keep their own order; one of them (machine_temperature_system_failure.csv)
  // steps back in time once, so order is not checked.
  while (true) {
    auto more = reader.Next(&f);
    if (!more) return FromCsvError(file, more.error());
    if (!*more) break;
    const std::size_t line = reader.line();
    if (f.size() != 2) {
      return LineError(file, line,
                       "expected 2 fields (timestamp,value), got " + std::to_string(f.size()));
    }
    double t = 0;
    std::size_t end = 0;
    std::string why = ParseCivil(f[0], ' ', &t, &end);
    if (why.empty() && end != f[0].size()) why = "trailing characters";
    if (!why.empty()) return CellError(file, line, "timestamp", why + ": " + Quote(f[0]));
    const char* vwhy = nullptr;
    auto v = ParseFinite(f[1], &vwhy);
    if (!v) return CellError(file, line, "value", std::string(vwhy) + ": " + Quote(f[1]));
    out.t.push_back(t);
    out.v.push_back(*v);
  }

  const std::string lf = "labels/combined_windows.json";
  WG_ASSIGN_OR_RETURN(std::string ltext, ReadFile(nab_dir / lf, kMaxJsonBytes));
  auto doc = core::ParseJson(ltext, core::JsonLimits{kMaxJsonBytes, 8}, lf);
  if (!doc) return Status::InvalidArgument(lf + ": " + doc.error().message());
  if (!doc->is_object()) return Status::InvalidArgument(lf + ": expected an object");
  auto w = doc->find(std::string(name));
  if (w == doc->end()) return Status::NotFound(lf + ": no windows for " + Quote(name));
  if (!w->is_array())
    return Status::InvalidArgument(lf + ": " + Quote(name) + ": expected an array");
  for (std::size_t i = 0; i < w->size(); ++i) {
    const Json& win = (*w)[i];
    const std::string at = lf + ": " + Quote(name) + "[" + std::to_string(i) + "]";
    if (!win.is_array() || win.size() != 2 || !win[0].is_string() || !win[1].is_string()) {
      return Status::InvalidArgument(at + ": expected [start, end] strings");
    }
    double se[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const auto& s = win[static_cast<std::size_t>(k)].get_ref<const std::string&>();
      std::size_t end = 0;
      std::string why = ParseCivil(s, ' ', &se[k], &end);
      if (why.empty() && end != s.size()) why = "trailing characters";
      if (!why.empty()) return Status::InvalidArgument(at + ": " + why + ": " + Quote(s));
    }
    if (se[1] < se[0]) return Status::InvalidArgument(at + ": window ends before it starts");
    out.windows.emplace_back(se[0], se[1]);
  }
  return out;
}

}  // namespace wg::predict

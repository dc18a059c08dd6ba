// CSV replay: time,point,value[,unit] rows handed to a sink in batches, paced by an
// injectable sleep. See replay.h and src/ingest/README.md for the timing rules.

#include "wg/ingest/replay.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "wg/core/clock.h"
#include "wg/core/csv.h"
#include "wg/core/strings.h"

namespace wg::ingest {
namespace {

using core::Status;
using core::Timestamp;

constexpr std::size_t kMaxErrors = 20;
// Paced replay gathers rows whose play instants lie within this window into one batch.
constexpr std::int64_t kBatchWindowMicros = 50'000;

bool IsValidPointId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void DefaultSleepUntil(Timestamp t) {
  const auto tp = std::chrono::system_clock::time_point(std::chrono::microseconds(t.micros));
  std::this_thread::sleep_until(tp);
}

// Parses one data row; on failure returns the "field: why" text.
core::Result<RawReading> ParseRow(const std::vector<std::string>& f, std::size_t columns) {
  if (f.size() != columns) {
    return Status::InvalidArgument("expected " + std::to_string(columns) + " fields, got " +
                                   std::to_string(f.size()));
  }
  RawReading r;
  const std::string_view time = core::Trim(f[0]);
  auto t = ParseReadingTime(time, "time");
  if (!t) return Status::InvalidArgument("time: " + t.error().message());
  r.time = *t;
  const std::string_view point = core::Trim(f[1]);
  if (!IsValidPointId(point)) {
    return Status::InvalidArgument("point: must be 1-64 of [A-Za-z0-9._-], got '" +
                                   std::string(point.substr(0, 40)) + "'");
  }
  r.point.assign(point);
  const std::string_view value = core::Trim(f[2]);
  double v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() ||
      !std::isfinite(v)) {
    return Status::InvalidArgument("value: not a number: '" + std::string(value.substr(0, 40)) +
                                   "'");
  }
  r.value = v;
  if (columns == 4) {
    const std::string_view unit = core::Trim(f[3]);
    if (unit.size() > 16 || !core::IsValidUtf8(unit)) {
      return Status::InvalidArgument("unit: must be UTF-8 of at most 16 bytes");
    }
    r.unit.assign(unit);
  }
  return r;
}

}  // namespace

core::Result<ReplayStats> ReplayCsv(
    const std::string& path, const ReplayOptions& options,
    const std::function<core::Status(std::vector<RawReading>&)>& sink,
    const std::function<void(core::Timestamp)>& sleep_until) {
  if (!(options.speed >= 0) || !std::isfinite(options.speed)) {
    return Status::InvalidArgument("speed must be a finite number >= 0", "speed");
  }
  if (options.batch == 0 || options.batch > kMaxBatchReadings) {
    return Status::InvalidArgument(
        "batch must be between 1 and " + std::to_string(kMaxBatchReadings), "batch");
  }
  if (!sink) return Status::InvalidArgument("no sink", "sink");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path, "path");
  core::CsvReader reader(in);
  std::vector<std::string> fields;

  auto header = reader.Next(&fields);
  if (!header) return header.error().WithContext(path);
  if (!*header) return Status::InvalidArgument(path + ": empty file, expected a header", "header");
  std::size_t columns = fields.size();
  {
    bool ok = (columns == 3 || columns == 4);
    static const char* kNames[] = {"time", "point", "value", "unit"};
    for (std::size_t i = 0; ok && i < columns; ++i) {
      if (core::Trim(fields[i]) != kNames[i]) ok = false;
    }
    if (!ok) {
      return Status::InvalidArgument(
          path + ": line " + std::to_string(reader.line()) +
              ": header must be time,point,value or time,point,value,unit",
          "header");
    }
  }

  const bool paced = options.speed > 0;
  const std::function<void(Timestamp)>& sleep =
      sleep_until ? sleep_until : std::function<void(Timestamp)>(DefaultSleepUntil);
  // Play clock origin: `start` (or now when unset) is when the first row plays.
  const Timestamp base =
      options.start.micros != 0 ? options.start : core::SystemClock().Now();

  ReplayStats stats;
  std::vector<RawReading> batch;
  batch.reserve(options.batch);
  bool have_first = false;
  Timestamp first;           // original time of the first good row
  Timestamp batch_play{};    // play instant of the batch's first row
  Timestamp last_play{};     // play instant of the batch's last row

  auto play_of = [&](Timestamp original) {
    const double dt = static_cast<double>(original.micros - first.micros) / options.speed;
    return Timestamp{base.micros + static_cast<std::int64_t>(std::llround(dt))};
  };
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    if (paced) sleep(last_play);
    const auto n = static_cast<std::int64_t>(batch.size());
    WG_RETURN_IF_ERROR(sink(batch));
    stats.delivered += n;
    batch.clear();
    return Status::Ok();
  };

  while (options.max_rows == 0 || static_cast<std::size_t>(stats.rows) < options.max_rows) {
    auto more = reader.Next(&fields);
    if (!more) {
      return Status::InvalidArgument(path + ": line " + std::to_string(reader.line()) + ": " +
                                         more.error().message(),
                                     "csv");
    }
    if (!*more) break;
    ++stats.rows;
    auto row = ParseRow(fields, columns);
    if (!row) {
      ++stats.bad_rows;
      if (stats.errors.size() < kMaxErrors) {
        stats.errors.push_back("line " + std::to_string(reader.line()) + ": " +
                               row.error().message());
      }
      continue;
    }
    RawReading r = std::move(row).value();
    if (!have_first) {
      have_first = true;
      first = r.time;
    }
    const Timestamp original = r.time;
    if (options.retime) r.time = Timestamp{base.micros + (original.micros - first.micros)};
    if (paced) {
      const Timestamp play = play_of(original);
      if (!batch.empty() && (batch.size() >= options.batch ||
                             play.micros - batch_play.micros > kBatchWindowMicros)) {
        WG_RETURN_IF_ERROR(flush());
      }
      if (batch.empty()) {
        batch_play = play;
        last_play = play;
      } else {
        last_play = std::max(last_play, play);
      }
    } else if (batch.size() >= options.batch) {
      WG_RETURN_IF_ERROR(flush());
    }
    batch.push_back(std::move(r));
  }
  WG_RETURN_IF_ERROR(flush());
  return stats;
}

}  // namespace wg::ingest

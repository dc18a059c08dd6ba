#pragma once
// Scenario datasets: the evaluation and training format of early warning
// (docs/formats/predict-scenarios.md).
//
// A dataset is a directory:
//   *.csv           one scenario per file, header `ts,point,kind,value`; `ts` ISO 8601 UTC
//                   ("2026-11-29T08:00:00Z", fractional seconds allowed) or epoch seconds
//                   (integer or decimal); `point` [A-Za-z0-9._:/-]{1,64}; `kind` a point kind
//                   (o2, combustible, ch4, h2s, co, nh3, cl2, voc, temperature, pressure, ...
//                   [a-z0-9_]{1,32}); `value` a finite number in the kind's documented unit.
//                   Rows may interleave points; per point, times must strictly increase.
//                   A point keeps one kind for the whole file.
//   labels.json     {"<file name>": [{"point": "...", "ts": <ISO or epoch>}, ...], ...}: the
//                   moments each point first crosses its red threshold (optional "onset":
//                   when the event's precursor began, for the "warnable" figures). A file absent from it,
//                   or with an empty list, has no event. Names must be files of the directory.
//   thresholds.json optional: {"<kind or point>": <number> | {"value": <number>,
//                   "direction": "high"|"low", "warn": <number>}}. A point's entry wins over
//                   its kind's; without either, the rulebook's red threshold of the kind
//                   (ThresholdSource) applies. A series with no threshold at all is an error
//                   naming the point.
//
// Parsing is strict: every error names the file, the 1-based line and the column
// ("a.csv:17: column 'value': not a number: 'abc'"), and nothing is returned on error.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"

namespace wg::predict {

// The red threshold of a series: danger is value >= value (high) or value <= value (low).
// `warn` is the lower alarm level the static-threshold baseline uses (the rulebook's
// yellow level), NaN when there is none.
struct Threshold {
  double value = 0;
  bool high = true;
  double warn = std::numeric_limits<double>::quiet_NaN();
  bool Crossed(double v) const { return high ? v >= value : v <= value; }
};

// One point's readings inside a scenario, in time order. Times are epoch seconds.
struct Series {
  std::string point;
  std::string kind;
  std::vector<double> t;
  std::vector<double> v;
  Threshold red;
  std::vector<double> events;  // labelled crossing times (epoch seconds), ascending
  // Per event, same order: when its precursor began (labels.json "onset"; the simulator
  // knows it), NaN when unknown. Empty = all unknown.
  std::vector<double> onsets;
};

struct Scenario {
  std::string name;             // file name ("leak-0007.csv")
  std::vector<Series> series;   // in order of first appearance
};

struct Dataset {
  std::vector<Scenario> scenarios;  // sorted by name
  std::size_t readings() const;
  std::size_t events() const;
};

// Where thresholds come from when thresholds.json does not name a kind/point: the
// monitoring rulebook's red rule of the kind (threshold_high / threshold_low, converted
// to the kind's default unit) and its yellow rule as `warn`. std::nullopt: unknown.
using ThresholdSource = std::function<std::optional<Threshold>(std::string_view kind)>;

// Limits protecting the loader from hostile input.
struct LoadLimits {
  std::size_t max_files = 100'000;
  std::size_t max_file_bytes = 512u << 20;
  std::size_t max_points_per_file = 1'000;
  std::size_t max_readings = 200'000'000;  // whole dataset
};

// Parses one scenario file's text. `name` is used in messages.
core::Result<Scenario> ParseScenarioCsv(std::string_view name, std::string_view text,
                                        const LoadLimits& limits = {});
// Parses one timestamp cell: ISO 8601 UTC or epoch seconds. Error text names no field.
core::Result<double> ParseTs(std::string_view s);

// labels.json → file name → events (point, ts).
struct LabelEvent {
  std::string point;
  double ts = 0;
  double onset = std::numeric_limits<double>::quiet_NaN();  // optional, <= ts
};
using Labels = std::map<std::string, std::vector<LabelEvent>>;
core::Result<Labels> ParseLabels(std::string_view text);

// thresholds.json → by kind or point.
using ThresholdTable = std::map<std::string, Threshold>;
core::Result<ThresholdTable> ParseThresholds(std::string_view text);

// Loads a dataset directory: every *.csv (sorted), labels.json (required unless no file
// has events: a missing labels.json means no events), thresholds.json (optional).
// Label events naming a point the file lacks, or a file the directory lacks, are errors.
core::Result<Dataset> LoadDataset(const std::filesystem::path& dir, const ThresholdSource& source,
                                  const LoadLimits& limits = {});

// Writes a dataset in the same format (files, labels.json and thresholds.json naming
// every point's threshold). Times are written as epoch seconds with millisecond
// precision. Creates `dir`; refuses a directory that already holds *.csv files.
core::Status WriteDataset(const Dataset& d, const std::filesystem::path& dir);

// The real data sets of ../shared/data, converted into the same format.
//
// Tennessee Eastman (tep/dNN.dat training runs, dNN_te.dat test runs; 3-minute samples;
// whitespace-separated, 52 columns; d00.dat is stored transposed): one scenario per run,
// "tep-dNN.csv" / "tep-dNN_te.csv", with the point "reactor.pressure" (column 7 =
// XMEAS(7), kind pressure, kPa; red 3,000 kPa high = the shutdown limit, warn 2,950).
// Event: the first row at or above 3,000 kPa. Rows are 180 s apart from
// 2026-01-01T00:00:00Z. `which`: "train" (dNN.dat) or "test" (dNN_te.dat). Malformed
// files are errors naming file and line.
core::Result<Dataset> ImportTep(const std::filesystem::path& tep_dir, std::string_view which);

// NAB: a `data/<category>/<name>.csv` series with its labelled windows from
// labels/combined_windows.json. Not a threshold-crossing task: thresholds come from the
// probationary period (the first 15 % of the file, as NAB does) — see nab.h.
struct NabSeries {
  std::string name;        // "realKnownCause/machine_temperature_system_failure.csv"
  std::vector<double> t;   // epoch seconds
  std::vector<double> v;
  std::vector<std::pair<double, double>> windows;  // [start, end] epoch seconds
};
core::Result<NabSeries> ImportNab(const std::filesystem::path& nab_dir, std::string_view name);

}  // namespace wg::predict

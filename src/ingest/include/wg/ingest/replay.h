#pragma once
// CSV replay source: reads readings from a CSV file (header `time,point,value[,unit]`,
// time RFC 3339 or epoch milliseconds; or `--shift-to-now` style re-timing by the caller)
// and hands them to a sink at `speed` times real time (speed 0 = as fast as possible),
// re-timed so the first row plays at `start`. Pacing uses an injected sleep function, so
// tests run without waiting. Malformed rows are reported with their line number and
// skipped, never silently.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/ingest/decode.h"

namespace wg::ingest {

struct ReplayOptions {
  double speed = 1.0;            // >= 0; 0 = no pacing
  bool retime = true;            // shift times so the first row is at `start`
  core::Timestamp start;         // where the first row is placed when retime, and the
                                 // play-clock instant of the first row; unset (0) = now.
                                 // Row k plays at start + (t_k - t_0) / speed; re-timing
                                 // only shifts (t' = start + t_k - t_0), it never scales.
  std::size_t batch = 500;       // readings handed to the sink at once (<= kMaxBatchReadings)
  std::size_t max_rows = 0;      // 0 = all
};

struct ReplayStats {
  std::int64_t rows = 0;
  std::int64_t delivered = 0;
  std::int64_t bad_rows = 0;
  std::vector<std::string> errors;  // first 20: "line 12: value: not a number"
};

// `sink` returns an error to stop the replay (it is returned). `sleep_until` is called
// with the replay-time instant before each batch (the default sleeps on the system clock).
core::Result<ReplayStats> ReplayCsv(
    const std::string& path, const ReplayOptions& options,
    const std::function<core::Status(std::vector<RawReading>&)>& sink,
    const std::function<void(core::Timestamp)>& sleep_until = {});

}  // namespace wg::ingest

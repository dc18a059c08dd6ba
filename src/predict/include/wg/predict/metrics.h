#pragma once
// Scoring early warnings (docs/formats/predict-scenarios.md#metrics).
//
// A warning episode is a maximal run of time during which a model's warning is on for one
// series: it starts at the reading that turned it on and ends at the reading that turned
// it off (or the series' last reading). With `lead` L and `horizon` H:
//   - an event at te is *warned* when some episode starts in [te - H, te - L]; an episode
//     that started before te - H and is still on at te - H counts as starting at te - H
//     (the warning was standing through the whole window);
//   - the event's lead time is te minus the earliest such (clipped) start in
//     [te - H, te]; 0 when no episode starts in [te - H, te] (missed);
//   - recall at the lead = warned events / events;
//   - median and 10th-percentile lead time are over all events (missed ones count 0 s),
//     so a model cannot look good by warning early on a few events only;
//   - an episode is *false* when no event of its series lies in [start, start + H];
//     false-alarm share = false episodes / episodes (0 when there are none);
//   - false alarms per 1,000 point-hours = false episodes / (sum over series of
//     (last reading - first reading)) * 1,000 h.
// Percentiles use the nearest-rank method on the sorted leads.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "wg/core/json.h"

namespace wg::predict {

struct Episode {
  double start = 0;  // epoch seconds
  double end = 0;
};

struct ScoreOptions {
  double lead_s = 12 * 60;
  double horizon_s = 30 * 60;
};

// Per-series input of the scorer.
struct SeriesWarnings {
  std::vector<Episode> episodes;  // ascending, non-overlapping
  std::vector<double> events;     // ascending
  double first_t = 0, last_t = 0;  // the series' first and last reading
};

struct Score {
  std::size_t events = 0;
  std::size_t warned = 0;          // events warned at the lead
  double recall = 0;               // warned / events (0 when no events)
  double median_lead_s = 0;
  double p10_lead_s = 0;
  std::size_t episodes = 0;
  std::size_t false_episodes = 0;
  double false_share = 0;
  double point_hours = 0;
  double false_per_1000_point_hours = 0;
  std::vector<double> leads_s;     // per event, in input order (0 = missed)
};

// Scores many series together (the dataset totals).
Score ScoreWarnings(const std::vector<SeriesWarnings>& series, const ScoreOptions& o);
core::Json ToJson(const Score& s);

// NAB scoring (Lavin & Ahmad 2015; nab/scorer.py): a detection inside a window at
// relative position x in [-1, 0] (x = -1 at the window's start, 0 at its end) earns
// A_TP * (2 * sigmoid(-5 x) - 1) ... only the first detection in a window counts; a
// detection outside every window earns A_FP * (2 * sigmoid(-5 y) - 1) where y is its
// position relative to the preceding window's end (y > 0; -1 with no preceding window);
// each window without a detection costs A_FN. The normalised score is
// 100 * (raw - null) / (perfect - null), null = no detections, perfect = one detection at
// each window's start. Detections in the probationary period (first 15 %) are ignored.
struct NabProfile {
  std::string name = "standard";
  double a_tp = 1.0, a_fp = -0.11, a_fn = -1.0;
};
NabProfile NabStandard();      // A_TP 1, A_FP -0.11, A_FN -1
NabProfile NabRewardLowFp();   // A_TP 1, A_FP -0.22, A_FN -1
NabProfile NabRewardLowFn();   // A_TP 1, A_FP -0.11, A_FN -2
struct NabScore {
  double raw = 0;
  double normalized = 0;  // 0 = null detector, 100 = perfect
  std::size_t windows = 0, detected = 0, false_positives = 0;
};
// `t`: the series' timestamps (the probationary cut and the y of false positives use
// them); `detections`: times of detections (episode starts), ascending.
NabScore ScoreNab(const std::vector<double>& t, const std::vector<std::pair<double, double>>& windows,
                  const std::vector<double>& detections, const NabProfile& p);

}  // namespace wg::predict

#pragma once
// Scoring early warnings (docs/formats/predict-scenarios.md#metrics).
//
// A warning episode is a maximal run of time during which a model's warning is on for one
// series: it starts at the reading that turned it on and ends at the reading that turned
// it off (or the series' last reading); it is on at x when start <= x < end. With `lead`
// L and `horizon` H, for each labelled event at te:
//   - an episode's *effective start* for the event is its start when that lies in
//     [te - H, te]; te - H when it started earlier and is still on at te - H (the warning
//     was standing through the whole window); otherwise the episode does not count for
//     the event (it ended before te - H, or started after te);
//   - the event's lead time is te minus the earliest effective start (so at most H); 0 when
//     no episode counts (missed). An episode that starts after te - L still gives its
//     (short) lead but does not warn;
//   - the event is *warned* when its lead is >= L (1 µs tolerance);
//   - recall at the lead = warned events / events (0 when there are none);
//   - median and 10th-percentile lead time are over all events (missed ones count 0 s),
//     so a model cannot look good by warning early on a few events only; nearest rank on
//     the ascending leads: the k-th smallest with k = ceil(p/100 * n), 0 when n = 0;
//   - an episode is *false* when no event of its series lies in [start, start + H] (its own
//     start, not the effective one: a warning standing for hours before an event counts
//     for that event but is still a false alarm when raised); false-alarm share =
//     false episodes / episodes (0 when there are none);
//   - false alarms per 1,000 point-hours = false episodes / (sum over series of
//     (last reading - first reading), in hours) * 1,000 (0 when that sum is 0).
// One episode may warn several events of its series; events of other series never count.

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
  // Per event (same order; may be empty): when its precursor began (leak onset, fan
  // failure, feed loss), NaN when unknown. Only the secondary "warnable" figures use it.
  std::vector<double> onsets;
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
  // Secondary figures: events whose precursor began at least `lead` before them (or
  // whose precursor is unknown) — the ones any model could have warned in time. The
  // headline recall above counts every event.
  std::size_t warnable_events = 0;
  std::size_t warned_warnable = 0;
  double recall_warnable = 0;
};

// Scores many series together (the dataset totals).
Score ScoreWarnings(const std::vector<SeriesWarnings>& series, const ScoreOptions& o);
core::Json ToJson(const Score& s);

// NAB scoring (Lavin & Ahmad 2015), as NAB 1.1 scores one data file at a fixed threshold
// (nab/sweeper.py; nab/scorer.py's Scorer.getScore agrees), positions in readings (rows):
//   - S(y) = 2 * sigmoid(-5 y) - 1, and -1 for y > 3;
//   - window: the readings with t in [start, end], n of them; the first scored detection
//     at row i of a window earns A_TP * S(-(last - i + 1) / n) / S(-1): exactly A_TP at
//     the window's first row, S(-1/n) / S(-1) * A_TP (near 0) at its last; later
//     detections in the same window count for nothing (NAB keeps the max, the first);
//   - a detection outside every window costs |A_FP| * S(y) with y = (i - last row of the
//     closest preceding window) / (that window's n - 1): ~0 just after a window, -|A_FP|
//     from 3 window-lengths on; the full -|A_FP| when no window precedes it (or the
//     preceding window has a single row);
//   - each scored window without a detection costs A_FN (here negative, -1 standard);
//   - the probationary period is the first min(floor(0.15 n), 750) readings (NAB's
//     getProbationPeriod): detections in it are ignored, and a window that lies wholly
//     inside it is not scored at all (the sweeper's rule).
// The normalised score is 100 * (raw - null) / (perfect - null): null = no detections
// (windows * A_FN), perfect = one detection at each scored window's first row
// (windows * A_TP); 0 when no window is scored. NAB normalises over the whole corpus;
// this is per series. (The original 2015 scorer did not divide by S(-1), so a detection at
// the window start earned 0.9866 * A_TP; NAB v1.0 and later do.)
// A_FP is given negative here (the cost), NAB's profiles give its magnitude.
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
// `t`: the series' timestamps (ascending; windows and detections are placed on its rows);
// `detections`: times of detections (episode starts).
// A detection at a time between readings counts at the next reading; duplicates (same
// reading) count once; detections after the last reading are ignored.
NabScore ScoreNab(const std::vector<double>& t, const std::vector<std::pair<double, double>>& windows,
                  const std::vector<double>& detections, const NabProfile& p);
// NAB's probationary length for a series of n readings: min(floor(0.15 n), 750).
std::size_t NabProbationLength(std::size_t n);

}  // namespace wg::predict

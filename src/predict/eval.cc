// Evaluation: runs models over a dataset (or a NAB series) and scores them.
#include "wg/predict/eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

namespace wg::predict {
namespace {

using core::Json;

// One series through the model and the tracker; the loop alone is timed (state creation,
// allocation of the result and scoring are not).
std::vector<Episode> RunTimed(const Predictor& m, const Series& s, std::int64_t& ns,
                              std::size_t& readings) {
  std::vector<Episode> episodes;
  const std::size_t n = std::min(s.t.size(), s.v.size());
  if (n == 0) return episodes;
  episodes.reserve(16);
  std::unique_ptr<State> state = m.NewState(s.red);
  WarningTracker tracker(m.policy());
  double start = 0, last_t = 0;
  bool any = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const double t = s.t[i];
    if (any && !(t > last_t)) continue;  // as RunSeries: strictly increasing times only
    any = true;
    last_t = t;
    ++readings;
    const Forecast f = m.Update(*state, t, s.v[i]);
    const auto change = tracker.Update(t, s.v[i], s.red, f);
    if (change == WarningTracker::Change::kOn) {
      start = t;
    } else if (change == WarningTracker::Change::kOff) {
      episodes.push_back({start, t});
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  if (tracker.on()) episodes.push_back({start, last_t});
  return episodes;
}

Json NabScoreJson(const NabScore& s) {
  Json j = Json::object();
  j["raw"] = s.raw;
  j["normalized"] = s.normalized;
  j["windows"] = s.windows;
  j["detected"] = s.detected;
  j["false_positives"] = s.false_positives;
  return j;
}

}  // namespace

Json ToJson(const EvalRow& r) {
  Json j = Json::object();
  j["model"] = r.model;
  j["kind"] = r.kind;
  j["readings"] = r.readings;
  j["ns_per_reading"] = r.ns_per_reading;
  j["score"] = ToJson(r.score);
  return j;
}

EvalRow Evaluate(const std::string& name, const Predictor& m, const Dataset& d,
                 const ScoreOptions& o) {
  EvalRow row;
  row.model = name;
  row.kind = std::string(m.kind());
  std::vector<SeriesWarnings> all;
  std::int64_t ns = 0;
  for (const Scenario& sc : d.scenarios) {
    for (const Series& s : sc.series) {
      SeriesWarnings w;
      w.episodes = RunTimed(m, s, ns, row.readings);
      w.events = s.events;  // ascending (LoadDataset and the simulator keep them sorted)
      w.onsets = s.onsets;
      if (!s.t.empty()) {
        w.first_t = s.t.front();
        w.last_t = s.t.back();
      }
      all.push_back(std::move(w));
    }
  }
  row.score = ScoreWarnings(all, o);
  if (row.readings > 0) {
    row.ns_per_reading = static_cast<double>(ns) / static_cast<double>(row.readings);
  }
  return row;
}

NabRow EvaluateNab(const std::string& name, const Predictor& m, const NabSeries& s,
                   double margin) {
  NabRow row;
  row.model = name;
  const std::size_t n = std::min(s.t.size(), s.v.size());
  if (n == 0) return row;
  // The probationary period sets the thresholds (at least one reading).
  const std::size_t probation = std::max<std::size_t>(1, NabProbationLength(n));
  const auto [lo_it, hi_it] = std::minmax_element(s.v.begin(), s.v.begin() + static_cast<std::ptrdiff_t>(probation));
  const double lo = *lo_it, hi = *hi_it;
  double range = hi - lo;
  if (!(range > 0)) range = std::max(std::abs(hi), 1.0);  // flat start: scale by the level
  Series series;
  series.point = s.name;
  series.t.assign(s.t.begin(), s.t.begin() + static_cast<std::ptrdiff_t>(n));
  series.v.assign(s.v.begin(), s.v.begin() + static_cast<std::ptrdiff_t>(n));

  std::vector<double> detections;
  series.red = Threshold{hi + margin * range, true, std::numeric_limits<double>::quiet_NaN()};
  for (const Episode& e : RunSeries(m, series)) detections.push_back(e.start);
  series.red = Threshold{lo - margin * range, false, std::numeric_limits<double>::quiet_NaN()};
  for (const Episode& e : RunSeries(m, series)) detections.push_back(e.start);
  std::sort(detections.begin(), detections.end());
  detections.erase(std::unique(detections.begin(), detections.end()), detections.end());

  row.detections = detections.size();
  row.standard = ScoreNab(series.t, s.windows, detections, NabStandard());
  row.reward_low_fp = ScoreNab(series.t, s.windows, detections, NabRewardLowFp());
  row.reward_low_fn = ScoreNab(series.t, s.windows, detections, NabRewardLowFn());
  return row;
}

Json ToJson(const NabRow& r) {
  Json j = Json::object();
  j["model"] = r.model;
  j["detections"] = r.detections;
  j["standard"] = NabScoreJson(r.standard);
  j["reward_low_fp"] = NabScoreJson(r.reward_low_fp);
  j["reward_low_fn"] = NabScoreJson(r.reward_low_fn);
  return j;
}

Json SeedFigures() {
  Json j = Json::object();
  j["source"] = "seed report (REQUIREMENTS.md)";
  j["model"] = "LSTM on 32,000 incident tickets";
  j["lead_min"] = 12;
  j["accuracy"] = 0.914;
  j["false_alarm_share_before"] = 0.18;
  j["false_alarm_share_after_retraining"] = 0.043;
  j["claim"] =
      "An LSTM trained on 32,000 historical incident tickets warns of confined-space danger 12 "
      "minutes ahead with 91.4 % accuracy. Quarterly retraining on incident history cut false "
      "alarms from 18 % to 4.3 % in one rail-maintenance unit.";
  j["note"] =
      "accuracy, not recall; no data or split published; the false-alarm figures are from one "
      "rail-maintenance unit after quarterly retraining";
  return j;
}

}  // namespace wg::predict

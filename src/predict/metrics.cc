// Scoring early warnings and NAB scoring (metrics.h has the definitions).
#include "wg/predict/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace wg::predict {
namespace {

constexpr double kTolerance = 1e-6;  // seconds: lead comparisons at the boundary

// Nearest-rank percentile of ascending values: the k-th smallest, k = ceil(p/100 * n).
double NearestRank(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  auto k = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
  k = std::clamp<std::size_t>(k, 1, sorted.size());
  return sorted[k - 1];
}

// The lead an event at te gets from the series' episodes (0: none counts).
double LeadOf(double te, const std::vector<Episode>& episodes, const ScoreOptions& o) {
  const double window_start = te - o.horizon_s;
  double earliest = std::numeric_limits<double>::infinity();
  for (const Episode& e : episodes) {
    double effective = 0;
    if (e.start >= window_start) {
      effective = e.start;
    } else if (e.end > window_start) {
      effective = window_start;  // standing through the window's start
    } else {
      continue;  // ended before the window
    }
    if (effective > te) continue;  // started after the event
    earliest = std::min(earliest, effective);
  }
  if (!std::isfinite(earliest)) return 0;
  return std::max(0.0, te - earliest);
}

bool IsFalse(const Episode& e, const std::vector<double>& events, const ScoreOptions& o) {
  for (double te : events) {
    if (te >= e.start && te <= e.start + o.horizon_s) return false;
  }
  return true;
}

}  // namespace

Score ScoreWarnings(const std::vector<SeriesWarnings>& series, const ScoreOptions& o) {
  Score s;
  double seconds = 0;
  for (const SeriesWarnings& w : series) {
    for (std::size_t k = 0; k < w.events.size(); ++k) {
      const double te = w.events[k];
      const double lead = LeadOf(te, w.episodes, o);
      s.leads_s.push_back(lead);
      const bool warned = lead > 0 && lead + kTolerance >= o.lead_s;
      if (warned) ++s.warned;
      const double onset = k < w.onsets.size() ? w.onsets[k] : std::nan("");
      if (std::isnan(onset) || onset <= te - o.lead_s + kTolerance) {
        ++s.warnable_events;
        if (warned) ++s.warned_warnable;
      }
    }
    for (const Episode& e : w.episodes) {
      ++s.episodes;
      if (IsFalse(e, w.events, o)) ++s.false_episodes;
    }
    if (w.last_t > w.first_t) seconds += w.last_t - w.first_t;
  }
  s.events = s.leads_s.size();
  if (s.events > 0) {
    s.recall = static_cast<double>(s.warned) / static_cast<double>(s.events);
    if (s.warnable_events > 0) {
      s.recall_warnable =
          static_cast<double>(s.warned_warnable) / static_cast<double>(s.warnable_events);
    }
    std::vector<double> sorted = s.leads_s;
    std::sort(sorted.begin(), sorted.end());
    s.median_lead_s = NearestRank(sorted, 50);
    s.p10_lead_s = NearestRank(sorted, 10);
  }
  if (s.episodes > 0) {
    s.false_share = static_cast<double>(s.false_episodes) / static_cast<double>(s.episodes);
  }
  s.point_hours = seconds / 3600.0;
  if (s.point_hours > 0) {
    s.false_per_1000_point_hours = static_cast<double>(s.false_episodes) / s.point_hours * 1000.0;
  }
  return s;
}

core::Json ToJson(const Score& s) {
  core::Json j = core::Json::object();
  j["events"] = s.events;
  j["warned"] = s.warned;
  j["recall"] = s.recall;
  j["warnable_events"] = s.warnable_events;
  j["warned_warnable"] = s.warned_warnable;
  j["recall_warnable"] = s.recall_warnable;
  j["median_lead_s"] = s.median_lead_s;
  j["median_lead_min"] = s.median_lead_s / 60.0;
  j["p10_lead_s"] = s.p10_lead_s;
  j["p10_lead_min"] = s.p10_lead_s / 60.0;
  j["episodes"] = s.episodes;
  j["false_episodes"] = s.false_episodes;
  j["false_share"] = s.false_share;
  j["point_hours"] = s.point_hours;
  j["false_per_1000_point_hours"] = s.false_per_1000_point_hours;
  if (s.leads_s.size() <= 1000) j["leads_s"] = s.leads_s;
  return j;
}

NabProfile NabStandard() { return {"standard", 1.0, -0.11, -1.0}; }
NabProfile NabRewardLowFp() { return {"reward_low_FP_rate", 1.0, -0.22, -1.0}; }
NabProfile NabRewardLowFn() { return {"reward_low_FN_rate", 1.0, -0.11, -2.0}; }

std::size_t NabProbationLength(std::size_t n) {
  // NAB: min(floor(0.15 n), 0.15 * 5000).
  return std::min<std::size_t>(n * 15 / 100, 750);
}

namespace {

double ScaledSigmoid(double y) {
  if (y > 3.0) return -1.0;
  return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0;  // 2 * sigmoid(-5 y) - 1
}

struct RowWindow {
  std::size_t first = 0, last = 0;  // rows, inclusive
};

}  // namespace

NabScore ScoreNab(const std::vector<double>& t, const std::vector<std::pair<double, double>>& windows,
                  const std::vector<double>& detections, const NabProfile& p) {
  NabScore out;
  const std::size_t n = t.size();
  if (n == 0) return out;
  const std::size_t probation = NabProbationLength(n);

  // Windows as row ranges, in time order; empty ones (no reading inside) are dropped.
  std::vector<std::pair<double, double>> sorted_windows = windows;
  std::sort(sorted_windows.begin(), sorted_windows.end());
  std::vector<RowWindow> rows;
  for (const auto& [start, end] : sorted_windows) {
    const auto first = static_cast<std::size_t>(std::lower_bound(t.begin(), t.end(), start) - t.begin());
    const auto past = static_cast<std::size_t>(std::upper_bound(t.begin(), t.end(), end) - t.begin());
    if (first >= past) continue;
    rows.push_back({first, past - 1});
  }

  // Detections as rows (next reading at or after the time), scored ones only, once each.
  std::vector<std::size_t> det;
  for (double d : detections) {
    const auto i = static_cast<std::size_t>(std::lower_bound(t.begin(), t.end(), d) - t.begin());
    if (i >= n || i < probation) continue;
    det.push_back(i);
  }
  std::sort(det.begin(), det.end());
  det.erase(std::unique(det.begin(), det.end()), det.end());

  const double a_fp = std::abs(p.a_fp);
  const double max_tp = ScaledSigmoid(-1.0);
  double raw = 0;
  std::vector<bool> hit(rows.size(), false);
  std::size_t scored_windows = 0;
  for (const RowWindow& w : rows) {
    if (w.last >= probation) ++scored_windows;
  }

  for (std::size_t i : det) {
    // The window holding row i, or the closest one ending before it.
    std::ptrdiff_t inside = -1, preceding = -1;
    for (std::size_t k = 0; k < rows.size(); ++k) {
      if (rows[k].first <= i && i <= rows[k].last) {
        inside = static_cast<std::ptrdiff_t>(k);
        break;
      }
      if (rows[k].last < i) preceding = static_cast<std::ptrdiff_t>(k);
    }
    if (inside >= 0) {
      const auto k = static_cast<std::size_t>(inside);
      if (hit[k]) continue;  // only the first detection of a window counts
      hit[k] = true;
      const double width = static_cast<double>(rows[k].last - rows[k].first + 1);
      const double position = -static_cast<double>(rows[k].last - i + 1) / width;
      raw += ScaledSigmoid(position) * p.a_tp / max_tp;
      ++out.detected;
      continue;
    }
    ++out.false_positives;
    double y = 3.0 + 1.0;  // no preceding window: the full cost
    if (preceding >= 0) {
      const RowWindow& w = rows[static_cast<std::size_t>(preceding)];
      if (w.last > w.first) {
        y = static_cast<double>(i - w.last) / static_cast<double>(w.last - w.first);
      }
    }
    raw += ScaledSigmoid(y) * a_fp;
  }
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (rows[k].last >= probation && !hit[k]) raw -= std::abs(p.a_fn);
  }

  out.raw = raw;
  out.windows = scored_windows;
  const double null_score = -static_cast<double>(scored_windows) * std::abs(p.a_fn);
  const double perfect = static_cast<double>(scored_windows) * p.a_tp;
  if (scored_windows > 0 && perfect != null_score) {
    out.normalized = 100.0 * (raw - null_score) / (perfect - null_score);
  }
  return out;
}

}  // namespace wg::predict

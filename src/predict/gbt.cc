// The learned model: window features, the compiled tree ensemble, XGBoost training and
// the calibration of the warning policy (docs/formats/predict-model.md#gbt).
#include "wg/predict/gbt.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::predict {
namespace {

// ---------------------------------------------------------------------------------------
// Window features
// ---------------------------------------------------------------------------------------

// Feature order = FeatureNames() order = the model file's "features" list. Changing it
// (or any definition below) makes old models invalid: they are refused by name list.
enum FeatureIndex : std::size_t {
  kMarginLevel,
  kMarginRaw,
  kSlope2,
  kSlope5,
  kSlope15,
  kSlope30,
  kTte2,
  kTte5,
  kTte15,
  kTte30,
  kTteHolt,
  kFoMargin,
  kFoTte,
  kNoise,
  kCurvature,
  kRiseSnr,
  kExcursion,
  kAge,
  kSinceGap,
  kFeatureCount
};

constexpr std::array<const char*, kFeatureCount> kFeatureNames = {
    "margin_level", "margin_raw",    "slope_2m", "slope_5m",     "slope_15m",
    "slope_30m",    "tte_2m",        "tte_5m",   "tte_15m",      "tte_30m",
    "tte_holt",     "fo_margin",     "fo_tte",   "noise",        "curvature",
    "rise_snr",     "excursion_min", "age_min",  "since_gap_min"};

constexpr double kCapMin = 120;             // cap of every time feature (minutes)
constexpr double kMarginClip = 20;          // margins are clipped to ±20 scales
constexpr double kSlopeClip = 50;           // scales per minute
constexpr double kBaselineTau = 30 * 60.0;  // s
constexpr double kLevelTau = 60;            // Holt level time constant (s)
constexpr double kTrendTau = 300;           // Holt trend time constant (s)
constexpr double kNoiseTau = 600;           // noise (innovation variance) time constant (s)
constexpr double kScaleFloor = 0.05;        // of |threshold|
constexpr double kExcursionMargin = 0.5;    // "excursion" = margin_level below this
constexpr double kGapFactor = 3;            // a gap: more than 3x the nominal interval

// Clamps to [lo, hi]; NaN (which the computations below avoid) becomes `nan_to`.
float Clip(double x, double lo, double hi, double nan_to = 0) {
  if (std::isnan(x)) return static_cast<float>(nan_to);
  return static_cast<float>(std::clamp(x, lo, hi));
}

// Minutes until `dist` (threshold minus level, in value units) is covered at `rate`
// (value units per second); 0 when already there, the cap when moving away.
double TteMin(double dist, double rate) {
  if (!(dist > 0)) return 0;
  if (!(rate > 0)) return kCapMin;
  return std::min(dist / rate / 60.0, kCapMin);
}

// Least-squares line over a sliding time window, kept as kBuckets time buckets of equal
// width (the window's length / kBuckets), each holding the count and the sums of time
// and value of its readings. Fixed capacity whatever the sampling rate: a 1 s series and
// a 180 s series cost the same.
//
// The fit is the weighted least-squares line through the bucket means (weight = count),
// from running sums over the closed buckets plus the open (newest) one: O(1) per
// reading. Sums are kept relative to an origin (time, value) that moves to the newest
// reading every kBuckets new buckets, when the sums are recomputed from the buckets, so
// neither large epoch times nor long runs of additions and subtractions lose precision.
class BucketWindow {
 public:
  static constexpr int kBuckets = 30;
  struct Fit {
    bool ok = false;
    double slope = 0;   // value per second
    double at_now = 0;  // the line's value at the latest reading
  };
  struct Segment {
    double n = 0, t = 0, u = 0;  // count, mean time, mean value (absolute)
  };

  explicit BucketWindow(double window_s) : width_(window_s / kBuckets) {}

  // Returns true when the reading opened a new bucket.
  bool Add(double t, double u) {
    const auto idx = static_cast<std::int64_t>(std::floor(t / width_));
    if (size_ > 0 && Newest().index == idx) {
      Bucket& b = Newest();
      b.n += 1;
      b.st += t - t_origin_;
      b.su += u - u_origin_;
      return false;
    }
    if (size_ > 0) Close(Newest(), 1);  // the open bucket joins the closed sums
    while (size_ > 0 && Oldest().index <= idx - kBuckets) {
      Close(Oldest(), -1);
      Pop();
    }
    if (size_ == kBuckets) {  // cannot happen (indices increase); keeps the ring safe
      Close(Oldest(), -1);
      Pop();
    }
    if (++opened_ >= kBuckets || size_ == 0) Rebase(t, u);
    int tail = head_ + size_;
    if (tail >= kBuckets) tail -= kBuckets;
    ring_[static_cast<std::size_t>(tail)] = Bucket{idx, 1, t - t_origin_, u - u_origin_};
    ++size_;
    return true;
  }

  int size() const { return size_; }

  Fit LineAt(double t_now) const {
    Fit f;
    if (size_ < 2) return f;
    const Bucket& o = Newest();
    const double n = n_ + o.n;
    const double st = st_ + o.st, su = su_ + o.su;
    const double stt = stt_ + o.st * o.st / o.n, stu = stu_ + o.st * o.su / o.n;
    const double tm = st / n, um = su / n;
    const double sxx = stt - n * tm * tm;
    const double sxy = stu - n * tm * um;
    if (!(sxx > 1e-9 * width_ * width_)) return f;
    f.ok = true;
    f.slope = sxy / sxx;
    f.at_now = u_origin_ + um + f.slope * (t_now - t_origin_ - tm);
    return f;
  }

  // The buckets split into three consecutive groups (oldest, middle, newest) of about a
  // third each; false with fewer than three buckets. O(buckets).
  bool Thirds(std::array<Segment, 3>& out) const {
    if (size_ < 3) return false;
    const int third = size_ / 3;
    const std::array<int, 4> edge = {0, third, size_ - third, size_};
    for (std::size_t k = 0; k < 3; ++k) {
      double n = 0, st = 0, su = 0;
      for (int i = edge[k]; i < edge[k + 1]; ++i) {
        const Bucket& b = At(i);
        n += b.n;
        st += b.st;
        su += b.su;
      }
      out[k] = Segment{n, t_origin_ + st / n, u_origin_ + su / n};
    }
    return true;
  }

 private:
  struct Bucket {
    std::int64_t index = 0;
    double n = 0, st = 0, su = 0;  // sums relative to the origin
  };
  const Bucket& At(int i) const {
    int k = head_ + i;
    if (k >= kBuckets) k -= kBuckets;
    return ring_[static_cast<std::size_t>(k)];
  }
  Bucket& At(int i) { return const_cast<Bucket&>(std::as_const(*this).At(i)); }
  Bucket& Oldest() { return At(0); }
  Bucket& Newest() { return At(size_ - 1); }
  const Bucket& Newest() const { return At(size_ - 1); }
  void Pop() {
    if (++head_ == kBuckets) head_ = 0;
    --size_;
  }
  void Close(const Bucket& b, double sign) {
    n_ += sign * b.n;
    st_ += sign * b.st;
    su_ += sign * b.su;
    stt_ += sign * b.st * b.st / b.n;
    stu_ += sign * b.st * b.su / b.n;
  }
  // Moves the origin to (t, u) and recomputes the closed sums from the buckets (all
  // buckets in the ring are closed when this runs).
  void Rebase(double t, double u) {
    opened_ = 0;
    const double dt = t - t_origin_, du = u - u_origin_;
    t_origin_ = t;
    u_origin_ = u;
    n_ = st_ = su_ = stt_ = stu_ = 0;
    for (int i = 0; i < size_; ++i) {
      Bucket& b = At(i);
      b.st -= b.n * dt;
      b.su -= b.n * du;
      Close(b, 1);
    }
  }

  double width_;
  std::array<Bucket, kBuckets> ring_{};
  int head_ = 0, size_ = 0, opened_ = 0;
  double t_origin_ = 0, u_origin_ = 0;
  double n_ = 0, st_ = 0, su_ = 0, stt_ = 0, stu_ = 0;  // over the closed buckets
};

// The streaming feature extractor (FeatureState's implementation, also used directly by
// the gbt predictor, which needs the scale and level for its explanation).
//
// Values are direction-normalised: u = value for a high threshold, -value for a low one,
// so "toward the threshold" is always "up" and T is the threshold likewise. Every feature
// is dimensionless: distances are in units of the scale s = max(T - b, 5 % of |T|) where
// b is a slow baseline (EMA, 30 min), rates in scales per minute, times in minutes.
class WindowFeatures {
 public:
  explicit WindowFeatures(const Threshold& red)
      : high_(red.high), thr_(red.high ? red.value : -red.value) {}

  void Update(double t, double value, float* out) {
    const double u = high_ ? value : -value;
    double dt = 0;
    if (n_ == 0) {
      t0_ = t;
      base_ = u;
      level_ = u;
      trend_ = 0;
      last_gap_t_ = t;
      prev_t_ = t;
      prev_u_ = u;
    } else {
      dt = t - prev_t_;
      if (!(dt > 0)) dt = 0;  // callers guarantee increasing times; tolerate equal ones
    }
    if (dt > 0) Advance(t, u, dt);
    ++n_;

    const double t_rel = t - t0_;
    bool refit = false;
    for (BucketWindow& w : windows_) refit = w.Add(t_rel, u);  // the last: 30 minutes

    scale_ = std::max({thr_ - base_, kScaleFloor * std::fabs(thr_), 1e-9});
    if (refit) FitFirstOrder();
    const double s = scale_;
    const double margin_level = (thr_ - level_) / s;
    out[kMarginLevel] = Clip(margin_level, -kMarginClip, kMarginClip);
    out[kMarginRaw] = Clip((thr_ - u) / s, -kMarginClip, kMarginClip);

    std::array<double, 4> slope_s{};  // scales per minute
    for (std::size_t i = 0; i < windows_.size(); ++i) {
      BucketWindow::Fit f = windows_[i].LineAt(t_rel);
      if (!f.ok) {
        // Fewer than two buckets in the window (coarse sampling, or just after a gap):
        // the line through the previous reading and this one.
        f.ok = true;
        f.slope = (n_ > 1 && t > prev_t_) ? (u - prev_u_) / (t - prev_t_) : 0;
        f.at_now = u;
      }
      if (i == 1) slope5_ = f.slope;
      slope_s[i] = f.slope * 60 / s;
      out[kSlope2 + i] = Clip(slope_s[i], -kSlopeClip, kSlopeClip);
      out[kTte2 + i] = Clip(TteMin(thr_ - f.at_now, f.slope), 0, kCapMin, kCapMin);
    }
    out[kTteHolt] = Clip(TteMin(thr_ - level_, trend_), 0, kCapMin, kCapMin);

    FirstOrderFeatures(margin_level, out);

    const double noise_s = std::sqrt(noise_var_) / s;
    out[kNoise] = Clip(noise_s, 0, kMarginClip);
    out[kCurvature] = Clip(slope_s[1] - slope_s[2], -kSlopeClip, kSlopeClip);
    out[kRiseSnr] = Clip(slope_s[2] * 15 / std::max(noise_s, 1e-3), -100, 100);

    if (margin_level < kExcursionMargin) {
      if (!in_excursion_) excursion_start_ = t;
      in_excursion_ = true;
      out[kExcursion] = Clip((t - excursion_start_) / 60, 0, kCapMin);
    } else {
      in_excursion_ = false;
      out[kExcursion] = 0;
    }
    out[kAge] = Clip((t - t0_) / 60, 0, kCapMin);
    out[kSinceGap] = Clip((t - last_gap_t_) / 60, 0, kCapMin);

    prev_t_ = t;
    prev_u_ = u;
  }

  // Back in the threshold's unit and direction.
  double level() const { return high_ ? level_ : -level_; }
  double trend_per_min() const { return (high_ ? slope5_ : -slope5_) * 60; }
  // The first-order fit's steady state; the level when it is not moving; NaN when it is
  // moving with no steady state in sight.
  double steady_state() const {
    const double v = fo_ == FoShape::kConverge ? css_
                     : fo_ == FoShape::kStay   ? level_
                                               : std::numeric_limits<double>::quiet_NaN();
    return high_ ? v : -v;
  }

 private:
  // Baseline, Holt level/trend, noise and gap bookkeeping for a step of dt > 0 seconds.
  void Advance(double t, double u, double dt) {
    base_ += (1 - std::exp(-dt / kBaselineTau)) * (u - base_);

    // Holt's linear smoothing with time-aware gains (irregular sampling).
    const double pred = level_ + trend_ * dt;
    const double innov = u - pred;
    const double prev_level = level_;
    level_ = pred + (1 - std::exp(-dt / kLevelTau)) * innov;
    trend_ += (1 - std::exp(-dt / kTrendTau)) * ((level_ - prev_level) / dt - trend_);

    // Noise: EMA of the squared one-step innovation (robust to trends, unlike raw spread).
    if (n_ == 1) {
      noise_var_ = innov * innov;
    } else {
      noise_var_ += (1 - std::exp(-dt / kNoiseTau)) * (innov * innov - noise_var_);
    }

    // Nominal sampling interval and gaps. A lasting change of rate (three "gaps" in a row)
    // resets the nominal interval instead of counting gaps forever.
    if (nominal_ <= 0) {
      nominal_ = dt;
    } else if (dt > kGapFactor * nominal_) {
      last_gap_t_ = t;
      if (++gap_streak_ >= 3) {
        nominal_ = dt;
        gap_streak_ = 0;
      }
    } else {
      gap_streak_ = 0;
      nominal_ += (dt < nominal_ ? 0.5 : 0.05) * (dt - nominal_);
    }
  }

  // First-order (exponential approach) fit, C(t) = Css + D e^{-kt}, from the means of
  // three consecutive thirds of the 30-minute window: the rates g1 (thirds 1→2) and
  // g2 (2→3) relate as g2/g1 = e^{-k Δ}; then Css = C(mid 2–3) + g2 / k. Refitted when the
  // window opens a new (1-minute) bucket, so it costs O(1) amortized at any rate.
  void FitFirstOrder() {
    fo_ = FoShape::kStay;
    css_ = std::numeric_limits<double>::quiet_NaN();
    std::array<BucketWindow::Segment, 3> seg;
    if (!windows_[3].Thirds(seg)) return;
    const double sigma = std::sqrt(noise_var_);
    const double floor = 1e-6 * scale_;
    const double d1 = seg[1].u - seg[0].u, d2 = seg[2].u - seg[1].u;
    const bool sig1 =
        std::fabs(d1) > std::max(2 * sigma * std::sqrt(1 / seg[0].n + 1 / seg[1].n), floor);
    const bool sig2 =
        std::fabs(d2) > std::max(2 * sigma * std::sqrt(1 / seg[1].n + 1 / seg[2].n), floor);
    const double dt1 = seg[1].t - seg[0].t, dt2 = seg[2].t - seg[1].t;
    if (!sig2 || !(dt1 > 0) || !(dt2 > 0)) return;  // no significant movement lately
    const double g1 = d1 / dt1;
    fo_rate_ = d2 / dt2;
    const double r = sig1 ? fo_rate_ / g1 : 0;
    if (!sig1 || !(r > 0) || r >= 1) {
      fo_ = FoShape::kDiverge;  // starting, reversing or accelerating: no steady state
      return;
    }
    fo_ = FoShape::kConverge;
    fo_k_ = -std::log(r) / ((dt1 + dt2) / 2);
    css_ = (seg[1].u + seg[2].u) / 2 + fo_rate_ / fo_k_;
  }

  // The steady-state margin and the time to threshold along the fitted curve, from the
  // current level.
  void FirstOrderFeatures(double margin_level, float* out) const {
    const float stay_tte = static_cast<float>(level_ >= thr_ ? 0 : kCapMin);
    switch (fo_) {
      case FoShape::kStay:
        out[kFoMargin] = Clip(margin_level, -kMarginClip, kMarginClip);
        out[kFoTte] = stay_tte;
        return;
      case FoShape::kDiverge:
        out[kFoMargin] = static_cast<float>(fo_rate_ > 0 ? -kMarginClip : kMarginClip);
        out[kFoTte] = Clip(TteMin(thr_ - level_, fo_rate_), 0, kCapMin, kCapMin);
        return;
      case FoShape::kConverge: {
        out[kFoMargin] = Clip((thr_ - css_) / scale_, -kMarginClip, kMarginClip);
        double tte = kCapMin;
        if (level_ >= thr_) {
          tte = 0;
        } else if (css_ > thr_) {
          tte = std::min(std::log((css_ - level_) / (css_ - thr_)) / fo_k_ / 60, kCapMin);
        }
        out[kFoTte] = Clip(tte, 0, kCapMin, kCapMin);
        return;
      }
    }
  }

  enum class FoShape : std::uint8_t { kStay, kDiverge, kConverge };

  bool high_;
  double thr_;
  std::uint64_t n_ = 0;
  double t0_ = 0, prev_t_ = 0, prev_u_ = 0;
  double base_ = 0, level_ = 0, trend_ = 0, noise_var_ = 0;
  double nominal_ = 0, last_gap_t_ = 0;
  int gap_streak_ = 0;
  bool in_excursion_ = false;
  double excursion_start_ = 0;
  double scale_ = 1, slope5_ = 0;
  FoShape fo_ = FoShape::kStay;
  double fo_rate_ = 0, fo_k_ = 0;  // value per second; 1 per second
  double css_ = std::numeric_limits<double>::quiet_NaN();
  std::array<BucketWindow, 4> windows_{BucketWindow(2 * 60.0), BucketWindow(5 * 60.0),
                                       BucketWindow(15 * 60.0), BucketWindow(30 * 60.0)};
};

}  // namespace

std::vector<std::string> FeatureNames() {
  return std::vector<std::string>(kFeatureNames.begin(), kFeatureNames.end());
}
std::size_t FeatureCount() { return kFeatureCount; }

struct FeatureState::Impl {
  explicit Impl(const Threshold& red) : f(red) {}
  WindowFeatures f;
};
FeatureState::FeatureState(const Threshold& red) : impl_(std::make_unique<Impl>(red)) {}
FeatureState::~FeatureState() = default;
FeatureState::FeatureState(FeatureState&&) noexcept = default;
FeatureState& FeatureState::operator=(FeatureState&&) noexcept = default;
void FeatureState::Update(double t, double value, float* out) { impl_->f.Update(t, value, out); }

// ---------------------------------------------------------------------------------------
// Tree ensemble
// ---------------------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxNodes = 10'000'000;

core::Status DumpError(std::size_t tree, std::string_view msg) {
  return core::Status::InvalidArgument("xgboost dump: tree " + std::to_string(tree) + ": " +
                                       std::string(msg));
}

bool GetInt32(const core::Json& j, std::string_view key, std::int64_t min, std::int64_t max,
              std::int32_t* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return false;
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max) return false;
  *out = static_cast<std::int32_t>(v);
  return true;
}

}  // namespace

core::Result<TreeEnsemble> TreeEnsemble::FromXgboostDump(const std::vector<std::string>& trees,
                                                         double base_margin) {
  if (!std::isfinite(base_margin))
    return core::Status::InvalidArgument("base_margin is not finite");
  TreeEnsemble e;
  e.base_margin_ = base_margin;
  std::size_t tree = 0;
  // Flattens one dumped node and its subtree in pre-order, so every child's index
  // exceeds its parent's (what FromJson requires).
  auto add = [&](auto& self, const core::Json& j, int depth, std::int32_t* index) -> core::Status {
    if (depth > 64) return DumpError(tree, "deeper than 64 levels");
    if (!j.is_object()) return DumpError(tree, "node is not an object");
    if (e.nodes_.size() >= kMaxNodes) return DumpError(tree, "too many nodes");
    const auto at = static_cast<std::int32_t>(e.nodes_.size());
    *index = at;
    e.nodes_.emplace_back();
    if (auto leaf = j.find("leaf"); leaf != j.end()) {
      if (!leaf->is_number() || !std::isfinite(leaf->get<double>())) {
        return DumpError(tree, "leaf is not a finite number");
      }
      e.nodes_[static_cast<std::size_t>(at)].threshold = static_cast<float>(leaf->get<double>());
      return core::Status::Ok();
    }
    auto split = j.find("split");
    auto cond = j.find("split_condition");
    auto children = j.find("children");
    if (split == j.end() || !split->is_string())
      return DumpError(tree, "split node without \"split\"");
    const std::string& name = split->get_ref<const std::string&>();
    auto feature = core::ParseInt(
        std::string_view(name).substr(std::min<std::size_t>(1, name.size())), 0, 1 << 20, "split");
    if (name.size() < 2 || name[0] != 'f' || !feature.ok()) {
      return DumpError(tree, "split \"" + name + "\" is not f<index>");
    }
    if (cond == j.end() || !cond->is_number() || !std::isfinite(cond->get<double>())) {
      return DumpError(tree, "split_condition is not a finite number");
    }
    std::int32_t yes_id = 0, no_id = 0, missing_id = 0;
    if (!GetInt32(j, "yes", 0, INT32_MAX, &yes_id) || !GetInt32(j, "no", 0, INT32_MAX, &no_id) ||
        !GetInt32(j, "missing", 0, INT32_MAX, &missing_id)) {
      return DumpError(tree, "split node without integer yes/no/missing");
    }
    if (children == j.end() || !children->is_array() || children->size() != 2) {
      return DumpError(tree, "split node without two children");
    }
    std::array<std::int32_t, 2> child_id{}, child_index{};
    for (std::size_t c = 0; c < 2; ++c) {
      const core::Json& cj = (*children)[c];
      if (!cj.is_object() || !GetInt32(cj, "nodeid", 0, INT32_MAX, &child_id[c])) {
        return DumpError(tree, "child without integer nodeid");
      }
      WG_RETURN_IF_ERROR(self(self, cj, depth + 1, &child_index[c]));
    }
    auto resolve = [&](std::int32_t id, std::int32_t* out) {
      for (std::size_t c = 0; c < 2; ++c) {
        if (child_id[c] == id) {
          *out = child_index[c];
          return true;
        }
      }
      return false;
    };
    Node n;
    n.feature = static_cast<std::int32_t>(*feature);
    n.threshold = static_cast<float>(cond->get<double>());
    if (child_id[0] == child_id[1] || !resolve(yes_id, &n.yes) || !resolve(no_id, &n.no) ||
        !resolve(missing_id, &n.missing) || n.yes == n.no) {
      return DumpError(tree, "yes/no/missing do not name the node's two children");
    }
    e.nodes_[static_cast<std::size_t>(at)] = n;
    return core::Status::Ok();
  };
  core::JsonLimits limits;
  limits.max_bytes = 256u << 20;
  limits.max_depth = 200;
  for (; tree < trees.size(); ++tree) {
    auto j = core::ParseJson(trees[tree], limits, "tree " + std::to_string(tree));
    if (!j.ok()) return j.error();
    std::int32_t root = 0;
    WG_RETURN_IF_ERROR(add(add, *j, 0, &root));
    e.roots_.push_back(root);
  }
  return e;
}

core::Result<TreeEnsemble> TreeEnsemble::FromJson(const core::Json& j, std::size_t n_features) {
  auto bad = [](std::string msg) {
    return core::Status::InvalidArgument("trees: " + msg, "trees");
  };
  WG_RETURN_IF_ERROR(core::RequireObject(j, "trees"));
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(j, {"base_margin", "roots", "nodes"}, "trees."));
  auto bm = j.find("base_margin");
  auto roots = j.find("roots");
  auto nodes = j.find("nodes");
  if (bm == j.end() || !bm->is_number() || !std::isfinite(bm->get<double>())) {
    return bad("base_margin: expected a finite number");
  }
  if (roots == j.end() || !roots->is_array()) return bad("roots: expected an array");
  if (nodes == j.end() || !nodes->is_array()) return bad("nodes: expected an array");
  if (nodes->size() > kMaxNodes) return bad("nodes: more than 10,000,000");
  if (n_features > static_cast<std::size_t>(INT32_MAX)) return bad("too many features");
  TreeEnsemble e;
  e.base_margin_ = bm->get<double>();
  const auto n = static_cast<std::int64_t>(nodes->size());
  e.nodes_.reserve(nodes->size());
  for (std::int64_t i = 0; i < n; ++i) {
    const core::Json& a = (*nodes)[static_cast<std::size_t>(i)];
    const std::string at = "nodes[" + std::to_string(i) + "]: ";
    if (!a.is_array() || a.size() != 5)
      return bad(at + "expected [feature, threshold, yes, no, missing]");
    for (std::size_t k = 0; k < 5; ++k) {
      // (An unsigned integer beyond int64 would wrap to a negative one on get<int64>.)
      const bool integer = a[k].is_number_integer() &&
                           !(a[k].is_number_unsigned() && a[k].get<std::uint64_t>() > INT64_MAX);
      if (k == 1 ? !a[k].is_number() : !integer) {
        return bad(at + (k == 1 ? "threshold is not a number"
                                : "feature/yes/no/missing must be integers"));
      }
    }
    const auto feature = a[0].get<std::int64_t>();
    const double threshold = a[1].get<double>();
    if (!std::isfinite(threshold) || std::fabs(threshold) > std::numeric_limits<float>::max()) {
      return bad(at + "threshold is not a finite float");
    }
    std::array<std::int64_t, 3> child = {a[2].get<std::int64_t>(), a[3].get<std::int64_t>(),
                                         a[4].get<std::int64_t>()};
    Node node;
    node.threshold = static_cast<float>(threshold);
    if (feature == -1) {
      if (child[0] != 0 || child[1] != 0 || child[2] != 0)
        return bad(at + "a leaf's children must be 0");
    } else {
      if (feature < 0 || static_cast<std::uint64_t>(feature) >= n_features) {
        return bad(at + "feature " + std::to_string(feature) + " out of range (the model has " +
                   std::to_string(n_features) + " features)");
      }
      for (std::int64_t c : child) {
        // Children come after their parent: no cycles, and every walk ends at a leaf.
        if (c <= i || c >= n) return bad(at + "child index " + std::to_string(c) + " out of range");
      }
      if (child[0] == child[1] || (child[2] != child[0] && child[2] != child[1])) {
        return bad(at + "missing must be yes or no, and yes != no");
      }
      node.feature = static_cast<std::int32_t>(feature);
      node.yes = static_cast<std::int32_t>(child[0]);
      node.no = static_cast<std::int32_t>(child[1]);
      node.missing = static_cast<std::int32_t>(child[2]);
    }
    e.nodes_.push_back(node);
  }
  e.roots_.reserve(roots->size());
  for (std::size_t i = 0; i < roots->size(); ++i) {
    const core::Json& r = (*roots)[i];
    if (!r.is_number_integer() || r.get<std::int64_t>() < 0 || r.get<std::int64_t>() >= n) {
      return bad("roots[" + std::to_string(i) + "]: not a node index");
    }
    e.roots_.push_back(static_cast<std::int32_t>(r.get<std::int64_t>()));
  }
  return e;
}

core::Json TreeEnsemble::ToJson() const {
  core::Json nodes = core::Json::array();
  for (const Node& n : nodes_) {
    nodes.push_back(
        core::Json::array({n.feature, static_cast<double>(n.threshold), n.yes, n.no, n.missing}));
  }
  core::Json roots = core::Json::array();
  for (std::int32_t r : roots_) roots.push_back(r);
  return core::Json{
      {"base_margin", base_margin_}, {"roots", std::move(roots)}, {"nodes", std::move(nodes)}};
}

double TreeEnsemble::Margin(const float* x) const {
  double sum = base_margin_;
  const Node* nodes = nodes_.data();
  for (std::int32_t root : roots_) {
    const Node* n = nodes + root;
    while (n->feature >= 0) {
      const float v = x[n->feature];
      // (A branch-free select measured slower: consecutive readings of a series mostly
      // take the same paths, which the branch predictor learns.)
      std::int32_t next = v < n->threshold ? n->yes : n->no;
      if (std::isnan(v)) next = n->missing;
      n = nodes + next;
    }
    sum += static_cast<double>(n->threshold);
  }
  return sum;
}

double TreeEnsemble::Probability(const float* x) const { return 1 / (1 + std::exp(-Margin(x))); }

// ---------------------------------------------------------------------------------------
// The gbt predictor
// ---------------------------------------------------------------------------------------

namespace {

class GbtState final : public State {
 public:
  explicit GbtState(const Threshold& threshold) : features(threshold), red(threshold) {}
  WindowFeatures features;
  Threshold red;
  std::array<float, kFeatureCount> x{};
};

class GbtModel final : public Predictor {
 public:
  explicit GbtModel(TreeEnsemble trees) : trees_(std::move(trees)) {}
  std::string_view kind() const override { return "gbt"; }
  std::unique_ptr<State> NewState(const Threshold& red) const override {
    return std::make_unique<GbtState>(red);
  }
  Forecast Update(State& state, double t, double value) const override {
    // The state comes from this predictor's NewState (the Predictor contract).
    auto& s = static_cast<GbtState&>(state);
    s.features.Update(t, value, s.x.data());
    Forecast f;
    f.probability = trees_.Probability(s.x.data());
    if (s.red.Crossed(value)) {
      f.tte_s = 0;
    } else {
      const float tte_min = s.x[kTte5];
      f.tte_s = tte_min >= kCapMin ? kNever : static_cast<double>(tte_min) * 60;
    }
    f.why.level = s.features.level();
    f.why.trend_per_min = s.features.trend_per_min();
    f.why.steady_state = s.features.steady_state();
    f.at_horizon = f.why.level + f.why.trend_per_min * horizon_s_ / 60;
    return f;
  }
  core::Json Params() const override {
    return core::Json{{"features", FeatureNames()}, {"trees", trees_.ToJson()}};
  }

 private:
  TreeEnsemble trees_;
};

}  // namespace

std::unique_ptr<Predictor> MakeGbt(TreeEnsemble trees) {
  return std::make_unique<GbtModel>(std::move(trees));
}

// ---------------------------------------------------------------------------------------
// Calibration
// ---------------------------------------------------------------------------------------

namespace {

// Replays one series' precomputed forecasts, so calibration runs the model once per
// reading instead of once per reading and candidate threshold; RunSeries applies the
// policy exactly as evaluation does.
class ReplayPredictor final : public Predictor {
 public:
  ReplayPredictor(const std::vector<double>& t, const std::vector<Forecast>& f) : t_(t), f_(f) {}
  std::string_view kind() const override { return "replay"; }
  std::unique_ptr<State> NewState(const Threshold&) const override {
    return std::make_unique<Cursor>();
  }
  Forecast Update(State& state, double t, double) const override {
    auto& c = static_cast<Cursor&>(state);
    while (c.i < t_.size() && t_[c.i] < t) ++c.i;
    if (c.i < t_.size() && t_[c.i] == t) return f_[c.i];
    return Forecast{};  // a time the series does not have: cannot happen
  }
  core::Json Params() const override { return core::Json::object(); }

 private:
  struct Cursor final : State {
    std::size_t i = 0;
  };
  const std::vector<double>& t_;
  const std::vector<Forecast>& f_;
};

// Candidate policies: on_probability x confirm (consecutive readings) x hold_s.
struct Candidate {
  double on = 0.5;
  int confirm = 1;
  double hold_s = 300;
};
std::vector<Candidate> CalibrationGrid() {
  std::vector<double> on;
  for (int i = 1; i <= 19; ++i) on.push_back(i / 20.0);
  on.push_back(0.97);
  on.push_back(0.99);
  std::vector<Candidate> g;
  for (int confirm : {1, 2, 3}) {
    for (double hold : {300.0, 900.0}) {
      for (double p : on) g.push_back(Candidate{p, confirm, hold});
    }
  }
  return g;
}

// The chosen candidate: the highest recall with false share <= max_false and recall >=
// kMinQualifyingRecall (ties: fewer false alarms per 1,000 h, then the longer median lead,
// then the later candidate); when none qualifies, the best balance recall x (1 - false
// share) (ties: lower false share). Without the recall floor a policy that never warns
// would "qualify" with a false share of 0.
constexpr double kMinQualifyingRecall = 0.5;
std::size_t ChooseThreshold(const std::vector<Score>& s, double max_false) {
  std::size_t best = s.size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i].false_share > max_false || s[i].recall < kMinQualifyingRecall) continue;
    if (best == s.size()) {
      best = i;
      continue;
    }
    const Score& a = s[i];
    const Score& b = s[best];
    if (a.recall != b.recall) {
      if (a.recall > b.recall) best = i;
    } else if (a.false_per_1000_point_hours != b.false_per_1000_point_hours) {
      if (a.false_per_1000_point_hours < b.false_per_1000_point_hours) best = i;
    } else if (a.median_lead_s >= b.median_lead_s) {
      best = i;  // equal lead: the later (higher) threshold
    }
  }
  if (best != s.size()) return best;
  best = 0;
  auto balance = [](const Score& x) { return x.recall * (1.0 - x.false_share); };
  for (std::size_t i = 1; i < s.size(); ++i) {
    const Score& a = s[i];
    const Score& b = s[best];
    if (balance(a) > balance(b) || (balance(a) == balance(b) && a.false_share < b.false_share)) {
      best = i;
    }
  }
  return best;
}

}  // namespace

core::Json Calibrate(Predictor& m, const Dataset& d, const TrainOptions& o) {
  const std::vector<Candidate> grid = CalibrationGrid();
  const WarningPolicy base = m.policy();
  auto policy_of = [&](const Candidate& c) {
    WarningPolicy p = base;
    p.on_probability = c.on;
    p.off_probability = c.on * 0.6;
    p.confirm = c.confirm;
    p.hold_s = c.hold_s;
    return p;
  };
  std::vector<std::vector<SeriesWarnings>> runs(grid.size());
  std::vector<Forecast> forecasts;
  for (const Scenario& sc : d.scenarios) {
    for (const Series& s : sc.series) {
      const std::size_t n = std::min(s.t.size(), s.v.size());
      if (n == 0) continue;
      forecasts.assign(s.t.size(), Forecast{});
      auto state = m.NewState(s.red);
      double last = -std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < n; ++i) {
        if (!(s.t[i] > last)) continue;  // duplicates are dropped, as RunSeries does
        last = s.t[i];
        forecasts[i] = m.Update(*state, s.t[i], s.v[i]);
      }
      ReplayPredictor replay(s.t, forecasts);
      replay.set_horizon_s(m.horizon_s());
      for (std::size_t g = 0; g < grid.size(); ++g) {
        replay.set_policy(policy_of(grid[g]));
        SeriesWarnings w;
        w.episodes = RunSeries(replay, s);
        w.events = s.events;
        w.onsets = s.onsets;
        w.first_t = s.t.front();
        w.last_t = s.t[n - 1];
        runs[g].push_back(std::move(w));
      }
    }
  }
  std::vector<Score> scores;
  core::Json table = core::Json::array();
  for (std::size_t g = 0; g < grid.size(); ++g) {
    scores.push_back(ScoreWarnings(runs[g], o.score));
    const Score& sc = scores.back();
    table.push_back(core::Json{{"on_probability", grid[g].on},
                               {"confirm", grid[g].confirm},
                               {"hold_s", grid[g].hold_s},
                               {"recall", sc.recall},
                               {"false_share", sc.false_share},
                               {"median_lead_min", sc.median_lead_s / 60},
                               {"false_per_1000h", sc.false_per_1000_point_hours}});
  }
  const std::size_t pick = ChooseThreshold(scores, o.max_false_share);
  m.set_policy(policy_of(grid[pick]));
  return table;
}

// ---------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------

namespace {

struct DMatrixFree {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterFree {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixFree>;
using BoosterPtr = std::unique_ptr<void, BoosterFree>;

core::Status Xgb(int rc, std::string_view what) {
  if (rc == 0) return core::Status::Ok();
  const char* err = XGBGetLastError();
  return core::Status::Internal("xgboost: " + std::string(what) + ": " +
                                (err ? err : "unknown error"));
}

std::string Num(double v) {
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%.17g", v);
  return buf.data();
}

core::Status CheckOptions(const TrainOptions& o) {
  auto bad = [](std::string_view field, std::string_view want) {
    return core::Status::InvalidArgument(std::string(field) + ": " + std::string(want),
                                         std::string(field));
  };
  if (o.rounds < 1 || o.rounds > 100'000) return bad("rounds", "must be in 1..100000");
  if (o.max_depth < 1 || o.max_depth > 16) return bad("max_depth", "must be in 1..16");
  if (!(o.eta > 0 && o.eta <= 1)) return bad("eta", "must be in (0, 1]");
  if (!(o.subsample > 0 && o.subsample <= 1)) return bad("subsample", "must be in (0, 1]");
  if (!(o.horizon_s > 0 && o.horizon_s <= 86'400)) return bad("horizon_s", "must be in (0, 86400]");
  if (!(o.sample_every_s >= 0 && o.sample_every_s <= 86'400))
    return bad("sample_every_s", "must be in [0, 86400]");
  if (!(o.validation_share >= 0 && o.validation_share < 1))
    return bad("validation_share", "must be in [0, 1)");
  if (!(o.max_false_share >= 0 && o.max_false_share <= 1))
    return bad("max_false_share", "must be in [0, 1]");
  if (!(o.score.lead_s >= 0 && o.score.horizon_s > o.score.lead_s))
    return bad("score", "needs 0 <= lead_s < horizon_s");
  if (o.threads < 1 || o.threads > 1024) return bad("threads", "must be in 1..1024");
  return core::Status::Ok();
}

// Deterministic split: validation when the first 8 bytes of SM3(seed || name), as a
// fraction of 2^64, fall below the validation share.
bool IsValidation(const std::string& name, std::uint64_t seed, double share) {
  std::string msg(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) msg[i] = static_cast<char>((seed >> (8 * i)) & 0xff);
  msg += name;
  const crypto::Digest32 d = crypto::Sm3(msg);
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < 8; ++i) h = (h << 8) | d[i];
  return static_cast<double>(h) / 18446744073709551616.0 < share;
}

void AppendBytes(std::string& out, const void* p, std::size_t n) {
  out.append(static_cast<const char*>(p), n);
}
void AppendString(std::string& out, const std::string& s) {
  const std::uint64_t n = s.size();
  AppendBytes(out, &n, sizeof n);
  out += s;
}
void AppendDoubles(std::string& out, const std::vector<double>& v) {
  const std::uint64_t n = v.size();
  AppendBytes(out, &n, sizeof n);
  if (!v.empty()) AppendBytes(out, v.data(), v.size() * sizeof(double));
}

// SM3 over every scenario in order: its name and, per series, point, kind, threshold and
// SM3(the times, values, events and onsets as little-endian IEEE 754 doubles, each list
// prefixed with its length). Strings and lists carry 8-byte length prefixes.
std::string InputDigest(const Dataset& d) {
  std::string outer;
  for (const Scenario& sc : d.scenarios) {
    AppendString(outer, sc.name);
    const std::uint64_t ns = sc.series.size();
    AppendBytes(outer, &ns, sizeof ns);
    for (const Series& s : sc.series) {
      AppendString(outer, s.point);
      AppendString(outer, s.kind);
      AppendBytes(outer, &s.red.value, sizeof s.red.value);
      outer.push_back(s.red.high ? 'H' : 'L');
      std::string inner;
      AppendDoubles(inner, s.t);
      AppendDoubles(inner, s.v);
      AppendDoubles(inner, s.events);
      AppendDoubles(inner, s.onsets);
      const crypto::Digest32 h = crypto::Sm3(inner);
      AppendBytes(outer, h.data(), h.size());
    }
  }
  return "sm3:" + core::ToHex(crypto::Sm3(outer));
}

core::Result<double> BaseScore(void* booster) {
  bst_ulong len = 0;
  const char* cfg = nullptr;
  WG_RETURN_IF_ERROR(Xgb(XGBoosterSaveJsonConfig(booster, &len, &cfg), "save config"));
  core::JsonLimits limits;
  limits.max_bytes = 16u << 20;
  limits.max_depth = 64;
  auto j = core::ParseJson(std::string_view(cfg, len), limits, "xgboost config");
  if (!j.ok()) return j.error();
  const core::Json* p = &*j;
  for (const char* key : {"learner", "learner_model_param", "base_score"}) {
    if (!p->is_object() || !p->contains(key)) {
      return core::Status::Internal("xgboost config: no learner.learner_model_param.base_score");
    }
    p = &(*p)[key];
  }
  double v = std::numeric_limits<double>::quiet_NaN();
  if (p->is_string()) {
    v = std::strtod(p->get_ref<const std::string&>().c_str(), nullptr);
  } else if (p->is_number()) {
    v = p->get<double>();
  }
  if (!(v > 0 && v < 1)) return core::Status::Internal("xgboost config: base_score not in (0, 1)");
  return v;
}

}  // namespace

core::Result<TrainResult> TrainGbt(const Dataset& train, const TrainOptions& o,
                                   const ProgressFn& progress) {
  WG_RETURN_IF_ERROR(CheckOptions(o));
  auto report = [&](const char* stage, std::size_t done, std::size_t total) {
    if (progress) progress(TrainProgress{stage, done, total});
  };
  std::size_t events = 0;
  for (const Scenario& sc : train.scenarios) {
    for (const Series& s : sc.series) events += s.events.size();
  }
  if (events == 0) return core::Status::InvalidArgument("training data has no events");

  // Split by name hash; when either part would be empty, both use the whole dataset.
  Dataset fit, validation;
  for (const Scenario& sc : train.scenarios) {
    (IsValidation(sc.name, o.seed, o.validation_share) ? validation : fit).scenarios.push_back(sc);
  }
  const bool split = !fit.scenarios.empty() && !validation.scenarios.empty();
  const Dataset& fit_set = split ? fit : train;
  const Dataset& cal_set = split ? validation : train;

  // Rows.
  const std::size_t nf = kFeatureCount;
  std::vector<float> x;
  std::vector<float> y;
  std::array<float, kFeatureCount> buf{};
  std::size_t positives = 0;
  for (std::size_t si = 0; si < fit_set.scenarios.size(); ++si) {
    for (const Series& s : fit_set.scenarios[si].series) {
      WindowFeatures f(s.red);
      double last_row = -std::numeric_limits<double>::infinity();
      double last_t = -std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < s.t.size() && i < s.v.size(); ++i) {
        const double t = s.t[i];
        if (!(t > last_t)) continue;
        last_t = t;
        f.Update(t, s.v[i], buf.data());
        // Past red the red alarm is in charge: no rows there (this also skips the
        // readings after an event while the value stays past red).
        if (s.red.Crossed(s.v[i])) continue;
        if (t - last_row < o.sample_every_s) continue;
        last_row = t;
        auto next = std::upper_bound(s.events.begin(), s.events.end(), t);
        const bool label = next != s.events.end() && *next <= t + o.horizon_s;
        x.insert(x.end(), buf.begin(), buf.end());
        y.push_back(label ? 1.0f : 0.0f);
        positives += label ? 1 : 0;
      }
    }
    report("features", si + 1, fit_set.scenarios.size());
  }
  const std::size_t rows = y.size();
  if (positives == 0) {
    return core::Status::InvalidArgument(
        "training data has no reading within horizon_s before an event");
  }
  if (positives == rows)
    return core::Status::InvalidArgument("training data has no negative readings");
  const std::size_t negatives = rows - positives;
  // Rare positives (under 10 % of rows) get weight sqrt(negatives / positives): enough to
  // keep the trees splitting on them without turning every probability up; calibration
  // picks the operating threshold anyway.
  const double pos_weight =
      positives * 10 < rows
          ? std::sqrt(static_cast<double>(negatives) / static_cast<double>(positives))
          : 1.0;

  DMatrixHandle dm_raw = nullptr;
  WG_RETURN_IF_ERROR(
      Xgb(XGDMatrixCreateFromMat(x.data(), static_cast<bst_ulong>(rows), static_cast<bst_ulong>(nf),
                                 std::numeric_limits<float>::quiet_NaN(), &dm_raw),
          "create matrix"));
  DMatrixPtr dm(dm_raw);
  WG_RETURN_IF_ERROR(
      Xgb(XGDMatrixSetFloatInfo(dm.get(), "label", y.data(), static_cast<bst_ulong>(rows)),
          "set labels"));
  std::vector<float>().swap(x);  // the matrix holds its own copy

  BoosterHandle b_raw = nullptr;
  DMatrixHandle dms[1] = {dm.get()};
  WG_RETURN_IF_ERROR(Xgb(XGBoosterCreate(dms, 1, &b_raw), "create booster"));
  BoosterPtr booster(b_raw);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"verbosity", "0"},
      {"objective", "binary:logistic"},
      {"tree_method", "hist"},
      {"eval_metric", "logloss"},
      {"eta", Num(o.eta)},
      {"max_depth", std::to_string(o.max_depth)},
      {"subsample", Num(o.subsample)},
      {"seed", std::to_string(o.seed)},
      {"nthread", std::to_string(o.threads)},
      {"scale_pos_weight", Num(pos_weight)},
  };
  for (const auto& [k, v] : params) {
    WG_RETURN_IF_ERROR(Xgb(XGBoosterSetParam(booster.get(), k.c_str(), v.c_str()), "set " + k));
  }
  for (int i = 0; i < o.rounds; ++i) {
    WG_RETURN_IF_ERROR(Xgb(XGBoosterUpdateOneIter(booster.get(), i, dm.get()),
                           "boost round " + std::to_string(i)));
    report("boosting", static_cast<std::size_t>(i) + 1, static_cast<std::size_t>(o.rounds));
  }

  bst_ulong n_trees = 0;
  const char** dump = nullptr;
  WG_RETURN_IF_ERROR(
      Xgb(XGBoosterDumpModelEx(booster.get(), "", 0, "json", &n_trees, &dump), "dump model"));
  std::vector<std::string> trees;
  trees.reserve(n_trees);
  for (bst_ulong i = 0; i < n_trees; ++i) trees.emplace_back(dump[i]);
  WG_ASSIGN_OR_RETURN(const double base_score, BaseScore(booster.get()));
  booster.reset();
  dm.reset();

  const double base_margin = std::log(base_score / (1 - base_score));
  WG_ASSIGN_OR_RETURN(TreeEnsemble ensemble, TreeEnsemble::FromXgboostDump(trees, base_margin));
  // The same strict check a model file gets on load (feature indices in range).
  if (auto check = TreeEnsemble::FromJson(ensemble.ToJson(), kFeatureCount); !check.ok()) {
    return core::Status::Internal("trained trees fail validation: " + check.error().message());
  }

  TrainResult result;
  result.model = MakeGbt(std::move(ensemble));
  result.model->set_horizon_s(o.horizon_s);
  report("calibration", 0, 1);
  core::Json table = Calibrate(*result.model, cal_set, o);
  report("calibration", 1, 1);

  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  const WarningPolicy& p = result.model->policy();
  result.training = core::Json{
      {"seed", o.seed},
      {"options",
       {{"rounds", o.rounds},
        {"max_depth", o.max_depth},
        {"eta", o.eta},
        {"subsample", o.subsample},
        {"horizon_s", o.horizon_s},
        {"sample_every_s", o.sample_every_s},
        {"validation_share", o.validation_share},
        {"score_lead_s", o.score.lead_s},
        {"score_horizon_s", o.score.horizon_s},
        {"max_false_share", o.max_false_share},
        {"threads", o.threads}}},
      {"scenarios",
       {{"train", fit_set.scenarios.size()},
        {"validation", split ? validation.scenarios.size() : 0},
        {"calibrated_on", split ? "validation" : "all"}}},
      {"rows", rows},
      {"positives", positives},
      {"scale_pos_weight", pos_weight},
      {"base_score", base_score},
      {"features", FeatureNames()},
      {"xgboost",
       std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch)},
      {"calibration",
       {{"table", std::move(table)},
        {"on_probability", p.on_probability},
        {"off_probability", p.off_probability}}},
      {"input_digest", InputDigest(train)},
  };
  return result;
}

}  // namespace wg::predict

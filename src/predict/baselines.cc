// The baseline predictors (static threshold, Prometheus-style predict_linear, Holt's
// double exponential smoothing) and MakeByKind, which builds every kind from its Params().
//
// All three share the contract of model.h: Update folds one reading into the per-series
// State without allocating and returns a Forecast whose probability is 0 or 1 (the
// baselines have no notion of uncertainty). Readings that break the contract (a time not
// after the previous one, a non-finite value) are not folded in; the forecast of the state
// as it stands is returned instead, so a bad feed cannot poison a state.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "wg/predict/gbt.h"
#include "wg/predict/model.h"

namespace wg::predict {

// Defined in kalman.cc: the kalman model from a Params() object, members checked.
namespace detail {
core::Result<std::unique_ptr<Predictor>> MakeKalmanChecked(const core::Json& params);
}  // namespace detail

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Time for a line at `level` moving `slope` per second to reach red; kNever when it moves
// away (or not at all); 0 when it is already there.
double LineTte(const Threshold& red, double level, double slope) {
  if (red.Crossed(level)) return 0;
  const double toward = red.high ? slope : -slope;
  if (!(toward > 0)) return kNever;
  return std::abs(red.value - level) / toward;
}

// Reads an optional finite number member in [lo, hi] (`fallback` when absent).
core::Result<double> ParamNumber(const core::Json& p, const char* key, double fallback, double lo,
                                 double hi) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  const std::string field = std::string("params.") + key;
  if (!it->is_number()) return core::Status::InvalidArgument("expected a number", field);
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return core::Status::InvalidArgument(
        "must be between " + core::DumpJson(lo) + " and " + core::DumpJson(hi) + ", got " +
            core::DumpJson(*it),
        field);
  }
  return v;
}

core::Status CheckMembers(const core::Json& p, std::initializer_list<std::string_view> allowed) {
  if (!p.is_object()) return core::Status::InvalidArgument("expected an object", "params");
  return core::RejectUnknownMembers(p, allowed, "params.");
}

// ---------------------------------------------------------------------------------------
// static

struct StaticState final : State {
  Threshold red;
};

class StaticModel final : public Predictor {
 public:
  std::string_view kind() const override { return "static"; }
  std::unique_ptr<State> NewState(const Threshold& red) const override {
    auto s = std::make_unique<StaticState>();
    s->red = red;
    return s;
  }
  Forecast Update(State& state, double /*t*/, double value) const override {
    const Threshold& red = static_cast<StaticState&>(state).red;
    Forecast f;
    f.at_horizon = value;
    f.why.level = value;
    if (!std::isfinite(value)) return f;
    const double warn = std::isnan(red.warn) ? red.value : red.warn;
    const bool past_warn = red.high ? value >= warn : value <= warn;
    f.probability = past_warn ? 1.0 : 0.0;
    f.tte_s = red.Crossed(value) ? 0.0 : kNever;
    return f;
  }
  core::Json Params() const override { return core::Json::object(); }
};

// ---------------------------------------------------------------------------------------
// linear: least squares over the readings of the last window_s (trend 0 until they span a
// quarter of the window).
//
// A ring buffer of fixed capacity holds the readings in the window. When readings are
// denser than window_s / (kCap - 4), the newest slot is overwritten until it is that far
// past the slot before it (decimation that always keeps the newest reading in the fit).
// Running sums over (t - t0, v - v0) give O(1) updates; they are recomputed from the
// buffer, with a fresh origin, after every kCap changes so cancellation cannot build up.

constexpr std::size_t kLinearCap = 512;

struct LinearState final : State {
  Threshold red;
  std::array<double, kLinearCap> t{};
  std::array<double, kLinearCap> v{};
  std::size_t head = 0;  // oldest slot
  std::size_t n = 0;
  double t0 = 0, v0 = 0;  // origin of the sums
  double st = 0, sv = 0, stt = 0, stv = 0;
  std::size_t changes = 0;  // since the sums were last recomputed
  double last_t = -kNever;

  std::size_t Slot(std::size_t i) const { return (head + i) % kLinearCap; }
  void Add(double ti, double vi) {
    const double x = ti - t0, y = vi - v0;
    st += x;
    sv += y;
    stt += x * x;
    stv += x * y;
  }
  void Remove(double ti, double vi) {
    const double x = ti - t0, y = vi - v0;
    st -= x;
    sv -= y;
    stt -= x * x;
    stv -= x * y;
  }
  void Recompute() {
    t0 = n > 0 ? t[head] : 0;
    v0 = n > 0 ? v[head] : 0;
    st = sv = stt = stv = 0;
    for (std::size_t i = 0; i < n; ++i) Add(t[Slot(i)], v[Slot(i)]);
    changes = 0;
  }
};

class LinearModel final : public Predictor {
 public:
  explicit LinearModel(double window_s)
      : window_s_(window_s), min_spacing_s_(window_s / static_cast<double>(kLinearCap - 4)) {}

  std::string_view kind() const override { return "linear"; }
  std::unique_ptr<State> NewState(const Threshold& red) const override {
    auto s = std::make_unique<LinearState>();
    s->red = red;
    return s;
  }

  Forecast Update(State& state, double t, double value) const override {
    auto& s = static_cast<LinearState&>(state);
    if (std::isfinite(t) && std::isfinite(value) && t > s.last_t) {
      Fold(s, t, value);
      s.last_t = t;
    }
    return Predict(s);
  }

  core::Json Params() const override { return {{"window_s", window_s_}}; }

 private:
  void Fold(LinearState& s, double t, double value) const {
    // Evict readings older than the window (the newest one always stays).
    while (s.n > 0 && s.t[s.head] < t - window_s_) {
      s.Remove(s.t[s.head], s.v[s.head]);
      s.head = (s.head + 1) % kLinearCap;
      --s.n;
      ++s.changes;
    }
    if (s.n == 0) {
      s.t[s.head] = t;
      s.v[s.head] = value;
      s.n = 1;
      s.Recompute();
      return;
    }
    const std::size_t newest = s.Slot(s.n - 1);
    const bool overwrite = s.n >= 2 && t - s.t[s.Slot(s.n - 2)] < min_spacing_s_;
    if (overwrite) {
      s.Remove(s.t[newest], s.v[newest]);
      s.t[newest] = t;
      s.v[newest] = value;
      s.Add(t, value);
    } else {
      if (s.n == kLinearCap) {  // cannot happen with the spacing rule; kept as a guard
        s.Remove(s.t[s.head], s.v[s.head]);
        s.head = (s.head + 1) % kLinearCap;
        --s.n;
      }
      const std::size_t slot = s.Slot(s.n);
      s.t[slot] = t;
      s.v[slot] = value;
      ++s.n;
      s.Add(t, value);
    }
    if (++s.changes >= kLinearCap) s.Recompute();
  }

  Forecast Predict(const LinearState& s) const {
    Forecast f;
    if (s.n == 0) return f;
    const double n = static_cast<double>(s.n);
    const double now = s.t[s.Slot(s.n - 1)];
    double slope = 0;
    const double den = n * s.stt - s.st * s.st;
    // den is n^2 times the variance of the times: guard against all-equal times. A fit over
    // less than a quarter of the window (a series' first readings, the first after a long
    // gap) extrapolates noise, so the line is flat until the readings span that much.
    const double span = now - s.t[s.head];
    if (s.n >= 2 && span >= window_s_ / 4 && den > 1e-12 * n * n) {
      slope = (n * s.stv - s.st * s.sv) / den;
    }
    const double mean_t = s.t0 + s.st / n;
    const double mean_v = s.v0 + s.sv / n;
    const double fit_now = mean_v + slope * (now - mean_t);
    f.at_horizon = fit_now + slope * horizon_s_;
    f.probability = s.red.Crossed(f.at_horizon) ? 1.0 : 0.0;
    f.tte_s = s.red.Crossed(s.v[s.Slot(s.n - 1)]) ? 0.0 : LineTte(s.red, fit_now, slope);
    f.why.trend_per_min = slope * 60;
    f.why.level = fit_now;
    return f;
  }

  double window_s_;
  double min_spacing_s_;
};

// ---------------------------------------------------------------------------------------
// holt: level and trend (per second), time-aware.
//
// For a gap dt the smoothing weights are alpha_eff = 1 - (1 - alpha)^(dt / dt_ref) (and the
// same for beta), so alpha means "per nominal interval" whatever the sampling: dt_ref is the
// median of the first (up to) five intervals of the series. The trend starts at 0 (no
// warning from a single noisy difference) and is learned at rate beta.

constexpr int kHoltRefIntervals = 5;

struct HoltState final : State {
  Threshold red;
  bool started = false;
  double last_t = 0;
  double level = 0;
  double trend = 0;  // per second
  std::array<double, kHoltRefIntervals> intervals{};
  int n_intervals = 0;
  double dt_ref = 0;
};

class HoltModel final : public Predictor {
 public:
  HoltModel(double alpha, double beta)
      : alpha_(alpha), beta_(beta), log_keep_a_(std::log1p(-alpha)), log_keep_b_(std::log1p(-beta)) {}
  std::string_view kind() const override { return "holt"; }
  std::unique_ptr<State> NewState(const Threshold& red) const override {
    auto s = std::make_unique<HoltState>();
    s->red = red;
    return s;
  }

  Forecast Update(State& state, double t, double value) const override {
    auto& s = static_cast<HoltState&>(state);
    if (!std::isfinite(t) || !std::isfinite(value)) return Predict(s, kNaN);
    if (!s.started) {
      s.started = true;
      s.last_t = t;
      s.level = value;
      return Predict(s, value);
    }
    if (!(t > s.last_t)) return Predict(s, kNaN);
    const double dt = t - s.last_t;
    s.last_t = t;
    if (s.n_intervals < kHoltRefIntervals) {
      s.intervals[static_cast<std::size_t>(s.n_intervals++)] = dt;
      std::array<double, kHoltRefIntervals> sorted = s.intervals;
      const auto end = sorted.begin() + s.n_intervals;
      std::sort(sorted.begin(), end);
      s.dt_ref = sorted[static_cast<std::size_t>(s.n_intervals / 2)];
    }
    const double steps = dt / s.dt_ref;
    // (1 - alpha)^steps as exp(steps log(1 - alpha)): alpha = 1 gives exp(-inf) = 0.
    const double a = 1 - std::exp(steps * log_keep_a_);
    const double b = 1 - std::exp(steps * log_keep_b_);
    const double prev = s.level;
    s.level = a * value + (1 - a) * (s.level + s.trend * dt);
    s.trend = b * (s.level - prev) / dt + (1 - b) * s.trend;
    return Predict(s, value);
  }

  core::Json Params() const override { return {{"alpha", alpha_}, {"beta", beta_}}; }

 private:
  Forecast Predict(const HoltState& s, double raw) const {
    Forecast f;
    if (!s.started) return f;
    f.at_horizon = s.level + s.trend * horizon_s_;
    f.probability = s.red.Crossed(f.at_horizon) ? 1.0 : 0.0;
    f.tte_s = (std::isfinite(raw) && s.red.Crossed(raw)) ? 0.0 : LineTte(s.red, s.level, s.trend);
    f.why.trend_per_min = s.trend * 60;
    f.why.level = s.level;
    return f;
  }

  double alpha_, beta_;
  double log_keep_a_, log_keep_b_;  // log(1 - alpha), log(1 - beta)
};

core::Result<std::unique_ptr<Predictor>> MakeGbtChecked(const core::Json& p) {
  WG_RETURN_IF_ERROR(CheckMembers(p, {"features", "trees"}));
  auto fit = p.find("features");
  if (fit == p.end()) return core::Status::InvalidArgument("is required", "params.features");
  if (!fit->is_array()) return core::Status::InvalidArgument("expected an array", "params.features");
  std::vector<std::string> names;
  for (const auto& e : *fit) {
    if (!e.is_string()) {
      return core::Status::InvalidArgument("expected an array of strings", "params.features");
    }
    names.push_back(e.get<std::string>());
  }
  const std::vector<std::string> ours = FeatureNames();
  if (names != ours) {
    std::string have, want;
    for (const auto& n : names) have += (have.empty() ? "" : ",") + n;
    for (const auto& n : ours) want += (want.empty() ? "" : ",") + n;
    return core::Status::InvalidArgument(
        "model features differ from this version's: model [" + have + "], this version [" +
            want + "]",
        "params.features");
  }
  auto tit = p.find("trees");
  if (tit == p.end()) return core::Status::InvalidArgument("is required", "params.trees");
  auto trees = TreeEnsemble::FromJson(*tit, FeatureCount());
  if (!trees) return trees.error().WithContext("params.trees");
  std::unique_ptr<Predictor> m = MakeGbt(std::move(*trees));
  if (m == nullptr) return core::Status::Internal("gbt model could not be built");
  return m;
}

}  // namespace

std::unique_ptr<Predictor> MakeStatic() { return std::make_unique<StaticModel>(); }

std::unique_ptr<Predictor> MakeLinear(double window_s) {
  return std::make_unique<LinearModel>(window_s);
}

std::unique_ptr<Predictor> MakeHolt(double alpha, double beta) {
  return std::make_unique<HoltModel>(alpha, beta);
}

core::Result<std::unique_ptr<Predictor>> MakeByKind(std::string_view kind, const core::Json& params) {
  if (kind == "static") {
    WG_RETURN_IF_ERROR(CheckMembers(params, {}));
    return MakeStatic();
  }
  if (kind == "linear") {
    WG_RETURN_IF_ERROR(CheckMembers(params, {"window_s"}));
    WG_ASSIGN_OR_RETURN(double w, ParamNumber(params, "window_s", 600, 1, 7 * 86400.0));
    return MakeLinear(w);
  }
  if (kind == "holt") {
    WG_RETURN_IF_ERROR(CheckMembers(params, {"alpha", "beta"}));
    WG_ASSIGN_OR_RETURN(double alpha, ParamNumber(params, "alpha", 0.3, 1e-6, 1));
    WG_ASSIGN_OR_RETURN(double beta, ParamNumber(params, "beta", 0.1, 0, 1));
    return MakeHolt(alpha, beta);
  }
  if (kind == "kalman") return detail::MakeKalmanChecked(params);
  if (kind == "gbt") return MakeGbtChecked(params);
  return core::Status::InvalidArgument(
      "unknown model kind '" + std::string(kind) + "' (static, linear, holt, kalman, gbt)", "kind");
}

}  // namespace wg::predict

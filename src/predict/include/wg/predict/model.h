#pragma once
// Predictors: per-series streaming forecasts of crossing the red threshold
// (docs/adr/0013-early-warning.md, docs/formats/predict-model.md).
//
// A Predictor is immutable and shared (the model); each series has its own State created
// by NewState. Update takes one reading (epoch seconds, value in the threshold's unit;
// times strictly increasing per state — the caller drops duplicates) and returns the
// forecast: the probability of crossing within the model's horizon, the estimated time to
// crossing, and an explanation. Update never allocates and never throws; amortized cost
// is the figure `predict eval` reports.
//
// Whether a forecast becomes a warning is the WarningPolicy's business (the same rules for
// every model, see WarningTracker), so models compare on equal terms.

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/predict/dataset.h"
#include "wg/predict/metrics.h"

namespace wg::predict {

inline constexpr double kNever = std::numeric_limits<double>::infinity();

// Why a model expects what it expects. Fields a model does not estimate are NaN.
struct Explanation {
  double trend_per_min = std::numeric_limits<double>::quiet_NaN();   // unit per minute
  double source_per_min = std::numeric_limits<double>::quiet_NaN();  // S/V, unit per minute
  double ventilation_per_h = std::numeric_limits<double>::quiet_NaN();  // Q/V, air changes/h
  double steady_state = std::numeric_limits<double>::quiet_NaN();    // S/Q, the level it tends to
  double level = std::numeric_limits<double>::quiet_NaN();           // filtered current value
};

struct Forecast {
  double probability = 0;  // of crossing within the model's horizon, [0, 1]
  double tte_s = kNever;   // estimated time to crossing from this reading (0: crossed)
  double at_horizon = std::numeric_limits<double>::quiet_NaN();  // expected value at horizon
  Explanation why;
};

// Per-series state: opaque to callers.
class State {
 public:
  virtual ~State() = default;
};

// When a forecast turns into a warning (same for every model):
//   on:  probability >= on_probability and the reading is not already past the red
//        threshold (then the red alarm itself is in charge) — for `confirm` consecutive
//        readings;
//   off: probability < off_probability for `hold_s` seconds of reading time, or the reading
//        crosses the red threshold (the event itself ends the warning);
//   re-arm: after a reading past red, no new warning until the readings have stayed inside
//        for `rearm_s` (the red alarm is in charge meanwhile; the same 10 minutes after
//        which the simulator labels a new event).
struct WarningPolicy {
  double on_probability = 0.5;
  double off_probability = 0.3;
  double hold_s = 300;
  int confirm = 1;
  double rearm_s = 600;
};
core::Json ToJson(const WarningPolicy& p);
core::Result<WarningPolicy> ParseWarningPolicy(const core::Json& j);  // strict, names members
// The ranges ParseWarningPolicy enforces, for a policy built in code (a model handed to
// the live service); the field is `prefix` + the member ("policy.off_probability").
core::Status ValidateWarningPolicy(const WarningPolicy& p, std::string_view prefix = "");

class WarningTracker {
 public:
  explicit WarningTracker(const WarningPolicy& p) : p_(p) {}
  enum class Change : std::uint8_t { kNone, kOn, kOff };
  Change Update(double t, double value, const Threshold& red, const Forecast& f);
  bool on() const { return on_; }
  double on_since() const { return since_; }

 private:
  WarningPolicy p_;
  bool on_ = false;
  double since_ = 0;
  double below_since_ = -1;  // first reading time with probability < off (while on)
  int streak_ = 0;
  bool in_red_ = false;       // a reading was past red; not yet re-armed
  bool inside_run_ = false;   // while in_red_: readings inside since inside_since_
  double inside_since_ = 0;
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  // "static", "linear", "holt", "kalman", "gbt".
  virtual std::string_view kind() const = 0;
  virtual std::unique_ptr<State> NewState(const Threshold& red) const = 0;
  virtual Forecast Update(State& s, double t, double value) const = 0;

  // The model's horizon for `probability` (default 15 min).
  double horizon_s() const { return horizon_s_; }
  const WarningPolicy& policy() const { return policy_; }
  void set_policy(const WarningPolicy& p) { policy_ = p; }
  void set_horizon_s(double h) { horizon_s_ = h; }
  // Everything needed to rebuild the model with MakeByKind (the gbt model includes its
  // feature list and trees): the model file's "params".
  virtual core::Json Params() const = 0;

 protected:
  double horizon_s_ = 15 * 60;
  WarningPolicy policy_;
};

// Baselines and the physics model, with their parameters (members of Params()).
//
// static:  warns (probability 1) once the value passes the warn level (the rulebook's
//          yellow threshold; the red one when there is none). No lead beyond that.
// linear:  Prometheus predict_linear: least squares over the last `window_s` of readings,
//          extrapolated `horizon_s` ahead; probability 1 when the extrapolation crosses red.
// holt:    Holt's double exponential smoothing (level alpha, trend beta, time-aware for
//          irregular sampling); probability 1 when level + trend * horizon crosses red.
// kalman:  mass balance of a ventilated space, dC/dt = S/V - (Q/V) C, as an extended Kalman
//          filter over [C, S/V, Q/V] (process noise q_*, measurement noise r estimated
//          online from innovations); the forecast C(t + h) = C_ss + (C - C_ss) e^{-kh} with
//          C_ss = (S/V)/(Q/V), its variance from the state covariance, and probability
//          P(C(t + h) past red) from the normal approximation. Explains itself: source
//          S/V, ventilation Q/V (air changes per hour), steady state, trend.
std::unique_ptr<Predictor> MakeStatic();
std::unique_ptr<Predictor> MakeLinear(double window_s = 600);
std::unique_ptr<Predictor> MakeHolt(double alpha = 0.3, double beta = 0.1);
std::unique_ptr<Predictor> MakeKalman(const core::Json& params = core::Json::object());
// Same, from a Params() object (unknown members are errors naming them; "gbt" is built
// by MakeGbt, gbt.h).
core::Result<std::unique_ptr<Predictor>> MakeByKind(std::string_view kind, const core::Json& params);

// Runs a predictor with its policy over one series; returns the warning episodes. Used
// by evaluation and training (calibration).
std::vector<Episode> RunSeries(const Predictor& m, const Series& s);

}  // namespace wg::predict

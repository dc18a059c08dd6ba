// The mass-balance model: an extended Kalman filter over a well-mixed ventilated space,
//
//   dC/dt = S/V - (Q/V) C
//
// written relative to the series' baseline B (its first reading, taken as the ambient or
// normal level) and scaled by D = |red - B| (floored), so one set of parameters serves
// every kind and threshold:
//
//   y = (C - B) / D,   dy/dt = a - k y,   a = net source / V relative to ambient, k = Q/V.
//
// For gases entering the space a > 0 and y rises toward y_ss = a / k; for oxygen being
// displaced (a low threshold) a < 0 and y falls toward a negative steady state; the same
// equations serve both directions. State x = [y, a, k]; a and k follow random walks
// (process noise q_a, q_k: a source or the ventilation changes), y has a small process
// noise q_c (imperfect mixing). k is kept in [0, k_max].
//
// Between readings the mean is propagated exactly (y' = y e^{-k dt} + a g(dt) with
// g(dt) = (1 - e^{-k dt}) / k, which tends to dt as k -> 0), the covariance through the
// Jacobian. The measurement noise r is estimated online: an exponential average of
// (innovation^2 - predicted state variance), floored at r_min^2. An innovation beyond
// outlier_sigma standard deviations is an outlier and is not folded in (a single spike
// cannot move the state), unless the previous reading was an outlier too and the two agree
// (same side, close values): that is a real step, accepted with the level's variance
// inflated by the innovation so the filter jumps to it.
//
// Forecast at horizon h: y_h = y_ss + (y - y_ss) e^{-k h} (k -> 0: y + a h); its variance
// by linearization in (y, a, k) with the state covariance, plus r (crossings are judged on
// readings). The mean path is monotone between y and y_h (an exponential approach), so
// the chance of crossing at any time within h is taken as the larger of the chances that
// y (now) or y_h is past red, each from the normal approximation. Time to crossing solves
// y(tau) = red exactly; kNever when the steady state does not pass red.

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "wg/predict/model.h"

namespace wg::predict {

namespace detail {
core::Result<std::unique_ptr<Predictor>> MakeKalmanChecked(const core::Json& params);
}  // namespace detail

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Below this ventilation rate (1/s, about 4e-9 air changes per hour) the model is a line.
constexpr double kTinyK = 1e-12;

using Mat3 = std::array<std::array<double, 3>, 3>;

// Parameters in the units of Params() (documented in docs/formats/predict-model.md).
struct KalmanParams {
  double q_c = 1e-5;          // level random walk, scale^2 per minute
  double q_a = 2e-5;          // source random walk, (scale/min)^2 per minute
  double q_k = 0.25;          // ventilation random walk, (1/h)^2 per hour
  double r0 = 0.02;           // initial measurement noise sd, scale
  double r_min = 0.002;       // floor of the measurement noise sd, scale
  double r_rate = 0.05;       // weight of one innovation in the noise estimate
  double outlier_sigma = 6;   // innovations beyond this many sd are outliers
  double k0_per_h = 1;        // initial ventilation guess, air changes per hour
  double k_sd_per_h = 2;      // its standard deviation (also the cap of k's sd)
  double k_max_per_h = 60;    // ventilation never estimated above this
  double a_sd_per_min = 0.02; // initial sd of the source, scale per minute
};

struct Member {
  const char* name;
  double KalmanParams::*field;
  double lo, hi;
};

// Ranges: wide enough for any plausible use, narrow enough to keep the filter finite.
constexpr std::array<Member, 11> kMembers{{
    {"q_c", &KalmanParams::q_c, 0, 1},
    {"q_a", &KalmanParams::q_a, 0, 1},
    {"q_k", &KalmanParams::q_k, 0, 1e4},
    {"r0", &KalmanParams::r0, 1e-6, 10},
    {"r_min", &KalmanParams::r_min, 1e-6, 10},
    {"r_rate", &KalmanParams::r_rate, 1e-4, 1},
    {"outlier_sigma", &KalmanParams::outlier_sigma, 2, 1000},
    {"k0_per_h", &KalmanParams::k0_per_h, 0, 1000},
    {"k_sd_per_h", &KalmanParams::k_sd_per_h, 1e-3, 1000},
    {"k_max_per_h", &KalmanParams::k_max_per_h, 1e-3, 1e4},
    {"a_sd_per_min", &KalmanParams::a_sd_per_min, 1e-6, 100},
}};

// strict: unknown members and bad values are errors; otherwise bad or unknown members are
// ignored (defaults used), which is what MakeKalman (no error channel) does.
core::Result<KalmanParams> ParseParams(const core::Json& j, bool strict) {
  KalmanParams p;
  if (!j.is_object()) {
    if (strict) return core::Status::InvalidArgument("expected an object", "params");
    return p;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Member* m = nullptr;
    for (const auto& c : kMembers) {
      if (it.key() == c.name) m = &c;
    }
    const std::string field = "params." + it.key();
    if (m == nullptr) {
      if (strict) return core::Status::InvalidArgument("unknown member", field);
      continue;
    }
    if (!it->is_number()) {
      if (strict) return core::Status::InvalidArgument("expected a number", field);
      continue;
    }
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < m->lo || v > m->hi) {
      if (strict) {
        return core::Status::InvalidArgument("must be between " + core::DumpJson(m->lo) +
                                                 " and " + core::DumpJson(m->hi) + ", got " +
                                                 core::DumpJson(*it),
                                             field);
      }
      continue;
    }
    p.*(m->field) = v;
  }
  if (p.r_min > p.r0) {
    if (strict) return core::Status::InvalidArgument("must not exceed r0", "params.r_min");
    p.r_min = p.r0;
  }
  if (p.k0_per_h > p.k_max_per_h) {
    if (strict) return core::Status::InvalidArgument("must not exceed k_max_per_h", "params.k0_per_h");
    p.k0_per_h = p.k_max_per_h;
  }
  return p;
}

// (1 - e^{-x}) / x, 1 at 0.
double Phi1(double x) { return std::abs(x) < 1e-8 ? 1 - x / 2 : -std::expm1(-x) / x; }

// g(k, dt) = (1 - e^{-k dt}) / k and its derivative in k.
struct Decay {
  double e = 1;     // e^{-k dt}
  double g = 0;     // (1 - e) / k
  double dgdk = 0;  // d g / d k
};
Decay DecayOver(double k, double dt) {
  Decay d;
  const double x = k * dt;
  d.e = std::exp(-x);
  d.g = dt * Phi1(x);
  if (x < 1e-4) {
    d.dgdk = dt * dt * (-0.5 + x / 3 - x * x / 8);
  } else {
    d.dgdk = (dt * d.e - d.g) / k;
  }
  return d;
}

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

struct KalmanState final : State {
  Threshold red;
  bool started = false;
  double t = 0;
  double base = 0;   // B
  double scale = 1;  // D
  double red_n = 1;  // (red - B) / D
  std::array<double, 3> x{};  // y, a (1/s), k (1/s)
  Mat3 p{};
  double r = 0;      // measurement noise variance (normalized), the running estimate
  bool prev_outlier = false;
  double prev_z = 0, prev_nu = 0;
};

class KalmanModel final : public Predictor {
 public:
  explicit KalmanModel(const KalmanParams& p) : p_(p) {
    // Internal units: normalized value, seconds.
    qc_ = p.q_c / 60;
    qa_ = p.q_a / (60.0 * 60.0 * 60.0);
    qk_ = p.q_k / (3600.0 * 3600.0 * 3600.0);
    k0_ = p.k0_per_h / 3600;
    kmax_ = p.k_max_per_h / 3600;
    pkk0_ = (p.k_sd_per_h / 3600) * (p.k_sd_per_h / 3600);
    paa0_ = (p.a_sd_per_min / 60) * (p.a_sd_per_min / 60);
    rmin_ = p.r_min * p.r_min;
  }

  std::string_view kind() const override { return "kalman"; }

  std::unique_ptr<State> NewState(const Threshold& red) const override {
    auto s = std::make_unique<KalmanState>();
    s->red = red;
    return s;
  }

  Forecast Update(State& state, double t, double value) const override {
    auto& s = static_cast<KalmanState&>(state);
    if (!std::isfinite(t) || !std::isfinite(value)) return Predict(s);
    if (!s.started) {
      Start(s, t, value);
      return Predict(s);
    }
    if (!(t > s.t)) return Predict(s);
    const double dt = t - s.t;
    s.t = t;
    Propagate(s, dt);
    Correct(s, (value - s.base) / s.scale);
    return Predict(s);
  }

  core::Json Params() const override {
    core::Json j = core::Json::object();
    for (const auto& m : kMembers) j[m.name] = p_.*(m.field);
    return j;
  }

 private:
  void Start(KalmanState& s, double t, double value) const {
    s.started = true;
    s.t = t;
    s.base = value;
    const double dist = std::abs(s.red.value - value);
    s.scale = std::max({dist, 0.05 * std::abs(s.red.value), 0.05 * std::abs(value), 1e-6});
    s.red_n = (s.red.value - value) / s.scale;
    s.x = {0, 0, k0_};
    s.p = Mat3{};
    s.r = p_.r0 * p_.r0;
    s.p[0][0] = s.r;
    s.p[1][1] = paa0_;
    s.p[2][2] = pkk0_;
  }

  void Propagate(KalmanState& s, double dt) const {
    const double y = s.x[0], a = s.x[1], k = s.x[2];
    const Decay d = DecayOver(k, dt);
    s.x[0] = y * d.e + a * d.g;
    // F = [[e, g, -dt y e + a dg/dk], [0, 1, 0], [0, 0, 1]]
    const std::array<double, 3> f0 = {d.e, d.g, -dt * y * d.e + a * d.dgdk};
    Mat3& p = s.p;
    // Row 0 of F P, then F P F^T (rows 1, 2 of F are identity rows).
    std::array<double, 3> fp0{};
    for (int j = 0; j < 3; ++j) {
      fp0[static_cast<std::size_t>(j)] = f0[0] * p[0][static_cast<std::size_t>(j)] +
                                         f0[1] * p[1][static_cast<std::size_t>(j)] +
                                         f0[2] * p[2][static_cast<std::size_t>(j)];
    }
    const double p00 = fp0[0] * f0[0] + fp0[1] * f0[1] + fp0[2] * f0[2];
    p[0][0] = p00;
    p[0][1] = p[1][0] = fp0[1];
    p[0][2] = p[2][0] = fp0[2];
    // Process noise: the source's random walk integrates into the level.
    p[0][0] += qc_ * dt + qa_ * dt * dt * dt / 3;
    p[0][1] += qa_ * dt * dt / 2;
    p[1][0] = p[0][1];
    p[1][1] += qa_ * dt;
    p[2][2] += qk_ * dt;
    // k is unobservable while the level sits at the baseline: keep its variance bounded
    // (scaling row and column keeps P positive semi-definite).
    if (p[2][2] > pkk0_) {
      const double f = std::sqrt(pkk0_ / p[2][2]);
      p[2][0] *= f;
      p[0][2] = p[2][0];
      p[2][1] *= f;
      p[1][2] = p[2][1];
      p[2][2] = pkk0_;
    }
  }

  void Correct(KalmanState& s, double z) const {
    Mat3& p = s.p;
    const double r = std::max(s.r, rmin_);
    const double nu = z - s.x[0];
    double innov_var = p[0][0] + r;
    const double limit = p_.outlier_sigma * p_.outlier_sigma * innov_var;
    if (nu * nu > limit) {
      const bool agree = s.prev_outlier && (nu > 0) == (s.prev_nu > 0) &&
                         std::abs(z - s.prev_z) < 0.5 * std::max(std::abs(nu), std::abs(s.prev_nu));
      if (!agree) {
        s.prev_outlier = true;
        s.prev_z = z;
        s.prev_nu = nu;
        return;
      }
      // A real step: let the level jump to it.
      p[0][0] += nu * nu;
      innov_var = p[0][0] + r;
    } else {
      // Noise estimate from ordinary innovations only.
      s.r += p_.r_rate * (nu * nu - (innov_var - r) - s.r);
      if (s.r < rmin_) s.r = rmin_;
    }
    s.prev_outlier = false;
    // K = P H^T / S with H = [1, 0, 0]; Joseph form keeps P symmetric and PSD.
    const std::array<double, 3> kg = {p[0][0] / innov_var, p[1][0] / innov_var, p[2][0] / innov_var};
    for (std::size_t i = 0; i < 3; ++i) s.x[i] += kg[i] * nu;
    Mat3 a{};  // (I - K H) P
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j) a[i][j] = p[i][j] - kg[i] * p[0][j];
    }
    Mat3 n{};  // a (I - K H)^T + K r K^T
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j) n[i][j] = a[i][j] - a[i][0] * kg[j] + kg[i] * r * kg[j];
    }
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = i; j < 3; ++j) p[i][j] = p[j][i] = 0.5 * (n[i][j] + n[j][i]);
      p[i][i] = std::max(p[i][i], 0.0);
    }
    s.x[2] = std::clamp(s.x[2], 0.0, kmax_);
  }

  // P(past red) for a normalized value with variance `var`.
  double PastProbability(const KalmanState& s, double y, double var) const {
    const double sd = std::sqrt(std::max(var, 1e-300));
    const double z = (s.red.high ? (y - s.red_n) : (s.red_n - y)) / sd;
    return NormalCdf(z);
  }

  Forecast Predict(const KalmanState& s) const {
    Forecast f;
    if (!s.started) return f;
    const double y = s.x[0], a = s.x[1], k = s.x[2];
    const double h = horizon_s_;
    const Decay d = DecayOver(k, h);
    const double yh = y * d.e + a * d.g;
    const std::array<double, 3> j = {d.e, d.g, -h * y * d.e + a * d.dgdk};
    double var_h = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t m = 0; m < 3; ++m) var_h += j[i] * s.p[i][m] * j[m];
    }
    const double r = std::max(s.r, rmin_);
    const double p_now = PastProbability(s, y, s.p[0][0] + r);
    const double p_h = PastProbability(s, yh, var_h + r);
    f.probability = std::clamp(std::max(p_now, p_h), 0.0, 1.0);
    f.at_horizon = s.base + s.scale * yh;
    f.tte_s = TimeToRed(s, y, a, k);

    f.why.level = s.base + s.scale * y;
    f.why.trend_per_min = s.scale * (a - k * y) * 60;
    f.why.source_per_min = s.scale * a * 60;
    f.why.ventilation_per_h = k * 3600;
    f.why.steady_state = k > kTinyK ? s.base + s.scale * a / k : kNaN;
    return f;
  }

  static double TimeToRed(const KalmanState& s, double y, double a, double k) {
    const double sign = s.red.high ? 1.0 : -1.0;
    if (sign * (y - s.red_n) >= 0) return 0;
    if (k > kTinyK) {
      const double yss = a / k;
      if (!(sign * (yss - s.red_n) > 0)) return kNever;
      // y(tau) = yss + (y - yss) e^{-k tau} = red
      return std::log1p((s.red_n - y) / (yss - s.red_n)) / k;
    }
    if (!(sign * a > 0)) return kNever;
    return (s.red_n - y) / a;
  }

  KalmanParams p_;
  double qc_ = 0, qa_ = 0, qk_ = 0, k0_ = 0, kmax_ = 0, pkk0_ = 0, paa0_ = 0, rmin_ = 0;
};

}  // namespace

std::unique_ptr<Predictor> MakeKalman(const core::Json& params) {
  auto p = ParseParams(params, /*strict=*/false);
  return std::make_unique<KalmanModel>(p.has_value() ? *p : KalmanParams{});
}

namespace detail {
core::Result<std::unique_ptr<Predictor>> MakeKalmanChecked(const core::Json& params) {
  WG_ASSIGN_OR_RETURN(KalmanParams p, ParseParams(params, /*strict=*/true));
  return std::unique_ptr<Predictor>(std::make_unique<KalmanModel>(p));
}
}  // namespace detail

}  // namespace wg::predict

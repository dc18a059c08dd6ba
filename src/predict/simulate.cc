// The scenario simulator (docs/formats/predict-scenarios.md#simulator).
//
// Every scenario is built in three steps:
//   1. draw its parameters from the set's ranges (one std::mt19937_64 per scenario, seeded
//      from (seed, set, index); our own uniform/normal helpers, never std::*_distribution,
//      whose outputs differ between standard libraries);
//   2. integrate the noise-free truth at 1 s (exact exponential step for the mass balances,
//      exact Ornstein-Uhlenbeck steps for the weather and process noise) and label the red
//      crossings at the sampling instants; when the scenario misses what it was built for
//      (an event scenario that never crosses, a control that does), scale the leak or the
//      disturbance and integrate again (deterministically: no random draw is repeated);
//   3. pass the truth through the sensor: drift, Gaussian noise, spikes, dropouts and
//      quantization.
#include "wg/predict/simulate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

namespace wg::predict {

namespace internal {
// Test hook (declared by simulate_test.cc): for each scenario whose target series crossed
// red, minutes from its precursor (leak onset; fan failure for ventilation-loss events;
// feed or cooling loss for process units) to the first labelled crossing.
core::Result<std::vector<double>> SimulatePrecursorToRedMinutes(const SimOptions& o);
}  // namespace internal

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMinute = 60;
constexpr double kRearmS = 600;         // back inside for 10 min before a new event
constexpr double kO2Air = 20.9;         // %vol
constexpr double kCh4LelVol = 5.0;      // %vol of CH4 at 100 %LEL
constexpr double kO2PerWorker = 5e-4;   // %vol·m3/s: ~0.3 L/min O2 per working person
constexpr double kProcessSampleS = 60;

// ---------------------------------------------------------------------------------------
// Randomness: portable helpers over mt19937_64.

std::uint64_t SplitMix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  double U() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double U(double a, double b) { return a + (b - a) * U(); }
  double LogU(double a, double b) { return a * std::exp(U() * std::log(b / a)); }
  bool B(double p) { return U() < p; }
  int I(int lo, int hi) {  // inclusive
    int v = lo + static_cast<int>(U() * static_cast<double>(hi - lo + 1));
    return std::min(v, hi);
  }
  double N() {  // Box-Muller, standard normal
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 1.0 - U();  // (0, 1]
    double u2 = U();
    double r = std::sqrt(-2.0 * std::log(u1));
    double th = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(th);
    has_spare_ = true;
    return r * std::cos(th);
  }
  template <std::size_t N>
  std::size_t Pick(const std::array<double, N>& w) {
    double sum = 0;
    for (double x : w) sum += x;
    double u = U() * sum;
    for (std::size_t i = 0; i < N; ++i) {
      if (u < w[i]) return i;
      u -= w[i];
    }
    return N - 1;
  }

 private:
  std::mt19937_64 g_;
  bool has_spare_ = false;
  double spare_ = 0;
};

// Stream tags keep train and test apart even for the same seed value.
constexpr std::uint64_t kTrainTag = 0x7472'6169'6E00'0001ull;
constexpr std::uint64_t kTestTag = 0x7465'7374'0000'0002ull;

std::uint64_t StreamSeed(std::uint64_t seed, std::uint64_t set_tag, std::uint64_t stream,
                         std::uint64_t index) {
  return SplitMix(SplitMix(SplitMix(seed ^ set_tag) ^ stream) + index);
}

// ---------------------------------------------------------------------------------------
// Parameter ranges of the two sets.

struct Ranges {
  double vol_min, vol_max;             // m3
  double ach_min, ach_max;             // air changes per hour (forced ventilation)
  double ach_nat_min, ach_nat_max;     // natural ventilation after a fan failure
  double ramp_min, ramp_max;           // leak ramp-in, minutes
  double cross_min, cross_max;         // precursor to red, minutes (log-uniform body)
  double fast_share;                   // share of events drawn 3..12 min after precursor
  std::array<double, 5> gas_weights;   // o2 (inert), ch4, combustible, h2s, co
  double site_temp_offset;             // ± degC around the seasonal mean
  double p_min, p_max;                 // normal operating pressure, kPa
  double design_min, design_max;       // red / normal pressure
  double runaway_tau_min, runaway_tau_max;  // minutes
  double cooling_tau_min, cooling_tau_max;  // minutes
};

constexpr Ranges kTrain{20,   300, 2,    20,   0.1,  0.5,  1,    10,   15,   120,  0.03,
                        {0.20, 0.30, 0.10, 0.25, 0.15},    5,    1000, 3000, 1.08, 1.15,
                        20,   90,  60,   150};
constexpr Ranges kTest{10,   500, 1,    30,   0.05, 0.8,  0.5,  15,   12,   180,  0.03,
                       {0.20, 0.20, 0.15, 0.20, 0.25},     9,    700,  4500, 1.06, 1.20,
                       10,   150, 45,   200};

// Gases of confined spaces, in their kinds' default units.
struct Gas {
  const char* kind;
  double red;
  bool high;
  double warn;
  double ambient;
  double noise_min, noise_max;  // sensor noise sd, absolute
  double drift_max;             // bound of the slow drift, absolute
  bool evaporative;             // source scales with exp(0.03 (T - 20))
};
enum GasId : std::size_t { kO2 = 0, kCh4 = 1, kComb = 2, kH2s = 3, kCo = 4 };
constexpr std::array<Gas, 5> kGases{{
    // o2: noise is set against the 2.9 %vol margin, not 1-3 % of 18 %vol (that would be
    // 0.2-0.5 %vol, far noisier than electrochemical O2 cells).
    {"o2", 18, false, 19.5, kO2Air, 0.05, 0.15, 0.4, false},
    {"ch4", 50, true, 25, 0, 0.5, 1.5, 5, true},
    {"combustible", 50, true, 25, 0, 0.5, 1.5, 5, true},
    {"h2s", 20, true, 10, 0, 0.2, 0.6, 2, true},
    {"co", 40, true, 20, 0, 0.4, 1.2, 4, false},
}};

Threshold GasThreshold(const Gas& g) {
  Threshold t;
  t.value = g.red;
  t.high = g.high;
  t.warn = g.warn;
  return t;
}

// ---------------------------------------------------------------------------------------
// Truth helpers.

// One series' noise-free signal on the 1 s grid plus how its sensor behaves.
struct TruthSeries {
  std::string point;
  std::string kind;
  Threshold red;
  std::vector<double> truth;  // value at rel. second i
  double noise_sd = 0;        // absolute
  double noise_rel = 0;       // relative to the value (pressure)
  double drift_max = 0;       // absolute bound
  double spike_scale = 0;     // size of the distance value→red used for spikes
  double lower_clamp = -kInf;
  double upper_clamp = kInf;
  bool spikes_allowed = true;
};

double TruthAt(const std::vector<double>& x, double rel_t) {
  if (x.empty()) return kNaN;
  if (rel_t <= 0) return x.front();
  auto i = static_cast<std::size_t>(rel_t);
  if (i + 1 >= x.size()) return x.back();
  double f = rel_t - static_cast<double>(i);
  return x[i] + (x[i + 1] - x[i]) * f;
}

// Sample indices of the labelled crossings: the first sample past red, then again only
// after the truth has been back inside for kRearmS.
std::vector<std::size_t> LabelCrossings(const std::vector<double>& truth_at_samples,
                                        const std::vector<double>& rel_t, const Threshold& red) {
  std::vector<std::size_t> out;
  bool armed = true;
  double inside_since = kNaN;
  for (std::size_t i = 0; i < truth_at_samples.size(); ++i) {
    bool crossed = red.Crossed(truth_at_samples[i]);
    if (crossed) {
      inside_since = kNaN;
      if (armed) {
        out.push_back(i);
        armed = false;
      }
    } else if (!armed) {
      if (std::isnan(inside_since)) inside_since = rel_t[i];
      if (rel_t[i] - inside_since >= kRearmS) armed = true;
    }
  }
  return out;
}

struct Sampling {
  double start = 0;           // epoch seconds
  std::vector<double> rel_t;  // seconds from start
};

std::vector<std::size_t> LabelSeries(const TruthSeries& s, const Sampling& smp) {
  std::vector<double> v(smp.rel_t.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = TruthAt(s.truth, smp.rel_t[i]);
  return LabelCrossings(v, smp.rel_t, s.red);
}

double Quantize(double v) {
  double q = std::round(v * 10.0) / 10.0;
  return q + 0.0;  // no negative zero
}

// Passes one series through its sensor and returns it with its labels.
Series EmitSeries(const TruthSeries& s, const Sampling& smp, Rng& rng) {
  Series out;
  out.point = s.point;
  out.kind = s.kind;
  out.red = s.red;
  std::vector<std::size_t> events = LabelSeries(s, smp);
  std::size_t n = smp.rel_t.size();
  double dur = smp.rel_t.empty() ? 0 : smp.rel_t.back();

  // Slow drift: a linear walk from a random start time, saturating at a bound that alone
  // can never reach red.
  double drift_rate = 0, drift_from = 0;
  if (s.drift_max > 0 && rng.B(0.5)) {
    double hours_to_max = rng.U(1, 12);
    drift_rate = (rng.B(0.5) ? 1 : -1) * s.drift_max / (hours_to_max * 3600);
    drift_from = rng.U(0, std::max(1.0, dur * 0.7));
  }
  double drift_offset = s.drift_max > 0 ? rng.U(-0.2, 0.2) * s.drift_max : 0;  // calibration

  // Dropouts: 0-3 gaps of 1-15 min.
  std::vector<std::pair<double, double>> gaps;
  int ngaps = rng.I(0, 3);
  for (int g = 0; g < ngaps; ++g) {
    double len = rng.U(1, 15) * kMinute;
    double at = rng.U(0, std::max(1.0, dur - len));
    gaps.emplace_back(at, at + len);
  }
  // Spikes: single samples; about half of them past red.
  std::vector<std::pair<std::size_t, double>> spikes;
  if (s.spikes_allowed && n > 2 && rng.B(0.45)) {
    int nspikes = rng.I(1, 3);
    for (int k = 0; k < nspikes; ++k) {
      auto at = static_cast<std::size_t>(rng.I(1, static_cast<int>(n) - 1));
      double size = rng.B(0.5) ? rng.U(1.1, 1.8) : rng.U(0.3, 0.8);
      spikes.emplace_back(at, size);
    }
  }

  std::size_t next_event = 0;
  out.t.reserve(n);
  out.v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    bool is_event = next_event < events.size() && events[next_event] == i;
    double rt = smp.rel_t[i];
    if (!is_event) {
      bool dropped = false;
      for (const auto& [a, b] : gaps) dropped = dropped || (rt >= a && rt < b);
      if (dropped) continue;
    }
    double truth = TruthAt(s.truth, rt);
    double drift = drift_offset;
    if (drift_rate != 0 && rt > drift_from) {
      drift += std::clamp(drift_rate * (rt - drift_from), -s.drift_max, s.drift_max);
    }
    double sd = s.noise_sd + s.noise_rel * std::abs(truth);
    double v = truth + drift + sd * rng.N();
    for (const auto& [at, size] : spikes) {
      if (at != i) continue;
      // Distance from the current value to red, scaled; toward red.
      double dist = std::abs(s.red.value - truth);
      double mag = std::max(dist, s.spike_scale) * size;
      v = s.red.high ? truth + mag : truth - mag;
    }
    v = std::clamp(v, s.lower_clamp, s.upper_clamp);
    out.t.push_back(smp.start + rt);
    out.v.push_back(Quantize(v));
    if (is_event) {
      out.events.push_back(smp.start + rt);
      out.onsets.push_back(std::nan(""));
      ++next_event;
    }
  }
  return out;
}

// Weather: seasonal mean (northern hemisphere, warmest late July) + daily cycle peaking at
// 15:00 Beijing time + a slow Ornstein-Uhlenbeck deviation; per second.
std::vector<double> AmbientTemperature(Rng& rng, const Ranges& g, double start_epoch,
                                       double year_epoch, std::size_t n) {
  double doy = std::fmod((start_epoch - year_epoch) / 86400.0, 365.25);
  double site = rng.U(-g.site_temp_offset, g.site_temp_offset);
  double mean = 14 + 13 * std::sin(2 * std::numbers::pi * (doy - 110) / 365.25) + site;
  double amp = rng.U(2.5, 7);
  double tau = 2 * 3600, sd = 1.0;
  double decay = std::exp(-1 / tau), kick = sd * std::sqrt(1 - decay * decay);
  std::vector<double> out(n);
  double ou = sd * rng.N();
  for (std::size_t i = 0; i < n; ++i) {
    double local_h = std::fmod((start_epoch + static_cast<double>(i)) / 3600.0 + 8, 24.0);
    out[i] = mean + amp * std::cos(2 * std::numbers::pi * (local_h - 15) / 24) + ou;
    ou = ou * decay + kick * rng.N();
  }
  return out;
}

double DrawCrossMinutes(Rng& rng, const Ranges& g) {
  if (rng.B(g.fast_share)) return rng.U(3, 12);
  return rng.LogU(g.cross_min, g.cross_max);
}

// ---------------------------------------------------------------------------------------
// Confined spaces.

enum class LeakMech { kNone, kSteady, kGrowing, kVentLoss, kIsolated };

struct VentChange {
  double at;   // rel s
  double ach;  // new air changes per hour
};

struct ConfinedPlan {
  double volume = 100, ach0 = 6;
  std::vector<VentChange> vent;  // sorted by time
  std::size_t leak_gas = kCh4;
  LeakMech mech = LeakMech::kNone;
  double onset = kInf, ramp_s = 60, growth_s = 0, stop = kInf;
  double k = 0;             // steady excess / margin at the onset's temperature
  double q_ref = 0;         // ventilation (m3/s) the leak's k refers to
  double precursor = kInf;  // rel s
  std::vector<double> co_src;   // per-second CO source of hot work (mg/m3·m3/s), unscaled
  std::vector<double> workers;  // per-second persons inside
  double co_ambient = 0;
};

struct ConfinedTruth {
  std::vector<double> leak, co, o2;
};

ConfinedTruth IntegrateConfined(const ConfinedPlan& p, const std::vector<double>& temp,
                                double leak_scale, double co_scale, bool has_co_series) {
  std::size_t n = temp.size();
  ConfinedTruth out;
  const Gas& g = kGases[p.leak_gas];
  bool o2_leak = p.leak_gas == kO2;
  bool lel_leak = p.leak_gas == kCh4 || p.leak_gas == kComb;
  bool co_leak = p.leak_gas == kCo;
  if (!o2_leak) out.leak.resize(n);
  if (has_co_series && !co_leak) out.co.resize(n);
  out.o2.resize(n);

  double v = p.volume;
  // Source at reference conditions: high gases S = k·M·Q; inert gas S = Q·D/(20.9 - D).
  const double ambient = co_leak ? p.co_ambient : g.ambient;
  double margin = g.high ? g.red - ambient : kO2Air - g.red;
  double k = p.k * leak_scale;
  double s0 = 0;
  if (o2_leak) {
    double d = std::min(k * margin, kO2Air * 0.8);
    s0 = p.q_ref * d / (kO2Air - d);
  } else {
    s0 = k * margin * p.q_ref;
  }
  double evap_ref = 1;
  if (g.evaporative && std::isfinite(p.onset)) {
    evap_ref = std::exp(0.03 * (TruthAt(temp, p.onset) - 20));
  }

  double c_leak = g.high ? ambient : 0;
  double c_co = p.co_ambient;
  double c_o2 = kO2Air;
  std::size_t vi = 0;
  double ach = p.ach0;
  for (std::size_t i = 0; i < n; ++i) {
    double t = static_cast<double>(i);
    while (vi < p.vent.size() && p.vent[vi].at <= t) ach = p.vent[vi++].ach;
    double q = ach * v / 3600;
    // Leak source at this second.
    double s = 0;
    if (t >= p.onset && t < p.stop) {
      double f = std::min(1.0, (t - p.onset) / p.ramp_s);
      if (p.growth_s > 0) f = std::min(1.0, (t - p.onset) / p.growth_s);
      s = s0 * f;
      if (g.evaporative) s *= std::exp(0.03 * (temp[i] - 20)) / evap_ref;
    }
    double burst = p.co_src.empty() ? 0 : p.co_src[i] * co_scale;
    // Store the state at t, then take an exact step of 1 s with inputs held constant.
    double decay = std::exp(-q / v);
    if (!o2_leak) {
      double lel_frac = lel_leak ? c_leak * kCh4LelVol / 1e4 : 0;
      out.leak[i] = c_leak;
      out.o2[i] = c_o2 * (1 - lel_frac);
      double in = s + q * ambient + (co_leak ? burst : 0);
      double ss = in / q;
      c_leak = ss + (c_leak - ss) * decay;
    } else {
      out.o2[i] = c_o2;
    }
    if (!out.co.empty()) {
      out.co[i] = c_co;
      double ss = (burst + q * p.co_ambient) / q;
      c_co = ss + (c_co - ss) * decay;
    }
    // O2: fresh air in, inert gas in (o2 leaks), consumption by workers out.
    double s_inert = o2_leak ? s : 0;
    double in_o2 = q * kO2Air - p.workers[i] * kO2PerWorker;
    double out_rate = q + s_inert;
    double ss_o2 = in_o2 / out_rate;
    c_o2 = ss_o2 + (c_o2 - ss_o2) * std::exp(-out_rate / v);
  }
  return out;
}

struct Built {
  Scenario scenario;
  double precursor_to_red_min = kNaN;
};

std::string Id5(int index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", index);
  return buf;
}

Sampling MakeSampling(double start, double dur_s, double sample_s) {
  Sampling smp;
  smp.start = start;
  auto n = static_cast<std::size_t>(std::floor(dur_s / sample_s)) + 1;
  smp.rel_t.resize(n);
  for (std::size_t i = 0; i < n; ++i) smp.rel_t[i] = static_cast<double>(i) * sample_s;
  return smp;
}

Built BuildConfined(Rng& rng, const Ranges& g, const std::string& set, int index, bool want_event,
                    double start, double dur_s, double sample_s, double year_epoch) {
  Sampling smp = MakeSampling(start, dur_s, sample_s);
  auto n = static_cast<std::size_t>(std::ceil(smp.rel_t.back())) + 2;
  std::vector<double> temp = AmbientTemperature(rng, g, start, year_epoch, n);

  ConfinedPlan p;
  p.volume = rng.LogU(g.vol_min, g.vol_max);
  p.ach0 = rng.LogU(g.ach_min, g.ach_max);
  p.leak_gas = rng.Pick(g.gas_weights);
  p.co_ambient = rng.U(0, 1.5);
  const double pre = std::min(30 * kMinute, 0.3 * dur_s);  // normal data before any leak

  // Sensors present besides o2 and temperature: the leaking gas and often other gases.
  std::vector<std::size_t> gases;
  if (p.leak_gas != kO2) gases.push_back(p.leak_gas);
  for (std::size_t other : {kCh4, kH2s, kCo}) {
    bool same_family = other == p.leak_gas || (other == kCh4 && p.leak_gas == kComb);
    if (same_family || gases.size() >= 3) continue;
    if (rng.B(other == kCo ? 0.45 : 0.3)) gases.push_back(other);
  }
  bool has_co_series = std::find(gases.begin(), gases.end(), kCo) != gases.end();

  // Worker entries: O2 consumption; hot work adds CO bursts.
  p.workers.assign(n, 0);
  p.co_src.assign(n, 0);
  double q0 = p.ach0 * p.volume / 3600;
  double co_margin = kGases[kCo].red - p.co_ambient;
  int entries = rng.I(0, 4);
  for (int e = 0; e < entries; ++e) {
    double len = rng.U(10, 90) * kMinute;
    double at = rng.U(0, std::max(1.0, dur_s - len));
    double persons = rng.I(1, 3);
    for (auto i = static_cast<std::size_t>(at); i < n && static_cast<double>(i) < at + len; ++i) {
      p.workers[i] += persons;
    }
    if (!rng.B(0.4)) continue;
    int bursts = rng.I(1, 5);
    for (int b = 0; b < bursts; ++b) {
      double blen = rng.U(2, 10) * kMinute;
      double bat = at + rng.U(0, std::max(1.0, len - blen));
      double tau = 3600 / p.ach0;
      double peak = rng.U(0.1, 0.7) * co_margin;  // above ambient, at the base ventilation
      double src = peak * q0 / (1 - std::exp(-blen / tau));
      for (auto i = static_cast<std::size_t>(bat); i < n && static_cast<double>(i) < bat + blen;
           ++i) {
        p.co_src[i] += src;
      }
    }
  }

  // Random ventilation changes (every scenario may have them).
  auto add_vent = [&](double at, double len, double ach) {
    p.vent.push_back({at, ach});
    p.vent.push_back({at + len, p.ach0});
  };
  if (rng.B(0.3)) {
    double len = rng.U(20, 120) * kMinute;
    add_vent(rng.U(0, std::max(1.0, dur_s - len)), len, p.ach0 * rng.U(1.5, 3));
  }

  double tau_lo = 60 / g.ach_max, tau_hi = 60 / g.ach_min;  // minutes
  if (want_event) {
    double target = DrawCrossMinutes(rng, g);
    double room = (dur_s - pre - 5 * kMinute) / 1.3 / kMinute;
    target = std::max(3.0, std::min(target, room));
    double ramp = rng.U(g.ramp_min, g.ramp_max);
    ramp = std::min(ramp, 0.5 * target);
    double tp = target - ramp / 2;  // effective first-order time
    double u = rng.U();
    // Steady leak if a time constant in range makes k in [1.1, 3] hit the target.
    double lo = std::max(tau_lo, tp / 2.398), hi = std::min(tau_hi, tp / 0.405);
    double vent_room = dur_s - pre - 1.3 * target * kMinute;
    // Not for CO: hot-work bursts under a failed fan would cross first.
    if (u < 0.3 && vent_room > 45 * kMinute && p.leak_gas != kCo) {
      p.mech = LeakMech::kVentLoss;
    } else if (u < 0.55 && tp > tau_lo + 3) {
      p.mech = LeakMech::kGrowing;
    } else if (lo <= hi) {
      p.mech = LeakMech::kSteady;
    } else {
      p.mech = tp > tau_lo + 3 ? LeakMech::kGrowing : LeakMech::kSteady;
    }
    p.ramp_s = ramp * kMinute;
    if (p.mech == LeakMech::kSteady) {
      // Outside the feasible band: the nearest time constant in range (k then clamps,
      // so the crossing comes somewhat later or earlier than drawn).
      double tau = lo <= hi ? rng.LogU(lo, hi) : (tp / 0.405 < tau_lo ? tau_lo : tau_hi);
      p.ach0 = 60 / tau;
      p.k = std::clamp(1 / (1 - std::exp(-tp / tau)), 1.1, 3.0);
      p.onset = rng.U(pre, std::max(pre, dur_s - 1.3 * target * kMinute - 5 * kMinute));
      p.precursor = p.onset;
    } else if (p.mech == LeakMech::kGrowing) {
      double tau = 60 / p.ach0;
      if (tau > tp - 3) {
        tau = rng.U(tau_lo, std::max(tau_lo, tp - 3));
        p.ach0 = 60 / tau;
      }
      p.k = rng.U(1.2, 3);
      p.growth_s = std::max(p.ramp_s, p.k * (tp - tau) * kMinute);
      p.onset = rng.U(pre, std::max(pre, dur_s - 1.3 * target * kMinute - 5 * kMinute));
      p.precursor = p.onset;
    } else {
      // A leak plateaus below red; the fan fails; the space fills toward S / Q_natural.
      double a_nat = rng.U(g.ach_nat_min, g.ach_nat_max);
      double tau_nat = 60 / a_nat;
      double r = p.ach0 / a_nat;
      double k0 = 1 / (1 + (r - 1) * (1 - std::exp(-target / tau_nat)));
      p.k = std::clamp(k0, 0.1, 0.9);
      double tau = 60 / p.ach0;
      double plateau = std::min(3 * tau + ramp, 60.0) * kMinute;
      double fail_lo = pre + plateau;
      double fail_hi = std::max(fail_lo, dur_s - 1.3 * target * kMinute - 5 * kMinute);
      double fail = rng.U(fail_lo, fail_hi);
      p.onset = fail - plateau;
      p.vent.clear();  // the plateau must be the normal fan's
      p.vent.push_back({fail, a_nat});
      if (rng.B(0.5)) p.vent.push_back({fail + rng.U(1.2, 3) * target * kMinute, p.ach0});
      p.precursor = fail;
    }
    // Some leaks are isolated after a while.
    if (rng.B(0.4)) p.stop = p.precursor + target * kMinute * rng.U(1.3, 3);
  } else {
    double u = rng.U();
    double ramp = rng.U(g.ramp_min, g.ramp_max);
    p.ramp_s = ramp * kMinute;
    p.onset = rng.U(pre, std::max(pre, dur_s - 20 * kMinute));
    if (u < 0.4) {  // near miss: rises and plateaus below red
      p.mech = LeakMech::kSteady;
      p.k = rng.U(0.3, 0.85);
      if (rng.B(0.4)) p.stop = p.onset + rng.U(20, 180) * kMinute;
    } else if (u < 0.55) {  // heading past red, isolated in time
      p.mech = LeakMech::kIsolated;
      p.k = rng.U(1.2, 3);
      double tau = 60 / p.ach0;
      double f = rng.U(0.5, 0.85);
      p.stop = p.onset + p.ramp_s + tau * kMinute * std::log(1 / (1 - f / p.k));
    } else if (u < 0.75) {  // ventilation only: a fan failure or a boost
      p.onset = kInf;
      double len = rng.U(5, 60) * kMinute;
      double at = rng.U(0, std::max(1.0, dur_s - len));
      if (rng.B(0.6)) {
        add_vent(at, len, rng.U(g.ach_nat_min, g.ach_nat_max));
      } else {
        add_vent(at, len, p.ach0 * rng.U(1.5, 4));
      }
    } else {  // quiet: drift, spikes, workers
      p.onset = kInf;
    }
  }
  std::sort(p.vent.begin(), p.vent.end(),
            [](const VentChange& a, const VentChange& b) { return a.at < b.at; });
  // Leak rates refer to the normal fan: a boost at the onset only delays the rise.
  p.q_ref = p.ach0 * p.volume / 3600;

  // Series.
  std::string unit = "cs-" + Id5(index);
  auto gas_series = [&](std::size_t gid) {
    const Gas& gas = kGases[gid];
    TruthSeries s;
    s.point = unit + "." + gas.kind;
    s.kind = gas.kind;
    s.red = GasThreshold(gas);
    s.noise_sd = rng.U(gas.noise_min, gas.noise_max);
    s.drift_max = gas.drift_max;
    s.spike_scale = 0.5 * std::abs(gas.red - gas.ambient);
    s.lower_clamp = 0;
    if (gid == kO2) s.upper_clamp = 25;
    return s;
  };
  std::vector<TruthSeries> series;
  series.push_back(gas_series(kO2));
  for (std::size_t gid : gases) series.push_back(gas_series(gid));
  TruthSeries ts;
  ts.point = unit + ".temperature";
  ts.kind = "temperature";
  ts.red.value = 60;
  ts.red.high = true;
  ts.noise_sd = 0.2;
  ts.drift_max = 0.5;
  ts.spikes_allowed = false;
  ts.truth = temp;

  // Integrate; adjust until the scenario does what it was built for.
  std::size_t target = p.leak_gas == kO2 ? 0 : 1;
  double leak_scale = 1, co_scale = 1;
  for (int attempt = 0; attempt < 10; ++attempt) {
    ConfinedTruth tr = IntegrateConfined(p, temp, leak_scale, co_scale, has_co_series);
    series[0].truth = std::move(tr.o2);
    for (std::size_t i = 1; i < series.size(); ++i) {
      std::size_t gid = gases[i - 1];
      if (gid == p.leak_gas) {
        series[i].truth = tr.leak;
      } else if (gid == kCo) {
        series[i].truth = tr.co;
      } else {
        series[i].truth.assign(n, kGases[gid].ambient);
      }
    }
    std::vector<std::size_t> tev = LabelSeries(series[target], smp);
    double first = tev.empty() ? kInf : smp.rel_t[tev.front()];
    // An event scenario must cross because of its leak, not before it (hot-work CO on a
    // CO leak, or a plateau already past red before the fan fails).
    bool early = want_event && first < p.precursor;
    bool leak_ok = want_event ? (!tev.empty() && !early) : tev.empty();
    bool others_ok = true, co_crossed = false;
    for (std::size_t i = 0; i < series.size(); ++i) {
      if (i == target) continue;
      if (!LabelSeries(series[i], smp).empty()) {
        others_ok = false;
        co_crossed = co_crossed || series[i].kind == "co";
      }
    }
    if (leak_ok && others_ok) break;
    if (!leak_ok) {
      if (early) {
        if (first < p.onset) {
          co_scale *= 0.6;
        } else {
          leak_scale *= 0.85;
        }
      } else if (want_event) {
        leak_scale *= 1.25;
        p.stop = kInf;
      } else {
        leak_scale *= 0.75;
        if (p.leak_gas == kCo) co_scale *= 0.6;
      }
    }
    if (!others_ok) {
      if (co_crossed) co_scale *= 0.6;
      if (!want_event) leak_scale *= 0.8;  // e.g. the O2 displaced by a large CH4 leak
    }
  }
  series.push_back(std::move(ts));

  Built b;
  b.scenario.name = set + "-confined-" + Id5(index) + ".csv";
  for (const auto& s : series) b.scenario.series.push_back(EmitSeries(s, smp, rng));
  Series& tgt = b.scenario.series[target];
  if (!tgt.events.empty() && std::isfinite(p.precursor)) {
    b.precursor_to_red_min = (tgt.events.front() - (start + p.precursor)) / kMinute;
    if (start + p.precursor <= tgt.events.front()) tgt.onsets.front() = start + p.precursor;
  }
  return b;
}

// ---------------------------------------------------------------------------------------
// Process units: a vessel pressure under PI control.

struct ProcessPlan {
  double p_normal = 2000, red = 2200;
  // Closed-loop response to the set point (second order: the PI loop's overshoot).
  double zeta = 0.6, period_s = 600;
  std::vector<std::pair<double, double>> sp_changes;  // rel s, new set point
  double osc_amp = 0, osc_period_s = 1200, osc_phase = 0, osc_from = kInf, osc_to = kInf;
  // Excursion e(t): kRunaway first order toward k·M; kCooling temperature-driven (two
  // lags); kBump a rejected disturbance; kRecovered runaway stopped by the operator.
  enum class Exc { kNone, kRunaway, kCooling, kBump, kRecovered } exc = Exc::kNone;
  double onset = kInf, tau_s = 1800, tau2_s = 600, k = 0, stop = kInf, recover_tau_s = 600;
  double relief = kInf;  // pressure relieved (excursion decays) from here
  double temp_normal = 120, temp_rise = 0;
};

struct ProcessTruth {
  std::vector<double> p, temp;
};

ProcessTruth IntegrateProcess(const ProcessPlan& pl, const std::vector<double>& ou_p,
                              const std::vector<double>& ou_t, double scale,
                              double bg_scale) {
  std::size_t n = ou_p.size();
  ProcessTruth out;
  out.p.resize(n);
  out.temp.resize(n);
  double margin = pl.red - pl.p_normal;
  double w = 2 * std::numbers::pi / pl.period_s;
  double y = pl.p_normal, dy = 0, sp = pl.p_normal;
  std::size_t ci = 0;
  double e = 0, theta = 0;
  double target_e = pl.k * margin * scale;
  for (std::size_t i = 0; i < n; ++i) {
    double t = static_cast<double>(i);
    while (ci < pl.sp_changes.size() && pl.sp_changes[ci].first <= t) {
      sp = pl.p_normal + (pl.sp_changes[ci++].second - pl.p_normal) * bg_scale;
    }
    double osc = 0;
    if (t >= pl.osc_from && t < pl.osc_to) {
      osc = pl.osc_amp * bg_scale *
            std::sin(2 * std::numbers::pi * t / pl.osc_period_s + pl.osc_phase);
    }
    out.p[i] = y + e + osc + ou_p[i];
    out.temp[i] = pl.temp_normal + theta + 5 * e / margin + ou_t[i];
    // Semi-implicit step of y'' = w^2 (sp - y) - 2 zeta w y'.
    dy += (w * w * (sp - y) - 2 * pl.zeta * w * dy);
    y += dy;
    if (t < pl.onset) continue;
    double since = t - pl.onset;
    bool relieved = t >= pl.relief || t >= pl.stop;
    switch (pl.exc) {
      case ProcessPlan::Exc::kNone:
        break;
      case ProcessPlan::Exc::kRunaway:
      case ProcessPlan::Exc::kRecovered: {
        double goal = relieved ? 0 : target_e;
        double tau = relieved ? pl.recover_tau_s : pl.tau_s;
        e = goal + (e - goal) * std::exp(-1 / tau);
        break;
      }
      case ProcessPlan::Exc::kCooling: {
        double goal_theta = relieved ? 0 : pl.temp_rise;
        double tau = relieved ? pl.recover_tau_s : pl.tau_s;
        theta = goal_theta + (theta - goal_theta) * std::exp(-1 / tau);
        double goal = pl.temp_rise > 0 ? target_e * theta / pl.temp_rise : 0;
        e = goal + (e - goal) * std::exp(-1 / pl.tau2_s);
        break;
      }
      case ProcessPlan::Exc::kBump:
        // A disturbance the PI loop rejects: A (t/tau) e^(1 - t/tau), peak A at tau.
        e = target_e * (since / pl.tau_s) * std::exp(1 - since / pl.tau_s);
        break;
    }
  }
  return out;
}

std::vector<double> OuPath(Rng& rng, std::size_t n, double sd, double tau_s) {
  std::vector<double> out(n);
  double decay = std::exp(-1 / tau_s), kick = sd * std::sqrt(1 - decay * decay);
  double x = sd * rng.N();
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = x;
    x = x * decay + kick * rng.N();
  }
  return out;
}

Built BuildProcess(Rng& rng, const Ranges& g, const std::string& set, int index, bool want_event,
                   double start, double dur_s) {
  Sampling smp = MakeSampling(start, dur_s, kProcessSampleS);
  auto n = static_cast<std::size_t>(std::ceil(smp.rel_t.back())) + 2;
  ProcessPlan pl;
  pl.p_normal = rng.U(g.p_min, g.p_max);
  pl.red = pl.p_normal * rng.U(g.design_min, g.design_max);
  double margin = pl.red - pl.p_normal;
  pl.zeta = rng.U(0.3, 0.9);
  pl.period_s = rng.U(5, 30) * kMinute;
  pl.temp_normal = rng.U(60, 220);
  std::vector<double> ou_p = OuPath(rng, n, pl.p_normal * rng.U(0.002, 0.005),
                                    rng.U(1, 10) * kMinute);
  std::vector<double> ou_t = OuPath(rng, n, rng.U(0.3, 1.0), rng.U(5, 20) * kMinute);
  const double pre = std::min(30 * kMinute, 0.3 * dur_s);

  // Set-point changes whose overshoot stays well under the limit.
  auto add_sp_changes = [&](int count) {
    for (int c = 0; c < count; ++c) {
      double at = rng.U(pre, std::max(pre, dur_s - 10 * kMinute));
      double overshoot = 1 + std::exp(-pl.zeta * std::numbers::pi /
                                      std::sqrt(1 - pl.zeta * pl.zeta));
      double up = 0.45 * margin / overshoot;
      pl.sp_changes.emplace_back(at, pl.p_normal + rng.U(-0.04 * pl.p_normal, up));
    }
  };
  auto add_osc = [&](double amp_of_margin) {
    pl.osc_amp = amp_of_margin * margin;
    pl.osc_period_s = rng.U(8, 40) * kMinute;
    pl.osc_phase = rng.U(0, 2 * std::numbers::pi);
    pl.osc_from = rng.U(0, dur_s * 0.7);
    pl.osc_to = pl.osc_from + rng.U(30, 240) * kMinute;
  };
  if (rng.B(0.4)) add_sp_changes(rng.I(1, 2));
  if (rng.B(0.25)) add_osc(rng.U(0.1, 0.3));

  if (want_event) {
    double target = DrawCrossMinutes(rng, g);
    double room = (dur_s - pre - 5 * kMinute) / 1.3 / kMinute;
    target = std::max(3.0, std::min(target, room));
    bool cooling = rng.B(0.4);
    double tlo = cooling ? g.cooling_tau_min : g.runaway_tau_min;
    double thi = cooling ? g.cooling_tau_max : g.runaway_tau_max;
    double tp = target;
    if (cooling) {
      pl.tau2_s = rng.U(3, 12) * kMinute;
      tp = std::max(1.0, target - pl.tau2_s / kMinute);
    }
    double lo = std::max(tlo, tp / 2.398), hi = std::min(thi, tp / 0.405);
    double tau = lo <= hi ? rng.LogU(lo, hi) : (tp / 0.405 < tlo ? tlo : thi);
    pl.exc = cooling ? ProcessPlan::Exc::kCooling : ProcessPlan::Exc::kRunaway;
    pl.tau_s = tau * kMinute;
    pl.k = std::clamp(1 / (1 - std::exp(-tp / tau)), 1.1, 3.0);
    pl.temp_rise = cooling ? rng.U(10, 40) : 0;
    pl.onset = rng.U(pre, std::max(pre, dur_s - 1.3 * target * kMinute - 5 * kMinute));
    pl.recover_tau_s = rng.U(3, 15) * kMinute;
    if (rng.B(0.5)) pl.relief = pl.onset + target * kMinute * rng.U(1.1, 2);
  } else {
    double u = rng.U();
    pl.onset = rng.U(pre, std::max(pre, dur_s - 20 * kMinute));
    pl.recover_tau_s = rng.U(3, 15) * kMinute;
    if (u < 0.3) {  // runaway caught by the operator before the limit
      pl.exc = ProcessPlan::Exc::kRecovered;
      pl.tau_s = rng.U(g.runaway_tau_min, g.runaway_tau_max) * kMinute;
      pl.k = rng.U(1.2, 3);
      double f = rng.U(0.4, 0.8);
      pl.stop = pl.onset + pl.tau_s * std::log(1 / (1 - f / pl.k));
    } else if (u < 0.5) {  // a disturbance the controller rejects
      pl.exc = ProcessPlan::Exc::kBump;
      pl.tau_s = rng.U(3, 20) * kMinute;
      pl.k = rng.U(0.3, 0.7);
    } else if (u < 0.75) {  // set-point changes
      add_sp_changes(rng.I(2, 4));
    } else {  // oscillation / overshoot
      add_osc(rng.U(0.2, 0.5));
    }
  }
  std::sort(pl.sp_changes.begin(), pl.sp_changes.end());

  std::string unit = "pu-" + Id5(index);
  TruthSeries ps;
  ps.point = unit + ".pressure";
  ps.kind = "pressure";
  ps.red.value = pl.red;
  ps.red.high = true;
  ps.red.warn = pl.p_normal * 1.05 < pl.red ? pl.p_normal * 1.05 : pl.p_normal + 0.5 * margin;
  ps.noise_rel = 0.001;
  ps.drift_max = 0.003 * pl.p_normal;
  ps.spike_scale = margin;
  ps.lower_clamp = 0;
  TruthSeries ts;
  ts.point = unit + ".temperature";
  ts.kind = "temperature";
  ts.red.value = pl.temp_normal + 80;
  ts.red.high = true;
  ts.red.warn = pl.temp_normal + 60;
  ts.noise_sd = 0.2;
  ts.drift_max = 1;
  ts.spikes_allowed = false;

  // scale: the excursion; bg_scale: set-point changes and oscillations.
  double scale = 1, bg_scale = 1;
  for (int attempt = 0; attempt < 10; ++attempt) {
    ProcessTruth tr = IntegrateProcess(pl, ou_p, ou_t, scale, bg_scale);
    ps.truth = std::move(tr.p);
    ts.truth = std::move(tr.temp);
    std::vector<std::size_t> ev = LabelSeries(ps, smp);
    double first = ev.empty() ? kInf : smp.rel_t[ev.front()];
    bool early = want_event && first < pl.onset;
    if (want_event ? (!ev.empty() && !early) : ev.empty()) break;
    if (early) {
      bg_scale *= 0.7;
    } else if (want_event) {
      scale *= 1.25;
      pl.relief = kInf;
    } else {
      scale *= 0.75;
      bg_scale *= 0.75;
    }
  }

  Built b;
  b.scenario.name = set + "-process-" + Id5(index) + ".csv";
  b.scenario.series.push_back(EmitSeries(ps, smp, rng));
  b.scenario.series.push_back(EmitSeries(ts, smp, rng));
  Series& tgt = b.scenario.series[0];
  if (!tgt.events.empty() && std::isfinite(pl.onset) && want_event) {
    b.precursor_to_red_min = (tgt.events.front() - (start + pl.onset)) / kMinute;
    if (start + pl.onset <= tgt.events.front()) tgt.onsets.front() = start + pl.onset;
  }
  return b;
}

// ---------------------------------------------------------------------------------------

core::Result<Dataset> SimulateImpl(const SimOptions& o,
                                   const std::function<void(int, int)>& progress,
                                   std::vector<double>* precursor_minutes) {
  WG_RETURN_IF_ERROR(ValidateSimOptions(o));
  const bool train = o.set == "train";
  const Ranges& g = train ? kTrain : kTest;
  const std::uint64_t tag = train ? kTrainTag : kTestTag;

  // Exactly round(event_share · scenarios) event scenarios, at shuffled positions.
  auto total = static_cast<std::size_t>(o.scenarios);
  auto n_events = static_cast<std::size_t>(std::llround(o.event_share * o.scenarios));
  std::vector<char> is_event(total, 0);
  for (std::size_t i = 0; i < n_events; ++i) is_event[i] = 1;
  Rng shuffle(StreamSeed(o.seed, tag, 1, 0));
  for (std::size_t i = total; i > 1; --i) {
    auto j = static_cast<std::size_t>(shuffle.U() * static_cast<double>(i));
    std::swap(is_event[i - 1], is_event[std::min(j, i - 1)]);
  }

  Dataset d;
  d.scenarios.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    int index = static_cast<int>(i) + 1;
    Rng rng(StreamSeed(o.seed, tag, 2, i));
    bool confined = o.unit == "confined" || (o.unit == "mixed" && rng.B(0.75));
    if (o.unit == "process") confined = false;
    double hours = o.hours_min == o.hours_max ? o.hours_min : rng.U(o.hours_min, o.hours_max);
    double sample_s = confined ? o.sample_s : kProcessSampleS;
    double dur_s = std::max(sample_s, std::floor(hours * 3600 / sample_s) * sample_s);
    // A start anywhere in the year after start_epoch, on a whole minute.
    double start = o.start_epoch + std::floor(rng.U(0, 365 * 1440)) * 60;
    Built b = confined ? BuildConfined(rng, g, o.set, index, is_event[i] != 0, start, dur_s,
                                       sample_s, o.start_epoch)
                       : BuildProcess(rng, g, o.set, index, is_event[i] != 0, start, dur_s);
    if (precursor_minutes != nullptr && !std::isnan(b.precursor_to_red_min)) {
      precursor_minutes->push_back(b.precursor_to_red_min);
    }
    d.scenarios.push_back(std::move(b.scenario));
    if (progress) progress(index, o.scenarios);
  }
  std::sort(d.scenarios.begin(), d.scenarios.end(),
            [](const Scenario& a, const Scenario& b) { return a.name < b.name; });
  return d;
}

}  // namespace

core::Status ValidateSimOptions(const SimOptions& o) {
  using core::Status;
  if (o.scenarios < 1 || o.scenarios > 100'000) {
    return Status::InvalidArgument("scenarios must be within 1..100000", "scenarios");
  }
  if (!std::isfinite(o.hours_min) || o.hours_min < 0.5 || o.hours_min > 72) {
    return Status::InvalidArgument("hours_min must be within 0.5..72", "hours_min");
  }
  if (!std::isfinite(o.hours_max) || o.hours_max < 0.5 || o.hours_max > 72) {
    return Status::InvalidArgument("hours_max must be within 0.5..72", "hours_max");
  }
  if (o.hours_min > o.hours_max) {
    return Status::InvalidArgument("hours_max must not be below hours_min", "hours_max");
  }
  if (!(o.event_share >= 0 && o.event_share <= 1)) {
    return Status::InvalidArgument("event_share must be within 0..1", "event_share");
  }
  if (!(o.sample_s >= 1 && o.sample_s <= 600)) {
    return Status::InvalidArgument("sample_s must be within 1..600 seconds", "sample_s");
  }
  if (o.set != "train" && o.set != "test") {
    return Status::InvalidArgument("set must be \"train\" or \"test\"", "set");
  }
  if (o.unit != "confined" && o.unit != "process" && o.unit != "mixed") {
    return Status::InvalidArgument("unit must be \"confined\", \"process\" or \"mixed\"", "unit");
  }
  if (!(o.start_epoch >= 0 && o.start_epoch <= 4'000'000'000.0)) {
    return Status::InvalidArgument("start_epoch must be within 0..4e9 seconds", "start_epoch");
  }
  // The loader refuses datasets over 200 million readings; so does the simulator.
  double per_scenario = o.hours_max * 3600 / std::min(o.sample_s, kProcessSampleS) * 5;
  if (per_scenario * o.scenarios > 200e6) {
    return Status::ResourceExhausted(
        "scenarios x hours_max / sample_s would exceed 200 million readings", "scenarios");
  }
  return Status::Ok();
}

core::Result<Dataset> Simulate(const SimOptions& o,
                               const std::function<void(int done, int total)>& progress) {
  return SimulateImpl(o, progress, nullptr);
}

namespace internal {
core::Result<std::vector<double>> SimulatePrecursorToRedMinutes(const SimOptions& o) {
  std::vector<double> out;
  auto d = SimulateImpl(o, {}, &out);
  if (!d) return d.error();
  return out;
}
}  // namespace internal

}  // namespace wg::predict

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <new>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "wg/predict/model.h"

// Counts heap allocations so tests can check that Update never allocates. Not under the
// address sanitizer, which owns operator new (the test is skipped there).
#if defined(__SANITIZE_ADDRESS__)
#define WG_COUNT_ALLOCATIONS 0
#else
#define WG_COUNT_ALLOCATIONS 1
#endif
namespace {
std::atomic<long> g_allocations{0};
}  // namespace
#if WG_COUNT_ALLOCATIONS
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace wg::predict {
namespace {

constexpr double kT0 = 1.8e9;  // epoch seconds (2027), so numerics see realistic times

Threshold High(double red, double warn = std::numeric_limits<double>::quiet_NaN()) {
  Threshold t;
  t.value = red;
  t.high = true;
  t.warn = warn;
  return t;
}
Threshold Low(double red) {
  Threshold t;
  t.value = red;
  t.high = false;
  return t;
}

struct Trace {
  std::vector<double> t;  // relative seconds
  std::vector<double> v;
  std::vector<Forecast> f;
  // Index of the first reading at or after `rel_s`.
  std::size_t At(double rel_s) const {
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] >= rel_s) return i;
    }
    return t.size() - 1;
  }
};

// Samples value(t) every dt seconds (relative time) for `duration` with Gaussian noise.
Trace Feed(const Predictor& m, const Threshold& red, const std::function<double(double)>& value,
         double duration, double dt, double noise = 0, std::uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  Trace r;
  auto s = m.NewState(red);
  for (double t = 0; t <= duration; t += dt) {
    const double v = value(t) + noise * n(rng);
    r.t.push_back(t);
    r.v.push_back(v);
    r.f.push_back(m.Update(*s, kT0 + t, v));
  }
  return r;
}

// The first relative time with probability >= 0.5, or -1.
double FirstWarning(const Trace& r) {
  for (std::size_t i = 0; i < r.f.size(); ++i) {
    if (r.f[i].probability >= 0.5) return r.t[i];
  }
  return -1;
}

// ---------------------------------------------------------------------------------------
// static

TEST(Static, WarnsPastTheWarnLevelOnly) {
  auto m = MakeStatic();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->kind(), "static");
  auto s = m->NewState(High(20, 10));
  Forecast f = m->Update(*s, kT0, 9.9);
  EXPECT_EQ(f.probability, 0);
  EXPECT_EQ(f.tte_s, kNever);
  EXPECT_EQ(f.why.level, 9.9);
  f = m->Update(*s, kT0 + 1, 10);
  EXPECT_EQ(f.probability, 1);
  EXPECT_EQ(f.tte_s, kNever);
  f = m->Update(*s, kT0 + 2, 20);
  EXPECT_EQ(f.probability, 1);
  EXPECT_EQ(f.tte_s, 0);
}

TEST(Static, WithoutWarnLevelUsesRedAndHandlesLowThresholds) {
  auto m = MakeStatic();
  auto s = m->NewState(High(20));
  EXPECT_EQ(m->Update(*s, kT0, 19.99).probability, 0);
  EXPECT_EQ(m->Update(*s, kT0 + 1, 20).probability, 1);
  auto o2 = m->NewState(Low(18));
  EXPECT_EQ(m->Update(*o2, kT0, 20.9).probability, 0);
  EXPECT_EQ(m->Update(*o2, kT0 + 1, 18.5).probability, 0);
  Forecast f = m->Update(*o2, kT0 + 2, 17.9);
  EXPECT_EQ(f.probability, 1);
  EXPECT_EQ(f.tte_s, 0);
}

// ---------------------------------------------------------------------------------------
// linear

TEST(Linear, RampWarnsAheadWithTheRightTimeToCrossing) {
  auto m = MakeLinear(600);
  // 1 unit/min from 0; red 20 is reached at 20 min; horizon 15 min.
  Trace r = Feed(*m, High(20), [](double t) { return t / 60; }, 25 * 60, 10);
  const double warn = FirstWarning(r);
  EXPECT_GE(warn, 4 * 60);
  EXPECT_LE(warn, 5 * 60 + 10);
  const Forecast& f = r.f[r.At(10 * 60)];
  EXPECT_NEAR(f.tte_s, 600, 1);
  EXPECT_NEAR(f.why.trend_per_min, 1, 1e-6);
  EXPECT_NEAR(f.at_horizon, 25, 1e-6);
  EXPECT_EQ(r.f[r.At(20 * 60)].tte_s, 0);
}

TEST(Linear, FlatNoiseNeverWarns) {
  auto m = MakeLinear(600);
  Trace r = Feed(*m, High(20), [](double) { return 5; }, 3 * 3600, 10, 0.5);
  EXPECT_EQ(FirstWarning(r), -1);
}

TEST(Linear, OnlyTheWindowCounts) {
  auto m = MakeLinear(600);
  // Flat for 30 min, then 1/min: after 10 min of ramp the fit sees only the ramp.
  Trace r = Feed(*m, High(1000), [](double t) { return t < 1800 ? 0 : (t - 1800) / 60; }, 3000,
               10);
  EXPECT_NEAR(r.f[r.At(1800 + 610)].why.trend_per_min, 1, 1e-6);
  EXPECT_NEAR(r.f[r.At(1700)].why.trend_per_min, 0, 1e-9);
}

TEST(Linear, O2FallingToALowThreshold) {
  auto m = MakeLinear(600);
  // 20.9 falling 0.1 %vol/min from 10 min; 18 %vol is reached at 39 min.
  Trace r = Feed(*m, Low(18), [](double t) { return t < 600 ? 20.9 : 20.9 - (t - 600) / 600; },
               45 * 60, 10);
  const double warn = FirstWarning(r);
  EXPECT_GT(warn, 600);
  EXPECT_LT(warn, 39 * 60 - 5 * 60);
  EXPECT_NEAR(r.f[r.At(30 * 60)].tte_s, 9 * 60, 0.2 * 9 * 60);
  EXPECT_EQ(r.f[r.At(40 * 60)].tte_s, 0);
}

// Brute-force least squares of the readings in [t - w, t].
double BruteSlope(const Trace& r, std::size_t i, double w) {
  double n = 0, st = 0, sv = 0, stt = 0, stv = 0;
  for (std::size_t j = 0; j <= i; ++j) {
    if (r.t[j] < r.t[i] - w) continue;
    const double x = r.t[j] - r.t[i];
    n += 1;
    st += x;
    sv += r.v[j];
    stt += x * x;
    stv += x * r.v[j];
  }
  return (n * stv - st * sv) / (n * stt - st * st);
}

TEST(Linear, RunningSumsStayExactOverADay) {
  auto m = MakeLinear(600);
  // A day of 10 s readings of a wavy signal with large offset: the running sums (evictions,
  // re-origins) must agree with a fresh least squares at the end.
  Trace r = Feed(*m, High(1e9),
               [](double t) { return 1e4 + 50 * std::sin(t / 900) + 0.01 * t; }, 86400, 10, 1);
  for (double at : {3600.0, 43210.0, 86400.0}) {
    const std::size_t i = r.At(at);
    EXPECT_NEAR(r.f[i].why.trend_per_min / 60, BruteSlope(r, i, 600), 1e-9) << at;
  }
}

TEST(Linear, DenseSamplingIsDecimatedButKeepsTheSlope) {
  auto m = MakeLinear(600);
  // 2 readings/s for an hour: more than the buffer holds per window.
  Trace r = Feed(*m, High(1e9), [](double t) { return 3 + t / 120; }, 3600, 0.5, 0.05);
  EXPECT_NEAR(r.f.back().why.trend_per_min, 0.5, 0.01);
  EXPECT_NEAR(r.f.back().why.level, 3 + 3600.0 / 120, 0.05);
}

TEST(Linear, FiveMinuteGapAndIrregularSampling) {
  auto m = MakeLinear(600);
  auto s = m->NewState(High(20));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> dt(5, 30);
  Forecast f;
  double t = 0, last = 0;
  bool gap_done = false;
  while (t < 12 * 60) {
    f = m->Update(*s, kT0 + t, t / 60);
    last = t;
    if (!gap_done && t > 5 * 60) {
      t += 300;
      gap_done = true;
    } else {
      t += dt(rng);
    }
  }
  EXPECT_NEAR(f.why.trend_per_min, 1, 1e-6);
  EXPECT_NEAR(f.tte_s, 20 * 60 - last, 1e-6);
}

TEST(Linear, IgnoresReadingsThatBreakTheContract) {
  auto m = MakeLinear(100);
  auto s = m->NewState(High(20));
  m->Update(*s, kT0, 1);
  const Forecast a = m->Update(*s, kT0 + 60, 2);
  const Forecast b = m->Update(*s, kT0 + 60, 100);  // duplicate time
  const Forecast c = m->Update(*s, kT0 + 70, std::nan(""));
  EXPECT_EQ(a.at_horizon, b.at_horizon);
  EXPECT_EQ(a.at_horizon, c.at_horizon);
  EXPECT_NEAR(a.why.trend_per_min, 1, 1e-9);
}

// ---------------------------------------------------------------------------------------
// holt

TEST(Holt, RampWarnsAheadWithTheRightTimeToCrossing) {
  auto m = MakeHolt();
  Trace r = Feed(*m, High(20), [](double t) { return t / 60; }, 25 * 60, 10, 0.05);
  const double warn = FirstWarning(r);
  EXPECT_GT(warn, 0);
  EXPECT_LT(warn, 8 * 60);
  EXPECT_NEAR(r.f[r.At(10 * 60)].tte_s, 600, 0.2 * 600);
  EXPECT_NEAR(r.f[r.At(10 * 60)].why.trend_per_min, 1, 0.2);
}

TEST(Holt, FlatNoiseNeverWarns) {
  auto m = MakeHolt();
  Trace r = Feed(*m, High(20), [](double) { return 5; }, 3 * 3600, 10, 0.5);
  EXPECT_EQ(FirstWarning(r), -1);
}

TEST(Holt, StepBelowRedSettles) {
  auto m = MakeHolt();
  Trace r = Feed(*m, High(20), [](double t) { return t < 600 ? 2 : 12; }, 3600, 10, 0.1);
  for (std::size_t i = r.At(600 + 300); i < r.f.size(); ++i) {
    ASSERT_LT(r.f[i].probability, 0.5) << r.t[i];
  }
  EXPECT_NEAR(r.f.back().why.level, 12, 0.2);
}

TEST(Holt, IrregularSamplingIsTimeAware) {
  // The same ramp sampled every 10 s or irregularly (5..30 s, one 5-minute gap) gives about
  // the same trend and time to crossing.
  auto m = MakeHolt();
  auto s = m->NewState(High(40));
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> dt(5, 30);
  Forecast f;
  double t = 0, last = 0;
  bool gap_done = false;
  while (t < 25 * 60) {
    f = m->Update(*s, kT0 + t, t / 60);
    last = t;
    if (!gap_done && t > 10 * 60) {
      t += 300;
      gap_done = true;
    } else {
      t += dt(rng);
    }
  }
  EXPECT_NEAR(f.why.trend_per_min, 1, 0.15);
  EXPECT_NEAR(f.tte_s, 40 * 60 - last, 0.2 * (40 * 60 - last));
}

TEST(Holt, O2FallingToALowThreshold) {
  auto m = MakeHolt();
  Trace r = Feed(*m, Low(18), [](double t) { return t < 600 ? 20.9 : 20.9 - (t - 600) / 600; },
               45 * 60, 10, 0.01);
  const double warn = FirstWarning(r);
  EXPECT_GT(warn, 600);
  EXPECT_LT(warn, 39 * 60 - 5 * 60);
  EXPECT_NEAR(r.f[r.At(30 * 60)].tte_s, 9 * 60, 0.2 * 9 * 60);
}

// ---------------------------------------------------------------------------------------
// common

TEST(Baselines, UpdateDoesNotAllocate) {
  if (!WG_COUNT_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under ASan";
  for (auto& m : {MakeStatic(), MakeLinear(600), MakeHolt()}) {
    auto s = m->NewState(High(20));
    for (int i = 0; i < 10; ++i) (void)m->Update(*s, kT0 + i, 1.0 * i);
    const long before = g_allocations.load();
    for (int i = 10; i < 5000; ++i) (void)m->Update(*s, kT0 + i, 0.01 * i);
    EXPECT_EQ(g_allocations.load(), before) << m->kind();
  }
}

TEST(MakeByKind, BuildsEveryKindFromItsParams) {
  for (auto& m : {MakeStatic(), MakeLinear(123), MakeHolt(0.5, 0.2), MakeKalman()}) {
    auto again = MakeByKind(m->kind(), m->Params());
    ASSERT_TRUE(again.has_value()) << again.error().ToString();
    EXPECT_EQ((*again)->kind(), m->kind());
    EXPECT_EQ((*again)->Params(), m->Params());
  }
  auto lin = MakeByKind("linear", core::Json::object());
  ASSERT_TRUE(lin.has_value());
  EXPECT_EQ((*lin)->Params()["window_s"], 600);
}

TEST(MakeByKind, RejectsBadParamsNamingTheMember) {
  auto e = MakeByKind("linear", {{"windw_s", 600}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.error().field(), "params.windw_s");

  e = MakeByKind("linear", {{"window_s", -5}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.window_s");

  e = MakeByKind("holt", {{"alpha", "high"}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.alpha");

  e = MakeByKind("holt", {{"beta", 1.5}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.beta");

  e = MakeByKind("static", {{"x", 1}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.x");

  e = MakeByKind("static", core::Json::array());
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params");

  e = MakeByKind("arima", core::Json::object());
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("arima"), std::string::npos);
}

TEST(MakeByKind, GbtChecksItsFeatureList) {
  auto e = MakeByKind("gbt", {{"features", {"not_a_feature"}}, {"trees", core::Json::object()}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.features");
  EXPECT_NE(e.error().message().find("model features differ from this version's"),
            std::string::npos);
  e = MakeByKind("gbt", {{"trees", core::Json::object()}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.features");
  e = MakeByKind("gbt", {{"features", core::Json::array()}, {"tree", 1}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.tree");
}

}  // namespace
}  // namespace wg::predict

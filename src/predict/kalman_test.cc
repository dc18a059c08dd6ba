#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <new>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "wg/predict/model.h"

// Counts heap allocations so a test can check that Update never allocates. Not under the
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

constexpr double kT0 = 1.8e9;

Threshold High(double red) {
  Threshold t;
  t.value = red;
  t.high = true;
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
  std::size_t At(double rel_s) const {
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] >= rel_s) return i;
    }
    return t.size() - 1;
  }
  // First relative time >= from with probability >= 0.5, or -1.
  double FirstWarning(double from = 0) const {
    for (std::size_t i = 0; i < f.size(); ++i) {
      if (t[i] >= from && f[i].probability >= 0.5) return t[i];
    }
    return -1;
  }
  // Mean relative error of tte_s over readings in [from, to] against a crossing at `cross`.
  double TteError(double cross, double from, double to) const {
    double sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      if (t[i] < from || t[i] > to) continue;
      sum += std::abs(f[i].tte_s - (cross - t[i])) / (cross - t[i]);
      ++n;
    }
    return n > 0 ? sum / n : 1e9;
  }
  double MaxProbability(double from, double to = 1e18) const {
    double p = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      if (t[i] >= from && t[i] <= to) p = std::max(p, f[i].probability);
    }
    return p;
  }
};

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

// Well-mixed room: C(t) = Css (1 - e^{-k t}) from clean air, k in 1/s.
std::function<double(double)> Approach(double css, double k_per_h, double start_s = 0) {
  const double k = k_per_h / 3600;
  return [=](double t) { return t < start_s ? 0 : css * (1 - std::exp(-k * (t - start_s))); };
}

TEST(Kalman, LinearRiseWarnsAheadWithTheRightTimeToCrossing) {
  auto m = MakeKalman();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->kind(), "kalman");
  // Clean air for 10 min, then 1 %LEL/min: red 20 %LEL at 30 min.
  Trace r = Feed(*m, High(20), [](double t) { return t < 600 ? 0 : (t - 600) / 60; }, 35 * 60, 10,
               0.1);
  EXPECT_LT(r.MaxProbability(0, 600), 0.5);
  const double warn = r.FirstWarning();
  EXPECT_GT(warn, 600);
  EXPECT_LT(warn, 30 * 60 - 8 * 60) << "lead too short";
  EXPECT_LT(r.TteError(30 * 60, 15 * 60, 25 * 60), 0.2);
  EXPECT_NEAR(r.f[r.At(20 * 60)].tte_s, 600, 0.3 * 600);
  EXPECT_NEAR(r.f[r.At(20 * 60)].why.trend_per_min, 1, 0.2);
  EXPECT_EQ(r.f[r.At(31 * 60)].tte_s, 0);
}

TEST(Kalman, FlatNoiseNeverWarns) {
  auto m = MakeKalman();
  Trace r = Feed(*m, High(20), [](double) { return 5; }, 3 * 3600, 10, 0.5);
  EXPECT_EQ(r.FirstWarning(), -1);
  EXPECT_NEAR(r.f.back().why.level, 5, 0.3);
}

TEST(Kalman, FlatNoiseAtLowLevelNeverWarns) {
  // Noise large compared with the distance to red must not make it jumpy.
  auto m = MakeKalman();
  Trace r = Feed(*m, High(10), [](double) { return 1; }, 3 * 3600, 5, 1.0, 99);
  EXPECT_EQ(r.FirstWarning(60), -1);
}

TEST(Kalman, StepBelowRedSettlesWithoutWarning) {
  auto m = MakeKalman();
  Trace r = Feed(*m, High(20), [](double t) { return t < 600 ? 2 : 12; }, 3600, 10, 0.1);
  EXPECT_LT(r.MaxProbability(600 + 600), 0.5);
  EXPECT_NEAR(r.f.back().why.level, 12, 0.3);
}

TEST(Kalman, ExponentialApproachBelowRedDoesNotWarnOnceLearned) {
  // Steady state 15 %LEL below red 20, 6 air changes/h (10 min time constant). The initial
  // rise extrapolated linearly crosses red; the mass balance knows it levels off.
  auto kalman = MakeKalman();
  Trace r = Feed(*kalman, High(20), Approach(15, 6, 300), 2 * 3600, 10, 0.1);
  EXPECT_LT(r.MaxProbability(300 + 30 * 60), 0.5);
  EXPECT_EQ(r.f.back().tte_s, kNever);
  EXPECT_NEAR(r.f.back().why.steady_state, 15, 0.2 * 15);

  auto linear = MakeLinear(600);
  Trace l = Feed(*linear, High(20), Approach(15, 6, 300), 2 * 3600, 10, 0.1);
  EXPECT_GE(l.FirstWarning(), 0) << "the example should fool the linear baseline";
}

TEST(Kalman, EstimatesSourceAndVentilation) {
  // V = 50 m3, Q = 100 m3/h (2 air changes/h), S chosen so that C_ss = 80 %LEL:
  // S/V = k C_ss = 160 %LEL/h = 2.667 %LEL/min.
  auto m = MakeKalman();
  Trace r = Feed(*m, High(50), Approach(80, 2, 600), 600 + 3600, 10, 0.3);
  const Explanation& why = r.f.back().why;
  EXPECT_NEAR(why.ventilation_per_h, 2, 0.3 * 2);
  EXPECT_NEAR(why.source_per_min, 160.0 / 60, 0.3 * 160 / 60);
  EXPECT_NEAR(why.steady_state, 80, 0.3 * 80);
  const double c = 80 * (1 - std::exp(-2.0));
  EXPECT_NEAR(why.level, c, 1);
  EXPECT_NEAR(why.trend_per_min, (160.0 - 2 * c) / 60, 0.3);
}

TEST(Kalman, ASingleSpikeDoesNotFoolIt) {
  auto m = MakeKalman();
  auto s = m->NewState(High(20));
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n(0, 0.2);
  double t = 0;
  for (; t < 1800; t += 10) (void)m->Update(*s, kT0 + t, 5 + n(rng));
  const Forecast spike = m->Update(*s, kT0 + t, 30);  // past red, one reading
  EXPECT_LT(spike.probability, 0.01);
  EXPECT_NEAR(spike.why.level, 5, 0.3);
  EXPECT_GT(spike.tte_s, 0);
  double worst = 0;
  for (t += 10; t < 3600; t += 10) worst = std::max(worst, m->Update(*s, kT0 + t, 5 + n(rng)).probability);
  EXPECT_LT(worst, 0.01);
}

TEST(Kalman, TwoAgreeingOutliersAreARealStep) {
  auto m = MakeKalman();
  auto s = m->NewState(High(20));
  double t = 0;
  for (; t < 1800; t += 10) (void)m->Update(*s, kT0 + t, 5);
  (void)m->Update(*s, kT0 + t, 15);
  t += 10;
  const Forecast f = m->Update(*s, kT0 + t, 15);
  EXPECT_NEAR(f.why.level, 15, 1);
}

TEST(Kalman, O2FallingToALowThreshold) {
  auto m = MakeKalman();
  // 20.9 %vol, then falling 0.1 %vol/min from 10 min; red 18 %vol (low) at 39 min.
  Trace r = Feed(*m, Low(18), [](double t) { return t < 600 ? 20.9 : 20.9 - (t - 600) / 600; },
               45 * 60, 10, 0.02);
  EXPECT_LT(r.MaxProbability(0, 600), 0.5);
  const double warn = r.FirstWarning();
  EXPECT_GT(warn, 600);
  EXPECT_LT(warn, 39 * 60 - 8 * 60);
  EXPECT_LT(r.TteError(39 * 60, 20 * 60, 35 * 60), 0.2);
  EXPECT_NEAR(r.f[r.At(30 * 60)].tte_s, 9 * 60, 0.3 * 9 * 60);
  EXPECT_LT(r.f[r.At(30 * 60)].why.trend_per_min, 0);
  EXPECT_EQ(r.f[r.At(40 * 60)].tte_s, 0);
}

TEST(Kalman, O2DipToASteadyLevelAboveRedDoesNotWarn) {
  // Displacement settles at 19.9 %vol (above red 18): no warning once learned.
  auto m = MakeKalman();
  Trace r = Feed(*m, Low(18), [](double t) {
    return t < 300 ? 20.9 : 20.9 - 1.0 * (1 - std::exp(-(t - 300) / 600));
  }, 2 * 3600, 10, 0.02);
  EXPECT_LT(r.MaxProbability(300 + 30 * 60), 0.5);
  EXPECT_NEAR(r.f.back().why.steady_state, 19.9, 0.3);
  EXPECT_LT(r.f.back().why.source_per_min, 0);
}

TEST(Kalman, IrregularSamplingWithAFiveMinuteGap) {
  auto m = MakeKalman();
  auto s = m->NewState(High(30));
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> dt(5, 30);
  std::normal_distribution<double> n(0, 0.1);
  // 0.5 %LEL/min from 0; red 30 at 60 min; a 5-minute gap at 20 min.
  double t = 0, warn = -1;
  bool gap_done = false;
  Forecast at40;
  while (t < 55 * 60) {
    const Forecast f = m->Update(*s, kT0 + t, t / 120 + n(rng));
    if (warn < 0 && f.probability >= 0.5) warn = t;
    if (t <= 40 * 60) at40 = f;
    if (!gap_done && t > 20 * 60) {
      t += 300;
      gap_done = true;
    } else {
      t += dt(rng);
    }
  }
  EXPECT_GT(warn, 0);
  EXPECT_LT(warn, 60 * 60 - 10 * 60);
  EXPECT_NEAR(at40.tte_s, 20 * 60, 0.2 * 20 * 60);
}

TEST(Kalman, UpdateDoesNotAllocate) {
  if (!WG_COUNT_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under ASan";
  auto m = MakeKalman();
  auto s = m->NewState(High(20));
  (void)m->Update(*s, kT0, 1);
  const long before = g_allocations.load();
  for (int i = 1; i < 5000; ++i) (void)m->Update(*s, kT0 + 10 * i, 1 + 0.001 * i);
  EXPECT_EQ(g_allocations.load(), before);
}

TEST(Kalman, IgnoresReadingsThatBreakTheContract) {
  auto m = MakeKalman();
  auto s = m->NewState(High(20));
  EXPECT_EQ(m->Update(*s, kT0, std::nan("")).probability, 0);  // not started by NaN
  (void)m->Update(*s, kT0, 1);
  const Forecast a = m->Update(*s, kT0 + 10, 1.1);
  const Forecast b = m->Update(*s, kT0 + 10, 50);
  const Forecast c = m->Update(*s, kT0 + 5, 50);
  EXPECT_EQ(a.why.level, b.why.level);
  EXPECT_EQ(a.why.level, c.why.level);
}

TEST(Kalman, ProbabilityGrowsAsTheForecastApproachesRed) {
  // Not a 0/1 model: between "far" and "crossing surely" the probability is graded.
  auto m = MakeKalman();
  Trace r = Feed(*m, High(20), [](double t) { return t / 120; }, 40 * 60, 10, 0.2);
  bool graded = false;
  for (const auto& f : r.f) graded = graded || (f.probability > 0.05 && f.probability < 0.95);
  EXPECT_TRUE(graded);
  for (const auto& f : r.f) {
    ASSERT_GE(f.probability, 0);
    ASSERT_LE(f.probability, 1);
  }
}

TEST(Kalman, StrictParams) {
  auto ok = MakeByKind("kalman", {{"q_a", 2e-4}, {"outlier_sigma", 8}});
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ((*ok)->Params()["q_a"], 2e-4);
  EXPECT_EQ((*ok)->Params()["outlier_sigma"], 8);
  EXPECT_EQ((*ok)->Params()["q_k"], MakeKalman()->Params()["q_k"]);

  auto e = MakeByKind("kalman", {{"qa", 1}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.qa");
  e = MakeByKind("kalman", {{"outlier_sigma", 1}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.outlier_sigma");
  e = MakeByKind("kalman", {{"r0", 0.01}, {"r_min", 0.1}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.r_min");
  e = MakeByKind("kalman", {{"q_k", "lots"}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.q_k");

  // MakeKalman has no error channel: bad members fall back to the defaults.
  auto lenient = MakeKalman({{"q_a", -1}, {"bogus", 3}, {"q_k", 0.5}});
  EXPECT_EQ(lenient->Params()["q_a"], MakeKalman()->Params()["q_a"]);
  EXPECT_EQ(lenient->Params()["q_k"], 0.5);
  EXPECT_FALSE(lenient->Params().contains("bogus"));
}

}  // namespace
}  // namespace wg::predict

// Scenario simulator: option validation, determinism, set separation, labelling on the
// truth, and the false-alarm controls (near misses, spikes past red without events).
#include "wg/predict/simulate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

namespace wg::predict {
namespace internal {
// Defined in simulate.cc (test hook): minutes from each event scenario's precursor to its
// first labelled crossing.
core::Result<std::vector<double>> SimulatePrecursorToRedMinutes(const SimOptions& o);
}  // namespace internal

namespace {

SimOptions Small(std::string unit = "mixed", int scenarios = 24) {
  SimOptions o;
  o.seed = 7;
  o.unit = std::move(unit);
  o.scenarios = scenarios;
  o.hours_min = 2;
  o.hours_max = 3;
  return o;
}

std::size_t EventCount(const Scenario& s) {
  std::size_t n = 0;
  for (const auto& x : s.series) n += x.events.size();
  return n;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}

// Median of the readings i-2..i+2: robust to one spike.
double MedianAround(const Series& s, std::size_t i) {
  std::vector<double> w;
  for (std::size_t j = i >= 2 ? i - 2 : 0; j < std::min(s.v.size(), i + 3); ++j) w.push_back(s.v[j]);
  return Median(w);
}

TEST(Simulate, RejectsInvalidOptionsNamingTheField) {
  struct Case {
    void (*mutate)(SimOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](SimOptions& o) { o.scenarios = 0; }, "scenarios"},
      {[](SimOptions& o) { o.scenarios = 100'001; }, "scenarios"},
      {[](SimOptions& o) { o.hours_min = 0.25; }, "hours_min"},
      {[](SimOptions& o) { o.hours_max = 73; }, "hours_max"},
      {[](SimOptions& o) { o.hours_min = 5, o.hours_max = 4; }, "hours_max"},
      {[](SimOptions& o) { o.hours_min = NAN; }, "hours_min"},
      {[](SimOptions& o) { o.event_share = -0.1; }, "event_share"},
      {[](SimOptions& o) { o.event_share = 1.5; }, "event_share"},
      {[](SimOptions& o) { o.event_share = NAN; }, "event_share"},
      {[](SimOptions& o) { o.sample_s = 0.5; }, "sample_s"},
      {[](SimOptions& o) { o.sample_s = 601; }, "sample_s"},
      {[](SimOptions& o) { o.set = "validation"; }, "set"},
      {[](SimOptions& o) { o.set = ""; }, "set"},
      {[](SimOptions& o) { o.unit = "tank"; }, "unit"},
      {[](SimOptions& o) { o.start_epoch = -1; }, "start_epoch"},
      {[](SimOptions& o) { o.scenarios = 100'000, o.hours_max = 72, o.sample_s = 1; },
       "scenarios"},
  };
  for (const auto& c : cases) {
    SimOptions o = Small();
    c.mutate(o);
    auto st = ValidateSimOptions(o);
    EXPECT_FALSE(st.ok()) << c.field;
    EXPECT_EQ(st.field(), c.field) << st.ToString();
    auto d = Simulate(o);
    EXPECT_FALSE(d.ok()) << c.field;
  }
  EXPECT_TRUE(ValidateSimOptions(Small()).ok());
  SimOptions edge = Small();
  edge.hours_min = edge.hours_max = 0.5;
  edge.event_share = 1;
  edge.sample_s = 600;
  EXPECT_TRUE(ValidateSimOptions(edge).ok());
}

void ExpectSame(const Dataset& a, const Dataset& b) {
  ASSERT_EQ(a.scenarios.size(), b.scenarios.size());
  for (std::size_t i = 0; i < a.scenarios.size(); ++i) {
    const auto& x = a.scenarios[i];
    const auto& y = b.scenarios[i];
    ASSERT_EQ(x.name, y.name);
    ASSERT_EQ(x.series.size(), y.series.size());
    for (std::size_t j = 0; j < x.series.size(); ++j) {
      EXPECT_EQ(x.series[j].point, y.series[j].point);
      EXPECT_EQ(x.series[j].kind, y.series[j].kind);
      EXPECT_EQ(x.series[j].t, y.series[j].t);
      EXPECT_EQ(x.series[j].v, y.series[j].v) << x.name << " " << x.series[j].point;
      EXPECT_EQ(x.series[j].events, y.series[j].events);
      EXPECT_EQ(x.series[j].red.value, y.series[j].red.value);
    }
  }
}

TEST(Simulate, DeterministicForTheSameOptionsAndSeedSensitive) {
  SimOptions o = Small("mixed", 12);
  auto a = Simulate(o);
  auto b = Simulate(o);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  ASSERT_TRUE(b.ok());
  ExpectSame(*a, *b);

  o.seed = 8;
  auto c = Simulate(o);
  ASSERT_TRUE(c.ok());
  bool differs = a->scenarios.size() != c->scenarios.size();
  for (std::size_t i = 0; !differs && i < a->scenarios.size(); ++i) {
    differs = a->scenarios[i].name != c->scenarios[i].name ||
              a->scenarios[i].series[0].v != c->scenarios[i].series[0].v;
  }
  EXPECT_TRUE(differs);
}

TEST(Simulate, ProgressIsReportedPerScenario) {
  std::vector<int> done;
  auto d = Simulate(Small("confined", 5), [&](int k, int total) {
    EXPECT_EQ(total, 5);
    done.push_back(k);
  });
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(done, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(Simulate, ScenarioShapeThresholdsAndNames) {
  SimOptions o = Small("mixed", 30);
  auto d = Simulate(o);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->scenarios.size(), 30u);
  EXPECT_TRUE(std::is_sorted(d->scenarios.begin(), d->scenarios.end(),
                             [](const Scenario& a, const Scenario& b) { return a.name < b.name; }));
  int confined = 0, process = 0;
  for (const auto& s : d->scenarios) {
    bool is_confined = s.name.rfind("train-confined-", 0) == 0;
    bool is_process = s.name.rfind("train-process-", 0) == 0;
    ASSERT_TRUE(is_confined || is_process) << s.name;
    EXPECT_EQ(s.name.size(), std::string("train-process-00001.csv").size() + (is_confined ? 1 : 0));
    confined += is_confined;
    process += is_process;
    ASSERT_GE(s.series.size(), 2u) << s.name;
    ASSERT_LE(s.series.size(), 5u) << s.name;
    std::set<std::string> points;
    for (const auto& x : s.series) {
      EXPECT_TRUE(points.insert(x.point).second) << x.point;
      ASSERT_EQ(x.t.size(), x.v.size());
      ASSERT_FALSE(x.t.empty());
      for (std::size_t i = 1; i < x.t.size(); ++i) ASSERT_LT(x.t[i - 1], x.t[i]) << x.point;
      for (double v : x.v) {
        ASSERT_TRUE(std::isfinite(v));
        EXPECT_NEAR(v * 10, std::round(v * 10), 1e-6) << "quantized to 0.1";
      }
      double step = is_confined ? o.sample_s : 60;
      double span = x.t.back() - x.t.front();
      EXPECT_GE(span, 2 * 3600 - step * 20) << x.point;  // dropouts may clip the ends
      EXPECT_LE(span, 3 * 3600) << x.point;
      EXPECT_TRUE(std::isfinite(x.red.value)) << x.point;
      if (x.kind == "o2") {
        EXPECT_EQ(x.red.value, 18);
        EXPECT_FALSE(x.red.high);
        EXPECT_EQ(x.red.warn, 19.5);
      } else if (x.kind == "ch4" || x.kind == "combustible") {
        EXPECT_EQ(x.red.value, 50);
        EXPECT_EQ(x.red.warn, 25);
      } else if (x.kind == "h2s") {
        EXPECT_EQ(x.red.value, 20);
        EXPECT_EQ(x.red.warn, 10);
      } else if (x.kind == "co") {
        EXPECT_EQ(x.red.value, 40);
        EXPECT_EQ(x.red.warn, 20);
      } else if (x.kind == "pressure") {
        EXPECT_TRUE(x.red.high);
        double normal = MedianAround(x, 2);  // the first readings: normal operation
        EXPECT_GT(x.red.value, normal * 1.03) << x.point;
        EXPECT_LT(x.red.value, normal * 1.25) << x.point;
        EXPECT_GT(x.red.warn, normal) << x.point;
        EXPECT_LT(x.red.warn, x.red.value) << x.point;
      } else {
        EXPECT_EQ(x.kind, "temperature");
        EXPECT_TRUE(x.events.empty()) << "temperature never crosses: " << x.point;
      }
    }
    if (is_confined) {
      EXPECT_EQ(s.series.front().kind, "o2") << s.name;
      EXPECT_EQ(s.series.back().kind, "temperature") << s.name;
    } else {
      ASSERT_EQ(s.series.size(), 2u);
      EXPECT_EQ(s.series[0].kind, "pressure");
      EXPECT_EQ(s.series[1].kind, "temperature");
    }
  }
  EXPECT_GT(confined, process);  // about three in four are confined spaces
  EXPECT_GT(process, 0);
}

TEST(Simulate, EventsSitOnReadingsNearRed) {
  SimOptions o = Small("mixed", 30);
  o.event_share = 0.8;
  auto d = Simulate(o);
  ASSERT_TRUE(d.ok());
  std::size_t events = 0;
  for (const auto& s : d->scenarios) {
    for (const auto& x : s.series) {
      for (std::size_t e = 0; e < x.events.size(); ++e) {
        ++events;
        if (e > 0) {
          EXPECT_GE(x.events[e] - x.events[e - 1], 600) << x.point;
        }
        auto it = std::find(x.t.begin(), x.t.end(), x.events[e]);
        ASSERT_NE(it, x.t.end()) << "event not at a reading of " << x.point;
        auto i = static_cast<std::size_t>(it - x.t.begin());
        double near = MedianAround(x, i);
        double tolerance = x.kind == "pressure" ? 0.02 * x.red.value
                           : x.kind == "o2"     ? 1.0
                                                : 0.25 * x.red.value;
        EXPECT_NEAR(near, x.red.value, tolerance) << x.point << " at " << x.events[e];
        // Well before the event the reading was clearly inside.
        if (e == 0 && i > 60) {
          EXPECT_FALSE(x.red.Crossed(MedianAround(x, i - 60))) << x.point;
        }
      }
    }
  }
  EXPECT_GE(events, 20u);
}

TEST(Simulate, EventShareIsHonoured) {
  for (double share : {0.0, 0.3, 1.0}) {
    SimOptions o = Small("mixed", 40);
    o.hours_min = 1;
    o.hours_max = 1.5;
    o.event_share = share;
    auto d = Simulate(o);
    ASSERT_TRUE(d.ok());
    int with_events = 0;
    for (const auto& s : d->scenarios) with_events += EventCount(s) > 0;
    EXPECT_NEAR(with_events, share * 40, 1.0) << "share " << share;
  }
}

TEST(Simulate, FalseAlarmControlsExist) {
  SimOptions o = Small("confined", 40);
  o.event_share = 0.2;
  auto d = Simulate(o);
  ASSERT_TRUE(d.ok());
  int near_misses = 0, spikes_past_red = 0;
  for (const auto& s : d->scenarios) {
    if (EventCount(s) > 0) continue;
    bool near = false, spike = false;
    for (const auto& x : s.series) {
      if (x.kind == "temperature") continue;
      double margin = x.red.high ? x.red.value : 20.9 - x.red.value;
      for (std::size_t i = 2; i + 2 < x.v.size(); ++i) {
        double m = MedianAround(x, i);
        double rise = x.red.high ? m : 20.9 - m;
        if (rise >= 0.5 * margin) near = true;  // a sustained rise to half-way or more
        if (x.red.Crossed(x.v[i]) && !x.red.Crossed(m)) spike = true;
      }
    }
    near_misses += near;
    spikes_past_red += spike;
  }
  EXPECT_GE(near_misses, 4);
  EXPECT_GE(spikes_past_red, 3);
}

TEST(Simulate, TrainAndTestDiffer) {
  SimOptions o = Small("process", 60);
  o.hours_min = o.hours_max = 1;
  o.event_share = 0;
  auto train = Simulate(o);
  o.set = "test";
  auto test = Simulate(o);
  ASSERT_TRUE(train.ok());
  ASSERT_TRUE(test.ok());
  double train_lo = 1e9, train_hi = 0, test_lo = 1e9, test_hi = 0;
  for (const auto& s : train->scenarios) {
    double m = Median(s.series[0].v);
    train_lo = std::min(train_lo, m);
    train_hi = std::max(train_hi, m);
  }
  for (const auto& s : test->scenarios) {
    EXPECT_EQ(s.name.rfind("test-process-", 0), 0u);
    double m = Median(s.series[0].v);
    test_lo = std::min(test_lo, m);
    test_hi = std::max(test_hi, m);
  }
  // Normal pressure: train 1,000-3,000 kPa, test 700-4,500 kPa.
  EXPECT_GE(train_lo, 950);
  EXPECT_LE(train_hi, 3200);
  EXPECT_TRUE(test_lo < 950 || test_hi > 3200) << test_lo << ".." << test_hi;
  // Same seed, different streams.
  EXPECT_NE(train->scenarios[0].series[0].v, test->scenarios[0].series[0].v);
}

TEST(Simulate, PrecursorToRedTimesAreMostlyWarnable) {
  SimOptions o = Small("mixed", 80);
  o.event_share = 1;
  o.hours_min = o.hours_max = 5;
  o.sample_s = 30;
  auto minutes = internal::SimulatePrecursorToRedMinutes(o);
  ASSERT_TRUE(minutes.ok());
  ASSERT_GE(minutes->size(), 70u);
  int under5 = 0, under12 = 0, over120 = 0;
  for (double m : *minutes) {
    EXPECT_GE(m, 0);
    under5 += m < 5;
    under12 += m < 12;
    over120 += m > 120;
  }
  auto n = static_cast<double>(minutes->size());
  double median = Median(*minutes);
  std::printf("precursor->red: n=%zu median %.1f min, <5 min %d, <12 min %d, >120 min %d\n",
              minutes->size(), median, under5, under12, over120);
  EXPECT_LE(under5, std::max(1.0, 0.05 * n));
  EXPECT_LE(under12, 0.15 * n);
  EXPECT_GE(median, 20);
  EXPECT_LE(median, 90);
}

TEST(Simulate, ShortRunsStillWork) {
  SimOptions o = Small("mixed", 10);
  o.hours_min = o.hours_max = 0.5;
  o.event_share = 1;
  o.sample_s = 600;
  auto d = Simulate(o);
  ASSERT_TRUE(d.ok());
  for (const auto& s : d->scenarios) {
    for (const auto& x : s.series) EXPECT_GE(x.t.size(), 1u);
  }
}

}  // namespace
}  // namespace wg::predict

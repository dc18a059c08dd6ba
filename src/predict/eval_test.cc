#include "wg/predict/eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace wg::predict {
namespace {

using core::Json;

// Warns (probability 1) once the value passes `fraction` of the way to the red threshold
// (for a low threshold: below red / fraction). Counts its calls.
class FractionState : public State {
 public:
  Threshold red;
};

class Fraction : public Predictor {
 public:
  explicit Fraction(double fraction) : fraction_(fraction) {}
  std::string_view kind() const override { return "fraction"; }
  std::unique_ptr<State> NewState(const Threshold& red) const override {
    auto s = std::make_unique<FractionState>();
    s->red = red;
    return s;
  }
  Forecast Update(State& s, double, double value) const override {
    const auto& st = static_cast<const FractionState&>(s);
    ++calls;
    Forecast f;
    const bool near = st.red.high ? value >= fraction_ * st.red.value
                                  : value <= st.red.value / fraction_;
    f.probability = near ? 1.0 : 0.0;
    return f;
  }
  Json Params() const override { return Json{{"fraction", fraction_}}; }
  mutable std::size_t calls = 0;

 private:
  double fraction_;
};

constexpr double kT0 = 1'780'000'000;

// A ramp from 0 reaching red (100) at minute `cross_min` (one reading a minute, `n`
// readings), then flat at 100 after the crossing.
Series Ramp(const std::string& point, int n, int cross_min) {
  Series s;
  s.point = point;
  s.kind = "ch4";
  s.red = Threshold{100, true};
  for (int i = 0; i < n; ++i) {
    s.t.push_back(kT0 + 60.0 * i);
    s.v.push_back(i >= cross_min ? 100.0 : 100.0 * i / cross_min);
  }
  if (cross_min < n) s.events.push_back(kT0 + 60.0 * cross_min);
  return s;
}

Series Flat(const std::string& point, int n, double v) {
  Series s;
  s.point = point;
  s.kind = "ch4";
  s.red = Threshold{100, true};
  for (int i = 0; i < n; ++i) {
    s.t.push_back(kT0 + 60.0 * i);
    s.v.push_back(v);
  }
  return s;
}

TEST(Evaluate, ScoresEverySeriesOfTheDataset) {
  Dataset d;
  Scenario a;
  a.name = "a.csv";
  a.series.push_back(Ramp("p1", 120, 100));  // passes 50 at minute 50: lead 50 -> 30 min
  a.series.push_back(Flat("p2", 120, 10));   // quiet
  Scenario b;
  b.name = "b.csv";
  b.series.push_back(Ramp("p3", 61, 60));    // ramp over 60 min: passes 50 at minute 30
  b.series.push_back(Flat("p4", 121, 60));   // always above half: one false episode
  d.scenarios = {a, b};

  Fraction m(0.5);
  WarningPolicy pol;
  pol.hold_s = 0;
  m.set_policy(pol);
  const EvalRow r = Evaluate("frac", m, d, ScoreOptions{});
  EXPECT_EQ(r.model, "frac");
  EXPECT_EQ(r.kind, "fraction");
  EXPECT_EQ(r.readings, 120u + 120u + 61u + 121u);
  EXPECT_EQ(m.calls, r.readings);
  EXPECT_GE(r.ns_per_reading, 0.0);
  EXPECT_EQ(r.score.events, 2u);
  EXPECT_EQ(r.score.warned, 2u);
  ASSERT_EQ(r.score.leads_s.size(), 2u);
  EXPECT_DOUBLE_EQ(r.score.leads_s[0], 30 * 60.0);  // 50 min lead, clipped to the horizon
  EXPECT_DOUBLE_EQ(r.score.leads_s[1], 30 * 60.0);  // 30 min lead
  EXPECT_EQ(r.score.episodes, 3u);
  EXPECT_EQ(r.score.false_episodes, 2u);  // p4's, and p1's (raised 50 min before the event)
  // Point-hours: 119 + 119 + 60 + 120 minutes.
  EXPECT_NEAR(r.score.point_hours, (119.0 + 119 + 60 + 120) / 60.0, 1e-9);

  const Json j = ToJson(r);
  EXPECT_EQ(j.at("model"), "frac");
  EXPECT_EQ(j.at("kind"), "fraction");
  EXPECT_EQ(j.at("readings"), r.readings);
  EXPECT_TRUE(j.contains("ns_per_reading"));
  EXPECT_EQ(j.at("score").at("warned"), 2);
}

TEST(Evaluate, AgreesWithRunSeries) {
  Fraction m(0.8);
  WarningPolicy pol;
  pol.hold_s = 120;
  pol.confirm = 2;
  m.set_policy(pol);
  Dataset d;
  Scenario sc;
  sc.name = "x.csv";
  Series s = Flat("p", 200, 10);
  for (std::size_t i = 0; i < s.v.size(); ++i) s.v[i] = (i / 20) % 2 ? 90.0 : 10.0;
  sc.series.push_back(s);
  d.scenarios.push_back(sc);
  const EvalRow r = Evaluate("m", m, d, ScoreOptions{});
  const std::vector<Episode> e = RunSeries(m, s);
  EXPECT_EQ(r.score.episodes, e.size());
  EXPECT_EQ(e.size(), 5u);
  EXPECT_DOUBLE_EQ(e[0].start, s.t[21]);  // confirmed at the second high reading
  EXPECT_DOUBLE_EQ(e[0].end, s.t[42]);    // low from t[40], 120 s later
}

TEST(Evaluate, EmptyDataset) {
  Fraction m(0.5);
  const EvalRow r = Evaluate("m", m, Dataset{}, ScoreOptions{});
  EXPECT_EQ(r.readings, 0u);
  EXPECT_DOUBLE_EQ(r.ns_per_reading, 0.0);
  EXPECT_EQ(r.score.events, 0u);
}

NabSeries NabCase() {
  // 200 readings 5 minutes apart, noise between 10 and 20 in the probationary period
  // (first 30), a spike to 40 at rows 120..125 and a dip to -10 at rows 170..171;
  // windows over rows 110..130 and 160..180.
  NabSeries s;
  s.name = "realKnownCause/test.csv";
  for (int i = 0; i < 200; ++i) {
    s.t.push_back(kT0 + 300.0 * i);
    double v = 10 + (i % 11);
    if (i > 20) v = 15;  // level after the noise: 10 <= 15 <= 20
    if (i >= 120 && i <= 125) v = 40;
    if (i >= 170 && i <= 171) v = -10;
    s.v.push_back(v);
  }
  s.windows = {{s.t[110], s.t[130]}, {s.t[160], s.t[180]}};
  return s;
}

TEST(EvaluateNab, TwoSidedThresholdsFromTheProbationaryPeriod) {
  // Probationary range [10, 20], margin 0.1: high 21, low 9. Fraction 1 gives
  // probability 1 only at or past the threshold.
  Fraction m(1.0);
  WarningPolicy pol;
  pol.hold_s = 0;
  m.set_policy(pol);
  const NabSeries s = NabCase();
  const NabRow r = EvaluateNab("frac", m, s, 0.1);
  EXPECT_EQ(r.model, "frac");
  // A probability-1 reading past red does not turn the warning on (the red alarm is in
  // charge): fraction 1 never warns.
  EXPECT_EQ(r.detections, 0u);
  EXPECT_DOUBLE_EQ(r.standard.normalized, 0.0);
  EXPECT_EQ(r.standard.windows, 2u);

  Fraction near(0.5);
  near.set_policy(pol);
  const NabRow r2 = EvaluateNab("near", near, s, 0.1);
  // High threshold 21: half is 10.5, so the level 15 warns from the probationary period
  // on; low threshold 9: warns at or below 18 -> also from the start. Episodes start in
  // the probationary period (ignored) and again after the spike and dip.
  EXPECT_GT(r2.detections, 0u);
  EXPECT_EQ(r2.standard.windows, 2u);
  const Json j = ToJson(r2);
  EXPECT_EQ(j.at("model"), "near");
  for (const char* k : {"standard", "reward_low_fp", "reward_low_fn"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    for (const char* m2 : {"raw", "normalized", "windows", "detected", "false_positives"}) {
      EXPECT_TRUE(j.at(k).contains(m2)) << k << "." << m2;
    }
  }
}

// Warns (probability 1) when the value moved by more than 5 since the previous reading,
// in either direction.
class JumpState : public State {
 public:
  double last = 0;
  bool any = false;
};
class Jump : public Predictor {
 public:
  std::string_view kind() const override { return "jump"; }
  std::unique_ptr<State> NewState(const Threshold&) const override {
    return std::make_unique<JumpState>();
  }
  Forecast Update(State& s, double, double v) const override {
    auto& st = static_cast<JumpState&>(s);
    Forecast f;
    f.probability = st.any && std::abs(v - st.last) > 5 ? 1.0 : 0.0;
    st.last = v;
    st.any = true;
    return f;
  }
  Json Params() const override { return Json::object(); }
};

TEST(EvaluateNab, DetectionsAreTheUnionOfBothSides) {
  NabSeries s = NabCase();
  // One step into each anomaly before the threshold is passed, so the warning turns on
  // while the value is not yet past red.
  s.v[119] = 21 - 0.5;  // below high (21)
  s.v[169] = 9 + 0.5;   // above low (9)
  s.v[120] = 40;
  s.v[170] = -10;
  Jump m;
  WarningPolicy pol;
  pol.hold_s = 0;
  m.set_policy(pol);
  const NabRow r = EvaluateNab("jump", m, s, 0.1);
  // Row 119 (jump 5.5 from 15, below 21) and row 169 (jump 5.5, above 9) start episodes
  // in both thresholds' runs: the union has each once. The jumps back (rows 126, 172)
  // start later episodes inside the same windows, which count for nothing.
  EXPECT_GE(r.detections, 2u);
  EXPECT_EQ(r.standard.windows, 2u);
  EXPECT_EQ(r.standard.detected, 2u);
  EXPECT_GT(r.standard.normalized, 0.0);
  EXPECT_LE(r.standard.normalized, 100.0);
  // Both windows detected: reward_low_FN's null is lower, so it normalises higher or equal.
  EXPECT_GE(r.reward_low_fn.normalized, r.standard.normalized - 1e-9);
}

TEST(EvaluateNab, EmptySeries) {
  Jump m;
  const NabRow r = EvaluateNab("jump", m, NabSeries{}, 0.1);
  EXPECT_EQ(r.detections, 0u);
  EXPECT_EQ(r.standard.windows, 0u);
}

TEST(SeedFigures, CarriesTheSeedsClaimAndCaveat) {
  const Json j = SeedFigures();
  EXPECT_EQ(j.at("lead_min"), 12);
  EXPECT_DOUBLE_EQ(j.at("accuracy").get<double>(), 0.914);
  EXPECT_DOUBLE_EQ(j.at("false_alarm_share_before").get<double>(), 0.18);
  EXPECT_DOUBLE_EQ(j.at("false_alarm_share_after_retraining").get<double>(), 0.043);
  EXPECT_EQ(j.at("model"), "LSTM on 32,000 incident tickets");
  EXPECT_NE(j.at("note").get<std::string>().find("accuracy, not recall"), std::string::npos);
}

}  // namespace
}  // namespace wg::predict

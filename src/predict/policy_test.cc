#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "wg/core/json.h"
#include "wg/predict/model.h"

namespace wg::predict {
namespace {

using core::Json;

// Returns scripted probabilities, one per Update call of a state (0 past the script).
class ScriptedState : public State {
 public:
  std::size_t next = 0;
  std::vector<double> times;
};

class Scripted : public Predictor {
 public:
  explicit Scripted(std::vector<double> p) : p_(std::move(p)) {}
  std::string_view kind() const override { return "scripted"; }
  std::unique_ptr<State> NewState(const Threshold&) const override {
    return std::make_unique<ScriptedState>();
  }
  Forecast Update(State& s, double t, double) const override {
    auto& st = static_cast<ScriptedState&>(s);
    st.times.push_back(t);
    Forecast f;
    f.probability = st.next < p_.size() ? p_[st.next] : 0.0;
    ++st.next;
    return f;
  }
  Json Params() const override { return Json::object(); }

 private:
  std::vector<double> p_;
};

Forecast P(double p) {
  Forecast f;
  f.probability = p;
  return f;
}

const Threshold kRed{100.0, true};

WarningPolicy Policy(double on, double off, double hold, int confirm, double rearm = 0) {
  WarningPolicy p;
  p.rearm_s = rearm;
  p.on_probability = on;
  p.off_probability = off;
  p.hold_s = hold;
  p.confirm = confirm;
  return p;
}

using Change = WarningTracker::Change;

TEST(WarningTracker, TurnsOnAtThresholdAndOffAfterHold) {
  WarningTracker tr(Policy(0.5, 0.3, 120, 1));
  EXPECT_EQ(tr.Update(0, 10, kRed, P(0.49)), Change::kNone);
  EXPECT_EQ(tr.Update(60, 10, kRed, P(0.5)), Change::kOn);  // >= on
  EXPECT_TRUE(tr.on());
  EXPECT_DOUBLE_EQ(tr.on_since(), 60);
  EXPECT_EQ(tr.Update(120, 10, kRed, P(0.3)), Change::kNone);   // not < off
  EXPECT_EQ(tr.Update(180, 10, kRed, P(0.29)), Change::kNone);  // below since 180
  EXPECT_EQ(tr.Update(240, 10, kRed, P(0.1)), Change::kNone);   // 60 s below
  EXPECT_EQ(tr.Update(300, 10, kRed, P(0.1)), Change::kOff);    // 120 s below
  EXPECT_FALSE(tr.on());
}

TEST(WarningTracker, HoldRestartsWhenProbabilityRecovers) {
  WarningTracker tr(Policy(0.5, 0.3, 120, 1));
  ASSERT_EQ(tr.Update(0, 10, kRed, P(0.9)), Change::kOn);
  EXPECT_EQ(tr.Update(60, 10, kRed, P(0.1)), Change::kNone);
  EXPECT_EQ(tr.Update(120, 10, kRed, P(0.4)), Change::kNone);  // between off and on: resets
  EXPECT_EQ(tr.Update(180, 10, kRed, P(0.1)), Change::kNone);
  EXPECT_EQ(tr.Update(240, 10, kRed, P(0.1)), Change::kNone);  // 60 s since 180
  EXPECT_EQ(tr.Update(300, 10, kRed, P(0.1)), Change::kOff);
}

TEST(WarningTracker, ZeroHoldTurnsOffAtFirstLowReading) {
  WarningTracker tr(Policy(0.5, 0.5, 0, 1));
  ASSERT_EQ(tr.Update(0, 10, kRed, P(0.5)), Change::kOn);
  EXPECT_EQ(tr.Update(1, 10, kRed, P(0.49)), Change::kOff);
}

TEST(WarningTracker, ConfirmNeedsConsecutiveReadings) {
  WarningTracker tr(Policy(0.5, 0.3, 0, 3));
  EXPECT_EQ(tr.Update(0, 10, kRed, P(0.9)), Change::kNone);
  EXPECT_EQ(tr.Update(1, 10, kRed, P(0.9)), Change::kNone);
  EXPECT_EQ(tr.Update(2, 10, kRed, P(0.2)), Change::kNone);  // streak broken
  EXPECT_EQ(tr.Update(3, 10, kRed, P(0.9)), Change::kNone);
  EXPECT_EQ(tr.Update(4, 10, kRed, P(0.9)), Change::kNone);
  EXPECT_EQ(tr.Update(5, 10, kRed, P(0.9)), Change::kOn);
  EXPECT_DOUBLE_EQ(tr.on_since(), 5);  // the reading that turned it on
}

TEST(WarningTracker, RedCrossingEndsTheWarningAndBlocksTurningOn) {
  WarningTracker tr(Policy(0.5, 0.3, 600, 1));
  ASSERT_EQ(tr.Update(0, 90, kRed, P(0.9)), Change::kOn);
  EXPECT_EQ(tr.Update(60, 100, kRed, P(1.0)), Change::kOff);  // crossed (>= red)
  EXPECT_EQ(tr.Update(120, 120, kRed, P(1.0)), Change::kNone);  // past red: not on
  EXPECT_FALSE(tr.on());
  EXPECT_EQ(tr.Update(180, 99, kRed, P(1.0)), Change::kOn);  // back below red
  // Low threshold (O2): danger at or below 18.
  WarningTracker low(Policy(0.5, 0.3, 600, 1));
  const Threshold o2{18.0, false};
  EXPECT_EQ(low.Update(0, 18.0, o2, P(1.0)), Change::kNone);
  EXPECT_EQ(low.Update(1, 18.5, o2, P(1.0)), Change::kOn);
  EXPECT_EQ(low.Update(2, 17.9, o2, P(1.0)), Change::kOff);
}

TEST(WarningTracker, AfterRedNoWarningUntilInsideForTheRearmTime) {
  WarningTracker tr(Policy(0.5, 0.3, 600, 1, 600));
  ASSERT_EQ(tr.Update(0, 90, kRed, P(0.9)), Change::kOn);
  EXPECT_EQ(tr.Update(60, 101, kRed, P(1.0)), Change::kOff);   // the event
  EXPECT_EQ(tr.Update(120, 99, kRed, P(1.0)), Change::kNone);  // hovering: red in charge
  EXPECT_EQ(tr.Update(180, 102, kRed, P(1.0)), Change::kNone);
  EXPECT_EQ(tr.Update(240, 95, kRed, P(1.0)), Change::kNone);  // inside from 240 s
  EXPECT_EQ(tr.Update(780, 95, kRed, P(1.0)), Change::kNone);  // 540 s inside
  EXPECT_EQ(tr.Update(840, 95, kRed, P(1.0)), Change::kOn);    // 600 s inside: re-armed
}

TEST(WarningTracker, CrossingWhileOffResetsTheConfirmStreak) {
  WarningTracker tr(Policy(0.5, 0.3, 0, 2));
  EXPECT_EQ(tr.Update(0, 10, kRed, P(0.9)), Change::kNone);
  EXPECT_EQ(tr.Update(1, 150, kRed, P(0.9)), Change::kNone);
  EXPECT_EQ(tr.Update(2, 10, kRed, P(0.9)), Change::kNone);
  EXPECT_EQ(tr.Update(3, 10, kRed, P(0.9)), Change::kOn);
}

TEST(WarningTracker, NegativeTimesWork) {
  // No sentinel time: a hold starting at t = -1 must still be honoured.
  WarningTracker tr(Policy(0.5, 0.3, 10, 1));
  ASSERT_EQ(tr.Update(-20, 10, kRed, P(0.9)), Change::kOn);
  EXPECT_EQ(tr.Update(-1, 10, kRed, P(0.1)), Change::kNone);
  EXPECT_EQ(tr.Update(5, 10, kRed, P(0.1)), Change::kNone);
  EXPECT_EQ(tr.Update(9, 10, kRed, P(0.1)), Change::kOff);
}

Series MakeSeries(std::size_t n, double dt = 60) {
  Series s;
  s.point = "p";
  s.kind = "ch4";
  s.red = kRed;
  for (std::size_t i = 0; i < n; ++i) {
    s.t.push_back(1000 + dt * static_cast<double>(i));
    s.v.push_back(10);
  }
  return s;
}

TEST(RunSeries, BuildsEpisodesAndClosesOneStillOnAtTheEnd) {
  Scripted m({0, 0.9, 0.9, 0.1, 0, 0, 0.8, 0.8});
  m.set_policy(Policy(0.5, 0.3, 60, 1));
  const Series s = MakeSeries(8);
  const std::vector<Episode> e = RunSeries(m, s);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_DOUBLE_EQ(e[0].start, s.t[1]);
  EXPECT_DOUBLE_EQ(e[0].end, s.t[4]);  // below from t[3], 60 s later at t[4]
  EXPECT_DOUBLE_EQ(e[1].start, s.t[6]);
  EXPECT_DOUBLE_EQ(e[1].end, s.t[7]);  // still on: ends at the last reading
}

TEST(RunSeries, RedCrossingEndsTheEpisodeAtTheCrossing) {
  Scripted m({0.9, 0.9, 0.9, 0.9});
  m.set_policy(Policy(0.5, 0.3, 600, 1));
  Series s = MakeSeries(4);
  s.v = {50, 80, 105, 110};
  const std::vector<Episode> e = RunSeries(m, s);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_DOUBLE_EQ(e[0].start, s.t[0]);
  EXPECT_DOUBLE_EQ(e[0].end, s.t[2]);
}

TEST(RunSeries, EmptyAndQuietSeries) {
  Scripted m({});
  EXPECT_TRUE(RunSeries(m, Series{}).empty());
  EXPECT_TRUE(RunSeries(m, MakeSeries(10)).empty());
}

TEST(RunSeries, SkipsNonIncreasingTimes) {
  Scripted m({0.9, 0.9, 0.9});
  m.set_policy(Policy(0.5, 0.3, 0, 2));
  Series s = MakeSeries(3);
  s.t = {1000, 1000, 1060};  // a duplicate: the model sees two readings, not three
  const std::vector<Episode> e = RunSeries(m, s);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_DOUBLE_EQ(e[0].start, 1060);
}

TEST(WarningPolicyJson, RoundTrips) {
  const WarningPolicy p = Policy(0.7, 0.2, 90, 3, 450);
  const auto back = ParseWarningPolicy(ToJson(p));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_DOUBLE_EQ(back->on_probability, 0.7);
  EXPECT_DOUBLE_EQ(back->off_probability, 0.2);
  EXPECT_DOUBLE_EQ(back->hold_s, 90);
  EXPECT_EQ(back->confirm, 3);
  EXPECT_DOUBLE_EQ(back->rearm_s, 450);
  const Json j = ToJson(p);
  EXPECT_EQ(j.size(), 5u);
}

TEST(WarningPolicyJson, MissingMembersKeepDefaults) {
  const auto p = ParseWarningPolicy(Json::parse(R"({"on_probability": 0.8})"));
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_DOUBLE_EQ(p->on_probability, 0.8);
  EXPECT_DOUBLE_EQ(p->off_probability, WarningPolicy{}.off_probability);
  EXPECT_EQ(p->confirm, 1);
}

TEST(WarningPolicyJson, RejectsBadInputNamingTheMember) {
  struct Case {
    const char* json;
    const char* names;
  };
  const Case cases[] = {
      {R"({"on_probabilty": 0.5})", "on_probabilty"},
      {R"({"on_probability": 1.5})", "on_probability"},
      {R"({"on_probability": "0.5"})", "on_probability"},
      {R"({"off_probability": -0.1})", "off_probability"},
      {R"({"on_probability": 0.4, "off_probability": 0.6})", "off_probability"},
      {R"({"hold_s": -1})", "hold_s"},
      {R"({"hold_s": true})", "hold_s"},
      {R"({"confirm": 0})", "confirm"},
      {R"({"confirm": 101})", "confirm"},
      {R"({"confirm": 2.5})", "confirm"},
      {R"([1, 2])", "policy"},
  };
  for (const Case& c : cases) {
    const auto p = ParseWarningPolicy(Json::parse(c.json));
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.error().code(), core::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(p.error().ToString().find(c.names), std::string::npos)
        << c.json << " -> " << p.error().ToString();
  }
  // Equal on and off, and the bounds themselves, are fine.
  EXPECT_TRUE(ParseWarningPolicy(Json::parse(
                  R"({"on_probability": 0.5, "off_probability": 0.5, "hold_s": 0, "confirm": 100})"))
                  .ok());
}

}  // namespace
}  // namespace wg::predict

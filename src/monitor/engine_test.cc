// Engine: readings in, alarm transitions and SOP actions out, on a fake clock.
#include "wg/monitor/engine.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace wg::monitor {
namespace {

using core::Duration;
using core::OrgId;
using core::Timestamp;

const MonitorRulebook& Book() {
  static const auto book = MonitorRulebook::LoadEmbedded();
  return **book;
}

Timestamp T(const char* s) { return *core::ParseTimestamp(s); }

class EngineTest : public ::testing::Test {
 protected:
  explicit EngineTest(Timestamp t0 = T("2026-06-15T10:00:00+08:00")) : t0_(t0) {}

  Timestamp At(double s) const {
    return t0_ + Duration{static_cast<std::int64_t>(s * 1e6)};
  }
  PointIndex Add(const std::string& kind, const std::string& unit, const std::string& gas = "",
                 const std::string& id = "P1", OrgId org = OrgId{1},
                 std::vector<PointLimit> limits = {}) {
    PointConfig c;
    c.org = org;
    c.id = id;
    c.site = "S1";
    c.zone = "Z1";
    c.kind = kind;
    c.unit = unit;
    c.gas = gas;
    c.permits = {"SX-2026-0001"};
    c.limits = std::move(limits);
    auto i = eng_.UpsertPoint(c, At(0));
    EXPECT_TRUE(i.ok()) << i.error().ToString();
    return *i;
  }
  // A reading measured and received at second s.
  IngestVerdict Feed(PointIndex i, double s, double v) {
    return eng_.Ingest(i, At(s), v, At(s), out_);
  }
  std::vector<AlarmEvent> Events(EventKind k) const {
    std::vector<AlarmEvent> r;
    for (const auto& e : out_.events) {
      if (e.kind == k) r.push_back(e);
    }
    return r;
  }
  std::vector<Alarm> OpenOf(const std::string& rule) const {
    std::vector<Alarm> r;
    for (auto& a : eng_.OpenAlarms()) {
      if (a.rule == rule) r.push_back(a);
    }
    return r;
  }
  bool HasAction(ActionKind k, std::int64_t alarm) const {
    return std::any_of(out_.actions.begin(), out_.actions.end(),
                       [&](const Action& a) { return a.kind == k && a.alarm_id == alarm; });
  }

  Timestamp t0_;
  Engine eng_{Book()};
  Emissions out_;
};

TEST_F(EngineTest, VerdictsForBadReadings) {
  auto p = Add("o2", "%vol");
  EXPECT_EQ(Feed(p, 10, std::nan("")), IngestVerdict::kNotFinite);
  EXPECT_EQ(Feed(p, 10, HUGE_VAL), IngestVerdict::kNotFinite);
  EXPECT_EQ(eng_.Ingest(p, At(71), 20.9, At(10), out_), IngestVerdict::kTooFarFuture);
  EXPECT_EQ(eng_.Ingest(p, At(70), 20.9, At(10), out_), IngestVerdict::kAccepted);  // at limit
  EXPECT_EQ(eng_.Ingest(p, At(100 - 86401), 20.9, At(100), out_), IngestVerdict::kTooOld);
  EXPECT_EQ(Feed(p, 70, 20.8), IngestVerdict::kDuplicate);
  EXPECT_EQ(Feed(p, 69, 20.8), IngestVerdict::kOutOfOrder);
  EXPECT_EQ(Feed(p, 72, 20.8), IngestVerdict::kAccepted);
  EXPECT_EQ(eng_.Status(p).last_time, At(72));
  EXPECT_DOUBLE_EQ(eng_.Status(p).last_value, 20.8);
  EXPECT_EQ(eng_.Ingest(99, At(80), 20.8, At(80), out_), IngestVerdict::kDisabled);
  ASSERT_TRUE(eng_.RemovePoint(OrgId{1}, "P1").ok());
  EXPECT_EQ(Feed(p, 80, 20.8), IngestVerdict::kDisabled);
  EXPECT_EQ(eng_.RemovePoint(OrgId{2}, "P1").code(), core::StatusCode::kNotFound);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(IngestVerdictName(IngestVerdict::kOutOfOrder), "out_of_order");
}

TEST_F(EngineTest, UpsertValidatesAndReplacingKeepsIndexAndReading) {
  PointConfig c;
  c.org = OrgId{1};
  c.id = "X";
  c.site = "S";
  c.kind = "o2";
  c.unit = "ppm";
  EXPECT_EQ(eng_.UpsertPoint(c, At(0)).error().field(), "unit");
  c.unit = "%vol";
  c.kind = "radon";
  EXPECT_EQ(eng_.UpsertPoint(c, At(0)).error().field(), "kind");
  c.kind = "combustible";
  c.unit = "%LEL";
  EXPECT_EQ(eng_.UpsertPoint(c, At(0)).error().field(), "gas");
  c.gas = "CH4";
  auto i = eng_.UpsertPoint(c, At(0));
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(Feed(*i, 1, 3), IngestVerdict::kAccepted);
  c.name = "renamed";
  auto j = eng_.UpsertPoint(c, At(2));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*i, *j);
  EXPECT_EQ(eng_.point(*j).name, "renamed");
  EXPECT_EQ(Feed(*i, 1, 3), IngestVerdict::kDuplicate);
  EXPECT_EQ(eng_.Find(OrgId{1}, "X"), *i);
  EXPECT_FALSE(eng_.Find(OrgId{2}, "X").has_value());
  EXPECT_EQ(eng_.point_count(), 1u);
}

TEST_F(EngineTest, ForDurationMeasuredInReadingTime) {
  auto p = Add("temperature", "degC", "", "R1", OrgId{1},
               {PointLimit{Level::kYellow, true, 100, 10, 0}});
  Feed(p, 0, 101);
  Feed(p, 9, 101);
  EXPECT_TRUE(out_.events.empty()) << "9 s is below for_s";
  Feed(p, 10, 100);  // at the limit counts (>=)
  ASSERT_EQ(Events(EventKind::kRaised).size(), 1u);
  const Alarm& a = out_.events[0].alarm;
  EXPECT_EQ(a.rule, "point.R1.0");
  EXPECT_EQ(a.clause, "point configuration");
  EXPECT_EQ(a.level, Level::kYellow);
  EXPECT_EQ(a.reading_time, At(10));
}

TEST_F(EngineTest, ForDurationRestartsWhenTheConditionBreaks) {
  auto p = Add("temperature", "degC", "", "R1", OrgId{1},
               {PointLimit{Level::kYellow, true, 100, 10, 0}});
  Feed(p, 0, 101);
  Feed(p, 5, 99);
  Feed(p, 6, 101);
  Feed(p, 15, 101);
  EXPECT_TRUE(out_.events.empty());
  Feed(p, 16, 101);
  EXPECT_EQ(Events(EventKind::kRaised).size(), 1u);
}

TEST_F(EngineTest, HysteresisAndClearFor) {
  // H2S level-1 10 mg/m3, hysteresis 1, clear_for 10 s.
  auto p = Add("h2s", "mg/m3");
  Feed(p, 0, 12);
  ASSERT_EQ(OpenOf("gbt50493.h2s.al").size(), 1u);
  // Dips slightly back inside (9.5 is inside 10 but not 1 below): stays active.
  for (int s = 1; s <= 30; ++s) Feed(p, s, 9.5);
  EXPECT_EQ(OpenOf("gbt50493.h2s.al")[0].state, AlarmState::kActiveUnacked);
  EXPECT_TRUE(Events(EventKind::kCleared).empty());
  Feed(p, 31, 8.9);
  Feed(p, 40, 8.9);
  EXPECT_TRUE(Events(EventKind::kCleared).empty()) << "9 s is below clear_for_s";
  Feed(p, 41, 8.8);
  ASSERT_EQ(Events(EventKind::kCleared).size(), 1u);
  EXPECT_EQ(OpenOf("gbt50493.h2s.al")[0].state, AlarmState::kClearedUnacked);
  EXPECT_TRUE(OpenOf("gbt50493.h2s.al")[0].cleared_at.has_value());
}

TEST_F(EngineTest, ClearTimerRestartsWhenTheValueReturns) {
  auto p = Add("h2s", "mg/m3");
  Feed(p, 0, 12);
  Feed(p, 1, 8);
  Feed(p, 9, 8);
  Feed(p, 10, 9.5);  // not back beyond the hysteresis: the clear timer restarts
  Feed(p, 11, 8);
  Feed(p, 20, 8);
  EXPECT_TRUE(Events(EventKind::kCleared).empty());
  Feed(p, 21, 8);
  EXPECT_EQ(Events(EventKind::kCleared).size(), 1u);
}

TEST_F(EngineTest, RateRule) {
  // Combustible rising >= 5 %LEL/min over 60 s.
  auto p = Add("combustible", "%LEL", "CH4");
  for (int s = 0; s <= 120; s += 10) Feed(p, s, s * 3.0 / 60);  // 3 %LEL/min: no alarm
  EXPECT_TRUE(out_.events.empty());
  auto q = Add("combustible", "%LEL", "CH4", "P2");
  Feed(q, 0, 0);
  for (int s = 10; s <= 40; s += 10) Feed(q, s, s / 10.0);  // 1 %LEL per 10 s = 6 /min
  EXPECT_TRUE(out_.events.empty()) << "rise 4 %LEL in 40 s is under a window's worth";
  Feed(q, 50, 5.0);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alarm.rule, "preset.combustible.rate");
  EXPECT_EQ(raised[0].alarm.rule_kind, "rate");
  EXPECT_EQ(raised[0].alarm.level, Level::kYellow);
  EXPECT_DOUBLE_EQ(raised[0].alarm.value, 5.0);
  EXPECT_EQ(raised[0].alarm.point, "P2");
  // Flat again: the next complete window measures 0 /min and clears.
  for (int s = 60; s <= 200; s += 10) Feed(q, s, 5.0);
  EXPECT_EQ(Events(EventKind::kCleared).size(), 1u);
}

TEST_F(EngineTest, StaleAfterNSecondsAndRecovery) {
  auto p = Add("o2", "%vol");  // stale_after_s 60
  Feed(p, 0, 20.9);
  eng_.Tick(At(59), out_);
  EXPECT_TRUE(out_.events.empty());
  eng_.Tick(At(60), out_);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alarm.rule, "sensor.stale");
  EXPECT_EQ(raised[0].alarm.rule_kind, "stale");
  EXPECT_EQ(raised[0].alarm.level, Level::kYellow);
  EXPECT_TRUE(eng_.Status(p).stale);
  eng_.Tick(At(70), out_);
  EXPECT_EQ(Events(EventKind::kRaised).size(), 1u) << "de-duplicated";
  Feed(p, 71, 20.9);
  EXPECT_FALSE(eng_.Status(p).stale);
  ASSERT_EQ(Events(EventKind::kCleared).size(), 1u);
  EXPECT_EQ(Events(EventKind::kCleared)[0].alarm.id, raised[0].alarm.id);
}

TEST_F(EngineTest, PointStaleOverride) {
  PointConfig c;
  c.org = OrgId{1};
  c.id = "crane";
  c.site = "S";
  c.kind = "crane_load";
  c.unit = "%";
  c.stale_after_s = 5;
  auto p = eng_.UpsertPoint(c, At(0));
  ASSERT_TRUE(p.ok());
  eng_.Tick(At(4), out_);
  EXPECT_TRUE(out_.events.empty());
  eng_.Tick(At(5), out_);  // never reported: stale counts from configuration
  EXPECT_EQ(Events(EventKind::kRaised).size(), 1u);
}

TEST_F(EngineTest, FlatLine) {
  auto p = Add("o2", "%vol");  // flat-line window 1800 s
  for (int s = 0; s < 1800; s += 60) Feed(p, s, 20.9);
  EXPECT_TRUE(out_.events.empty());
  Feed(p, 1800, 20.9);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alarm.rule, "sensor.flatline");
  EXPECT_EQ(raised[0].alarm.level, Level::kBlue);
  Feed(p, 1860, 20.8);
  EXPECT_EQ(Events(EventKind::kCleared).size(), 1u);
}

TEST_F(EngineTest, OutOfPhysicalRangeIsAFaultNotAGasAlarm) {
  auto p = Add("o2", "%vol");  // range 0..30
  Feed(p, 0, 35);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u) << "no O2-high alarm from a broken sensor";
  EXPECT_EQ(raised[0].alarm.rule, "sensor.range");
  EXPECT_DOUBLE_EQ(raised[0].alarm.threshold, 30);
  Feed(p, 1, -1);
  EXPECT_EQ(Events(EventKind::kRaised).size(), 1u);
  Feed(p, 2, 20.9);
  EXPECT_EQ(Events(EventKind::kCleared).size(), 1u);
}

TEST_F(EngineTest, DeduplicationPerPointAndRule) {
  auto p = Add("h2s", "mg/m3");
  Feed(p, 0, 12);
  Feed(p, 1, 13);
  Feed(p, 2, 15);
  EXPECT_EQ(Events(EventKind::kRaised).size(), 1u);
  auto al = OpenOf("gbt50493.h2s.al");
  ASSERT_EQ(al.size(), 1u);
  EXPECT_DOUBLE_EQ(al[0].peak, 15);
  EXPECT_DOUBLE_EQ(al[0].value, 12);
  Feed(p, 63, 25);  // the level-2 rule raises its own alarm
  std::vector<AlarmEvent> raised;
  for (auto& e : Events(EventKind::kRaised)) {
    if (e.alarm.rule_kind != "rate") raised.push_back(e);
  }
  ASSERT_EQ(raised.size(), 2u);
  EXPECT_EQ(raised[1].alarm.rule, "gbt50493.h2s.ah");
  EXPECT_EQ(raised[1].alarm.level, Level::kRed);
  EXPECT_NE(raised[0].alarm.id, raised[1].alarm.id);
  EXPECT_EQ(OpenOf("gbt50493.h2s.al").size(), 1u);
  EXPECT_DOUBLE_EQ(OpenOf("gbt50493.h2s.al")[0].peak, 25);
  EXPECT_EQ(eng_.OpenAlarms(OrgId{1}).size(), eng_.OpenAlarms().size());
  EXPECT_TRUE(eng_.OpenAlarms(OrgId{2}).empty());
}

TEST_F(EngineTest, ReactivationOfAClearedUnackedAlarm) {
  auto p = Add("h2s", "mg/m3");
  Feed(p, 0, 12);
  Feed(p, 1, 5);
  Feed(p, 11, 5);
  ASSERT_EQ(Events(EventKind::kCleared).size(), 1u);
  std::int64_t id = Events(EventKind::kRaised)[0].alarm.id;
  Feed(p, 12, 11);
  auto re = Events(EventKind::kReactivated);
  ASSERT_EQ(re.size(), 1u);
  EXPECT_EQ(re[0].alarm.id, id);
  EXPECT_EQ(re[0].alarm.state, AlarmState::kActiveUnacked);
  EXPECT_FALSE(re[0].alarm.cleared_at.has_value());
  EXPECT_EQ(Events(EventKind::kRaised).size(), 1u);
  // Cleared again and acknowledged: closed; the next excursion is a new alarm.
  Feed(p, 13, 5);
  Feed(p, 23, 5);
  auto ack = eng_.Acknowledge(OrgId{1}, id, "user:wang", "team_leader", "vented", At(24), out_);
  ASSERT_TRUE(ack.ok()) << ack.error().ToString();
  EXPECT_EQ(ack->state, AlarmState::kClearedAcked);
  EXPECT_EQ(Events(EventKind::kClosed).size(), 1u);
  EXPECT_FALSE(eng_.GetOpenAlarm(id).has_value());
  Feed(p, 25, 12);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 2u);
  EXPECT_GT(raised[1].alarm.id, id);
}

TEST_F(EngineTest, AcknowledgeChecksRoleStateAndOrganization) {
  auto p = Add("combustible", "%LEL", "CH4");
  Feed(p, 0, 12);  // blue preset 10 %LEL
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  ASSERT_EQ(raised[0].alarm.level, Level::kBlue);
  std::int64_t id = raised[0].alarm.id;
  auto denied = eng_.Acknowledge(OrgId{1}, id, "user:li", "worker", "", At(1), out_);
  EXPECT_EQ(denied.error().code(), core::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.error().message().find("team_leader"), std::string::npos);
  auto other = eng_.Acknowledge(OrgId{2}, id, "user:li", "team_leader", "", At(1), out_);
  EXPECT_EQ(other.error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(eng_.Acknowledge(OrgId{1}, 999, "user:li", "team_leader", "", At(1), out_)
                .error()
                .code(),
            core::StatusCode::kNotFound);
  auto ok = eng_.Acknowledge(OrgId{1}, id, "user:li", "team_leader", "checked", At(2), out_);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->state, AlarmState::kActiveAcked);
  EXPECT_EQ(ok->acked_by, "user:li");
  EXPECT_EQ(ok->acked_at, At(2));
  ASSERT_EQ(Events(EventKind::kAcknowledged).size(), 1u);
  EXPECT_EQ(Events(EventKind::kAcknowledged)[0].actor, "user:li");
  auto twice = eng_.Acknowledge(OrgId{1}, id, "user:li", "team_leader", "", At(3), out_);
  EXPECT_EQ(twice.error().code(), core::StatusCode::kFailedPrecondition);
  // An acknowledged alarm that clears is closed at once.
  Feed(p, 4, 1);
  Feed(p, 14, 1);
  EXPECT_EQ(Events(EventKind::kClosed).size(), 1u);
  EXPECT_TRUE(eng_.OpenAlarms().empty() ||
              eng_.OpenAlarms()[0].rule != "preset.combustible.blue");
}

TEST_F(EngineTest, RedNeedsTheSafetyManagerAndEmitsActions) {
  auto p = Add("h2s", "mg/m3");
  Feed(p, 0, 25);
  auto red = OpenOf("gbt50493.h2s.ah");
  ASSERT_EQ(red.size(), 1u);
  std::int64_t id = red[0].id;
  EXPECT_TRUE(HasAction(ActionKind::kSuspendPermits, id));
  EXPECT_TRUE(HasAction(ActionKind::kPowerLock, id));
  EXPECT_TRUE(HasAction(ActionKind::kBroadcast, id));
  for (const auto& a : out_.actions) {
    if (a.alarm_id != id) continue;
    EXPECT_EQ(a.permits, std::vector<std::string>{"SX-2026-0001"});
    if (a.kind == ActionKind::kNotify) {
      EXPECT_NE(std::find(a.roles.begin(), a.roles.end(), "safety_manager"), a.roles.end());
    }
  }
  // The yellow alarm of the same reading does not lock power.
  std::int64_t yellow = OpenOf("gbt50493.h2s.al")[0].id;
  EXPECT_TRUE(HasAction(ActionKind::kNotify, yellow));
  EXPECT_FALSE(HasAction(ActionKind::kPowerLock, yellow));
  // Red: the team leader on site (who stops the work) or the safety manager; not a guardian.
  EXPECT_EQ(eng_.Acknowledge(OrgId{1}, id, "user:zhao", "guardian", "", At(1), out_)
                .error()
                .code(),
            core::StatusCode::kPermissionDenied);
  EXPECT_TRUE(eng_.Acknowledge(OrgId{1}, id, "user:wang", "team_leader", "", At(1), out_).ok());
  // Clearing a red alarm does nothing automatic: resuming work needs people.
  out_.clear();
  Feed(p, 2, 1);
  Feed(p, 12, 1);
  EXPECT_FALSE(Events(EventKind::kCleared).empty());
  EXPECT_TRUE(out_.actions.empty());
}

TEST_F(EngineTest, MissedDeadlinesEscalateBlueYellowRed) {
  auto p = Add("combustible", "%LEL", "CH4");
  Feed(p, 0, 12);
  std::int64_t id = Events(EventKind::kRaised)[0].alarm.id;
  EXPECT_EQ(Events(EventKind::kRaised)[0].alarm.ack_deadline, At(900));
  auto escalations = [&] {
    std::vector<AlarmEvent> r;
    for (auto& e : Events(EventKind::kEscalated)) {
      if (e.alarm.id == id) r.push_back(e);
    }
    return r;
  };
  // Keep the sensor alive so no stale alarm muddles the picture.
  for (int s = 10; s < 900; s += 10) Feed(p, s, 12 + (s % 20 == 0 ? 0.1 : 0));
  eng_.Tick(At(899), out_);
  EXPECT_TRUE(escalations().empty());
  eng_.Tick(At(900), out_);
  ASSERT_EQ(escalations().size(), 1u);
  EXPECT_EQ(escalations()[0].from_level, Level::kBlue);
  EXPECT_EQ(escalations()[0].alarm.level, Level::kYellow);
  EXPECT_EQ(escalations()[0].alarm.raised_level, Level::kBlue);
  EXPECT_FALSE(HasAction(ActionKind::kPowerLock, id));
  bool notified_sm = std::any_of(out_.actions.begin(), out_.actions.end(), [&](const Action& a) {
    return a.alarm_id == id && a.kind == ActionKind::kNotify &&
           std::find(a.roles.begin(), a.roles.end(), "safety_manager") != a.roles.end();
  });
  EXPECT_TRUE(notified_sm);
  // A team leader can still acknowledge a yellow alarm, but nobody did.
  for (int s = 900; s < 1200; s += 10) Feed(p, s, 12 + (s % 20 == 0 ? 0.1 : 0));
  eng_.Tick(At(1199), out_);
  EXPECT_EQ(escalations().size(), 1u);
  eng_.Tick(At(1200), out_);
  ASSERT_EQ(escalations().size(), 2u);
  EXPECT_EQ(escalations()[1].alarm.level, Level::kRed);
  EXPECT_TRUE(HasAction(ActionKind::kSuspendPermits, id));
  EXPECT_TRUE(HasAction(ActionKind::kPowerLock, id));
  EXPECT_TRUE(HasAction(ActionKind::kBroadcast, id));
  // Red has no higher level: a missed deadline re-notifies.
  eng_.Tick(At(1320), out_);
  ASSERT_EQ(escalations().size(), 3u);
  EXPECT_EQ(escalations()[2].alarm.level, Level::kRed);
  EXPECT_EQ(escalations()[2].alarm.escalations, 3);
  // Now a red alarm: a guardian (who could not acknowledge the blue one either) still may not.
  EXPECT_EQ(eng_.Acknowledge(OrgId{1}, id, "user:wang", "guardian", "", At(1321), out_)
                .error()
                .code(),
            core::StatusCode::kPermissionDenied);
  ASSERT_TRUE(eng_.Acknowledge(OrgId{1}, id, "user:zhao", "safety_manager", "", At(1321), out_).ok());
  out_.clear();
  eng_.Tick(At(5000), out_);
  for (const auto& e : out_.events) EXPECT_NE(e.alarm.id, id) << "acknowledged: no escalation";
}

TEST_F(EngineTest, PointLimitsBeyondTheInlineRules) {
  // Combustible has four default rules; two limits make six (past the inline capacity).
  auto p = Add("combustible", "%LEL", "CH4", "P1", OrgId{1},
               {PointLimit{Level::kYellow, true, 15, 0, 1},
                PointLimit{Level::kBlue, false, 0.5, 0, 0.1}});
  Feed(p, 0, 1);
  EXPECT_TRUE(out_.events.empty());
  Feed(p, 100, 0.4);  // below the low limit
  ASSERT_EQ(OpenOf("point.P1.1").size(), 1u);
  EXPECT_EQ(OpenOf("point.P1.1")[0].rule_kind, "threshold_low");
  Feed(p, 200, 16);
  EXPECT_EQ(OpenOf("point.P1.0").size(), 1u);
  EXPECT_EQ(OpenOf("preset.combustible.blue").size(), 1u);
  EXPECT_EQ(OpenOf("point.P1.1")[0].state, AlarmState::kClearedUnacked);
}

class JanuaryEngineTest : public EngineTest {
 protected:
  JanuaryEngineTest() : EngineTest(T("2026-01-15T10:00:00+08:00")) {}
};

TEST_F(EngineTest, SummerConfinedSpaceLowersCoInJune) {
  auto p = Add("co", "mg/m3");
  Feed(p, 0, 18);
  EXPECT_TRUE(out_.events.empty()) << "18 < 20 mg/m3 without a confined-space entry";
  ASSERT_TRUE(eng_.SetPointConditions(p, {"confined_space_entry"}, At(1)).ok());
  EXPECT_EQ(eng_.Status(p).profiles,
            (std::vector<std::string>{"summer_confined_space", "confined_space_entry"}));
  Feed(p, 2, 18);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alarm.rule, "gbt50493.co.al");
  EXPECT_DOUBLE_EQ(raised[0].alarm.threshold, 17);  // 20 * 0.85
  EXPECT_EQ(raised[0].alarm.profiles[0], "summer_confined_space");
}

TEST_F(JanuaryEngineTest, SameReadingInJanuaryRaisesNothing) {
  auto p = Add("co", "mg/m3");
  ASSERT_TRUE(eng_.SetPointConditions(p, {"confined_space_entry"}, At(1)).ok());
  EXPECT_EQ(eng_.Status(p).profiles, std::vector<std::string>{"confined_space_entry"});
  Feed(p, 2, 18);
  EXPECT_TRUE(out_.events.empty());
}

TEST_F(EngineTest, MonthChangeOnTickReselectsProfiles) {
  Engine eng(Book());
  Timestamp may = T("2026-05-31T23:59:00+08:00");
  PointConfig c;
  c.org = OrgId{1};
  c.id = "co";
  c.site = "S";
  c.kind = "co";
  c.unit = "mg/m3";
  auto p = eng.UpsertPoint(c, may);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(eng.SetPointConditions(*p, {"confined_space_entry"}, may).ok());
  Emissions out;
  eng.Ingest(*p, may + Duration::Seconds(1), 18, may + Duration::Seconds(1), out);
  EXPECT_TRUE(out.events.empty());
  Timestamp june = may + Duration::Seconds(60);
  eng.Tick(june, out);
  EXPECT_EQ(eng.Status(*p).profiles[0], "summer_confined_space");
  eng.Ingest(*p, june + Duration::Seconds(1), 18, june + Duration::Seconds(1), out);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, EventKind::kRaised);
}

TEST_F(EngineTest, ConfinedSpaceConditionSwitchesOxygenRules) {
  auto p = Add("o2", "%vol");
  Feed(p, 0, 21.5);
  EXPECT_TRUE(out_.events.empty()) << "21.5 % is fine outside a confined space";
  EXPECT_EQ(eng_.SetPointConditions(p, {"raining"}, At(1)).code(),
            core::StatusCode::kInvalidArgument);
  ASSERT_TRUE(eng_.SetPointConditions(p, {"confined_space_entry"}, At(1)).ok());
  Feed(p, 2, 21.5);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alarm.rule, "gb30871.o2.high.confined");
  EXPECT_EQ(raised[0].alarm.level, Level::kRed);
  EXPECT_NE(std::find(raised[0].alarm.profiles.begin(), raised[0].alarm.profiles.end(),
                      "confined_space_entry"),
            raised[0].alarm.profiles.end());
  // The entry ends: the rule no longer raises, but its open alarm can still clear.
  ASSERT_TRUE(eng_.SetPointConditions(p, {}, At(3)).ok());
  Feed(p, 4, 20.5);
  Feed(p, 14, 20.5);
  EXPECT_EQ(Events(EventKind::kCleared).size(), 1u);
  Feed(p, 15, 21.5);
  EXPECT_TRUE(Events(EventKind::kReactivated).empty());
  // Oxygen-enriched work allows up to 23.5 % inside the space.
  ASSERT_TRUE(eng_.SetPointConditions(p, {"confined_space_entry", "oxygen_enriched"}, At(16)).ok());
  Feed(p, 17, 22);
  EXPECT_TRUE(Events(EventKind::kReactivated).empty());
  Feed(p, 18, 23.6);
  EXPECT_EQ(Events(EventKind::kReactivated).size(), 1u);
}

TEST_F(EngineTest, HotWorkUsesThePassCriterionInVolPercent) {
  auto ch4 = Add("combustible", "%LEL", "CH4");
  auto c3h8 = Add("combustible", "%vol", "C3H8", "P2");
  ASSERT_TRUE(eng_.SetPointConditions(ch4, {"hot_work_active"}, At(0)).ok());
  ASSERT_TRUE(eng_.SetPointConditions(c3h8, {"hot_work_active"}, At(0)).ok());
  Feed(ch4, 1, 9.9);
  EXPECT_TRUE(out_.events.empty());
  Feed(ch4, 2, 10);  // 0.5 % vol of CH4 = 10 %LEL
  auto pass = OpenOf("gb30871.combustible.pass");
  ASSERT_EQ(pass.size(), 1u);
  EXPECT_NEAR(pass[0].threshold, 10.0, 1e-9);
  EXPECT_EQ(pass[0].level, Level::kRed);
  // Propane (LEL 2.1 % < 4 %): 0.2 % vol.
  Feed(c3h8, 1, 0.19);
  EXPECT_TRUE(OpenOf("gb30871.combustible.pass_low_lel").empty());
  Feed(c3h8, 2, 0.2);
  ASSERT_EQ(OpenOf("gb30871.combustible.pass_low_lel").size(), 1u);
  EXPECT_TRUE(OpenOf("gb30871.combustible.pass").size() == 1u);  // only the CH4 one
}

TEST_F(EngineTest, RuleInMgPerM3AppliesToAPpmPoint) {
  auto p = Add("h2s", "ppm");
  Feed(p, 0, 7.0);  // 10 mg/m3 = 7.054 ppm at 20 °C
  EXPECT_TRUE(out_.events.empty());
  Feed(p, 1, 7.1);
  auto raised = Events(EventKind::kRaised);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].alarm.rule, "gbt50493.h2s.al");
  EXPECT_EQ(raised[0].alarm.unit, "ppm");
  EXPECT_NEAR(raised[0].alarm.threshold, 7.054, 0.001);
  EXPECT_NE(raised[0].alarm.message_en.find("7.054 ppm"), std::string::npos)
      << raised[0].alarm.message_en;
}

TEST_F(EngineTest, RestoreRebindsOpenAlarms) {
  auto p = Add("h2s", "mg/m3");
  Feed(p, 0, 12);
  auto open = eng_.OpenAlarms();
  ASSERT_EQ(open.size(), 1u);
  std::int64_t next = eng_.next_alarm_id();

  // Restore first, configure later (the service's start-up order may be either).
  for (bool restore_first : {true, false}) {
    Engine fresh(Book());
    Emissions out;
    PointConfig c = eng_.point(p);
    if (restore_first) {
      ASSERT_TRUE(fresh.Restore(open, next).ok());
    }
    auto q = fresh.UpsertPoint(c, At(100));
    ASSERT_TRUE(q.ok());
    if (!restore_first) {
      ASSERT_TRUE(fresh.Restore(open, next).ok());
    }
    EXPECT_EQ(fresh.next_alarm_id(), next);
    fresh.Ingest(*q, At(101), 13, At(101), out);
    EXPECT_TRUE(out.events.empty()) << "still the same open alarm";
    fresh.Ingest(*q, At(102), 1, At(102), out);
    fresh.Ingest(*q, At(112), 1, At(112), out);
    ASSERT_EQ(out.events.size(), 1u);
    EXPECT_EQ(out.events[0].kind, EventKind::kCleared);
    EXPECT_EQ(out.events[0].alarm.id, open[0].id);
    fresh.Ingest(*q, At(113), 30, At(113), out);
    for (const auto& e : out.events) {
      if (e.kind == EventKind::kRaised) {
        EXPECT_GE(e.alarm.id, next);
      }
    }
    // Restored deadlines escalate.
    out.clear();
    fresh.Tick(fresh.GetOpenAlarm(open[0].id)->ack_deadline, out);
    bool escalated = std::any_of(out.events.begin(), out.events.end(), [&](const AlarmEvent& e) {
      return e.kind == EventKind::kEscalated && e.alarm.id == open[0].id;
    });
    EXPECT_TRUE(escalated);
  }
  Engine other(Book());
  auto closed = open;
  closed[0].state = AlarmState::kClearedAcked;
  EXPECT_EQ(other.Restore(closed, next).code(), core::StatusCode::kInvalidArgument);
  auto twice = open;
  twice.push_back(open[0]);
  twice[1].id = 77;
  EXPECT_EQ(other.Restore(twice, next).code(), core::StatusCode::kInvalidArgument);
  // Alarms of unknown points are kept and reported.
  auto orphan = open;
  orphan[0].point = "gone";
  ASSERT_TRUE(other.Restore(orphan, next).ok());
  EXPECT_EQ(other.OpenAlarms().size(), 1u);
  EXPECT_TRUE(other.GetOpenAlarm(open[0].id).has_value());
}

// --- external alarms (people on site) --------------------------------------------------

Alarm External(const std::string& subject, Level level, std::vector<std::string> actions) {
  Alarm a;
  a.org = OrgId{1};
  a.site = "S1";
  a.zone = "Z1";
  a.point = subject;
  a.kind = "presence";
  a.unit = "s";
  a.rule = "presence.guardian_absent";
  a.clause = "GB 30871-2022 §4.10 f)";
  a.rule_kind = "guardian_presence";
  a.level = level;
  a.value = 125;
  a.permits = {"HW-1"};
  a.actions = std::move(actions);
  a.message_en = "guardian away";
  return a;
}

TEST_F(EngineTest, ExternalAlarmTakesItsOwnActionsAndIsDeduplicated) {
  auto id = eng_.RaiseExternal(External("permit:HW-1/guardian", Level::kRed,
                                        {"suspend_permit", "notify"}),
                               At(0), out_);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  ASSERT_EQ(Events(EventKind::kRaised).size(), 1u);
  // Its own actions, not the red SOP's power lock and broadcast.
  EXPECT_TRUE(HasAction(ActionKind::kSuspendPermits, *id));
  EXPECT_TRUE(HasAction(ActionKind::kNotify, *id));
  EXPECT_FALSE(HasAction(ActionKind::kPowerLock, *id));
  EXPECT_FALSE(HasAction(ActionKind::kBroadcast, *id));
  for (const auto& a : out_.actions) {
    if (a.kind == ActionKind::kSuspendPermits) {
      EXPECT_TRUE(a.permits_only);
      EXPECT_EQ(a.permits, std::vector<std::string>{"HW-1"});
    }
  }
  out_.clear();
  // Raising again while open updates it: same id, no new event or action.
  auto again = eng_.RaiseExternal(External("permit:HW-1/guardian", Level::kRed, {"notify"}),
                                  At(5), out_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  EXPECT_TRUE(out_.empty());
  // Cleared, then raised again: re-activated with the same id.
  ASSERT_TRUE(eng_.ClearExternal(OrgId{1}, "permit:HW-1/guardian", "presence.guardian_absent",
                                 At(10), out_).ok());
  EXPECT_EQ(Events(EventKind::kCleared).size(), 1u);
  EXPECT_EQ(eng_.ClearExternal(OrgId{1}, "permit:HW-1/guardian", "presence.guardian_absent",
                               At(11), out_).code(),
            core::StatusCode::kNotFound);
  out_.clear();
  auto third = eng_.RaiseExternal(External("permit:HW-1/guardian", Level::kRed,
                                           {"suspend_permit"}),
                                  At(20), out_);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, *id);
  EXPECT_EQ(Events(EventKind::kReactivated).size(), 1u);
}

TEST_F(EngineTest, ExternalAlarmEscalatesAndAcknowledgesLikeAnyOther) {
  auto id = eng_.RaiseExternal(External("person:worker:W1", Level::kYellow, {"notify"}), At(0),
                               out_);
  ASSERT_TRUE(id.ok());
  const auto open = eng_.GetOpenAlarm(*id);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->state, AlarmState::kActiveUnacked);
  EXPECT_EQ(open->actions, std::vector<std::string>{"notify"});
  out_.clear();
  eng_.Tick(open->ack_deadline, out_);
  EXPECT_EQ(Events(EventKind::kEscalated).size(), 1u);
  // Escalation into red still takes the alarm's own actions only.
  EXPECT_FALSE(HasAction(ActionKind::kPowerLock, *id));
  auto acked = eng_.Acknowledge(OrgId{1}, *id, "user:li", "safety_manager", "on my way",
                                open->ack_deadline + Duration::Seconds(1), out_);
  ASSERT_TRUE(acked.ok()) << acked.error().ToString();
  EXPECT_EQ(acked->state, AlarmState::kActiveAcked);
}

TEST_F(EngineTest, ExternalAlarmRejectsBadSubjectsAndActions) {
  EXPECT_EQ(eng_.RaiseExternal(External("bad subject!", Level::kRed, {}), At(0), out_)
                .error()
                .field(),
            "point");
  EXPECT_EQ(eng_.RaiseExternal(External(std::string(161, 'a'), Level::kRed, {}), At(0), out_)
                .error()
                .field(),
            "point");
  EXPECT_EQ(eng_.RaiseExternal(External("person:x", Level::kRed, {"explode"}), At(0), out_)
                .error()
                .field(),
            "actions[0]");
  EXPECT_TRUE(out_.empty());
  EXPECT_TRUE(eng_.OpenAlarms().empty());
}

TEST(AlarmJson, ActionsAndEvidenceRoundTrip) {
  Alarm a = External("permit:HW-1/worker:W1", Level::kYellow, {"notify"});
  a.id = 7;
  a.evidence = R"({"certificate":"T123","distance_m":412.5})";
  auto back = AlarmFromJson(ToJson(a));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->point, a.point);
  EXPECT_EQ(back->actions, a.actions);
  auto ev = core::ParseJson(back->evidence);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["certificate"], "T123");
}

// The red threshold early warning predicts: the rulebook's, as compiled with the active
// profiles, else the point's own red limit.
TEST_F(EngineTest, RedThresholdFollowsProfilesAndPointLimits) {
  auto h2s = Add("h2s", "mg/m3", "", "H");
  auto r = eng_.RedThreshold(h2s);
  ASSERT_TRUE(r.has_value());
  EXPECT_DOUBLE_EQ(r->value, 20);
  EXPECT_TRUE(r->high);
  EXPECT_DOUBLE_EQ(r->warn, 10);
  EXPECT_EQ(r->rule, "gbt50493.h2s.ah");
  EXPECT_FALSE(r->clause.empty());

  // In the point's own unit: 20 mg/m3 of H2S in ppm at 20 °C.
  auto ppm = Add("h2s", "ppm", "", "Hppm");
  ASSERT_TRUE(eng_.RedThreshold(ppm).has_value());
  EXPECT_NEAR(eng_.RedThreshold(ppm)->value, 14.1, 0.05);

  // Oxygen: the low red rule; a confined-space entry switches on the stricter 19.5 % low
  // and the 21 % high red rules: the first red rule's direction (low) and its strictest.
  auto o2 = Add("o2", "%vol", "", "O");
  r = eng_.RedThreshold(o2);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->high);
  EXPECT_DOUBLE_EQ(r->value, 18);
  EXPECT_DOUBLE_EQ(r->warn, 19.5);
  EXPECT_EQ(r->rule, "preset.o2.low_red");
  ASSERT_TRUE(eng_.SetPointConditions(o2, {"confined_space_entry"}, At(1)).ok());
  r = eng_.RedThreshold(o2);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->high);
  EXPECT_DOUBLE_EQ(r->value, 19.5);
  EXPECT_EQ(r->rule, "gb30871.o2.low.confined");
  EXPECT_TRUE(std::isnan(r->warn)) << "no yellow low level fires before 19.5 %";

  // Hot work: the 0.5 %vol pass criterion (10 %LEL of CH4) fires before the 50 %LEL alarm;
  // the 25 %LEL yellow level lies beyond it, so there is no warn level.
  auto ch4 = Add("combustible", "%LEL", "CH4", "C");
  EXPECT_DOUBLE_EQ(eng_.RedThreshold(ch4)->value, 50);
  EXPECT_DOUBLE_EQ(eng_.RedThreshold(ch4)->warn, 25);
  ASSERT_TRUE(eng_.SetPointConditions(ch4, {"hot_work_active"}, At(1)).ok());
  r = eng_.RedThreshold(ch4);
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->value, 10, 1e-9);
  EXPECT_EQ(r->rule, "gb30871.combustible.pass");
  EXPECT_TRUE(std::isnan(r->warn));

  // Summer profile inside a confined space scales CO's thresholds (June).
  auto co = Add("co", "mg/m3", "", "CO");
  ASSERT_TRUE(eng_.SetPointConditions(co, {"confined_space_entry"}, At(1)).ok());
  EXPECT_DOUBLE_EQ(eng_.RedThreshold(co)->value, 40 * 0.85);
  EXPECT_DOUBLE_EQ(eng_.RedThreshold(co)->warn, 20 * 0.85);

  // A process variable: nothing in the rulebook; a yellow limit alone is not red; the
  // point's red limits decide (the lower of two high ones), their yellow one warns.
  auto t = Add("temperature", "degC", "", "T");
  EXPECT_FALSE(eng_.RedThreshold(t).has_value());
  auto t2 = Add("temperature", "degC", "", "T2", OrgId{1},
                {PointLimit{Level::kYellow, true, 80, 0, 0},
                 PointLimit{Level::kRed, true, 120, 0, 0},
                 PointLimit{Level::kRed, true, 100, 0, 0},
                 PointLimit{Level::kRed, false, -20, 0, 0}});
  r = eng_.RedThreshold(t2);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->high);
  EXPECT_DOUBLE_EQ(r->value, 100);
  EXPECT_DOUBLE_EQ(r->warn, 80);
  EXPECT_EQ(r->rule, "point.T2.2");
  EXPECT_EQ(r->clause, "point configuration");

  // Unknown index, removed point.
  EXPECT_FALSE(eng_.RedThreshold(9999).has_value());
  ASSERT_TRUE(eng_.RemovePoint(OrgId{1}, "H").ok());
  EXPECT_FALSE(eng_.RedThreshold(h2s).has_value());
}

}  // namespace
}  // namespace wg::monitor

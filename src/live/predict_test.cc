// Early warning in live monitoring: a scripted predictor (probabilities chosen by the test,
// independent of the real models) drives MonitorService; predicted alarms go through the
// engine's external alarms, so they share the SOP, the facts and the outbox.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include "test_fixture.h"
#include "wg/live/service.h"

namespace wg::live {
namespace {

using core::Duration;
using core::Json;
using core::Timestamp;

// Scripted forecasts: `script(t, value)` decides; counts the states it made.
class ScriptedPredictor final : public predict::Predictor {
 public:
  using Script = std::function<predict::Forecast(double t, double value)>;
  explicit ScriptedPredictor(Script s) : script_(std::move(s)) {
    predict::WarningPolicy p;
    p.on_probability = 0.5;
    p.off_probability = 0.3;
    p.hold_s = 0;
    p.confirm = 1;
    set_policy(p);
  }
  std::string_view kind() const override { return "scripted"; }
  std::unique_ptr<predict::State> NewState(const predict::Threshold& red) const override {
    ++states_;
    last_red_ = red;
    return std::make_unique<predict::State>();
  }
  predict::Forecast Update(predict::State&, double t, double value) const override {
    return script_(t, value);
  }
  core::Json Params() const override { return core::Json::object(); }
  int states() const { return states_; }
  const predict::Threshold& last_red() const { return last_red_; }

 private:
  Script script_;
  mutable int states_ = 0;
  mutable predict::Threshold last_red_;
};

// Probability 0.9 from `from` upwards (10 minutes to red), 0.1 below; an explanation a
// mass-balance model would give.
predict::Forecast Above(double from, double value) {
  predict::Forecast f;
  f.probability = value >= from ? 0.9 : 0.1;
  f.tte_s = value >= from ? 600 : predict::kNever;
  f.at_horizon = value + 3;
  f.why.trend_per_min = 0.4;
  f.why.source_per_min = 1.25;
  f.why.ventilation_per_h = 6;
  f.why.steady_state = 24;
  f.why.level = value;
  return f;
}

predict::ModelInfo Info() {
  predict::ModelInfo i;
  i.name = "scripted-test";
  i.kind = "scripted";
  i.digest = "sm3:" + std::string(64, 'a');
  i.created = "2026-11-30T00:00:00Z";
  i.evaluation = Json{{"recall", 0.9}};
  return i;
}

class PredictTest : public testing::LiveFixture {
 protected:
  void SetUp() override {
    LiveFixture::SetUp();
    MonitorOptions o;
    o.start_threads = false;
    MakeService(o);
    clock_.Set(Start());
  }
  std::shared_ptr<ScriptedPredictor> Model(double from = 7) {
    return std::make_shared<ScriptedPredictor>(
        [from](double, double v) { return Above(from, v); });
  }
  void Use(std::shared_ptr<ScriptedPredictor> m) {
    model_ = m;
    ASSERT_TRUE(svc_->SetPredictor(m, Info()).ok());
  }
  // One reading 10 s after the previous, processed and persisted.
  void Read(const std::string& point, double v) {
    clock_.Advance(Duration::Seconds(10));
    Send(point, v);
    svc_->Pump();
    ASSERT_TRUE(svc_->PersistPending().ok());
  }
  std::vector<monitor::Alarm> Predicted() {
    std::vector<monitor::Alarm> out;
    for (auto& a : Alarms()) {
      if (a.rule == kPredictRuleId) out.push_back(a);
    }
    return out;
  }
  Json PointForecast(const std::string& point) {
    auto f = svc_->Forecasts(org_, "");
    EXPECT_TRUE(f.ok()) << f.error().ToString();
    if (!f.ok()) return nullptr;
    for (const auto& p : (*f)["points"]) {
      if (p["point"] == point) return p;
    }
    return nullptr;
  }
  std::shared_ptr<ScriptedPredictor> model_;
};

TEST_F(PredictTest, AWarningRaisesAYellowPredictedAlarmThroughTheEngine) {
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Use(Model());
  Read("h2s-1", 5);  // probability 0.1
  EXPECT_TRUE(Predicted().empty());
  Read("h2s-1", 8);  // 0.9: a warning, below the 10 mg/m3 yellow level of the rulebook
  auto raised = Predicted();
  ASSERT_EQ(raised.size(), 1u);
  const monitor::Alarm& a = raised[0];
  EXPECT_EQ(Alarms().size(), 1u) << "the engine's own rules raised nothing at 8 mg/m3";
  EXPECT_EQ(a.level, monitor::Level::kYellow);
  EXPECT_EQ(a.rule_kind, "predicted");
  EXPECT_EQ(a.point, "h2s-1");
  EXPECT_EQ(a.site, "S1");
  EXPECT_EQ(a.zone, "U1");
  EXPECT_EQ(a.unit, "mg/m3");
  EXPECT_DOUBLE_EQ(a.threshold, 20);  // the red threshold (GB/T 50493 second level)
  EXPECT_DOUBLE_EQ(a.value, 8);
  EXPECT_NE(a.clause.find("GB 30871-2022"), std::string::npos);
  EXPECT_NE(a.message_en.find("in 10 min"), std::string::npos) << a.message_en;
  EXPECT_NE(a.message_en.find("probability 90 %"), std::string::npos) << a.message_en;
  EXPECT_NE(a.message_zh.find("预计 10 分钟后达到红色阈值 20mg/m3"), std::string::npos)
      << a.message_zh;
  // The evidence: the forecast with its explanation, the threshold and the model.
  auto ev = core::ParseJson(a.evidence);
  ASSERT_TRUE(ev.ok()) << a.evidence;
  EXPECT_DOUBLE_EQ((*ev)["probability"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ((*ev)["tte_s"].get<double>(), 600);
  EXPECT_DOUBLE_EQ((*ev)["explanation"]["source_per_min"].get<double>(), 1.25);
  EXPECT_DOUBLE_EQ((*ev)["explanation"]["ventilation_per_h"].get<double>(), 6);
  EXPECT_DOUBLE_EQ((*ev)["explanation"]["steady_state"].get<double>(), 24);
  EXPECT_EQ((*ev)["model"]["name"], "scripted-test");
  EXPECT_EQ((*ev)["model"]["digest"], Info().digest);
  EXPECT_EQ((*ev)["threshold"]["rule"], "gbt50493.h2s.ah");
  EXPECT_EQ((*ev)["threshold"]["direction"], "high");
  EXPECT_DOUBLE_EQ((*ev)["threshold"]["warn"].get<double>(), 10);
  // The predictor saw the red threshold in the point's unit.
  EXPECT_DOUBLE_EQ(model_->last_red().value, 20);
  EXPECT_TRUE(model_->last_red().high);

  // The SOP of yellow: the alarm fact, and the outbox notifies the team leader and the
  // safety manager.
  const std::string subject = "alarm:" + std::to_string(a.id);
  EXPECT_TRUE(FactKinds(subject).count("alarm.raised"));
  auto notes = store_->ListNotifications(org_, 0, 100);
  ASSERT_TRUE(notes.ok());
  std::set<std::string> roles;
  for (const auto& n : *notes) {
    if (n.subject == subject && n.channel == "outbox") roles.insert(n.target);
  }
  EXPECT_EQ(roles, (std::set<std::string>{"team_leader", "safety_manager"}));

  // The forecast as the API shows it.
  Json p = PointForecast("h2s-1");
  ASSERT_TRUE(p.is_object());
  EXPECT_DOUBLE_EQ(p["probability"].get<double>(), 0.9);
  EXPECT_TRUE(p["warning"]["on"].get<bool>());
  EXPECT_EQ(p["warning"]["alarm"], a.id);
  EXPECT_TRUE(p["warning"]["since"].is_string());

  // Still warning: the same alarm, no second one.
  Read("h2s-1", 9);
  EXPECT_EQ(Predicted().size(), 1u);

  // The probability drops: cleared (the SOP's acknowledgement still closes it).
  Read("h2s-1", 4);
  raised = Predicted();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].state, monitor::AlarmState::kClearedUnacked);
  EXPECT_TRUE(FactKinds(subject).count("alarm.cleared"));
  EXPECT_FALSE(PointForecast("h2s-1")["warning"]["on"].get<bool>());
  auto st = svc_->Stats();
  EXPECT_EQ(st.predict_readings, 4u);
  EXPECT_EQ(st.predict_warnings_raised, 1u);
  EXPECT_EQ(st.predict_warnings_cleared, 1u);
  Json info = svc_->PredictorInfo();
  EXPECT_TRUE(info["enabled"].get<bool>());
  EXPECT_EQ(info["name"], "scripted-test");
  EXPECT_EQ(info["readings"], 4);
  EXPECT_GE(info["ns_per_reading"].get<double>(), 0.0);

  // It returns: the cleared-unacked alarm is re-activated, not duplicated.
  Read("h2s-1", 8);
  raised = Predicted();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].state, monitor::AlarmState::kActiveUnacked);
}

TEST_F(PredictTest, NoPredictedAlarmPastRedOrWhileTheRedAlarmIsActive) {
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  auto m = Model();
  predict::WarningPolicy p = m->policy();
  p.rearm_s = 0;  // re-armed at once after red, so the red alarm's own guard is what holds
  m->set_policy(p);
  Use(m);
  Read("h2s-1", 25);  // past red: the red alarm is in charge
  EXPECT_TRUE(Predicted().empty());
  bool red = false;
  for (const auto& a : Alarms()) red = red || a.level == monitor::Level::kRed;
  EXPECT_TRUE(red);
  // Back under red but the red alarm has not cleared yet (hysteresis / clear_for):
  // the warning stands but is not raised.
  Read("h2s-1", 19.9);
  EXPECT_TRUE(Predicted().empty());
  EXPECT_TRUE(PointForecast("h2s-1")["warning"]["on"].get<bool>());
  EXPECT_EQ(svc_->Stats().predict_suppressed, 1u);
}

TEST_F(PredictTest, AfterRedTheWarningWaitsForTheRearmTime) {
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Use(Model());  // the default policy: re-armed after 10 minutes back inside
  Read("h2s-1", 25);
  Read("h2s-1", 19.9);  // back inside, the forecast still high
  EXPECT_TRUE(Predicted().empty());
  EXPECT_FALSE(PointForecast("h2s-1")["warning"]["on"].get<bool>());
  EXPECT_EQ(svc_->Stats().predict_suppressed, 0u);
}

TEST_F(PredictTest, NoPredictionForAPointWithoutARedThreshold) {
  AddPoint(Point("t-1", "temperature", "degC"));
  Use(Model(0));  // every reading 0.9
  Read("t-1", 50);
  Read("t-1", 60);
  EXPECT_TRUE(Predicted().empty());
  EXPECT_TRUE(PointForecast("t-1").is_null());
  EXPECT_EQ(model_->states(), 0);
  // A red limit configured on the point: the forecast starts (configuration changed).
  monitor::PointConfig p = Point("t-1", "temperature", "degC");
  p.limits = {monitor::PointLimit{monitor::Level::kRed, true, 120, 0, 0}};
  auto put = svc_->PutPoint(org_, p, 1, Actor{"user:admin", "admin"});
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  Read("t-1", 70);
  EXPECT_EQ(model_->states(), 1);
  EXPECT_DOUBLE_EQ(model_->last_red().value, 120);
  ASSERT_EQ(Predicted().size(), 1u);
  EXPECT_DOUBLE_EQ(Predicted()[0].threshold, 120);
  auto ev = core::ParseJson(Predicted()[0].evidence);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["threshold"]["rule"], "point.t-1.0");
}

TEST_F(PredictTest, SetPredictorNullStopsPredictionAndClearsItsAlarms) {
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Use(Model());
  Read("h2s-1", 8);
  ASSERT_EQ(Predicted().size(), 1u);
  ASSERT_TRUE(svc_->SetPredictor(nullptr, {}).ok());
  ASSERT_TRUE(svc_->PersistPending().ok());
  ASSERT_EQ(Predicted().size(), 1u);
  EXPECT_EQ(Predicted()[0].state, monitor::AlarmState::kClearedUnacked);
  Read("h2s-1", 9);
  Read("h2s-1", 9.5);
  EXPECT_EQ(Predicted()[0].state, monitor::AlarmState::kClearedUnacked);
  auto f = svc_->Forecasts(org_, "");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)["model"].is_null());
  EXPECT_TRUE((*f)["points"].empty());
  EXPECT_FALSE(svc_->PredictorInfo()["enabled"].get<bool>());
  EXPECT_EQ(svc_->Stats().predict_readings, 1u);
}

TEST_F(PredictTest, ARestoredPredictedAlarmIsClearedWhenTheForecastDrops) {
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Use(Model());
  Read("h2s-1", 8);
  ASSERT_EQ(Predicted().size(), 1u);
  // Restart: the open alarm comes back from the store; the new service knows no warning.
  MonitorOptions o;
  o.start_threads = false;
  MakeService(o);
  Use(Model());
  Read("h2s-1", 8.5);  // still high: kept, not duplicated
  ASSERT_EQ(Predicted().size(), 1u);
  EXPECT_EQ(Predicted()[0].state, monitor::AlarmState::kActiveUnacked);
  Read("h2s-1", 3);  // low: cleared
  EXPECT_EQ(Predicted()[0].state, monitor::AlarmState::kClearedUnacked);
}

TEST_F(PredictTest, ZonesListTheirPointsMostProbableFirst) {
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  AddPoint(Point("co-1", "co", "mg/m3"));
  AddPoint(Point("o2-1", "o2", "%vol", "U2"));
  Use(std::make_shared<ScriptedPredictor>([](double, double v) {
    predict::Forecast f;
    f.probability = v >= 20 ? 0.2 : v / 10;  // o2 at 20.9: 0.2
    f.tte_s = v >= 20 ? predict::kNever : 1200 - v * 60;
    return f;
  }));
  Read("h2s-1", 6);  // 0.6, 840 s
  Read("co-1", 3);   // 0.3, 1020 s
  Read("o2-1", 20.9);
  auto f = svc_->Forecasts(org_, "S1");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ((*f)["points"].size(), 3u);
  EXPECT_EQ((*f)["points"][0]["point"], "co-1");  // by id
  EXPECT_EQ((*f)["points"][2]["threshold"]["direction"], "low");
  EXPECT_TRUE((*f)["points"][2]["tte_s"].is_null()) << "never";
  EXPECT_TRUE((*f)["points"][2]["explanation"]["trend_per_min"].is_null());
  ASSERT_EQ((*f)["zones"].size(), 2u);
  const Json& u1 = (*f)["zones"][0];
  EXPECT_EQ(u1["zone"], "U1");
  EXPECT_DOUBLE_EQ(u1["max_probability"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(u1["earliest_tte_s"].get<double>(), 840);
  EXPECT_EQ(u1["points"][0]["point"], "h2s-1");
  EXPECT_EQ(u1["points"][1]["point"], "co-1");
  EXPECT_TRUE((*f)["zones"][1]["earliest_tte_s"].is_null());
  // Another site, another organization: nothing.
  EXPECT_TRUE((*svc_->Forecasts(org_, "S9"))["points"].empty());
  EXPECT_TRUE((*svc_->Forecasts(core::OrgId{org_.value + 1}, ""))["points"].empty());
  EXPECT_FALSE(svc_->Forecasts(core::OrgId{}, "").ok());
}

TEST_F(PredictTest, AModelWithAnUnusablePolicyIsRefused) {
  auto m = Model();
  predict::WarningPolicy p;
  p.on_probability = 0.3;
  p.off_probability = 0.5;
  m->set_policy(p);
  auto s = svc_->SetPredictor(m, Info());
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "policy.off_probability");
  EXPECT_FALSE(svc_->PredictorInfo()["enabled"].get<bool>());
}

// --- the rules file --------------------------------------------------------------------

TEST(PredictRules, TheShippedFileIsTheEmbeddedOne) {
  std::ifstream in(std::string(WG_SOURCE_DIR) + "/data/rules/predict/rules.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto file = ParsePredictRules(ss.str());
  ASSERT_TRUE(file.ok()) << file.error().ToString();
  auto emb = EmbeddedPredictRule();
  ASSERT_TRUE(emb.ok()) << emb.error().ToString();
  EXPECT_EQ(emb->id, "predict.red_crossing");
  EXPECT_EQ(emb->level, monitor::Level::kYellow);
  EXPECT_EQ(emb->message_zh, file->message_zh);
  EXPECT_EQ(EmbeddedPredictRuleFiles().at(0).second, ss.str());
}

TEST(PredictRules, ParsingIsStrictAndNamesTheMember) {
  auto doc = [](Json rule) {
    return core::DumpJson(Json{{"format", "workguard-predict-rules/1"},
                               {"rules", Json::array({std::move(rule)})}});
  };
  const Json good = {{"id", "predict.red_crossing"},
                     {"clause", "policy"},
                     {"level", "blue"},
                     {"min_lead_s", 120},
                     {"message_zh", "{point} {minutes}"},
                     {"message_en", "{point} {p} {horizon_minutes} {model}"}};
  auto ok = ParsePredictRules(doc(good));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->level, monitor::Level::kBlue);
  EXPECT_DOUBLE_EQ(ok->min_lead_s, 120);

  auto field = [&](Json rule) {
    auto r = ParsePredictRules(doc(std::move(rule)));
    return r.ok() ? std::string("ok") : r.error().field();
  };
  Json j = good;
  j["colour"] = "yellow";
  EXPECT_EQ(field(j), "rules[0].colour");
  j = good;
  j["level"] = "red";
  EXPECT_EQ(field(j), "rules[0].level");
  j["level"] = "amber";
  EXPECT_EQ(field(j), "rules[0].level");
  j = good;
  j["id"] = "predict.other";
  EXPECT_EQ(field(j), "rules[0].id");
  j = good;
  j["message_en"] = "{point} {distance}";
  EXPECT_EQ(field(j), "rules[0].message_en");
  j = good;
  j["message_zh"] = "{point";
  EXPECT_EQ(field(j), "rules[0].message_zh");
  j = good;
  j["min_lead_s"] = -1;
  EXPECT_EQ(field(j), "rules[0].min_lead_s");
  j = good;
  j.erase("clause");
  EXPECT_EQ(field(j), "rules[0].clause");

  auto r = ParsePredictRules(
      core::DumpJson(Json{{"format", "workguard-predict-rules/2"}, {"rules", Json::array()}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "format");
  EXPECT_NE(r.error().message().find("not supported"), std::string::npos);
  r = ParsePredictRules(
      core::DumpJson(Json{{"format", "workguard-predict-rules/1"}, {"rules", Json::array()}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "rules");
  r = ParsePredictRules(core::DumpJson(Json{{"format", "workguard-predict-rules/1"},
                                            {"rules", Json::array({good, good})}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "rules[1].id");
  EXPECT_FALSE(ParsePredictRules("{").ok());
  r = ParsePredictRules(core::DumpJson(Json{{"format", "workguard-predict-rules/1"},
                                            {"rules", Json::array({good})},
                                            {"extra", 1}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "extra");
}

TEST_F(PredictTest, MinLeadSuppressesShortLeadPredictions) {
  MonitorOptions o;
  o.start_threads = false;
  PredictRule rule = *EmbeddedPredictRule();
  rule.min_lead_s = 900;  // the scripted 600 s is too short
  o.predict_rule = rule;
  MakeService(o);
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Use(Model());
  Read("h2s-1", 8);
  EXPECT_TRUE(Predicted().empty());
  EXPECT_EQ(svc_->Stats().predict_suppressed, 1u);
  EXPECT_EQ(svc_->PredictorInfo()["rule"]["min_lead_s"], 900.0);
}

}  // namespace
}  // namespace wg::live

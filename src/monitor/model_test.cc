// Monitoring value types: names, strict point parsing, alarm JSON round trip.
#include "wg/monitor/model.h"

#include <gtest/gtest.h>

#include <functional>

#include "wg/monitor/rulebook.h"

namespace wg::monitor {
namespace {

using core::Json;

const MonitorRulebook& Book() {
  static const auto book = MonitorRulebook::LoadEmbedded();
  return **book;
}

Json GoodPoint() {
  return Json::parse(R"({"id": "T-101.LEL", "name": "Tank 101 LEL", "site": "S1", "zone": "Z1",
      "equipment": "T-101", "kind": "combustible", "unit": "%LEL", "gas": "CH4",
      "permits": ["DH-2026-0001"], "stale_after_s": 30,
      "limits": [{"level": "red", "direction": "high", "value": 40, "for_s": 5,
                  "clear_hysteresis": 1}]})");
}

TEST(MonitorModel, LevelAndStateNames) {
  for (auto l : {Level::kBlue, Level::kYellow, Level::kRed}) {
    auto back = ParseLevel(LevelName(l));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, l);
  }
  EXPECT_EQ(LevelNameZh(Level::kRed), "红色");
  EXPECT_EQ(LevelNameZh(Level::kBlue), "蓝色");
  EXPECT_EQ(ParseLevel("orange", "x.level").error().field(), "x.level");
  EXPECT_TRUE(Level::kRed > Level::kYellow && Level::kYellow > Level::kBlue);
  for (auto s : {AlarmState::kActiveUnacked, AlarmState::kActiveAcked,
                 AlarmState::kClearedUnacked, AlarmState::kClearedAcked}) {
    EXPECT_EQ(*ParseAlarmState(AlarmStateName(s)), s);
  }
  EXPECT_EQ(AlarmStateName(AlarmState::kClearedUnacked), "cleared_unacked");
  EXPECT_FALSE(ParseAlarmState("open").ok());
}

TEST(MonitorModel, ParsesAGoodPointAndRoundTrips) {
  auto p = ParsePoint(Book(), core::OrgId{7}, GoodPoint());
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->org.value, 7);
  EXPECT_EQ(p->id, "T-101.LEL");
  EXPECT_EQ(p->gas, "CH4");
  EXPECT_EQ(p->stale_after_s, 30);
  ASSERT_EQ(p->limits.size(), 1u);
  EXPECT_EQ(p->limits[0].level, Level::kRed);
  EXPECT_DOUBLE_EQ(p->limits[0].value, 40);
  EXPECT_TRUE(p->enabled);
  auto again = ParsePoint(Book(), core::OrgId{7}, ToJson(*p));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(ToJson(*again), ToJson(*p));
}

TEST(MonitorModel, UnitDefaultsToTheKindsFirst) {
  Json j = Json::parse(R"({"id": "o2-1", "site": "S1", "kind": "o2"})");
  auto p = ParsePoint(Book(), core::OrgId{1}, j);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->unit, "%vol");
}

TEST(MonitorModel, RejectsBadPointsNamingTheMember) {
  struct Case {
    const char* name;
    std::function<void(Json&)> edit;
    const char* field;
  };
  const Case cases[] = {
      {"unknown member", [](Json& j) { j["colour"] = "red"; }, "colour"},
      {"bad id", [](Json& j) { j["id"] = "a b"; }, "id"},
      {"long id", [](Json& j) { j["id"] = std::string(65, 'a'); }, "id"},
      {"missing site", [](Json& j) { j.erase("site"); }, "site"},
      {"unknown kind", [](Json& j) { j["kind"] = "radon"; }, "kind"},
      {"unit of other kind", [](Json& j) { j["unit"] = "mg/m3"; }, "unit"},
      {"missing gas", [](Json& j) { j.erase("gas"); }, "gas"},
      {"unknown gas", [](Json& j) { j["gas"] = "XYZ"; }, "gas"},
      {"gas without LEL", [](Json& j) { j["gas"] = "O2"; }, "gas"},
      {"permit not a string", [](Json& j) { j["permits"][0] = 5; }, "permits[0]"},
      {"too many permits",
       [](Json& j) {
         j["permits"] = Json::array();
         for (int i = 0; i < 17; ++i) j["permits"].push_back("P" + std::to_string(i));
       },
       "permits"},
      {"stale 0", [](Json& j) { j["stale_after_s"] = 0; }, "stale_after_s"},
      {"stale too long", [](Json& j) { j["stale_after_s"] = 86401; }, "stale_after_s"},
      {"limit value text", [](Json& j) { j["limits"][0]["value"] = "40"; }, "limits[0].value"},
      {"limit level", [](Json& j) { j["limits"][0]["level"] = "pink"; }, "limits[0].level"},
      {"limit direction", [](Json& j) { j["limits"][0]["direction"] = "up"; }, "limits[0].direction"},
      {"limit unknown member", [](Json& j) { j["limits"][0]["for"] = 1; }, "limits[0].for"},
      {"second limit bad",
       [](Json& j) { j["limits"].push_back(Json::parse(R"({"level": "red"})")); },
       "limits[1].value"},
      {"too many limits",
       [](Json& j) {
         for (int i = 0; i < 8; ++i) j["limits"].push_back(j["limits"][0]);
       },
       "limits"},
      {"enabled text", [](Json& j) { j["enabled"] = "yes"; }, "enabled"},
  };
  for (const auto& c : cases) {
    Json j = GoodPoint();
    c.edit(j);
    auto p = ParsePoint(Book(), core::OrgId{1}, j);
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.error().code(), core::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(p.error().field(), c.field) << c.name << ": " << p.error().ToString();
  }
  EXPECT_FALSE(ParsePoint(Book(), core::OrgId{1}, Json::array()).ok());
  // A single-gas kind must not name another gas.
  Json h2s = Json::parse(R"({"id": "h", "site": "S", "kind": "h2s", "gas": "CO"})");
  EXPECT_EQ(ParsePoint(Book(), core::OrgId{1}, h2s).error().field(), "gas");
}

TEST(MonitorModel, AlarmJsonRoundTrip) {
  Alarm a;
  a.id = 42;
  a.org = core::OrgId{3};
  a.site = "S1";
  a.zone = "Z";
  a.point = "P1";
  a.kind = "h2s";
  a.unit = "ppm";
  a.rule = "gbt50493.h2s.ah";
  a.clause = "GB/T 50493-2019 §5.5.2";
  a.rule_kind = "threshold_high";
  a.level = Level::kRed;
  a.raised_level = Level::kYellow;
  a.state = AlarmState::kActiveAcked;
  a.profiles = {"summer_confined_space"};
  a.threshold = 14.107;
  a.value = 15.5;
  a.peak = 17.25;
  a.raised_at = core::Timestamp{1'780'000'000'123'456};
  a.reading_time = core::Timestamp{1'780'000'000'000'000};
  a.ack_deadline = core::Timestamp{1'780'000'120'123'456};
  a.acked_at = core::Timestamp{1'780'000'060'000'000};
  a.acked_by = "user:li";
  a.ack_note = "evacuated";
  a.escalations = 1;
  a.permits = {"SX-1"};
  a.message_zh = "硫化氢";
  a.message_en = "H2S";
  Json j = ToJson(a);
  EXPECT_EQ(j["level"], "red");
  EXPECT_EQ(j["state"], "active_acked");
  EXPECT_TRUE(j["cleared_at"].is_null());
  auto back = AlarmFromJson(Json::parse(core::DumpJson(j)));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(ToJson(*back), j);
  EXPECT_EQ(back->raised_at, a.raised_at);
  EXPECT_EQ(back->acked_at, a.acked_at);
  EXPECT_FALSE(back->cleared_at.has_value());
  EXPECT_DOUBLE_EQ(back->threshold, 14.107);

  Json bad = j;
  bad["state"] = "open";
  EXPECT_EQ(AlarmFromJson(bad).error().field(), "state");
  bad = j;
  bad.erase("rule");
  EXPECT_EQ(AlarmFromJson(bad).error().field(), "rule");
  bad = j;
  bad["raised_at"] = "yesterday";
  EXPECT_FALSE(AlarmFromJson(bad).ok());
}

}  // namespace
}  // namespace wg::monitor

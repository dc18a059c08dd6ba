// Engine: position fixes in, fence events and alarm operations out, on a fake clock.
#include "wg/presence/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace wg::presence {
namespace {

using core::Duration;
using core::OrgId;
using core::Timestamp;

// The rules under test, inline so the shipped file's values can change freely.
constexpr const char* kBook = R"json({
  "version": "test",
  "max_accuracy_m": 20,
  "rules": [
    {"id": "t.unauth", "clause": "GB 30871-2022 §4.10 d)", "check": "unauthorized_entry",
     "level": "yellow", "actions": ["notify"], "params": {"scope": "permit", "grace": "15s"},
     "message_zh": "{person} 不在作业票 {permit} 上，进入 {fence}",
     "message_en": "{person} is not on permit {permit} and entered {fence}"},
    {"id": "t.restricted", "clause": "policy", "check": "unauthorized_entry",
     "level": "yellow", "actions": ["notify"], "params": {"scope": "restricted", "grace": "15s"},
     "message_zh": "{person} 进入受限区域 {fence}", "message_en": "{person} entered {fence}"},
    {"id": "t.guardian", "clause": "GB 30871-2022 §4.10 f)", "check": "guardian_presence",
     "level": "red", "actions": ["suspend_permit", "notify"],
     "params": {"grace": "2m", "max_distance_m": 30, "stale_after": "60s"},
     "message_zh": "作业票 {permit} 的监护人 {person} 已离开 {minutes} 分钟（{distance} 米）",
     "message_en": "Guardian {person} of permit {permit} away {minutes} min ({distance} m)"},
    {"id": "t.confined", "clause": "GB 30871-2022 §6.8", "check": "confined_headcount",
     "level": "red", "actions": ["broadcast", "notify"],
     "params": {"grace": "60s", "permit_types": ["confined_space"], "block_completion": true},
     "message_zh": "作业票 {permit} 已暂停，{fence} 内仍有 {count} 人（{person}）",
     "message_en": "Permit {permit} suspended, {count} inside {fence} ({person})"},
    {"id": "t.holder", "clause": "GB 30871-2022 §4.9", "check": "holder_presence",
     "level": "yellow", "actions": ["notify"], "params": {"grace": "5m", "max_distance_m": 50},
     "message_zh": "作业票 {permit} 的持证人 {person}（证书 {certificate}）不在现场，可能存在真证假用",
     "message_en": "Holder {person} (certificate {certificate}) of {permit} is elsewhere"},
    {"id": "t.lone", "clause": "policy", "check": "lone_worker", "level": "red",
     "actions": ["notify"],
     "params": {"still_for": "3m", "movement_m": 0.5, "permit_types": ["confined_space"]},
     "message_zh": "{person} 在 {fence} 内 {minutes} 分钟未移动",
     "message_en": "{person} has not moved for {minutes} min in {fence}"},
    {"id": "t.stale", "clause": "policy", "check": "stale_tag", "level": "blue",
     "actions": ["notify"], "params": {"after": "2m"},
     "message_zh": "{person} 的定位标签 {tag} 已 {minutes} 分钟无数据",
     "message_en": "Tag {tag} of {person} silent for {minutes} min"},
    {"id": "t.jump", "clause": "policy", "check": "implausible_jump", "level": "blue",
     "actions": ["notify"], "params": {"max_speed_mps": 10, "count": 3, "window": "5m"},
     "message_zh": "标签 {tag} 定位跳变 {count} 次（{speed} m/s）",
     "message_en": "Tag {tag} jumped {count} times ({speed} m/s)"}
  ]
})json";

const PresenceRulebook& Book() {
  static const auto book = PresenceRulebook::FromJson(core::Json::parse(kBook));
  return **book;
}

Timestamp T(const char* s) { return *core::ParseTimestamp(s); }

PersonRef W(const std::string& code) { return PersonRef{PersonRef::Kind::kWorker, code}; }

Ring Square(double cx, double cy, double half) {
  return {{cx - half, cy - half}, {cx + half, cy - half}, {cx + half, cy + half},
          {cx - half, cy + half}};
}

class EngineTest : public ::testing::Test {
 protected:
  Timestamp At(double s) const { return t0_ + Duration{static_cast<std::int64_t>(s * 1e6)}; }

  TagIndex AddTag(const std::string& id, const std::string& person = "",
                  const std::string& site = "S1") {
    presence::Tag t;
    t.org = org_;
    t.id = id;
    t.site = site;
    auto i = eng_.UpsertTag(t);
    EXPECT_TRUE(i.ok()) << i.error().ToString();
    if (!person.empty()) {
      Binding b;
      b.tag = id;
      b.person = W(person);
      b.valid_from = At(-3600);
      EXPECT_TRUE(eng_.SetBindings(org_, id, {b}).ok());
    }
    return *i;
  }
  // A UWB fix measured and received at second s.
  PositionVerdict Fix(const std::string& tag, double s, double x, double y,
                      std::optional<double> z = std::nullopt,
                      std::optional<double> acc = std::nullopt) {
    PositionFix f;
    f.tag = tag;
    f.time = At(s);
    f.x = x;
    f.y = y;
    f.z = z;
    f.accuracy_m = acc;
    return eng_.Ingest(org_, "", f, At(s), out_);
  }
  void Tick(double s) { eng_.Tick(At(s), out_); }
  void AddFence(const std::string& id, Ring ring, bool hazardous = false, bool restricted = false,
                const std::string& zone = "Z1") {
    Fence f;
    f.org = org_;
    f.id = id;
    f.site = "S1";
    f.zone = zone;
    f.hazardous = hazardous;
    f.restricted = restricted;
    f.area.outer = std::move(ring);
    auto st = eng_.UpsertFence(f);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // An active hot-work permit round (0, 0), 10 m either side.
  PermitContext Permit(const std::string& number = "P1", const std::string& type = "hot_work") {
    PermitContext p;
    p.org = org_;
    p.id = 1;
    p.number = number;
    p.site = "S1";
    p.zone = "Z1";
    p.type = type;
    p.active = true;
    p.fence.outer = Square(0, 0, 10);
    p.work_point = {0, 0};
    p.active_since = At(0);
    return p;
  }
  void SetPermits(std::vector<PermitContext> ps, double s) {
    eng_.SetPermits(org_, std::move(ps), At(s), out_);
  }
  std::vector<AlarmOp> Ops(const std::string& rule, AlarmOp::Op op) const {
    std::vector<AlarmOp> r;
    for (const auto& a : out_.alarms) {
      if (a.rule == rule && a.op == op) r.push_back(a);
    }
    return r;
  }
  std::vector<AlarmOp> Raised(const std::string& rule) const {
    return Ops(rule, AlarmOp::Op::kRaise);
  }
  std::vector<AlarmOp> Cleared(const std::string& rule) const {
    return Ops(rule, AlarmOp::Op::kClear);
  }
  std::size_t OpenOf(const std::string& rule) const {
    auto open = eng_.OpenAlarms(org_);
    return static_cast<std::size_t>(std::count_if(
        open.begin(), open.end(), [&](const AlarmOp& a) { return a.rule == rule; }));
  }
  std::vector<FenceEvent> Events(FenceEvent::Kind k) const {
    std::vector<FenceEvent> r;
    for (const auto& e : out_.events) {
      if (e.kind == k) r.push_back(e);
    }
    return r;
  }
  std::vector<std::string> FencesOf(TagIndex i) const { return eng_.Tag(i, At(0))->fences; }

  Timestamp t0_ = T("2026-06-15T10:00:00+08:00");
  OrgId org_{1};
  Engine eng_{Book()};
  Output out_;
};

TEST(RulebookFixture, Loads) {
  auto b = PresenceRulebook::FromJson(core::Json::parse(kBook));
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ((*b)->rules().size(), 8u);
}

TEST(PresenceEngineNames, VerdictAndEventNames) {
  EXPECT_EQ(PositionVerdictName(PositionVerdict::kAccepted), "accepted");
  EXPECT_EQ(PositionVerdictName(PositionVerdict::kImplausibleJump), "implausible_jump");
  EXPECT_EQ(PositionVerdictName(PositionVerdict::kNoSiteOrigin), "no_site_origin");
  EXPECT_EQ(FenceEventKindName(FenceEvent::Kind::kExited), "exited");
}

// --- intake -------------------------------------------------------------------------------

TEST_F(EngineTest, BadFixesGiveTheirVerdictAndChangeNothing) {
  TagIndex t = AddTag("T1", "W1");
  AddTag("TOFF");
  AddFence("F1", Square(0, 0, 10));
  ASSERT_EQ(Fix("T1", 10, 1, 1), PositionVerdict::kAccepted);
  ASSERT_EQ(out_.events.size(), 1u);
  out_.clear();
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Fix("T1", 20, nan, 1), PositionVerdict::kNotFinite);
  EXPECT_EQ(Fix("T1", 20, 1, inf), PositionVerdict::kNotFinite);
  EXPECT_EQ(Fix("T1", 20, 1, 1, nan), PositionVerdict::kNotFinite);
  EXPECT_EQ(Fix("T1", 20, 1, 1, std::nullopt, -inf), PositionVerdict::kNotFinite);
  EXPECT_EQ(Fix("T1", 20, 2e6, 1), PositionVerdict::kOutOfRange);
  EXPECT_EQ(Fix("T1", 20, 1, -1'000'001), PositionVerdict::kOutOfRange);
  EXPECT_EQ(Fix("T1", 20, 1, 1, 20'000), PositionVerdict::kOutOfRange);
  EXPECT_EQ(Fix("T1", 20, 1, 1, std::nullopt, 25), PositionVerdict::kPoorAccuracy);
  EXPECT_EQ(Fix("T1", 5, 1, 1), PositionVerdict::kOutOfOrder);
  EXPECT_EQ(Fix("T1", 10, 1, 1), PositionVerdict::kDuplicate);
  EXPECT_EQ(Fix("NOPE", 20, 1, 1), PositionVerdict::kUnknownTag);
  ASSERT_TRUE(eng_.RemoveTag(org_, "TOFF").ok());
  EXPECT_EQ(Fix("TOFF", 20, 1, 1), PositionVerdict::kDisabled);
  // Time window: measured 61 s after "now" / more than 24 h before it.
  PositionFix f;
  f.tag = "T1";
  f.x = 1;
  f.y = 1;
  f.time = At(81);
  EXPECT_EQ(eng_.Ingest(org_, "", f, At(20), out_), PositionVerdict::kTooFarFuture);
  f.time = At(20);
  EXPECT_EQ(eng_.Ingest(org_, "", f, At(20 + 86'401), out_), PositionVerdict::kTooOld);
  // Another site's fix for this tag.
  EXPECT_EQ(eng_.Ingest(org_, "S2", f, At(20), out_), PositionVerdict::kUnknownTag);
  // GPS: no origin, then a bad latitude.
  PositionFix g;
  g.tag = "T1";
  g.frame = PositionFix::Frame::kWgs84;
  g.time = At(20);
  g.x = 31.2;
  g.y = 121.5;
  EXPECT_EQ(eng_.Ingest(org_, "", g, At(20), out_), PositionVerdict::kNoSiteOrigin);
  eng_.SetSiteFrame(org_, "S1", SiteFrame{LatLon{31.2, 121.5}, {}});
  g.x = 91;
  EXPECT_EQ(eng_.Ingest(org_, "", g, At(20), out_), PositionVerdict::kOutOfRange);

  EXPECT_TRUE(out_.empty());
  auto s = eng_.Tag(t, At(20));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->time, At(10));
  EXPECT_EQ(s->position, (Vec3{1, 1, 0}));
  EXPECT_EQ(s->fences, std::vector<std::string>{"F1"});
  const auto& st = eng_.stats();
  EXPECT_EQ(st.accepted, 1u);
  EXPECT_EQ(st.rejected.at("not_finite"), 4u);
  EXPECT_EQ(st.rejected.at("out_of_range"), 4u);
  EXPECT_EQ(st.rejected.at("unknown_tag"), 2u);
  EXPECT_EQ(st.rejected.at("duplicate"), 1u);
  EXPECT_EQ(st.rejected.at("no_site_origin"), 1u);
  EXPECT_EQ(st.fixes, 18u);
  // The next good fix is still judged against the one accepted at 10 s.
  EXPECT_EQ(Fix("T1", 21, 2, 1), PositionVerdict::kAccepted);
}

TEST_F(EngineTest, UwbFixIsTransformedIntoTheSiteFrame) {
  TagIndex t = AddTag("T1");
  SiteFrame f;
  f.uwb = FrameTransform{100, 50, 1.5, 90};
  eng_.SetSiteFrame(org_, "S1", f);
  ASSERT_EQ(eng_.GetSiteFrame(org_, "S1"), f);
  ASSERT_EQ(Fix("T1", 0, 10, 0, 2.0), PositionVerdict::kAccepted);
  auto s = eng_.Tag(t, At(0));
  EXPECT_NEAR(s->position.x, 100, 1e-9);  // (10, 0) rotated 90° -> (0, 10), + (100, 50)
  EXPECT_NEAR(s->position.y, 60, 1e-9);
  EXPECT_NEAR(s->position.z, 3.5, 1e-9);
  EXPECT_TRUE(s->has_z);
  // A raw value beyond the site's range is rejected even if the transform would bring it in.
  EXPECT_EQ(Fix("T1", 1, 1'000'050, 0), PositionVerdict::kOutOfRange);
}

TEST_F(EngineTest, GpsFixLandsInAFenceDefinedInLocalMetres) {
  const LatLon origin{31.23, 121.47};
  eng_.SetSiteFrame(org_, "S1", SiteFrame{origin, {}});
  TagIndex t = AddTag("G1", "W1");
  AddFence("F1", Square(100, 50, 5));
  LatLon inside = LocalFrame(origin).ToWgs84({101, 49});
  PositionFix g;
  g.tag = "G1";
  g.frame = PositionFix::Frame::kWgs84;
  g.time = At(0);
  g.x = inside.lat;
  g.y = inside.lon;
  g.accuracy_m = 3;
  ASSERT_EQ(eng_.Ingest(org_, "S1", g, At(0), out_), PositionVerdict::kAccepted);
  ASSERT_EQ(Events(FenceEvent::Kind::kEntered).size(), 1u);
  EXPECT_EQ(out_.events[0].fence, "F1");
  EXPECT_EQ(out_.events[0].person, W("W1"));
  auto s = eng_.Tag(t, At(0));
  EXPECT_NEAR(s->position.x, 101, 0.1);
  EXPECT_NEAR(s->position.y, 49, 0.1);
  ASSERT_TRUE(s->wgs84);
  EXPECT_NEAR(s->wgs84->lat, inside.lat, 1e-7);
  EXPECT_EQ(s->accuracy_m, 3);
}

TEST_F(EngineTest, HeightBandSeparatesFloors) {
  TagIndex t = AddTag("T1", "W1");
  Fence f;
  f.org = org_;
  f.id = "GROUND";
  f.site = "S1";
  f.area.outer = Square(0, 0, 10);
  f.area.z_min = 0;
  f.area.z_max = 3;
  ASSERT_TRUE(eng_.UpsertFence(f).ok());
  ASSERT_EQ(Fix("T1", 0, 1, 1, 4.5), PositionVerdict::kAccepted);  // the floor above
  EXPECT_TRUE(out_.events.empty());
  EXPECT_TRUE(FencesOf(t).empty());
  ASSERT_EQ(Fix("T1", 5, 1, 1, 1.2), PositionVerdict::kAccepted);  // came down
  EXPECT_EQ(FencesOf(t), std::vector<std::string>{"GROUND"});
  ASSERT_EQ(Fix("T1", 10, 1, 1), PositionVerdict::kAccepted);  // no height: matched on plane
  EXPECT_EQ(FencesOf(t), std::vector<std::string>{"GROUND"});
}

TEST_F(EngineTest, EntryAndExitEventsCarryDwellAndCountChecks) {
  TagIndex t = AddTag("T1", "W1");
  AddFence("A", Square(0, 0, 10), /*hazardous=*/true);
  AddFence("B", Square(100, 0, 10));
  ASSERT_EQ(Fix("T1", 0, 50, 0), PositionVerdict::kAccepted);
  EXPECT_TRUE(out_.events.empty());
  ASSERT_EQ(Fix("T1", 10, 5, 0), PositionVerdict::kAccepted);
  ASSERT_EQ(out_.events.size(), 1u);
  const FenceEvent& in = out_.events[0];
  EXPECT_EQ(in.kind, FenceEvent::Kind::kEntered);
  EXPECT_EQ(in.fence, "A");
  EXPECT_TRUE(in.hazardous);
  EXPECT_EQ(in.tag, "T1");
  EXPECT_EQ(in.at, At(10));
  out_.clear();
  ASSERT_EQ(Fix("T1", 20, 6, 0), PositionVerdict::kAccepted);  // still inside: no event
  EXPECT_TRUE(out_.events.empty());
  ASSERT_EQ(Fix("T1", 40, 60, 0), PositionVerdict::kAccepted);
  ASSERT_EQ(out_.events.size(), 1u);
  EXPECT_EQ(out_.events[0].kind, FenceEvent::Kind::kExited);
  EXPECT_EQ(out_.events[0].dwell, Duration::Seconds(30));
  EXPECT_TRUE(FencesOf(t).empty());
  // Only fences near the position are tested exactly.
  EXPECT_LE(eng_.stats().fence_checks, 4u);
  EXPECT_EQ(eng_.stats().events, 2u);
}

TEST_F(EngineTest, PositionsAndLastPositionUseTheFreshestTag) {
  eng_.SetSiteFrame(org_, "S1", SiteFrame{LatLon{31.23, 121.47}, {}});
  AddTag("TA", "W1");
  AddTag("TB", "W1");
  AddTag("TC");
  ASSERT_EQ(Fix("TA", 0, 1, 1), PositionVerdict::kAccepted);
  ASSERT_EQ(Fix("TB", 5, 2, 2), PositionVerdict::kAccepted);
  auto p = eng_.LastPosition(org_, W("W1"), At(10));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->tag, "TB");
  EXPECT_EQ(p->person, W("W1"));
  EXPECT_FALSE(eng_.LastPosition(org_, W("W2"), At(10)));
  auto all = eng_.Positions(org_, "S1", At(10));
  ASSERT_EQ(all.size(), 2u);  // TC has no position
  EXPECT_TRUE(all[0].wgs84);
  EXPECT_FALSE(all[0].stale);
  EXPECT_TRUE(eng_.Positions(org_, "S1", At(200))[0].stale);  // the stale rule's 2 min
  EXPECT_TRUE(eng_.Positions(org_, "S2", At(10)).empty());
  EXPECT_EQ(eng_.Positions(org_, "", At(10)).size(), 2u);
}

// --- guardian presence --------------------------------------------------------------------

class GuardianTest : public EngineTest {
 protected:
  void SetUp() override {
    AddTag("TG1", "G1");
    AddTag("TG2", "G2");
    auto p = Permit();
    p.guardians = {W("G1")};
    p.authorized = {W("G1"), W("W1")};
    SetPermits({p}, 0);
  }
};

TEST_F(GuardianTest, LeavingBeyondTheDistanceRaisesAfterGraceAndReturningClears) {
  ASSERT_EQ(Fix("TG1", 0, 1, 1), PositionVerdict::kAccepted);
  ASSERT_EQ(Fix("TG1", 10, 25, 0), PositionVerdict::kAccepted);  // outside the fence, 25 m: near
  Tick(60);
  EXPECT_TRUE(Raised("t.guardian").empty());
  ASSERT_EQ(Fix("TG1", 70, 40, 0), PositionVerdict::kAccepted);  // 40 m: away from 70 s
  Tick(189);
  EXPECT_TRUE(Raised("t.guardian").empty());
  Tick(190);
  auto r = Raised("t.guardian");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].subject, "permit:P1/guardian");
  EXPECT_EQ(r[0].permits, std::vector<std::string>{"P1"});
  EXPECT_EQ(r[0].value, 120);
  EXPECT_EQ(r[0].unit, "s");
  EXPECT_EQ(r[0].level, monitor::Level::kRed);
  EXPECT_EQ(r[0].actions, (std::vector<std::string>{"suspend_permit", "notify"}));
  EXPECT_EQ(r[0].clause, "GB 30871-2022 §4.10 f)");
  EXPECT_EQ(r[0].at, At(190));
  ASSERT_EQ(r[0].evidence["guardians"].size(), 1u);
  EXPECT_EQ(r[0].evidence["guardians"][0]["person"], "worker:G1");
  EXPECT_EQ(r[0].evidence["guardians"][0]["distance_m"], 40);
  EXPECT_NE(r[0].message_zh.find("P1"), std::string::npos);
  EXPECT_NE(r[0].message_zh.find("G1"), std::string::npos);
  Tick(200);  // de-duplicated
  EXPECT_EQ(Raised("t.guardian").size(), 1u);
  EXPECT_EQ(OpenOf("t.guardian"), 1u);
  ASSERT_EQ(Fix("TG1", 210, 5, 0), PositionVerdict::kAccepted);
  Tick(210);
  ASSERT_EQ(Cleared("t.guardian").size(), 1u);
  EXPECT_EQ(Cleared("t.guardian")[0].subject, "permit:P1/guardian");
  EXPECT_EQ(OpenOf("t.guardian"), 0u);
}

TEST_F(GuardianTest, AStaleGuardianTagCountsAsAbsent) {
  ASSERT_EQ(Fix("TG1", 0, 1, 1), PositionVerdict::kAccepted);  // then silence
  Tick(179);  // present until 60 s (fresh), grace 2 min
  EXPECT_TRUE(Raised("t.guardian").empty());
  Tick(180);
  ASSERT_EQ(Raised("t.guardian").size(), 1u);
}

TEST_F(GuardianTest, AnUnmonitoredGuardianRaisesNothing) {
  auto p = Permit();
  p.guardians = {W("G9")};  // no tag bound
  SetPermits({p}, 0);
  Tick(1000);
  EXPECT_TRUE(Raised("t.guardian").empty());
  // A binding that has ended does not monitor either.
  Binding b;
  b.tag = "TG2";
  b.person = W("G9");
  b.valid_from = At(-100);
  b.valid_until = At(5);
  ASSERT_TRUE(eng_.SetBindings(org_, "TG2", {b}).ok());
  ASSERT_EQ(Fix("TG2", 1, 80, 80), PositionVerdict::kAccepted);
  Tick(2000);
  EXPECT_TRUE(Raised("t.guardian").empty());
}

TEST_F(GuardianTest, TwoGuardiansOnePresentIsEnough) {
  auto p = Permit();
  p.guardians = {W("G1"), W("G2")};
  SetPermits({p}, 0);
  ASSERT_EQ(Fix("TG1", 0, 200, 0), PositionVerdict::kAccepted);  // far away
  for (int s = 0; s <= 300; s += 30) ASSERT_EQ(Fix("TG2", s, 2, 2), PositionVerdict::kAccepted);
  Tick(300);
  EXPECT_TRUE(Raised("t.guardian").empty());
  // G2 goes silent too: both absent, from when G2's position went stale.
  Tick(300 + 60 + 119);
  EXPECT_TRUE(Raised("t.guardian").empty());
  Tick(300 + 60 + 120);
  ASSERT_EQ(Raised("t.guardian").size(), 1u);
  EXPECT_EQ(Raised("t.guardian")[0].evidence["guardians"].size(), 2u);
}

TEST_F(GuardianTest, SuspendedPermitClearsAndReactivationRestartsGrace) {
  ASSERT_EQ(Fix("TG1", 0, 60, 0), PositionVerdict::kAccepted);  // away from the start
  Tick(120);
  ASSERT_EQ(Raised("t.guardian").size(), 1u);
  auto p = Permit();
  p.guardians = {W("G1")};
  p.authorized = {W("G1"), W("W1")};
  p.active = false;
  SetPermits({p}, 130);
  Tick(130);
  ASSERT_EQ(Cleared("t.guardian").size(), 1u);
  Tick(400);
  EXPECT_EQ(Raised("t.guardian").size(), 1u);  // suspended: not watched
  p.active = true;
  SetPermits({p}, 500);
  Tick(619);
  EXPECT_EQ(Raised("t.guardian").size(), 1u);
  Tick(620);
  EXPECT_EQ(Raised("t.guardian").size(), 2u);
}

// --- holder presence ----------------------------------------------------------------------

class HolderTest : public EngineTest {
 protected:
  void SetUp() override {
    AddTag("TH", "W2");
    auto p = Permit();
    p.holders = {{W("W2"), "performer", "T-2026-0042"}};
    p.authorized = {W("W2")};
    SetPermits({p}, 0);
  }
};

TEST_F(HolderTest, AHolderSeenElsewhereRaisesPossibleCertificateMisuse) {
  for (int s = 0; s <= 300; s += 30) ASSERT_EQ(Fix("TH", s, 200, 0), PositionVerdict::kAccepted);
  Tick(299);
  EXPECT_TRUE(Raised("t.holder").empty());
  Tick(300);
  auto r = Raised("t.holder");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].subject, "permit:P1/worker:W2");
  EXPECT_EQ(r[0].person, W("W2"));
  EXPECT_EQ(r[0].evidence["certificate"], "T-2026-0042");
  EXPECT_EQ(r[0].evidence["permit"], "P1");
  EXPECT_EQ(r[0].evidence["distance_m"], 200);
  EXPECT_NE(r[0].message_zh.find("真证假用"), std::string::npos);
  EXPECT_NE(r[0].message_zh.find("T-2026-0042"), std::string::npos);
  ASSERT_EQ(Fix("TH", 330, 3, 0), PositionVerdict::kAccepted);  // 197 m in 30 s
  Tick(330);
  EXPECT_EQ(Cleared("t.holder").size(), 1u);
}

TEST_F(HolderTest, AStaleHolderPositionIsNotEvidence) {
  ASSERT_EQ(Fix("TH", 0, 200, 0), PositionVerdict::kAccepted);
  Tick(400);
  EXPECT_TRUE(Raised("t.holder").empty());
}

TEST_F(HolderTest, AHolderAtTheWorkPointRaisesNothing) {
  for (int s = 0; s <= 600; s += 30) ASSERT_EQ(Fix("TH", s, 40, 0), PositionVerdict::kAccepted);
  Tick(600);  // 40 m: outside the fence but within 50 m of the work point
  EXPECT_TRUE(Raised("t.holder").empty());
}

// --- unauthorized entry -------------------------------------------------------------------

TEST_F(EngineTest, UnauthorizedEntryIntoAPermitFence) {
  AddTag("T1", "W1");
  AddTag("T9", "W9");
  auto p = Permit();
  p.authorized = {W("W1")};
  SetPermits({p}, 0);
  ASSERT_EQ(Fix("T1", 5, 1, 1), PositionVerdict::kAccepted);
  ASSERT_EQ(Fix("T9", 5, 2, 2), PositionVerdict::kAccepted);
  Tick(19.9);
  EXPECT_TRUE(Raised("t.unauth").empty());
  Tick(20);
  auto r = Raised("t.unauth");
  ASSERT_EQ(r.size(), 1u);  // W1 is on the permit
  EXPECT_EQ(r[0].subject, "permit:P1/worker:W9");
  EXPECT_EQ(r[0].person, W("W9"));
  EXPECT_EQ(r[0].message_en, "W9 is not on permit P1 and entered permit:P1");
  ASSERT_EQ(Fix("T9", 30, 50, 0), PositionVerdict::kAccepted);
  Tick(30);
  ASSERT_EQ(Cleared("t.unauth").size(), 1u);
  EXPECT_EQ(Cleared("t.unauth")[0].subject, "permit:P1/worker:W9");
}

TEST_F(EngineTest, RestrictedFenceNeedsAnActivePermitOfItsZone) {
  AddTag("T1", "W1");
  AddTag("T9", "W9");
  AddFence("R1", Square(100, 100, 10), false, /*restricted=*/true, "Z2");
  auto p = Permit("P2");
  p.zone = "Z2";
  p.fence.outer = Square(300, 300, 5);
  p.work_point = {300, 300};
  p.authorized = {W("W1")};
  SetPermits({p}, -10);
  ASSERT_EQ(Fix("T1", 0, 101, 101), PositionVerdict::kAccepted);
  ASSERT_EQ(Fix("T9", 0, 99, 99), PositionVerdict::kAccepted);
  Tick(14);
  EXPECT_TRUE(Raised("t.restricted").empty());
  Tick(15);
  auto r = Raised("t.restricted");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].subject, "fence:R1/worker:W9");
  EXPECT_EQ(r[0].zone, "Z2");
  // The zone's permit is suspended: W1 is no longer allowed in (after grace).
  p.active = false;
  SetPermits({p}, 20);
  Tick(34);
  EXPECT_EQ(Raised("t.restricted").size(), 1u);
  EXPECT_TRUE(Cleared("t.restricted").empty());  // W9's alarm stays open
  Tick(35);
  ASSERT_EQ(Raised("t.restricted").size(), 2u);
  EXPECT_EQ(Raised("t.restricted")[1].subject, "fence:R1/worker:W1");
  ASSERT_EQ(Fix("T9", 40, 150, 150), PositionVerdict::kAccepted);
  Tick(40);
  ASSERT_EQ(Cleared("t.restricted").size(), 1u);
  EXPECT_EQ(Cleared("t.restricted")[0].subject, "fence:R1/worker:W9");
}

// --- confined space -----------------------------------------------------------------------

class ConfinedTest : public EngineTest {
 protected:
  void SetUp() override {
    AddTag("T1", "W1");
    AddTag("T2", "W2");
    SetPermits({Confined(true)}, 0);
  }
  PermitContext Confined(bool active) {
    auto p = Permit("C1", "confined_space");
    p.fence.outer = Square(0, 0, 5);
    p.authorized = {W("W1"), W("W2"), W("W5")};
    p.active = active;
    return p;
  }
};

TEST_F(ConfinedTest, TagEntriesAndExitsAreCounted) {
  ASSERT_EQ(Fix("T1", 0, 1, 1), PositionVerdict::kAccepted);
  ASSERT_EQ(Fix("T2", 0, -1, -1), PositionVerdict::kAccepted);
  auto in = Events(FenceEvent::Kind::kEntered);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_TRUE(in[0].confined);
  EXPECT_EQ(in[0].fence, "permit:C1");
  EXPECT_EQ(in[0].permit, "C1");
  EXPECT_EQ(eng_.Occupants(org_, "C1").size(), 2u);
  ASSERT_EQ(Fix("T2", 10, 30, 0), PositionVerdict::kAccepted);
  auto out = Events(FenceEvent::Kind::kExited);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dwell, Duration::Seconds(10));
  auto occ = eng_.Occupants(org_, "C1");
  ASSERT_EQ(occ.size(), 1u);
  EXPECT_EQ(occ[0].person, W("W1"));
  EXPECT_EQ(occ[0].tag, "T1");
  EXPECT_EQ(occ[0].source, "tag");
  EXPECT_EQ(occ[0].since, At(0));
}

TEST_F(ConfinedTest, ASuspendedPermitWithPeopleInsideRaisesAfterGrace) {
  ASSERT_EQ(Fix("T1", 0, 1, 1), PositionVerdict::kAccepted);
  SetPermits({Confined(false)}, 20);
  for (int s = 30; s <= 60; s += 30) ASSERT_EQ(Fix("T1", s, 1, 1.1), PositionVerdict::kAccepted);
  Tick(79);
  EXPECT_TRUE(Raised("t.confined").empty());
  Tick(80);
  auto r = Raised("t.confined");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].subject, "permit:C1/occupied");
  EXPECT_EQ(r[0].value, 1);
  EXPECT_EQ(r[0].unit, "people");
  EXPECT_EQ(r[0].actions, (std::vector<std::string>{"broadcast", "notify"}));
  ASSERT_EQ(Fix("T1", 90, 20, 0), PositionVerdict::kAccepted);  // out
  EXPECT_TRUE(eng_.Occupants(org_, "C1").empty());
  Tick(90);
  EXPECT_EQ(Cleared("t.confined").size(), 1u);
}

TEST_F(ConfinedTest, ManualRegisterWithTools) {
  ASSERT_TRUE(eng_.ManualEntry(org_, "C1", W("W5"), true, {"gas detector", "rope"}, At(1), out_)
                  .ok());
  ASSERT_EQ(out_.events.size(), 1u);
  EXPECT_EQ(out_.events[0].source, "manual");
  EXPECT_EQ(out_.events[0].tag, "");
  EXPECT_EQ(out_.events[0].tools, (std::vector<std::string>{"gas detector", "rope"}));
  auto occ = eng_.Occupants(org_, "C1");
  ASSERT_EQ(occ.size(), 1u);
  EXPECT_EQ(occ[0].source, "manual");
  EXPECT_EQ(eng_.ToolsInside(org_, "C1"), (std::map<std::string, int>{{"gas detector", 1},
                                                                       {"rope", 1}}));
  EXPECT_EQ(eng_.ManualEntry(org_, "C1", W("W5"), true, {}, At(2), out_).code(),
            core::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(eng_.ManualEntry(org_, "C1", W("W5"), false, {"rope"}, At(61), out_).ok());
  EXPECT_EQ(out_.events.back().kind, FenceEvent::Kind::kExited);
  EXPECT_EQ(out_.events.back().dwell, Duration::Seconds(60));
  EXPECT_TRUE(eng_.Occupants(org_, "C1").empty());
  EXPECT_EQ(eng_.ToolsInside(org_, "C1"), (std::map<std::string, int>{{"gas detector", 1}}));
  EXPECT_EQ(eng_.ManualEntry(org_, "C1", W("W5"), false, {}, At(62), out_).code(),
            core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(eng_.ManualEntry(org_, "NOPE", W("W5"), true, {}, At(62), out_).code(),
            core::StatusCode::kNotFound);
  SetPermits({Confined(true), Permit("H1")}, 63);
  EXPECT_EQ(eng_.ManualEntry(org_, "H1", W("W5"), true, {}, At(64), out_).code(),
            core::StatusCode::kInvalidArgument);
}

TEST_F(ConfinedTest, RestoredOccupantsCountForTheSuspendedAlarm) {
  Occupant o{W("W7"), "", At(-50), "manual", {"lamp"}};
  eng_.RestoreOccupants(org_, "C1", {o}, {{"lamp", 1}, {"saw", 0}});
  EXPECT_EQ(eng_.Occupants(org_, "C1").size(), 1u);
  EXPECT_EQ(eng_.ToolsInside(org_, "C1"), (std::map<std::string, int>{{"lamp", 1}}));
  SetPermits({Confined(false)}, 10);
  Tick(70);
  EXPECT_EQ(Raised("t.confined").size(), 1u);
  SetPermits({Confined(true)}, 80);  // active again: nobody should be counted as trapped
  Tick(80);
  EXPECT_EQ(Cleared("t.confined").size(), 1u);
}

// --- lone worker, stale tags --------------------------------------------------------------

TEST_F(EngineTest, LoneWorkerStandingStillInAHazardousFence) {
  AddTag("T1", "W1");
  AddFence("H1", Square(50, 50, 10), /*hazardous=*/true);
  for (int s = 0; s <= 180; s += 30) {
    ASSERT_EQ(Fix("T1", s, 50 + (s % 60 == 0 ? 0.2 : 0), 50), PositionVerdict::kAccepted);
  }
  Tick(179);
  EXPECT_TRUE(Raised("t.lone").empty());
  Tick(180);
  auto r = Raised("t.lone");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].subject, "person:worker:W1");
  EXPECT_EQ(r[0].evidence["fence"], "H1");
  ASSERT_EQ(Fix("T1", 190, 52, 50), PositionVerdict::kAccepted);  // moved 2 m
  Tick(190);
  EXPECT_EQ(Cleared("t.lone").size(), 1u);
  // Outside any hazardous fence: standing still is fine.
  ASSERT_EQ(Fix("T1", 220, 120, 50), PositionVerdict::kAccepted);
  Tick(600);
  EXPECT_EQ(Raised("t.lone").size(), 1u);
}

TEST_F(EngineTest, StaleTagOfAPersonOnAnActivePermit) {
  TagIndex t = AddTag("T1", "W1");
  AddTag("T2", "W2");  // not on the permit: never stale-alarmed
  auto p = Permit();
  p.authorized = {W("W1")};
  SetPermits({p}, 0);
  ASSERT_EQ(Fix("T1", 10, 30, 30), PositionVerdict::kAccepted);
  ASSERT_EQ(Fix("T2", 10, 40, 30), PositionVerdict::kAccepted);
  Tick(129);
  EXPECT_TRUE(Raised("t.stale").empty());
  Tick(130);
  auto r = Raised("t.stale");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].subject, "tag:T1");
  EXPECT_TRUE(eng_.Tag(t, At(130))->stale);
  Tick(140);
  EXPECT_EQ(Raised("t.stale").size(), 1u);
  ASSERT_EQ(Fix("T1", 150, 30, 31), PositionVerdict::kAccepted);
  EXPECT_EQ(Cleared("t.stale").size(), 1u);  // on the fix itself
  Tick(150);
  EXPECT_EQ(Cleared("t.stale").size(), 1u);
  EXPECT_EQ(Raised("t.stale").size(), 1u);
}

// --- implausible jumps --------------------------------------------------------------------

TEST_F(EngineTest, ImplausibleJumpIsRejectedAndChangesNothing) {
  TagIndex t = AddTag("T1", "W1");
  ASSERT_EQ(Fix("T1", 0, 0, 0), PositionVerdict::kAccepted);
  EXPECT_EQ(Fix("T1", 1, 100, 0), PositionVerdict::kImplausibleJump);
  EXPECT_EQ(eng_.Tag(t, At(1))->position, (Vec3{0, 0, 0}));
  EXPECT_EQ(eng_.Tag(t, At(1))->time, At(0));
  // 10 m/s * 2 s + 1 m slack from the last accepted fix: just over, then just within.
  EXPECT_EQ(Fix("T1", 2, 21.5, 0), PositionVerdict::kImplausibleJump);
  EXPECT_EQ(Fix("T1", 3, 30.9, 0), PositionVerdict::kAccepted);
  EXPECT_EQ(eng_.stats().rejected.at("implausible_jump"), 2u);
  EXPECT_TRUE(out_.alarms.empty());
}

TEST_F(EngineTest, AJumpBurstRaisesAndClearsAfterTheWindow) {
  AddTag("T1", "W1");
  ASSERT_EQ(Fix("T1", 0, 0, 0), PositionVerdict::kAccepted);
  EXPECT_EQ(Fix("T1", 1, 100, 0), PositionVerdict::kImplausibleJump);
  EXPECT_EQ(Fix("T1", 2, -100, 0), PositionVerdict::kImplausibleJump);
  EXPECT_TRUE(Raised("t.jump").empty());
  EXPECT_EQ(Fix("T1", 3, 100, 0), PositionVerdict::kImplausibleJump);
  auto r = Raised("t.jump");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].subject, "tag:T1");
  EXPECT_EQ(r[0].unit, "m/s");
  EXPECT_EQ(r[0].evidence["count"], 3);
  EXPECT_EQ(Fix("T1", 4, -100, 0), PositionVerdict::kImplausibleJump);
  EXPECT_EQ(Raised("t.jump").size(), 1u);  // de-duplicated
  Tick(100);
  EXPECT_TRUE(Cleared("t.jump").empty());
  Tick(304);  // the last rejection (4 s) is 300 s old
  EXPECT_EQ(Cleared("t.jump").size(), 1u);
}

TEST_F(EngineTest, TwoConsistentFixesAfterAJumpAreAccepted) {
  TagIndex t = AddTag("T1", "W1");
  ASSERT_EQ(Fix("T1", 0, 0, 0), PositionVerdict::kAccepted);
  EXPECT_EQ(Fix("T1", 10, 500, 0), PositionVerdict::kImplausibleJump);  // a relocation
  EXPECT_EQ(Fix("T1", 11, 502, 0), PositionVerdict::kAccepted);         // confirmed
  EXPECT_EQ(eng_.Tag(t, At(11))->position, (Vec3{502, 0, 0}));
  EXPECT_EQ(Fix("T1", 12, 504, 0), PositionVerdict::kAccepted);
  // A single outlier followed by a fix back where the tag was: the outlier stays rejected.
  EXPECT_EQ(Fix("T1", 13, 0, 0), PositionVerdict::kImplausibleJump);
  EXPECT_EQ(Fix("T1", 14, 505, 0), PositionVerdict::kAccepted);
  EXPECT_EQ(eng_.Tag(t, At(14))->position, (Vec3{505, 0, 0}));
}

// --- permits ------------------------------------------------------------------------------

TEST_F(EngineTest, PeopleAlreadyInsideANewPermitFenceAreEntered) {
  AddTag("T1", "W1");
  AddTag("T2", "W2");
  ASSERT_EQ(Fix("T1", 0, 1, 1), PositionVerdict::kAccepted);
  ASSERT_EQ(Fix("T2", 0, 80, 80), PositionVerdict::kAccepted);
  out_.clear();
  SetPermits({Permit()}, 10);
  auto in = Events(FenceEvent::Kind::kEntered);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].fence, "permit:P1");
  EXPECT_EQ(in[0].person, W("W1"));
  EXPECT_EQ(in[0].at, At(10));
  // The same permits again: nothing new.
  out_.clear();
  SetPermits({Permit()}, 20);
  EXPECT_TRUE(out_.empty());
  // The fence moves to the other person.
  auto p = Permit();
  p.fence.outer = Square(80, 80, 5);
  p.work_point = {80, 80};
  SetPermits({p}, 30);
  ASSERT_EQ(out_.events.size(), 2u);
  EXPECT_EQ(Events(FenceEvent::Kind::kExited)[0].person, W("W1"));
  EXPECT_EQ(Events(FenceEvent::Kind::kEntered)[0].person, W("W2"));
}

TEST_F(EngineTest, ARemovedPermitClearsItsAlarmsAndFence) {
  TagIndex t = AddTag("T9", "W9");
  SetPermits({Permit()}, 0);
  ASSERT_EQ(Fix("T9", 0, 1, 1), PositionVerdict::kAccepted);
  Tick(15);
  ASSERT_EQ(Raised("t.unauth").size(), 1u);
  SetPermits({}, 20);
  ASSERT_EQ(Cleared("t.unauth").size(), 1u);
  EXPECT_EQ(Cleared("t.unauth")[0].at, At(20));
  EXPECT_TRUE(eng_.OpenAlarms(org_).empty());
  EXPECT_TRUE(FencesOf(t).empty());
  Tick(30);
  EXPECT_EQ(Raised("t.unauth").size(), 1u);
  EXPECT_EQ(Cleared("t.unauth").size(), 1u);
}

// --- the index against brute force ---------------------------------------------------------

TEST(PresenceEngineIndex, MembershipEqualsBruteForce) {
  auto book = PresenceRulebook::FromJson(core::Json::parse(R"({"version": "x", "rules": []})"));
  ASSERT_TRUE(book.ok());
  Engine eng(**book, EngineOptions{.grid_cell_m = 25});
  const OrgId org{7};
  std::mt19937_64 rng(20261129);
  std::uniform_real_distribution<double> coord(-1000, 1000), size(3, 150), unit(0, 1);
  std::vector<Fence> fences;
  for (int i = 0; i < 300; ++i) {
    Fence f;
    f.org = org;
    f.id = "F" + std::to_string(i);
    f.site = "S1";
    Vec2 c{coord(rng), coord(rng)};
    double r = size(rng);
    switch (i % 3) {
      case 0: f.area.outer = Square(c.x, c.y, r); break;
      case 1: f.area.outer = {{c.x - r, c.y - r}, {c.x + r, c.y - r * 0.5}, {c.x, c.y + r}}; break;
      default: f.area.outer = CircleRing(c, r, 12); break;
    }
    if (i % 5 == 0) {
      f.area.z_min = 0;
      f.area.z_max = 3;
    }
    ASSERT_TRUE(eng.UpsertFence(f).ok()) << f.id;
    fences.push_back(f);
  }
  std::vector<TagIndex> tags;
  for (int i = 0; i < 2000; ++i) {
    presence::Tag t;
    t.org = org;
    t.id = "T" + std::to_string(i);
    t.site = "S1";
    tags.push_back(*eng.UpsertTag(t));
  }
  const Timestamp t0 = Timestamp::FromSeconds(1'800'000'000);
  Output out;
  std::uint64_t events = 0;
  for (int round = 1; round <= 5; ++round) {
    Timestamp now = t0 + Duration::Seconds(round);
    for (TagIndex ti : tags) {
      PositionFix f;
      f.time = now;
      f.x = coord(rng);
      f.y = coord(rng);
      if (unit(rng) < 0.5) f.z = unit(rng) * 8 - 2;
      ASSERT_EQ(eng.Ingest(ti, f, now, out), PositionVerdict::kAccepted);
      std::vector<std::string> want;
      for (const auto& fc : fences) {
        if (Contains(fc.area, {f.x, f.y}, f.z)) want.push_back(fc.id);
      }
      auto got = eng.Tag(ti, now)->fences;
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      ASSERT_EQ(got, want) << "tag " << ti << " round " << round;
    }
    events += out.events.size();
    out.clear();
  }
  EXPECT_GT(events, 100u);
  // The index prunes: far fewer exact tests than fixes x fences.
  EXPECT_LT(eng.stats().fence_checks, 10'000u * 30);
}

}  // namespace
}  // namespace wg::presence

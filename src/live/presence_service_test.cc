// PresenceService end to end over a real SQLite store, evidence log, permit service and
// MonitorService on a FakeClock: configuration with its facts, positions, the guardian
// rule stopping a hot-work permit, the confined-space register (tags and manual entries,
// completion refused while anyone is inside, replay after a restart), sealed
// trajectories, rejected fixes, the regional query and the approver-on-site hook.
#include "wg/live/presence_service.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_fixture.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/presence/rulebook.h"

namespace wg::live {
namespace {

using core::Duration;
using core::Timestamp;
using presence::PersonRef;
using presence::PositionFix;
using testing::kPassword;

const Actor kAdmin{"user:admin", "admin"};

class PresenceServiceTest : public testing::LiveFixture {
 protected:
  void SetUp() override {
    LiveFixture::SetUp();
    auto pb = presence::PresenceRulebook::LoadEmbedded();
    ASSERT_TRUE(pb.ok()) << pb.error().ToString();
    pbook_ = std::move(*pb);
  }

  void TearDown() override {
    if (permits_) {
      permits_->SetCompleteGuard(nullptr);
      permits_->SetPositionSource(nullptr);
    }
    presence_.reset();
    LiveFixture::TearDown();
  }

  static MonitorOptions ManualMonitor() {
    MonitorOptions o;
    o.start_threads = false;
    return o;
  }

  // A monitor (alarms) and the presence service over it, both driven by hand unless
  // `threads`.
  void MakePresence(bool threads = false) {
    presence_.reset();
    if (!svc_) MakeService(threads ? MonitorOptions{} : ManualMonitor());
    PresenceOptions o;
    o.start_threads = threads;
    presence_ = std::make_unique<PresenceService>(*store_, *evidence_, *pbook_, clock_,
                                                  permits_.get(), svc_.get(), o);
    auto s = presence_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void AddTag(const std::string& id, const std::string& site = "S1",
              presence::TagKind kind = presence::TagKind::kUwb) {
    presence::Tag t;
    t.id = id;
    t.site = site;
    t.kind = kind;
    auto r = presence_->PutTag(org_, t, 0, kAdmin);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  void BindTag(const std::string& tag, const std::string& person) {
    presence::Binding b;
    b.tag = tag;
    b.person = *presence::ParsePersonRef(person);
    b.valid_from = clock_.Now() - Duration::Hours(2);
    auto r = presence_->Bind(org_, b, kAdmin);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  PositionFix Fix(const std::string& tag, double x, double y,
                  std::optional<Timestamp> at = std::nullopt) {
    PositionFix f;
    f.tag = tag;
    f.time = at.value_or(clock_.Now());
    f.x = x;
    f.y = y;
    f.accuracy_m = 0.3;
    return f;
  }

  PresenceService::SubmitResult Send(std::vector<PositionFix> fixes,
                                     const std::string& site = "S1") {
    auto r = presence_->Submit(org_, site, std::move(fixes), Duration::Seconds(1));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : PresenceService::SubmitResult{};
  }

  // One fix now, processed, with the monitor's consequences persisted.
  void At(const std::string& tag, double x, double y) {
    Send({Fix(tag, x, y)});
    Process();
  }

  void Process() {
    presence_->Pump();
    svc_->Pump();
    ASSERT_TRUE(svc_->PersistPending().ok());
  }

  std::vector<store::StoredFact> Facts(const std::string& subject, const std::string& kind) {
    std::vector<store::StoredFact> out;
    auto facts = store_->FactsAbout(org_, subject, 0, 1000);
    EXPECT_TRUE(facts.ok());
    for (const auto& f : facts.value_or(std::vector<store::StoredFact>{})) {
      if (f.kind == kind) out.push_back(f);
    }
    return out;
  }

  std::optional<monitor::Alarm> AlarmOfRule(const std::string& rule) {
    for (auto& a : Alarms()) {
      if (a.rule == rule) return a;
    }
    return std::nullopt;
  }

  void GuardCompletion() {
    permits_->SetCompleteGuard([this](core::OrgId org, const permit::Permit& p) {
      return presence_->CompletionBlocker(org, p);
    });
  }

  std::unique_ptr<presence::PresenceRulebook> pbook_;
  std::unique_ptr<PresenceService> presence_;
};

// --- configuration ---------------------------------------------------------------------------

TEST_F(PresenceServiceTest, TagsFencesAndFramesAreStoredWithFactsAndValidated) {
  MakePresence();
  AddTag("T1");
  EXPECT_EQ(Facts("tag:T1", "tag.configured").size(), 1u);
  auto t = presence_->GetTag(org_, "T1");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(t->site, "S1");
  EXPECT_EQ(t->version, 1);
  // Create-only with version 0; compare-and-set after.
  presence::Tag again = *t;
  again.description = "安全帽 UWB";
  EXPECT_EQ(presence_->PutTag(org_, again, 0, kAdmin).error().code(),
            core::StatusCode::kAlreadyExists);
  auto replaced = presence_->PutTag(org_, again, 1, kAdmin);
  ASSERT_TRUE(replaced.ok()) << replaced.error().ToString();
  EXPECT_EQ(replaced->version, 2);
  EXPECT_EQ(presence_->GetTag(org_, "T1")->description, "安全帽 UWB");
  // Validation names the field.
  presence::Tag bad;
  bad.id = "no spaces";
  bad.site = "S1";
  auto r = presence_->PutTag(org_, bad, 0, kAdmin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().field(), "id");
  bad.id = "T9";
  bad.site = "S9";
  r = presence_->PutTag(org_, bad, 0, kAdmin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "site");

  presence::Fence f;
  f.id = "tank-farm";
  f.site = "S1";
  f.zone = "U1";
  f.name = "罐区";
  f.hazardous = true;
  f.area.outer = {{0, 0}, {50, 0}, {50, 40}, {0, 40}};
  auto fr = presence_->PutFence(org_, f, 0, kAdmin);
  ASSERT_TRUE(fr.ok()) << fr.error().ToString();
  EXPECT_EQ(Facts("fence:tank-farm", "fence.configured").size(), 1u);
  auto fences = presence_->ListFences(org_);
  ASSERT_TRUE(fences.ok());
  ASSERT_EQ(fences->size(), 1u);
  EXPECT_EQ(fences->front().area, f.area);
  presence::Fence line = f;
  line.id = "line";
  line.area.outer = {{0, 0}, {10, 0}};  // two vertices: no area
  auto lr = presence_->PutFence(org_, line, 0, kAdmin);
  ASSERT_FALSE(lr.ok());
  EXPECT_EQ(lr.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(lr.error().field().rfind("area", 0), 0u) << lr.error().field();

  presence::SiteFrame frame;
  frame.origin = presence::LatLon{31.2304, 121.4737};
  frame.uwb.rotation_deg = 90;
  auto sf = presence_->PutSiteFrame(org_, "S1", frame, kAdmin);
  ASSERT_TRUE(sf.ok()) << sf.error().ToString();
  EXPECT_EQ(Facts("site:S1", "site_frame.configured").size(), 1u);
  ASSERT_TRUE(presence_->PutSiteFrame(org_, "S1", frame, kAdmin).ok());  // replace
  EXPECT_EQ(*presence_->GetSiteFrame(org_, "S1"), frame);
  presence::SiteFrame off = frame;
  off.origin->lat = 91;
  auto bad_frame = presence_->PutSiteFrame(org_, "S1", off, kAdmin);
  ASSERT_FALSE(bad_frame.ok());
  EXPECT_NE(bad_frame.error().field().find("lat"), std::string::npos) << bad_frame.error().field();
  EXPECT_EQ(presence_->PutSiteFrame(org_, "S9", frame, kAdmin).error().field(), "site");

  auto st = presence_->Stats();
  EXPECT_EQ(st.tags, 1u);
  EXPECT_EQ(st.fences, 1u);

  ASSERT_TRUE(presence_->DeleteFence(org_, "tank-farm", kAdmin).ok());
  EXPECT_EQ(Facts("fence:tank-farm", "fence.deleted").size(), 1u);
  EXPECT_EQ(presence_->GetFence(org_, "tank-farm").error().code(), core::StatusCode::kNotFound);
  ASSERT_TRUE(presence_->DeleteTag(org_, "T1", kAdmin).ok());
  EXPECT_EQ(Facts("tag:T1", "tag.deleted").size(), 1u);
  EXPECT_TRUE(presence_->ListTags(org_)->empty());
  EXPECT_EQ(presence_->DeleteTag(org_, "T1", kAdmin).code(), core::StatusCode::kNotFound);

  // A restart loads the configuration back.
  presence::Fence kept = f;
  kept.id = "kept";
  ASSERT_TRUE(presence_->PutFence(org_, kept, 0, kAdmin).ok());
  MakePresence();
  EXPECT_EQ(presence_->Stats().fences, 1u);
}

TEST_F(PresenceServiceTest, SitePlansAreVersionedWithAFactAndSurviveARestart) {
  MakePresence();
  auto parsed = presence::ParseSitePlan(core::Json::parse(R"({
      "name": "S1 plan", "extent": {"min": [0, 0], "max": [100, 50]},
      "zones": [{"code": "U100", "name": "Unit 100", "polygon": [[0, 0], [40, 0], [40, 30]]}],
      "points": {"U100-H2S-01": [10.25, 5]},
      "features": [{"kind": "tank", "label": "T-1", "centre": [70, 20], "radius_m": 8}]})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  const presence::SitePlan plan = *parsed;

  EXPECT_EQ(presence_->GetSitePlan(org_, "S1").error().code(), core::StatusCode::kNotFound);
  // Creating needs version 0; the site must exist in the organization.
  auto created = presence_->PutSitePlan(org_, "S1", plan, 0, kAdmin);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(*created, plan);
  auto facts = Facts("site:S1", "site_plan.configured");
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_NE(facts[0].payload.find("\"site\":\"S1\""), std::string::npos) << facts[0].payload;
  EXPECT_NE(facts[0].payload.find("U100-H2S-01"), std::string::npos);
  auto got = presence_->GetSitePlan(org_, "S1");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->first, plan);
  EXPECT_EQ(got->second, 1);

  // Creating again, or replacing with a stale version, changes nothing and writes no fact.
  auto again = presence_->PutSitePlan(org_, "S1", plan, 0, kAdmin);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), core::StatusCode::kAlreadyExists);
  presence::SitePlan changed = plan;
  changed.zones[0].name = "Unit 100 (new)";
  auto stale = presence_->PutSitePlan(org_, "S1", changed, 7, kAdmin);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.error().field(), "version");
  EXPECT_EQ(Facts("site:S1", "site_plan.configured").size(), 1u);
  ASSERT_TRUE(presence_->PutSitePlan(org_, "S1", changed, 1, kAdmin).ok());
  EXPECT_EQ(Facts("site:S1", "site_plan.configured").size(), 2u);
  EXPECT_EQ(presence_->GetSitePlan(org_, "S1")->second, 2);

  // An invalid plan built in code is refused like one from a request.
  presence::SitePlan bad = plan;
  bad.zones.push_back(bad.zones[0]);  // duplicate zone code
  auto dup = presence_->PutSitePlan(org_, "S1", bad, 2, kAdmin);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().field(), "zones[1].code");
  bad = plan;
  bad.max.x = -1;
  EXPECT_EQ(presence_->PutSitePlan(org_, "S1", bad, 2, kAdmin).error().field(), "extent.max[0]");
  // An unknown site (or another organization's) is kNotFound.
  auto unknown = presence_->PutSitePlan(org_, "S9", plan, 0, kAdmin);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(unknown.error().field(), "site");
  EXPECT_EQ(presence_->GetSitePlan(org_, "S9").error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(Facts("site:S1", "site_plan.configured").size(), 2u);

  // A restart reads the plan back; the engine ignores the new kind.
  MakePresence();
  EXPECT_EQ(presence_->GetSitePlan(org_, "S1")->first, changed);
  EXPECT_EQ(presence_->Stats().fences, 0u);
}

TEST_F(PresenceServiceTest, BindingNeedsAPersonOfTheOrganization) {
  MakePresence();
  AddTag("T1");
  presence::Binding b;
  b.tag = "T1";
  b.person = PersonRef{PersonRef::Kind::kWorker, "W1"};
  b.valid_from = clock_.Now();
  auto bound = presence_->Bind(org_, b, kAdmin);
  ASSERT_TRUE(bound.ok()) << bound.error().ToString();
  EXPECT_GT(bound->id, 0);
  EXPECT_EQ(Facts("tag:T1", "tag.bound").size(), 1u);

  presence::Binding ghost = b;
  ghost.person = PersonRef{PersonRef::Kind::kWorker, "NOPE"};
  auto r = presence_->Bind(org_, ghost, kAdmin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().field(), "person");
  // A user of another organization is not a person of this one.
  auto other = store_->CreateOrganization({"plant-b", "plant-b"});
  ASSERT_TRUE(other.ok());
  domain::User u;
  u.org_id = other->id;
  u.username = "other.user";
  u.display_name = "other";
  u.password_hash = "x";
  ASSERT_TRUE(store_->CreateUser(u).ok());
  ghost.person = PersonRef{PersonRef::Kind::kUser, "other.user"};
  r = presence_->Bind(org_, ghost, kAdmin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "person");
  presence::Binding no_tag = b;
  no_tag.tag = "T9";
  r = presence_->Bind(org_, no_tag, kAdmin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "tag");
  presence::Binding backwards = b;
  backwards.valid_until = b.valid_from - Duration::Seconds(1);
  r = presence_->Bind(org_, backwards, kAdmin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "valid_until");

  clock_.Advance(Duration::Hours(1));
  auto ended = presence_->Unbind(org_, bound->id, clock_.Now(), kAdmin);
  ASSERT_TRUE(ended.ok()) << ended.error().ToString();
  ASSERT_TRUE(ended->valid_until.has_value());
  EXPECT_EQ(*ended->valid_until, clock_.Now());
  EXPECT_EQ(Facts("tag:T1", "tag.unbound").size(), 1u);
  EXPECT_EQ(presence_->Unbind(org_, 999999, clock_.Now(), kAdmin).error().code(),
            core::StatusCode::kNotFound);
  auto list = presence_->ListBindings(org_, "T1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().person.Key(), "worker:W1");
}

// --- positions -------------------------------------------------------------------------------

TEST_F(PresenceServiceTest, FixesBecomePositionsAndStreamEvents) {
  MakePresence();
  AddTag("T1");
  BindTag("T1", "worker:W1");
  auto sub = svc_->events().Subscribe(org_, "S1");
  ASSERT_TRUE(sub.ok());
  auto sent = Send({Fix("T1", 10, 5)});
  EXPECT_EQ(sent.queued, 1u);
  Process();
  auto pos = presence_->Positions(org_, "S1");
  ASSERT_TRUE(pos.ok());
  ASSERT_EQ(pos->size(), 1u);
  EXPECT_EQ(pos->front().tag, "T1");
  EXPECT_EQ(pos->front().person.Key(), "worker:W1");
  EXPECT_DOUBLE_EQ(pos->front().position.x, 10);
  EXPECT_DOUBLE_EQ(pos->front().position.y, 5);
  EXPECT_TRUE(presence_->Positions(org_, "S2")->empty());
  bool closed = false;
  auto events = svc_->events().Next(**sub, Duration::Seconds(1), &closed);
  bool found = false;
  for (const auto& e : events) {
    if (e.type != "position") continue;
    found = true;
    EXPECT_EQ(e.key, "tag:T1");
    auto d = core::ParseJson(e.data);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ((*d)["tag"], "T1");
    EXPECT_EQ((*d)["person"], "worker:W1");
    EXPECT_EQ((*d)["x"], 10.0);
  }
  EXPECT_TRUE(found);
  auto st = presence_->Stats();
  EXPECT_EQ(st.received, 1u);
  EXPECT_EQ(st.accepted, 1u);
  svc_->events().Unsubscribe(*sub);
}

TEST(PresenceEventHubTest, PositionsCoalescePerTagApartFromReadings) {
  EventHub hub(4, 16);
  core::OrgId org{1};
  auto s = hub.Subscribe(org, "");
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 5; ++i) {
    hub.Publish(StreamEvent{org, "S1", "position", "{\"x\":" + std::to_string(i) + "}", 0,
                            "tag:T1"});
  }
  hub.Publish(StreamEvent{org, "S1", "position", "{\"x\":7}", 0, "tag:T2"});
  hub.Publish(StreamEvent{org, "S1", "reading", "{\"v\":1}", 0, "tag:T1"});  // same key text
  hub.Publish(StreamEvent{org, "S1", "presence", "{}", 0, ""});
  hub.Publish(StreamEvent{org, "S1", "presence", "{}", 0, ""});
  bool closed = false;
  auto ev = hub.Next(**s, Duration{1000}, &closed);
  ASSERT_EQ(ev.size(), 5u);  // T1's latest, T2, the reading, both fence events
  int positions = 0;
  for (const auto& e : ev) {
    if (e.type == "position" && e.key == "tag:T1") {
      EXPECT_EQ(e.data, "{\"x\":4}");
    }
    positions += e.type == "position";
  }
  EXPECT_EQ(positions, 2);
  EXPECT_EQ(hub.dropped(), 0u);
}

TEST_F(PresenceServiceTest, BadFixesAreCountedByVerdictAndChangeNothing) {
  MakePresence();
  AddTag("T1");
  AddTag("G1", "S1", presence::TagKind::kGps);  // S1 has no WGS-84 origin
  presence::Tag off;
  off.id = "T2";
  off.site = "S1";
  off.enabled = false;
  ASSERT_TRUE(presence_->PutTag(org_, off, 0, kAdmin).ok());
  const Timestamp now = clock_.Now();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<PositionFix> fixes;
  fixes.push_back(Fix("T1", 1, 1, now - Duration::Seconds(10)));   // accepted
  fixes.push_back(Fix("T1", 1, 1, now - Duration::Seconds(10)));   // duplicate
  fixes.push_back(Fix("T1", 1, 1, now - Duration::Seconds(20)));   // out of order
  fixes.push_back(Fix("T1", 900, 1, now - Duration::Seconds(9)));  // 900 m in 1 s
  fixes.push_back(Fix("T1", nan, 1, now));
  fixes.push_back(Fix("T1", 2e6, 1, now));
  PositionFix vague = Fix("T1", 2, 2, now);
  vague.accuracy_m = 500;
  fixes.push_back(vague);
  fixes.push_back(Fix("T1", 2, 2, now + Duration::Minutes(10)));
  fixes.push_back(Fix("T1", 2, 2, now - Duration::Days(2)));
  fixes.push_back(Fix("NOPE", 2, 2, now));
  fixes.push_back(Fix("T2", 2, 2, now));
  PositionFix gps = Fix("G1", 31.2, 121.4, now);
  gps.frame = PositionFix::Frame::kWgs84;
  fixes.push_back(gps);
  fixes.push_back(Fix("bad id!", 2, 2, now));  // refused at intake
  auto sent = Send(fixes);
  EXPECT_EQ(sent.queued, fixes.size() - 1);
  EXPECT_EQ(sent.rejected, 1u);
  ASSERT_EQ(sent.rejections.size(), 1u);
  EXPECT_EQ(sent.rejections[0].reason, "unknown_tag");
  Send({Fix("T1", 3, 3, now)}, "S9");  // a tag of another site
  Process();

  auto st = presence_->Stats();
  EXPECT_EQ(st.received, fixes.size() + 1);
  EXPECT_EQ(st.accepted, 1u);
  using V = presence::PositionVerdict;
  auto n = [&](V v) { return st.rejected[std::string(presence::PositionVerdictName(v))]; };
  EXPECT_EQ(n(V::kDuplicate), 1u);
  EXPECT_EQ(n(V::kOutOfOrder), 1u);
  EXPECT_EQ(n(V::kImplausibleJump), 1u);
  EXPECT_EQ(n(V::kNotFinite), 1u);
  EXPECT_EQ(n(V::kOutOfRange), 1u);
  EXPECT_EQ(n(V::kPoorAccuracy), 1u);
  EXPECT_EQ(n(V::kTooFarFuture), 1u);
  EXPECT_EQ(n(V::kTooOld), 1u);
  EXPECT_EQ(n(V::kUnknownTag), 3u);  // NOPE, "bad id!" at intake, T1 sent for S9
  EXPECT_EQ(n(V::kDisabled), 1u);
  EXPECT_EQ(n(V::kNoSiteOrigin), 1u);
  // Only the accepted fix moved the tag.
  auto pos = presence_->Positions(org_, "S1");
  ASSERT_TRUE(pos.ok());
  ASSERT_EQ(pos->size(), 1u);
  EXPECT_DOUBLE_EQ(pos->front().position.x, 1);
  // Decode rejections counted by the caller land in the same map.
  presence_->CountRejected({ingest::Rejection{"bad_json", "body", "x"}});
  EXPECT_EQ(presence_->Stats().rejected["bad_json"], 1u);
}

// --- the guardian rule -----------------------------------------------------------------------

TEST_F(PresenceServiceTest, GuardianWalkingAwayRaisesARedAlarmAndSuspendsThePermit) {
  permit::Permit p = ActivePermit(HotWork());
  ASSERT_EQ(p.state, permit::State::kActive);
  MakePresence();
  AddTag("TG");
  BindTag("TG", "user:g.li");
  EXPECT_EQ(presence_->Stats().permits, 1u);
  At("TG", 5, 5);  // at the work
  clock_.Advance(Duration::Seconds(30));
  At("TG", 150, 0);
  clock_.Advance(Duration::Seconds(30));
  At("TG", 300, 0);
  clock_.Advance(Duration::Seconds(30));
  At("TG", 500, 0);
  EXPECT_FALSE(AlarmOfRule("presence.guardian_absent").has_value());  // within the grace
  for (int i = 0; i < 8; ++i) {
    clock_.Advance(Duration::Seconds(30));
    At("TG", 500, 0);
  }
  auto alarm = AlarmOfRule("presence.guardian_absent");
  ASSERT_TRUE(alarm.has_value());
  EXPECT_EQ(alarm->level, monitor::Level::kRed);
  EXPECT_EQ(alarm->kind, "presence");
  EXPECT_EQ(alarm->point, "permit:" + p.number + "/guardian");
  EXPECT_EQ(alarm->rule_kind, "guardian_presence");
  EXPECT_EQ(alarm->clause, "GB 30871-2022 §4.10 f)");
  EXPECT_EQ(alarm->permits, std::vector<std::string>{p.number});
  EXPECT_FALSE(alarm->evidence.empty());
  EXPECT_TRUE(FactKinds("alarm:" + std::to_string(alarm->id)).count("alarm.raised"));
  // The monitor's stop-work thread suspended the permit.
  auto now = permits_->Get(org_, p.id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->state, permit::State::kSuspended);
  EXPECT_GE(presence_->Stats().alarms_raised, 1u);
  // Refreshed: the permit is suspended, its guardian no longer needed there.
  ASSERT_TRUE(presence_->Refresh().ok());
  Process();
  // Hot work keeps no confined-space register and never blocks completion.
  auto manual = presence_->RegisterEntry(org_, p.id, PersonRef{PersonRef::Kind::kWorker, "W1"},
                                         true, {}, Actor{"user:g.li", "guardian"});
  EXPECT_EQ(manual.code(), core::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(presence_->CompletionBlocker(org_, *now).has_value());
  // Work cannot resume while the guardian is still away (§4.10 f) ...
  auto why = presence_->ResumeBlocker(org_, *now);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("user:g.li"), std::string::npos) << *why;
  EXPECT_NE(why->find("presence.guardian_absent"), std::string::npos) << *why;
  // ... and may once they are back at the work point.
  clock_.Advance(Duration::Seconds(30));
  At("TG", 400, 0);
  clock_.Advance(Duration::Seconds(30));
  At("TG", 200, 0);
  clock_.Advance(Duration::Seconds(30));
  At("TG", 6, 4);
  EXPECT_FALSE(presence_->ResumeBlocker(org_, *now).has_value());
  // A stale position is not presence.
  clock_.Advance(Duration::Minutes(5));
  EXPECT_TRUE(presence_->ResumeBlocker(org_, *now).has_value());
}

// --- the confined-space register ------------------------------------------------------------

TEST_F(PresenceServiceTest, ConfinedSpaceCompletionWaitsUntilEveryoneIsOut) {
  permit::Permit p = ActivePermit(ConfinedSpace());
  ASSERT_EQ(p.state, permit::State::kActive);
  MakePresence();
  GuardCompletion();
  AddTag("TW");
  BindTag("TW", "worker:W1");
  At("TW", 60, 0);  // outside the 15 m circle round (100, 0)
  EXPECT_TRUE(Facts("permit:" + p.number, "confined.entered").empty());
  clock_.Advance(Duration::Seconds(10));
  At("TW", 100, 1);
  auto entered = Facts("permit:" + p.number, "confined.entered");
  ASSERT_EQ(entered.size(), 1u);
  auto payload = core::ParseJson(entered[0].payload);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ((*payload)["person"], "worker:W1");
  EXPECT_EQ((*payload)["tag"], "TW");
  EXPECT_EQ((*payload)["source"], "tag");
  EXPECT_EQ(entered[0].actor, "system:presence");
  EXPECT_EQ(entered[0].site, "S1");
  auto reg = presence_->Register(org_, p.id);
  ASSERT_TRUE(reg.ok()) << reg.error().ToString();
  EXPECT_EQ((*reg)["headcount"], 1);
  EXPECT_EQ((*reg)["inside"][0]["person"], "worker:W1");
  EXPECT_EQ((*reg)["inside"][0]["name"], "张三");

  auto refused = permits_->Complete(org_, p.id, "done", As("lead.wang"));
  ASSERT_TRUE(refused.ok()) << refused.error().ToString();
  EXPECT_FALSE(refused->applied);
  ASSERT_TRUE(refused->decision.has_value());
  ASSERT_EQ(refused->decision->violations.size(), 1u);
  const auto& v = refused->decision->violations[0];
  EXPECT_EQ(v.rule, "presence.confined_occupied_suspended");
  EXPECT_EQ(v.severity, permit::Severity::kBlock);
  EXPECT_NE(v.message.find("worker:W1"), std::string::npos) << v.message;
  EXPECT_TRUE(FactKinds("permit:" + p.number).count("permit.refused"));

  clock_.Advance(Duration::Seconds(20));
  At("TW", 60, 0);
  auto exited = Facts("permit:" + p.number, "confined.exited");
  ASSERT_EQ(exited.size(), 1u);
  auto out = core::ParseJson(exited[0].payload);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["dwell_s"], 20);
  EXPECT_EQ((*presence_->Register(org_, p.id))["headcount"], 0);
  auto done = permits_->Complete(org_, p.id, "done", As("lead.wang"));
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_TRUE(done->applied);
  EXPECT_EQ(done->permit.state, permit::State::kCompleted);
}

TEST_F(PresenceServiceTest, ManualEntriesWithToolsSurviveARestartAndExportAsCsv) {
  permit::Permit p = ActivePermit(ConfinedSpace());
  MakePresence();
  const Actor guardian{"user:g.li", "guardian"};
  const PersonRef w3{PersonRef::Kind::kWorker, "W3"};
  ASSERT_TRUE(presence_->RegisterEntry(org_, p.id, w3, true, {"gas detector", "rope"}, guardian)
                  .ok());
  auto twice = presence_->RegisterEntry(org_, p.id, w3, true, {}, guardian);
  EXPECT_EQ(twice.code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(presence_->RegisterEntry(org_, 999999, w3, true, {}, guardian).code(),
            core::StatusCode::kNotFound);
  auto ghost = presence_->RegisterEntry(org_, p.id, PersonRef{PersonRef::Kind::kWorker, "NOPE"},
                                        true, {}, guardian);
  EXPECT_EQ(ghost.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ghost.field(), "person");
  auto entered = Facts("permit:" + p.number, "confined.entered");
  ASSERT_EQ(entered.size(), 1u);
  EXPECT_EQ(entered[0].actor, "user:g.li");

  // Restart: the register comes back from its facts.
  presence_.reset();
  MakePresence();
  auto reg = presence_->Register(org_, p.id);
  ASSERT_TRUE(reg.ok()) << reg.error().ToString();
  EXPECT_EQ((*reg)["headcount"], 1);
  EXPECT_EQ((*reg)["tools_inside"]["rope"], 1);
  EXPECT_EQ((*reg)["entries"][0]["source"], "manual");
  EXPECT_EQ((*reg)["entries"][0]["name"], "王五");
  permit::Permit current = *permits_->Get(org_, p.id);
  auto blocker = presence_->CompletionBlocker(org_, current);
  ASSERT_TRUE(blocker.has_value());
  EXPECT_EQ(blocker->rule, "presence.confined_occupied_suspended");
  EXPECT_EQ(blocker->field, "");
  EXPECT_NE(blocker->message.find("W3"), std::string::npos) << blocker->message;
  EXPECT_NE(blocker->message_zh.find("rope"), std::string::npos) << blocker->message_zh;

  // Out without the rope: nobody inside, but a declared tool is.
  ASSERT_TRUE(presence_->RegisterEntry(org_, p.id, w3, false, {"gas detector"}, guardian).ok());
  blocker = presence_->CompletionBlocker(org_, current);
  ASSERT_TRUE(blocker.has_value());
  EXPECT_NE(blocker->message.find("rope"), std::string::npos) << blocker->message;
  EXPECT_EQ(blocker->message.find("W3"), std::string::npos) << blocker->message;
  ASSERT_TRUE(presence_->RegisterEntry(org_, p.id, w3, true, {}, guardian).ok());
  ASSERT_TRUE(presence_->RegisterEntry(org_, p.id, w3, false, {"rope"}, guardian).ok());
  EXPECT_FALSE(presence_->CompletionBlocker(org_, current).has_value());

  auto csv = presence_->RegisterCsv(org_, p.id);
  ASSERT_TRUE(csv.ok()) << csv.error().ToString();
  ASSERT_EQ(csv->rfind("\xEF\xBB\xBF" "time,direction,person,name,tag,source,tools\r\n", 0), 0u)
      << *csv;
  int rows = 0;
  for (char c : *csv) rows += c == '\n';
  EXPECT_EQ(rows, 5);  // header + 4 entries
  EXPECT_NE(csv->find(",in,worker:W3,王五,,manual,gas detector;rope\r\n"), std::string::npos)
      << *csv;
  EXPECT_NE(csv->find(",out,worker:W3,王五,,manual,rope\r\n"), std::string::npos) << *csv;
}

// --- trajectories ----------------------------------------------------------------------------

TEST_F(PresenceServiceTest, TrajectoriesAreSealedWithAFactAndReadBack) {
  MakePresence();
  AddTag("T1");
  const Timestamp minute = clock_.Now();  // 09:30:00 Beijing: a minute boundary
  for (int i = 0; i < 3; ++i) {
    Send({Fix("T1", 1.0 + i, 2.5, minute + Duration::Seconds(10 * i))});
    clock_.Set(minute + Duration::Seconds(10 * i + 1));
  }
  Process();
  auto before = presence_->Trajectory(org_, "T1", minute, minute + Duration::Minutes(2));
  ASSERT_TRUE(before.ok()) << before.error().ToString();
  EXPECT_EQ(before->points.size(), 3u);
  EXPECT_EQ(before->unsealed, 3);
  EXPECT_TRUE(before->blocks.empty());

  clock_.Set(minute + Duration::Seconds(70));  // the minute and its grace are over
  Process();
  EXPECT_EQ(presence_->Stats().blocks_sealed, 1u);
  auto facts = Facts("trajectory:S1", "trajectory.sealed");
  ASSERT_EQ(facts.size(), 1u);
  auto payload = core::ParseJson(facts[0].payload);
  ASSERT_TRUE(payload.ok());
  ASSERT_EQ((*payload)["blocks"].size(), 1u);
  EXPECT_EQ((*payload)["blocks"][0]["tag"], "T1");
  EXPECT_EQ((*payload)["blocks"][0]["count"], 3);

  auto after = presence_->Trajectory(org_, "T1", minute, minute + Duration::Minutes(2));
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  ASSERT_EQ(after->points.size(), 3u);
  EXPECT_EQ(after->unsealed, 0);
  EXPECT_DOUBLE_EQ(after->points[2].position.x, 3.0);
  EXPECT_EQ(after->points[1].time, minute + Duration::Seconds(10));
  ASSERT_EQ(after->blocks.size(), 1u);
  EXPECT_EQ(after->blocks[0].fact_seq, facts[0].seq);
  EXPECT_EQ(after->blocks[0].sm3_hex, (*payload)["blocks"][0]["sm3"]);
  // The digest is the SM3 of the stored block.
  auto rows = store_->TrajectoryBlocks(org_, "T1", minute, minute + Duration::Minutes(1), 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(core::ToHex(crypto::Sm3(rows->front().data)), after->blocks[0].sm3_hex);
  auto j = ToJson(*after);
  EXPECT_EQ(j["blocks"][0]["fact_seq"], facts[0].seq);
  EXPECT_EQ(j["points"].size(), 3u);
  EXPECT_EQ(presence_->Trajectory(org_, "T1", minute, minute).error().field(), "to");
}

// --- the regional query ----------------------------------------------------------------------

TEST_F(PresenceServiceTest, RegionListsSitesAndOpenPermitsNearestFirst) {
  ASSERT_TRUE(store_->CreateSite(org_, {"S2", "二厂区", ""}).ok());
  ASSERT_TRUE(store_->CreateSite(org_, {"S3", "无坐标厂区", ""}).ok());
  permit::Permit hot = ActivePermit(HotWork());
  MakePresence();
  presence::SiteFrame shanghai;
  shanghai.origin = presence::LatLon{31.2304, 121.4737};
  presence::SiteFrame beijing;
  beijing.origin = presence::LatLon{39.9042, 116.4074};
  ASSERT_TRUE(presence_->PutSiteFrame(org_, "S1", shanghai, kAdmin).ok());
  ASSERT_TRUE(presence_->PutSiteFrame(org_, "S2", beijing, kAdmin).ok());
  const presence::LatLon centre{31.30, 121.50};

  auto near = presence_->Region(org_, centre, 50);
  ASSERT_TRUE(near.ok()) << near.error().ToString();
  ASSERT_EQ((*near)["sites"].size(), 1u);
  EXPECT_EQ((*near)["sites"][0]["code"], "S1");
  const double km = (*near)["sites"][0]["distance_km"].get<double>();
  EXPECT_NEAR(km, presence::HaversineMetres(centre, *shanghai.origin) / 1000, 1e-9);
  ASSERT_EQ((*near)["permits"].size(), 1u);
  EXPECT_EQ((*near)["permits"][0]["number"], hot.number);
  EXPECT_EQ((*near)["permits"][0]["state"], "active");
  EXPECT_EQ((*near)["permits"][0]["type"], "hot_work");
  EXPECT_NEAR((*near)["permits"][0]["lat"].get<double>(), shanghai.origin->lat, 1e-9);

  auto wide = presence_->Region(org_, centre, 2000);
  ASSERT_TRUE(wide.ok());
  ASSERT_EQ((*wide)["sites"].size(), 2u);  // S3 has no origin
  EXPECT_EQ((*wide)["sites"][0]["code"], "S1");
  EXPECT_EQ((*wide)["sites"][1]["code"], "S2");
  EXPECT_GT((*wide)["sites"][1]["distance_km"].get<double>(), 1000);

  auto none = presence_->Region(org_, centre, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["sites"].empty());
  EXPECT_TRUE((*none)["permits"].empty());

  EXPECT_EQ(presence_->Region(org_, {91, 0}, 10).error().field(), "lat");
  EXPECT_EQ(presence_->Region(org_, {0, 181}, 10).error().field(), "lon");
  EXPECT_EQ(presence_->Region(org_, centre, 0).error().field(), "radius_km");
  EXPECT_EQ(presence_->Region(org_, centre, 20001).error().field(), "radius_km");
  EXPECT_EQ(presence_->Region(org_, centre, std::nan("")).error().field(), "radius_km");
}

// --- the approver-on-site hook ---------------------------------------------------------------

TEST_F(PresenceServiceTest, ApprovalSignedFarFromTheWorkIsRefused) {
  MakePresence();
  permits_->SetPositionSource(
      [this](core::OrgId org, const std::string& site, const std::string& username) {
        return presence_->UserPosition(org, site, username);
      });
  AddTag("TA");
  BindTag("TA", "user:appr.zhou");
  At("TA", 500, 0);
  auto pos = presence_->UserPosition(org_, "S1", "appr.zhou");
  ASSERT_TRUE(pos.has_value());
  EXPECT_DOUBLE_EQ(pos->first.x, 500);
  EXPECT_FALSE(presence_->UserPosition(org_, "S2", "appr.zhou").has_value());
  EXPECT_FALSE(presence_->UserPosition(org_, "S1", "g.li").has_value());

  auto created = permits_->Create(org_, HotWork(), As("lead.wang"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::int64_t id = created->permit.id;
  ASSERT_TRUE(permits_->Submit(org_, id, As("lead.wang")).ok());
  ASSERT_TRUE(permits_->RecordGas(org_, id, PassingGas(clock_.Now()), As("gas.chen")).ok());
  bool refused = false;
  for (const auto& step : permit_book_->type(permit::PermitType::kHotWork).signature_chain) {
    auto s = permits_->Sign(org_, id, {.role = step.role, .password = kPassword},
                            As(Signer(step.role)));
    ASSERT_TRUE(s.ok()) << step.role << ": " << s.error().ToString();
    if (step.role != "approver") {
      ASSERT_TRUE(s->applied) << step.role;
      continue;
    }
    EXPECT_FALSE(s->applied);
    ASSERT_TRUE(s->decision.has_value());
    for (const auto& v : s->decision->violations) {
      refused = refused || v.rule == "general.approver_on_site";
    }
    // Back at the work (walking, not jumping), the approval goes through.
    clock_.Advance(Duration::Minutes(2));
    At("TA", 5, 5);
    auto again = permits_->Sign(org_, id, {.role = step.role, .password = kPassword},
                                As(Signer(step.role)));
    ASSERT_TRUE(again.ok()) << again.error().ToString();
    EXPECT_TRUE(again->applied);
  }
  EXPECT_TRUE(refused);
}

// --- threads ---------------------------------------------------------------------------------

TEST_F(PresenceServiceTest, WithThreadsFixesAreProcessedAndStopSealsTheRest) {
  MakePresence(/*threads=*/true);
  AddTag("T1");
  BindTag("T1", "worker:W1");
  std::vector<PositionFix> fixes;
  for (int i = 0; i < 20; ++i) {
    fixes.push_back(Fix("T1", 1 + 0.1 * i, 1, clock_.Now() - Duration::Seconds(20 - i)));
  }
  Send(fixes);
  ASSERT_TRUE(presence_->Flush(Duration::Seconds(10)).ok());
  auto pos = presence_->Positions(org_, "S1");
  ASSERT_TRUE(pos.ok());
  ASSERT_EQ(pos->size(), 1u);
  EXPECT_NEAR(pos->front().position.x, 2.9, 1e-9);
  EXPECT_EQ(presence_->Stats().accepted, 20u);
  presence_->Stop();
  presence_->Stop();  // idempotent
  EXPECT_GE(presence_->Stats().blocks_sealed, 1u);
  EXPECT_FALSE(Facts("trajectory:S1", "trajectory.sealed").empty());
  auto t = presence_->Trajectory(org_, "T1", clock_.Now() - Duration::Minutes(2),
                                 clock_.Now() + Duration::Minutes(1));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->points.size(), 20u);
  EXPECT_EQ(t->unsealed, 0);
}

}  // namespace
}  // namespace wg::live

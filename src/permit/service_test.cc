// PermitService over a real SQLite store, a real evidence log, the registry and the
// embedded rulebooks: the lifecycle end to end, forbidden transitions, signatures
// (step-up, order, forgery, tampering), refusals recorded as facts, expiry, conflicts and
// tenant isolation.
#include "wg/permit/service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/evidence/keyring.h"
#include "wg/registry/id_number.h"

namespace wg::permit {
namespace {

using core::Duration;
using core::Timestamp;

constexpr const char* kPassword = "correct horse battery";

std::string ResidentId(std::string first17) {
  return first17 + registry::ResidentIdCheckChar(first17);
}

class PermitServiceTest : public ::testing::Test {
 protected:
  // Monday 2026-11-30 10:00 Beijing time: a working day, daytime.
  static Timestamp Start() { return *core::ParseTimestamp("2026-11-30T10:00:00+08:00"); }

  void SetUp() override {
    char tmpl[] = "/tmp/wg-permit-svc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    clock_.Set(Start() - Duration::Minutes(30));
    auto store = store::OpenSqliteStore({.path = dir_ + "/wg.db", .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(*store);
    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/permits");
    ASSERT_TRUE(keys.ok()) << keys.error().ToString();
    keys_ = std::move(*keys);
    auto ev = evidence::Evidence::Open({.ledger_dir = dir_ + "/ledger", .sync = false}, *store_,
                                       *keys_, clock_);
    ASSERT_TRUE(ev.ok()) << ev.error().ToString();
    evidence_ = std::move(*ev);
    auto rb = registry::Rulebook::LoadEmbedded();
    ASSERT_TRUE(rb.ok()) << rb.error().ToString();
    reg_book_ = std::make_unique<registry::Rulebook>(std::move(*rb));
    registry_ = std::make_unique<registry::Registry>(*store_, clock_, *reg_book_,
                                                     registry::IdDigester(std::string(32, 'k')),
                                                     *evidence_);
    auto pb = PermitRulebook::LoadEmbedded();
    ASSERT_TRUE(pb.ok()) << pb.error().ToString();
    book_ = std::make_unique<PermitRulebook>(std::move(*pb));
    svc_ = std::make_unique<PermitService>(*store_, *registry_, *evidence_, *book_, clock_,
                                           std::string(32, 'm'));

    org_ = MakeOrg("plant-a");
    other_ = MakeOrg("plant-b");
    ASSERT_TRUE(store_->CreateSite(org_, {"S1", "一厂区", ""}).ok());
    ASSERT_TRUE(store_->CreateSite(other_, {"S1", "B 厂区", ""}).ok());
    for (auto [name, role] : std::vector<std::pair<std::string, domain::Role>>{
             {"lead.wang", domain::Role::kTeamLeader},
             {"g.li", domain::Role::kGuardian},
             {"unit.sun", domain::Role::kTeamLeader},
             {"safe.qian", domain::Role::kSafetyManager},
             {"sup.zhao", domain::Role::kSupervisor},
             {"appr.zhou", domain::Role::kApprover},
             {"shift.wu", domain::Role::kTeamLeader},
             {"brief.zhao", domain::Role::kSafetyManager},
             {"gas.chen", domain::Role::kGuardian}}) {
      users_[name] = MakeUser(org_, name, role);
    }
    MakeUser(other_, "b.admin", domain::Role::kAdmin);
    ASSERT_TRUE(registry_->LoadIndex().ok());
    // Workers: W1 a certified welder, W3 the work leader.
    auto w1 = registry_->CreateWorker(org_, {"W1", "张三", "检修公司",
                                             ResidentId("11010519800101123"), "", ""});
    ASSERT_TRUE(w1.ok()) << w1.error().ToString();
    registry::NewCertificate c;
    c.worker_id = w1->id;
    c.category = "welding";
    c.item = "fusion_welding";
    c.number = "T110105198001011234";
    c.authority = "北京市应急管理局";
    c.issue_date = *core::ParseDate("2025-03-01");
    ASSERT_TRUE(registry_->AddCertificate(org_, c).ok());
    ASSERT_TRUE(registry_->CreateWorker(org_, {"W3", "王五", "检修公司",
                                               ResidentId("11010519800101456"), "", ""})
                    .ok());
    // The approver may approve hot work up to grade 1 at the grass-roots level and above.
    AuthorityScope scope;
    scope.level = "safety_department";
    scope.types = {PermitType::kHotWork};
    ASSERT_TRUE(svc_->PutAuthorization(org_, "appr.zhou", {scope}, Admin()).ok());
    ASSERT_TRUE(svc_->LoadIndex().ok());
  }

  void TearDown() override {
    svc_.reset();
    registry_.reset();
    evidence_.reset();
    keys_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  core::OrgId MakeOrg(const std::string& code) {
    auto o = store_->CreateOrganization({code, code});
    EXPECT_TRUE(o.ok());
    return o->id;
  }

  core::UserId MakeUser(core::OrgId org, const std::string& name, domain::Role role) {
    static const std::string hash =
        *crypto::HashPassword(kPassword, crypto::PasswordParams{.t_cost = 1, .m_cost_kib = 64});
    domain::User u;
    u.org_id = org;
    u.username = name;
    u.display_name = name;
    u.role = role;
    u.password_hash = hash;
    auto r = store_->CreateUser(u);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r->id;
  }

  Actor As(const std::string& name) {
    Actor a;
    a.name = "user:" + name;
    a.username = name;
    auto it = users_.find(name);
    if (it != users_.end()) a.user_id = it->second;
    return a;
  }
  static Actor Admin() { return Actor{.name = "cli:test"}; }

  // A grade-2 hot-work permit (welding on a pipe support in a general area), window
  // Start() .. Start() + 8 h.
  Permit HotWork() {
    Permit p;
    p.site = "S1";
    p.type = PermitType::kHotWork;
    p.grade = "grade2";
    p.title = "管托焊接";
    p.work_unit = "维修车间";
    p.owning_unit = "一联合装置";
    p.hazard_analysis = "JHA-2026-001";
    p.location.zone = "U1";
    p.location.description = "管托 PS-12";
    p.location.point = {0, 0};
    p.location.fence = {{-20, -20}, {20, -20}, {20, 20}, {-20, 20}};
    p.location.area_class = "general";
    p.location.outdoor = true;
    p.planned_start = Start();
    p.planned_end = Start() + Duration::Hours(8);
    p.measures.push_back({"m1", "动火点周围易燃物已清除", true, "g.li",
                          Start() - Duration::Hours(1)});
    p.people = {
        {"performer", "W1", "", "张三", {"T110105198001011234"}},
        {"guardian", "", "g.li", "李四", {}},
        {"work_leader", "W3", "lead.wang", "王五", {}},
        {"safety_briefer", "", "brief.zhao", "赵六", {}},
        {"briefing_recipient", "W1", "", "张三", {}},
        {"gas_analyst", "", "gas.chen", "陈七", {}},
    };
    p.hot_work.emplace();
    p.hot_work->method = "welding";
    p.hot_work->oxygen_acetylene_distance_m = 6;
    p.hot_work->cylinder_to_point_distance_m = 12;
    p.hot_work->welder_machine_distance_m = 5;
    return p;
  }

  std::vector<GasReading> PassingGas(Timestamp t) {
    return {{t, "动火点", "O2", 20.9, "%vol", "gas.chen", "PGM-01", false},
            {t, "动火点", "CH4", 0.1, "%vol", "gas.chen", "PGM-01", false}};
  }

  // Drives a new permit to approved; returns it.
  Permit Approved(Permit doc) {
    auto created = svc_->Create(org_, doc, As("lead.wang"));
    EXPECT_TRUE(created.ok()) << created.error().ToString();
    const std::int64_t id = created->permit.id;
    auto sub = svc_->Submit(org_, id, As("lead.wang"));
    EXPECT_TRUE(sub.ok() && sub->applied) << Dump(sub);
    auto gas = svc_->RecordGas(org_, id, PassingGas(clock_.Now()), As("gas.chen"));
    EXPECT_TRUE(gas.ok() && gas->applied) << Dump(gas);
    EXPECT_EQ(gas->permit.state, State::kPendingSignatures) << Dump(gas);
    Permit p = gas->permit;
    for (const auto& step : book_->type(p.type).signature_chain) {
      auto s = svc_->Sign(org_, id, {.role = step.role, .password = kPassword},
                          As(Signer(step.role)));
      EXPECT_TRUE(s.ok()) << step.role << ": " << s.error().ToString();
      if (!s.ok()) return p;
      EXPECT_TRUE(s->applied) << step.role << ": " << Dump(s);
      p = s->permit;
    }
    return p;
  }

  static std::string Signer(std::string_view role) {
    if (role == "applicant") return "lead.wang";
    if (role == "guardian") return "g.li";
    if (role == "owning_unit") return "unit.sun";
    if (role == "safety_department") return "safe.qian";
    if (role == "supervisor") return "sup.zhao";
    if (role == "approver") return "appr.zhou";
    if (role == "shift_leader_check") return "shift.wu";
    return "unknown";
  }

  static std::string Dump(const core::Result<Outcome>& o) {
    if (!o.ok()) return o.error().ToString();
    if (!o->decision) return "(no decision)";
    return core::DumpJson(ToJson(*o->decision), 1);
  }

  std::set<std::string> FactKinds(const std::string& number) {
    std::set<std::string> kinds;
    auto facts = store_->FactsAbout(org_, "permit:" + number, 0, 1000);
    for (const auto& f : facts.value_or(std::vector<store::StoredFact>{})) kinds.insert(f.kind);
    return kinds;
  }

  std::string dir_;
  core::FakeClock clock_{Timestamp{}};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<registry::Rulebook> reg_book_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<PermitRulebook> book_;
  std::unique_ptr<PermitService> svc_;
  core::OrgId org_, other_;
  std::map<std::string, core::UserId> users_;
};

TEST_F(PermitServiceTest, FullLifecycleIsRecordedAndVerifiable) {
  Permit p = Approved(HotWork());
  ASSERT_EQ(p.state, State::kApproved);
  EXPECT_EQ(p.number.rfind("DH-20261130-", 0), 0u) << p.number;
  EXPECT_EQ(p.signatures.size(), book_->type(PermitType::kHotWork).signature_chain.size());
  EXPECT_EQ(svc_->open_permits(), 1u);

  // Too early: the planned start has not come.
  auto early = svc_->Activate(org_, p.id, As("lead.wang"));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().field(), "planned_start");

  clock_.Set(Start());
  auto active = svc_->Activate(org_, p.id, As("lead.wang"));
  ASSERT_TRUE(active.ok()) << active.error().ToString();
  ASSERT_TRUE(active->applied) << Dump(active);
  EXPECT_EQ(active->permit.state, State::kActive);

  auto susp = svc_->Suspend(org_, p.id, "吊车临时占道", As("g.li"));
  ASSERT_TRUE(susp.ok() && susp->applied);
  EXPECT_EQ(susp->permit.state, State::kSuspended);

  // A break over 60 min on grade-2 hot work needs a new gas analysis (§5.3).
  clock_.Advance(Duration::Minutes(61));
  auto refused = svc_->Resume(org_, p.id, As("lead.wang"));
  ASSERT_TRUE(refused.ok()) << refused.error().ToString();
  EXPECT_FALSE(refused->applied) << "resumed without the re-test";
  bool retest_named = false;
  for (const auto& v : refused->decision->violations) {
    const Rule* r = book_->FindRule(v.rule);
    retest_named = retest_named || (r != nullptr && r->check == "gas_retest_after_break");
  }
  EXPECT_TRUE(retest_named) << Dump(refused);
  auto gas = svc_->RecordGas(org_, p.id, PassingGas(clock_.Now()), As("gas.chen"));
  ASSERT_TRUE(gas.ok() && gas->applied) << Dump(gas);
  auto resumed = svc_->Resume(org_, p.id, As("lead.wang"));
  ASSERT_TRUE(resumed.ok() && resumed->applied) << Dump(resumed);
  EXPECT_EQ(resumed->permit.state, State::kActive);

  // Readings after the signatures did not break them.
  auto verified = svc_->Verify(org_, p.number, "");
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->signatures_valid);

  auto done = svc_->Complete(org_, p.id, "完工验收合格", As("lead.wang"));
  ASSERT_TRUE(done.ok() && done->applied);
  EXPECT_EQ(done->permit.state, State::kCompleted);
  EXPECT_EQ(svc_->open_permits(), 0u);

  const auto kinds = FactKinds(p.number);
  for (const char* k : {"permit.created", "permit.submitted", "permit.gas_recorded",
                        "permit.signed", "permit.approved", "permit.activated", "permit.suspended",
                        "permit.refused", "permit.resumed", "permit.completed"}) {
    EXPECT_TRUE(kinds.count(k)) << k;
  }
  // Every fact is in the organization's evidence log.
  auto synced = evidence_->Sync(org_);
  ASSERT_TRUE(synced.ok()) << synced.error().ToString();
  auto count = store_->FactCount(org_);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(static_cast<std::int64_t>(*synced), *count);
  auto history = svc_->History(org_, p.id);
  ASSERT_TRUE(history.ok());
  EXPECT_GE(history->size(), 15u);
}

TEST_F(PermitServiceTest, ApprovedPermitCannotBeEditedAndTransitionsAreGuarded) {
  Permit p = Approved(HotWork());
  ASSERT_EQ(p.state, State::kApproved);
  Permit changed = HotWork();
  changed.title = "改为切割";
  auto edit = svc_->Edit(org_, p.id, changed, p.version, As("lead.wang"));
  ASSERT_FALSE(edit.ok());
  EXPECT_EQ(edit.error().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(edit.error().message().find("§4.18"), std::string::npos);
  // Not active: cannot be suspended or completed.
  EXPECT_FALSE(svc_->Suspend(org_, p.id, "x", As("g.li")).ok());
  EXPECT_FALSE(svc_->Complete(org_, p.id, "", As("lead.wang")).ok());
  // A new permit superseding it is the way to change it.
  changed.supersedes = p.number;
  auto replacement = svc_->Create(org_, changed, As("lead.wang"));
  ASSERT_TRUE(replacement.ok()) << replacement.error().ToString();
  EXPECT_NE(replacement->permit.number, p.number);
}

TEST_F(PermitServiceTest, DraftEditsNeedTheCurrentVersion) {
  auto created = svc_->Create(org_, HotWork(), As("lead.wang"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  Permit doc = HotWork();
  doc.title = "管托焊接（修订）";
  auto stale = svc_->Edit(org_, created->permit.id, doc, created->permit.version + 1,
                          As("lead.wang"));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().field(), "version");
  auto ok = svc_->Edit(org_, created->permit.id, doc, created->permit.version, As("lead.wang"));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->permit.title, "管托焊接（修订）");
  EXPECT_EQ(ok->permit.version, created->permit.version + 1);
  doc.site = "S2";
  auto moved = svc_->Edit(org_, created->permit.id, doc, ok->permit.version, As("lead.wang"));
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().field(), "site");
}

TEST_F(PermitServiceTest, SignaturesNeedPasswordOrderAndTheRightAccount) {
  auto created = svc_->Create(org_, HotWork(), As("lead.wang"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::int64_t id = created->permit.id;
  // Not yet submitted: no signatures.
  EXPECT_FALSE(svc_->Sign(org_, id, {.role = "applicant", .password = kPassword},
                          As("lead.wang"))
                   .ok());
  ASSERT_TRUE(svc_->Submit(org_, id, As("lead.wang")).ok());
  ASSERT_TRUE(svc_->RecordGas(org_, id, PassingGas(clock_.Now()), As("gas.chen")).ok());
  auto wrong_pw = svc_->Sign(org_, id, {.role = "applicant", .password = "guess"},
                             As("lead.wang"));
  ASSERT_FALSE(wrong_pw.ok());
  EXPECT_EQ(wrong_pw.error().code(), core::StatusCode::kPermissionDenied);
  auto out_of_order = svc_->Sign(org_, id, {.role = "approver", .password = kPassword},
                                 As("appr.zhou"));
  ASSERT_FALSE(out_of_order.ok());
  EXPECT_EQ(out_of_order.error().field(), "role");
  auto wrong_account = svc_->Sign(org_, id, {.role = "applicant", .password = kPassword},
                                  As("sup.zhao"));
  ASSERT_FALSE(wrong_account.ok());
  EXPECT_EQ(wrong_account.error().code(), core::StatusCode::kPermissionDenied);
  auto cli = svc_->Sign(org_, id, {.role = "applicant", .password = kPassword}, Admin());
  EXPECT_FALSE(cli.ok()) << "a signature needs a person's account";
  auto first = svc_->Sign(org_, id, {.role = "applicant", .password = kPassword},
                          As("lead.wang"));
  ASSERT_TRUE(first.ok() && first->applied) << Dump(first);
  // One person, one step.
  auto twice = svc_->Sign(org_, id, {.role = "guardian", .password = kPassword},
                          As("lead.wang"));
  EXPECT_FALSE(twice.ok());
  // The signature is SM2 over the content digest, with the user's own key.
  const Signature& s = first->permit.signatures.at(0);
  EXPECT_EQ(s.key_id, "lead.wang/k1");
  EXPECT_EQ(s.digest, core::ToHex(ContentDigestAt(first->permit, s.signed_at)));
  EXPECT_EQ(core::Base64UrlDecode(s.signature)->size(), 64u);
}

TEST_F(PermitServiceTest, MeasuresAreConfirmedInPersonBeforeSigning) {
  Permit doc = HotWork();
  doc.measures.push_back({"m2", "灭火器两具已到位", true, "", std::nullopt});
  doc.measures.push_back({"m3", "盲板隔离", false, "", std::nullopt});
  auto created = svc_->Create(org_, doc, As("lead.wang"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::int64_t id = created->permit.id;
  EXPECT_EQ(svc_->ConfirmMeasure(org_, id, "m9", As("g.li")).error().code(),
            core::StatusCode::kNotFound);
  EXPECT_EQ(svc_->ConfirmMeasure(org_, id, "m3", As("g.li")).error().field(), "measure");
  EXPECT_FALSE(svc_->ConfirmMeasure(org_, id, "m2", Admin()).ok()) << "a person, not the CLI";
  clock_.Advance(Duration::Minutes(1));
  auto ok = svc_->ConfirmMeasure(org_, id, "m2", As("g.li"));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  const Measure& m = ok->permit.measures.at(1);
  EXPECT_EQ(m.confirmer, "g.li");
  EXPECT_EQ(m.confirmed_at, clock_.Now());
  EXPECT_FALSE(svc_->ConfirmMeasure(org_, id, "m2", As("lead.wang")).ok()) << "confirmed once";
  EXPECT_TRUE(FactKinds(created->permit.number).count("permit.measure_confirmed"));
  // Once the chain is being signed, confirming would alter signed content.
  ASSERT_TRUE(svc_->Submit(org_, id, As("lead.wang"))->applied);
  ASSERT_TRUE(svc_->RecordGas(org_, id, PassingGas(clock_.Now()), As("gas.chen")).ok());
  ASSERT_TRUE(svc_->Sign(org_, id, {.role = "applicant", .password = kPassword}, As("lead.wang"))
                  ->applied);
  auto late = svc_->ConfirmMeasure(org_, id, "m1", As("g.li"));
  EXPECT_FALSE(late.ok());
}

TEST_F(PermitServiceTest, TamperingBehindTheServiceIsDetected) {
  Permit p = Approved(HotWork());
  ASSERT_EQ(p.state, State::kApproved);
  auto before = svc_->Verify(org_, p.number, core::ToHex(ContentDigest(p)).substr(0, 16));
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->found);
  EXPECT_TRUE(before->digest_matches);
  EXPECT_TRUE(before->signatures_valid);
  // Someone with database access changes the work content, keeping the signatures.
  auto row = store_->GetPermit(org_, p.id);
  ASSERT_TRUE(row.ok());
  Permit forged = p;
  forged.title = "管托焊接及储罐切割";
  row->document = core::DumpJson(ToJson(forged));
  ASSERT_TRUE(store_->UpdatePermit(*row, row->version, store::FactDrafts{}).ok());
  auto after = svc_->Verify(org_, p.number, core::ToHex(ContentDigest(p)).substr(0, 16));
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->digest_matches);
  EXPECT_FALSE(after->signatures_valid);
  // A forged signature (another key's signature bytes) fails too.
  Permit swapped = p;
  std::swap(swapped.signatures[0].signature, swapped.signatures[1].signature);
  row = store_->GetPermit(org_, p.id);
  row->document = core::DumpJson(ToJson(swapped));
  ASSERT_TRUE(store_->UpdatePermit(*row, row->version, store::FactDrafts{}).ok());
  auto swapped_v = svc_->Verify(org_, p.number, "");
  ASSERT_TRUE(swapped_v.ok());
  EXPECT_FALSE(swapped_v->signature_valid.at(0));
  EXPECT_FALSE(swapped_v->signature_valid.at(1));
  EXPECT_TRUE(swapped_v->signature_valid.at(2));
}

TEST_F(PermitServiceTest, ApproverWithoutAuthorityIsRefusedAndTheRefusalIsEvidence) {
  // Special-grade hot work: the approver holds safety_department, B.1 asks for the
  // leader in charge.
  Permit doc = HotWork();
  doc.grade = "special";
  doc.location.area_class = "fire_explosion_hazard";
  doc.hot_work->on_running_equipment = true;
  doc.hot_work->written_plan_ref = "vault:plan-1";
  doc.hot_work->video_cameras = {"CAM-EX-01"};
  doc.hot_work->continuous_monitor = "GM-01";
  doc.planned_end = Start() + Duration::Hours(8);
  auto created = svc_->Create(org_, doc, As("lead.wang"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::int64_t id = created->permit.id;
  auto sub = svc_->Submit(org_, id, As("lead.wang"));
  ASSERT_TRUE(sub.ok() && sub->applied) << Dump(sub);
  ASSERT_TRUE(svc_->RecordGas(org_, id, PassingGas(clock_.Now()), As("gas.chen")).ok());
  bool refused = false;
  for (const auto& step : book_->type(PermitType::kHotWork).signature_chain) {
    auto s = svc_->Sign(org_, id, {.role = step.role, .password = kPassword},
                        As(Signer(step.role)));
    ASSERT_TRUE(s.ok()) << step.role << ": " << s.error().ToString();
    if (!s->applied) {
      EXPECT_EQ(step.role, "approver") << Dump(s);
      bool named = false;
      for (const auto& v : s->decision->violations) {
        const Rule* r = book_->FindRule(v.rule);
        named = named || (r != nullptr && r->check.rfind("approver_", 0) == 0);
      }
      EXPECT_TRUE(named) << Dump(s);
      refused = true;
      break;
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(FactKinds(created->permit.number).count("permit.refused"));
  auto p = svc_->Get(org_, id);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->state, State::kPendingSignatures);
}

TEST_F(PermitServiceTest, PermitsExpireAtTheEndOfTheirValidity) {
  Permit p = Approved(HotWork());
  ASSERT_EQ(p.state, State::kApproved);
  clock_.Set(p.planned_end - Duration::Seconds(1));
  auto none = svc_->ExpireDue();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  clock_.Set(p.planned_end);
  auto one = svc_->ExpireDue();
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  EXPECT_EQ(*one, 1);
  auto after = svc_->Get(org_, p.id);
  EXPECT_EQ(after->state, State::kExpired);
  EXPECT_EQ(svc_->open_permits(), 0u);
  EXPECT_FALSE(svc_->Activate(org_, p.id, As("lead.wang")).ok());
}

TEST_F(PermitServiceTest, FailingGasWhileActiveSuspendsTheWork) {
  Permit p = Approved(HotWork());
  clock_.Set(Start());
  ASSERT_TRUE(svc_->Activate(org_, p.id, As("lead.wang"))->applied);
  clock_.Advance(Duration::Minutes(20));
  std::vector<GasReading> bad = {
      {clock_.Now(), "动火点", "CH4", 0.8, "%vol", "gas.chen", "PGM-01", false}};
  auto r = svc_->RecordGas(org_, p.id, bad, As("gas.chen"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->permit.state, State::kSuspended) << Dump(r);
  // A back-dated reading cannot slip into the signed past.
  std::vector<GasReading> backdated = {
      {Start() - Duration::Hours(2), "动火点", "CH4", 0.0, "%vol", "gas.chen", "PGM-01", false}};
  auto back = svc_->RecordGas(org_, p.id, backdated, As("gas.chen"));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().field(), "readings[0].time");
}

TEST_F(PermitServiceTest, OrganizationsNeverSeeEachOthersPermits) {
  auto created = svc_->Create(org_, HotWork(), As("lead.wang"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(svc_->Get(other_, created->permit.id).error().code(), core::StatusCode::kNotFound);
  EXPECT_FALSE(svc_->Submit(other_, created->permit.id, As("b.admin")).ok());
  auto v = svc_->Verify(other_, created->permit.number, "");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->found);
  auto list = svc_->List(other_, {});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  // The other organization's site codes are its own.
  Permit doc = HotWork();
  doc.site = "S9";
  auto bad_site = svc_->Create(org_, doc, As("lead.wang"));
  ASSERT_FALSE(bad_site.ok());
  EXPECT_EQ(bad_site.error().field(), "site");
}

TEST_F(PermitServiceTest, DryRunUsesRegistryAndOpenPermits) {
  Permit doc = HotWork();
  doc.people[0].worker_code = "W404";  // not in the registry
  auto d = svc_->CheckDocument(org_, doc, Start(), Stage::kPlan);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->verdict, Verdict::kBlocked);
  bool cert_rule = false;
  for (const auto& v : d->violations) {
    const Rule* r = book_->FindRule(v.rule);
    cert_rule = cert_rule || (r != nullptr && r->check == "worker_certificate");
  }
  EXPECT_TRUE(cert_rule) << core::DumpJson(ToJson(*d), 1);
  auto good = svc_->CheckDocument(org_, HotWork(), Start(), Stage::kPlan);
  ASSERT_TRUE(good.ok());
  EXPECT_NE(good->verdict, Verdict::kBlocked) << core::DumpJson(ToJson(*good), 1);
  EXPECT_EQ(good->rulebook, book_->version());
}

TEST_F(PermitServiceTest, AuthorizationsAreValidatedAndRecorded) {
  auto scopes = svc_->GetAuthorization(org_, "appr.zhou");
  ASSERT_TRUE(scopes.ok());
  ASSERT_EQ(scopes->size(), 1u);
  EXPECT_EQ(scopes->front().level, "safety_department");
  auto bad = ParseScopes(*book_, core::Json::parse(R"({"scopes":[{"level":"king"}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field(), "scopes[0].level");
  auto half = ParseScopes(
      *book_, core::Json::parse(R"({"scopes":[{"level":"grassroots_unit","delegated_by":"x"}]})"));
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.error().field(), "scopes[0].reference");
  EXPECT_EQ(svc_->GetAuthorization(org_, "b.admin").error().code(), core::StatusCode::kNotFound);
  auto facts = store_->FactsAbout(org_, "user:appr.zhou", 0, 10);
  ASSERT_TRUE(facts.ok());
  ASSERT_FALSE(facts->empty());
  EXPECT_EQ(facts->front().kind, "authorization.changed");
}

}  // namespace
}  // namespace wg::permit

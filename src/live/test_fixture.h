#pragma once
// A MonitorService over a real SQLite store, a real evidence log, the registry, the
// permit service and the embedded monitor rulebook, on a FakeClock (service_test.cc,
// bridge_test.cc).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "wg/crypto/crypto.h"
#include "wg/evidence/keyring.h"
#include "wg/live/service.h"
#include "wg/monitor/rulebook.h"
#include "wg/permit/service.h"
#include "wg/registry/id_number.h"
#include "wg/registry/registry.h"

namespace wg::live::testing {

using core::Duration;
using core::Timestamp;

inline constexpr const char* kPassword = "correct horse battery";

// Records every command with the number of alarm facts durable at the moment it was sent.
class FakeActuator final : public Actuator {
 public:
  explicit FakeActuator(store::Store* store = nullptr) : store_(store) {}
  core::Status Send(const Command& c) override {
    std::lock_guard lock(mu_);
    Sent s{c, 0};
    if (store_ != nullptr && org_.valid()) {
      auto facts = store_->FactsAbout(org_, "alarm:" + std::to_string(c.alarm_id), 0, 100);
      s.alarm_facts_at_send = facts.ok() ? static_cast<int>(facts->size()) : -1;
    }
    sent_.push_back(std::move(s));
    return core::Status::Ok();
  }
  struct Sent {
    Command command;
    int alarm_facts_at_send = 0;
  };
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  void set_org(core::OrgId org) { org_ = org; }

 private:
  store::Store* store_;
  core::OrgId org_;
  mutable std::mutex mu_;
  std::vector<Sent> sent_;
};

class LiveFixture : public ::testing::Test {
 protected:
  // Monday 2026-11-30 10:00 Beijing time: a working day, daytime.
  static Timestamp Start() { return *core::ParseTimestamp("2026-11-30T10:00:00+08:00"); }

  void SetUp() override {
    char tmpl[] = "/tmp/wg-live-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    clock_.Set(Start() - Duration::Minutes(30));
    auto store = store::OpenSqliteStore({.path = dir_ + "/wg.db", .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(*store);
    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/live");
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
    auto pb = permit::PermitRulebook::LoadEmbedded();
    ASSERT_TRUE(pb.ok()) << pb.error().ToString();
    permit_book_ = std::make_unique<permit::PermitRulebook>(std::move(*pb));
    permits_ = std::make_unique<permit::PermitService>(*store_, *registry_, *evidence_,
                                                       *permit_book_, clock_,
                                                       std::string(32, 'm'));
    auto mb = monitor::MonitorRulebook::LoadEmbedded();
    ASSERT_TRUE(mb.ok()) << mb.error().ToString();
    book_ = std::move(*mb);

    auto o = store_->CreateOrganization({"plant-a", "plant-a"});
    ASSERT_TRUE(o.ok()) << o.error().ToString();
    org_ = o->id;
    ASSERT_TRUE(store_->CreateSite(org_, {"S1", "一厂区", ""}).ok());
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
      users_[name] = MakeUser(name, role);
    }
    ASSERT_TRUE(registry_->LoadIndex().ok());
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
    permit::AuthorityScope scope;
    scope.level = "safety_department";
    scope.types = {permit::PermitType::kHotWork};
    ASSERT_TRUE(permits_->PutAuthorization(org_, "appr.zhou", {scope},
                                           permit::Actor{.name = "cli:test"})
                    .ok());
    ASSERT_TRUE(permits_->LoadIndex().ok());
  }

  void TearDown() override {
    svc_.reset();
    permits_.reset();
    registry_.reset();
    evidence_.reset();
    keys_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::string ResidentId(std::string first17) {
    return first17 + registry::ResidentIdCheckChar(first17);
  }

  core::UserId MakeUser(const std::string& name, domain::Role role) {
    static const std::string hash =
        *crypto::HashPassword(kPassword, crypto::PasswordParams{.t_cost = 1, .m_cost_kib = 64});
    domain::User u;
    u.org_id = org_;
    u.username = name;
    u.display_name = name;
    u.role = role;
    u.password_hash = hash;
    auto r = store_->CreateUser(u);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r->id;
  }

  permit::Actor As(const std::string& name) {
    permit::Actor a;
    a.name = "user:" + name;
    a.username = name;
    auto it = users_.find(name);
    if (it != users_.end()) a.user_id = it->second;
    return a;
  }

  void MakeService(MonitorOptions o = {}, bool start = true) {
    svc_.reset();
    svc_ = std::make_unique<MonitorService>(*store_, *evidence_, *book_, clock_, permits_.get(),
                                            std::move(o));
    if (start) {
      auto s = svc_->Start();
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  monitor::PointConfig Point(const std::string& id, const std::string& kind,
                             const std::string& unit, const std::string& zone = "U1") {
    monitor::PointConfig p;
    p.org = org_;
    p.id = id;
    p.name = id;
    p.site = "S1";
    p.zone = zone;
    p.kind = kind;
    p.unit = unit;
    if (kind == "combustible") p.gas = "CH4";
    return p;
  }

  void AddPoint(const monitor::PointConfig& p) {
    auto r = svc_->PutPoint(org_, p, 0, Actor{"user:admin", "admin"});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  MonitorService::SubmitResult Send(const std::string& point, double value,
                                     std::optional<Timestamp> at = std::nullopt,
                                     const std::string& unit = "") {
    std::vector<ingest::RawReading> v = {
        ingest::RawReading{point, at.value_or(clock_.Now()), value, unit}};
    auto r = svc_->Submit(org_, "S1", std::move(v), Duration::Seconds(1));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : MonitorService::SubmitResult{};
  }

  std::set<std::string> FactKinds(const std::string& subject) {
    std::set<std::string> kinds;
    auto facts = store_->FactsAbout(org_, subject, 0, 1000);
    for (const auto& f : facts.value_or(std::vector<store::StoredFact>{})) kinds.insert(f.kind);
    return kinds;
  }

  // A grade-2 hot-work permit in S1/U1, window Start() .. Start() + 8 h.
  permit::Permit HotWork(const std::string& zone = "U1") {
    permit::Permit p;
    p.site = "S1";
    p.type = permit::PermitType::kHotWork;
    p.grade = "grade2";
    p.title = "管托焊接";
    p.work_unit = "维修车间";
    p.owning_unit = "一联合装置";
    p.hazard_analysis = "JHA-2026-001";
    p.location.zone = zone;
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

  // A confined-space permit in S1/`zone`, work point (100, 0) without a fence (the presence
  // service draws a circle round it), window Start() .. Start() + 8 h. Authorizes appr.zhou
  // for confined-space permits too (people on site, presence_service_test.cc).
  permit::Permit ConfinedSpace(const std::string& zone = "U2") {
    permit::AuthorityScope hot;
    hot.level = "safety_department";
    hot.types = {permit::PermitType::kHotWork};
    permit::AuthorityScope confined;
    confined.level = "grassroots_unit";
    confined.types = {permit::PermitType::kConfinedSpace};
    EXPECT_TRUE(permits_->PutAuthorization(org_, "appr.zhou", {hot, confined},
                                           permit::Actor{.name = "cli:test"})
                    .ok());
    permit::Permit p;
    p.site = "S1";
    p.type = permit::PermitType::kConfinedSpace;
    p.title = "塔内检修";
    p.work_unit = "维修车间";
    p.owning_unit = "一联合装置";
    p.hazard_analysis = "JHA-2026-002";
    p.location.zone = zone;
    p.location.description = "T-101 人孔";
    p.location.point = {100, 0};
    p.location.area_class = "general";
    p.location.outdoor = true;
    p.planned_start = Start();
    p.planned_end = Start() + Duration::Hours(8);
    p.people = {
        {"performer", "W1", "", "张三", {}},
        {"guardian", "", "g.li", "李四", {}},
        {"work_leader", "W3", "lead.wang", "王五", {}},
        {"safety_briefer", "", "brief.zhao", "赵六", {}},
        {"briefing_recipient", "W1", "", "张三", {}},
        {"gas_analyst", "", "gas.chen", "陈七", {}},
    };
    p.confined_space.emplace();
    p.confined_space->space_name = "T-101";
    p.confined_space->original_medium = "石脑油";
    p.confined_space->isolation = {"blind_plate"};
    p.confined_space->ventilation = "forced";
    p.confined_space->continuous_monitor = "CM-01";
    return p;
  }

  std::vector<permit::GasReading> PassingGas(Timestamp t) {
    return {{t, "动火点", "O2", 20.9, "%vol", "gas.chen", "PGM-01", false},
            {t, "动火点", "CH4", 0.1, "%vol", "gas.chen", "PGM-01", false}};
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

  // Why a permit action did not apply (test failure messages).
  static std::string Why(const core::Result<permit::Outcome>& r) {
    if (!r.ok()) return r.error().ToString();
    std::string out;
    if (r->decision) {
      for (const auto& v : r->decision->violations) out += v.rule + " (" + v.message + ") ";
    }
    return out;
  }

  // Drives a new permit to active at Start() (the clock is left at Start()).
  permit::Permit ActivePermit(permit::Permit doc) {
    auto created = permits_->Create(org_, doc, As("lead.wang"));
    EXPECT_TRUE(created.ok()) << created.error().ToString();
    if (!created.ok()) return doc;
    const std::int64_t id = created->permit.id;
    auto sub = permits_->Submit(org_, id, As("lead.wang"));
    EXPECT_TRUE(sub.ok() && sub->applied) << Why(sub);
    auto gas = permits_->RecordGas(org_, id, PassingGas(clock_.Now()), As("gas.chen"));
    EXPECT_TRUE(gas.ok() && gas->applied) << Why(gas);
    permit::Permit p = gas->permit;
    for (const auto& step : permit_book_->type(p.type).signature_chain) {
      auto s = permits_->Sign(org_, id, {.role = step.role, .password = kPassword},
                              As(Signer(step.role)));
      EXPECT_TRUE(s.ok() && s->applied) << step.role << ": " << Why(s);
      if (!s.ok()) return p;
      p = s->permit;
    }
    if (clock_.Now().micros < Start().micros) clock_.Set(Start());
    auto active = permits_->Activate(org_, id, As("lead.wang"));
    EXPECT_TRUE(active.ok() && active->applied) << Why(active);
    return active.ok() ? active->permit : p;
  }

  std::vector<monitor::Alarm> Alarms() {
    auto r = svc_->ListAlarms(org_, AlarmQuery{});
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : std::vector<monitor::Alarm>{};
  }

  std::string dir_;
  core::FakeClock clock_{Timestamp{}};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<registry::Rulebook> reg_book_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<permit::PermitRulebook> permit_book_;
  std::unique_ptr<permit::PermitService> permits_;
  std::unique_ptr<monitor::MonitorRulebook> book_;
  std::unique_ptr<MonitorService> svc_;
  core::OrgId org_;
  std::map<std::string, core::UserId> users_;
};

}  // namespace wg::live::testing

// The demo organization: a mid-sized petrochemical plant with its maintenance
// contractors. Dates are relative to today so that the demo always shows certificates in
// every state a safety manager cares about.

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/registry/id_number.h"
#include "wg/permit/check.h"
#include "wg/server/installation.h"

namespace wg::server {

using core::Result;
using core::Status;

namespace {

struct DemoUser {
  const char* username;
  const char* display_name;
  domain::Role role;
};

constexpr std::array<DemoUser, 9> kUsers{{
    {"admin", "系统管理员", domain::Role::kAdmin},
    {"safety", "安全部 王建国", domain::Role::kSafetyManager},
    {"leader", "检修班长 李强", domain::Role::kTeamLeader},
    {"unit", "常减压车间 副主任 钱进", domain::Role::kTeamLeader},
    {"shift", "常减压当班班长 郑丽", domain::Role::kTeamLeader},
    {"guardian", "监护人 赵敏", domain::Role::kGuardian},
    {"approver", "车间主任 陈立", domain::Role::kApprover},
    {"supervisor", "监理 周海", domain::Role::kSupervisor},
    {"regulator", "应急管理局 孙涛", domain::Role::kRegulator},
}};

constexpr const char* kDemoPassword = "workguard-demo";

struct DemoWorker {
  const char* code;
  const char* name;
  const char* employer;
  const char* birth;  // YYYYMMDD
};

constexpr std::array<DemoWorker, 16> kWorkers{{
    {"JX-001", "张伟", "华东石化检修有限公司", "19800312"},
    {"JX-002", "王磊", "华东石化检修有限公司", "19850607"},
    {"JX-003", "李娜", "华东石化检修有限公司", "19900921"},
    {"JX-004", "刘洋", "华东石化检修有限公司", "19780114"},
    {"JX-005", "陈杰", "华东石化检修有限公司", "19921130"},
    {"DQ-001", "杨帆", "金陵电气安装工程公司", "19830808"},
    {"DQ-002", "黄涛", "金陵电气安装工程公司", "19870225"},
    {"DQ-003", "周敏", "金陵电气安装工程公司", "19950716"},
    {"QZ-001", "吴刚", "长江吊装运输有限公司", "19760503"},
    {"QZ-002", "徐明", "长江吊装运输有限公司", "19890419"},
    {"QZ-003", "孙浩", "长江吊装运输有限公司", "19911027"},
    {"HG-001", "马超", "示范石化 常减压车间", "19820909"},
    {"HG-002", "朱丽", "示范石化 加氢车间", "19880101"},
    {"HG-003", "胡军", "示范石化 储运车间", "19790620"},
    {"HG-004", "郭静", "示范石化 仪表车间", "19930315"},
    {"HG-005", "何勇", "示范石化 储运车间", "19860828"},
}};

struct DemoCert {
  const char* worker;
  domain::CertKind kind;
  const char* category;
  const char* item;
  int issued_days_ago;  // the state follows from the rules, not from this table
  bool reviewed;        // a review passed in the last window
  const char* revoke_reason;
};

using K = domain::CertKind;
// issued_days_ago picks the state on today's date (Order 30: review at 3 years with a
// 60-day window, expiry at 6 years; TSG Z6001: expiry at 4 years with a 30-day window).
constexpr std::array<DemoCert, 20> kCerts{{
    {"JX-001", K::kSpecialOperation, "welding", "fusion_welding", 400, false, nullptr},
    {"JX-002", K::kSpecialOperation, "welding", "fusion_welding", 1095 - 20, false, nullptr},  // review due in ~20 days
    {"JX-003", K::kSpecialOperation, "welding", "fusion_welding", 1095 + 30, false, nullptr},  // review overdue
    {"JX-004", K::kSpecialOperation, "welding", "fusion_welding", 2190 - 12, true, nullptr},   // renewal window, expiring
    {"JX-005", K::kSpecialOperation, "welding", "fusion_welding", 2190 + 40, true, nullptr},   // expired
    {"JX-005", K::kSpecialOperation, "height", "scaffolding", 200, false, nullptr},
    {"DQ-001", K::kSpecialOperation, "electrical", "low_voltage", 700, false, nullptr},
    {"DQ-001", K::kSpecialOperation, "electrical", "explosion_proof", 500, false, nullptr},
    {"DQ-002", K::kSpecialOperation, "electrical", "high_voltage", 1500, true, nullptr},
    {"DQ-003", K::kSpecialOperation, "electrical", "low_voltage", 300, false, "false_information"},  // revoked
    {"QZ-001", K::kSpecialEquipment, "lifting_machinery", "Q2", 900, false, nullptr},
    {"QZ-001", K::kSpecialEquipment, "lifting_machinery", "Q1", 1461 - 25, false, nullptr},  // Q1 renewal due
    {"QZ-002", K::kSpecialEquipment, "lifting_machinery", "Q1", 600, false, nullptr},
    {"QZ-003", K::kSpecialEquipment, "site_vehicle", "N1", 100, false, nullptr},
    {"HG-001", K::kSpecialOperation, "hazardous_chemicals", "cracking", 800, false, nullptr},
    {"HG-002", K::kSpecialOperation, "hazardous_chemicals", "hydrogenation", 1200, true, nullptr},
    {"HG-003", K::kSpecialOperation, "hazardous_chemicals", "polymerization", 1000, false, nullptr},
    {"HG-004", K::kSpecialOperation, "hazardous_chemicals", "automation_instrumentation", 1095 - 45, false, nullptr},
    {"HG-005", K::kSpecialEquipment, "pressure_vessel", "R2", 1000, false, nullptr},
    {"HG-005", K::kSpecialOperation, "welding", "brazing", 150, false, nullptr},
}};

// A grade-2 hot-work permit at the CDU starting `start` (docs/examples/permits/hot_work.json
// in spirit): welding a pipe support, with the demo's certified welder JX-001.
permit::Permit DemoHotWork(core::Timestamp now, core::Timestamp start) {
  permit::Permit p;
  p.site = "cdu";
  p.type = permit::PermitType::kHotWork;
  p.grade = "grade2";
  p.title = "常减压装置 E-102 管托补焊";
  p.work_unit = "华东石化检修有限公司";
  p.owning_unit = "常减压车间";
  p.hazard_analysis = "JHA-CDU-2026-118：焊接飞溅引燃、灼烫、触电；管托远离工艺管线，周边无可燃物";
  p.location.zone = "CDU-E";
  p.location.description = "E-102 换热器东侧管托 PS-07";
  p.location.point = {120, 45};
  p.location.fence = {{105, 30}, {135, 30}, {135, 60}, {105, 60}};
  p.location.area_class = "general";
  p.location.outdoor = true;
  p.planned_start = start;
  p.planned_end = start + core::Duration::Hours(8);
  p.measures = {{"hw.1", "动火点周围 15 m 内可燃物已清除", true, "guardian", now},
                {"hw.2", "配备灭火器 2 具、消防蒸汽带 1 根", true, "guardian", now},
                {"hw.3", "电焊机接地良好，焊把线绝缘完好", true, "guardian", now}};
  p.people = {{"performer", "JX-001", "", "张伟", {}},
              {"guardian", "", "guardian", "赵敏", {}},
              {"work_leader", "", "leader", "李强", {}},
              {"safety_briefer", "", "safety", "王建国", {}},
              {"briefing_recipient", "JX-001", "", "张伟", {}},
              {"gas_analyst", "HG-004", "", "郭静", {}}};
  p.activities = {"welding"};
  p.hot_work.emplace();
  p.hot_work->method = "welding";
  p.hot_work->oxygen_acetylene_distance_m = 6;
  p.hot_work->cylinder_to_point_distance_m = 12;
  p.hot_work->welder_machine_distance_m = 8;
  return p;
}

// Drives the demo hot-work permit through gas analysis and the whole signature chain
// with the demo users' passwords and starts the work, so the demo shows an active,
// verifiable permit (whose guardian the people-on-site simulation watches); a
// confined-space draft shows the checker's advice.
Result<std::string> SeedPermits(Installation& inst, core::OrgId org, const core::Clock& clock) {
  permit::PermitService& svc = inst.permits();
  const core::Timestamp now = clock.Now();
  permit::AuthorityScope scope;
  scope.level = "safety_department";
  permit::Actor admin{.name = "system:demo-seed"};
  WG_RETURN_IF_ERROR(svc.PutAuthorization(org, "approver", {scope}, admin));
  auto as = [&](const std::string& username) -> Result<permit::Actor> {
    WG_ASSIGN_OR_RETURN(domain::User u, inst.store().FindUserByUsername(username));
    return permit::Actor{.name = "user:" + username, .user_id = u.id, .username = username,
                         .role = std::string(domain::RoleName(u.role))};
  };
  WG_ASSIGN_OR_RETURN(permit::Actor leader, as("leader"));
  permit::Permit hw = DemoHotWork(now, now);
  // On rest days, holidays and at night the grade is raised one step (GB 30871-2022 §5.1.3):
  // declare what the rulebook requires for the moment the demo is seeded.
  if (auto g = permit::ComputeGrade(inst.permit_rulebook(), hw); g && !g->required.empty()) {
    hw.grade = g->required;
  }
  WG_ASSIGN_OR_RETURN(permit::Outcome created, svc.Create(org, hw, leader));
  const std::int64_t id = created.permit.id;
  WG_ASSIGN_OR_RETURN(permit::Outcome submitted, svc.Submit(org, id, leader));
  if (!submitted.applied) return Status::Internal("demo permit refused at submission");
  const std::vector<permit::GasReading> gas = {
      {now, "动火点 PS-07", "O2", 20.8, "%vol", "郭静", "PGM-2500 #A17", false},
      {now, "动火点 PS-07", "CH4", 0.0, "%vol", "郭静", "PGM-2500 #A17", false}};
  WG_ASSIGN_OR_RETURN(permit::Outcome analysed, svc.RecordGas(org, id, gas, leader));
  if (analysed.permit.state != permit::State::kPendingSignatures) {
    return Status::Internal("demo permit's gas analysis did not pass");
  }
  const std::map<std::string, std::string> signer = {
      {"applicant", "leader"},   {"guardian", "guardian"},     {"owning_unit", "unit"},
      {"safety_department", "safety"}, {"supervisor", "supervisor"}, {"approver", "approver"},
      {"shift_leader_check", "shift"}};
  for (const auto& step : inst.permit_rulebook().type(permit::PermitType::kHotWork).signature_chain) {
    auto who = signer.find(step.role);
    if (who == signer.end()) return Status::Internal("no demo signer for step " + step.role);
    WG_ASSIGN_OR_RETURN(permit::Actor a, as(who->second));
    WG_ASSIGN_OR_RETURN(permit::Outcome signed_step,
                        svc.Sign(org, id, {.role = step.role, .password = kDemoPassword,
                                           .opinion = "同意"},
                                 a));
    if (!signed_step.applied) return Status::Internal("demo signature refused: " + step.role);
  }
  // The work starts at once (the gas analysis above is minutes old); a refusal (a rulebook
  // edit) leaves it approved and says so.
  std::string state = "approved";
  if (auto started = svc.Activate(org, id, leader); started && started->applied) {
    state = "active";
  }
  // A confined-space entry still being drafted (no guardian yet: the advice says so).
  permit::Permit cs;
  cs.site = "tank-farm";
  cs.type = permit::PermitType::kConfinedSpace;
  cs.title = "T-301 原油储罐内部检查";
  cs.work_unit = "华东石化检修有限公司";
  cs.owning_unit = "储运车间";
  cs.location.zone = "TF-3";
  cs.location.description = "T-301 人孔";
  cs.location.point = {-200, 310};
  cs.location.area_class = "hazardous_area";
  cs.planned_start = now + core::Duration::Hours(24);
  cs.planned_end = now + core::Duration::Hours(32);
  cs.people = {{"performer", "JX-002", "", "王磊", {}}};
  cs.confined_space.emplace();
  cs.confined_space->space_name = "T-301";
  cs.confined_space->original_medium = "原油";
  cs.confined_space->isolation = {"blind_plate"};
  cs.confined_space->ventilation = "forced";
  cs.confined_space->lighting_voltage_v = 24;
  WG_ASSIGN_OR_RETURN(permit::Outcome draft, svc.Create(org, cs, leader));
  return "permits: " + created.permit.number + " (动火 " +
         std::string(permit::GradeNameZh(permit::PermitType::kHotWork, hw.grade)) +
         ", " + state + ", 7 SM2 signatures), " +
         draft.permit.number + " (受限空间, draft)\n";
}

}  // namespace

Result<std::string> SeedDemo(Installation& inst, const core::Clock& clock) {
  store::Store& st = inst.store();
  registry::Registry& reg = inst.registry();
  auto existing = st.FindOrganizationByCode("demo-petrochem");
  if (existing.has_value()) return std::string("demo organization already present\n");

  const std::string actor = "system:demo-seed";
  WG_ASSIGN_OR_RETURN(domain::Organization org,
                      inst.CreateOrganization({"demo-petrochem", "示范石化有限公司"}, actor));
  WG_RETURN_IF_ERROR(inst.CreateSite(org.id, {"cdu", "常减压装置区", "江苏省南京市 化工园区 1 号"}, actor).error());
  WG_RETURN_IF_ERROR(inst.CreateSite(org.id, {"tank-farm", "罐区", "江苏省南京市 化工园区 3 号"}, actor).error());
  WG_RETURN_IF_ERROR(inst.CreateSite(org.id, {"workshop", "检修车间", "江苏省南京市 化工园区 5 号"}, actor).error());

  WG_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(kDemoPassword));
  for (const auto& u : kUsers) {
    domain::User user;
    user.org_id = org.id;
    user.username = u.username;
    user.display_name = u.display_name;
    user.role = u.role;
    user.password_hash = hash;
    user.active = true;
    user.created_at = clock.Now();
    WG_RETURN_IF_ERROR(inst.CreateUser(user, actor).error());
  }

  std::map<std::string, core::WorkerId> ids;
  int n = 0;
  for (const auto& w : kWorkers) {
    // Synthetic but well-formed resident IDs (area code 320102, 南京市玄武区).
    std::string first17 = std::string("320102") + w.birth + (n < 10 ? "10" : "1") + std::to_string(n);
    first17 = first17.substr(0, 17);
    std::string id = first17 + registry::ResidentIdCheckChar(first17);
    ++n;
    registry::NewWorker nw{w.code, w.name, w.employer, id,
                           "139" + std::to_string(10000000 + n * 7919), ""};
    WG_ASSIGN_OR_RETURN(domain::Worker saved, reg.CreateWorker(org.id, nw, actor));
    ids[w.code] = saved.id;
  }
  // A second organization proves tenants are apart: its worker is invisible to the demo.
  WG_ASSIGN_OR_RETURN(domain::Organization other,
                      inst.CreateOrganization({"other-chem", "邻厂化工有限公司"}, actor));
  (void)other;

  core::Date today = core::ShanghaiDate(clock.Now());
  int seq = 0;
  for (const auto& c : kCerts) {
    registry::NewCertificate nc;
    nc.worker_id = ids[c.worker];
    nc.kind = c.kind;
    nc.category = c.category;
    nc.item = c.item;
    nc.issue_date = today.AddDays(-c.issued_days_ago);
    bool se = c.kind == domain::CertKind::kSpecialEquipment;
    char number[32];
    std::snprintf(number, sizeof number, "%s%04d%06d", se ? "TS3201" : "T3201",
                  nc.issue_date.year(), 100000 + ++seq * 137);
    nc.number = number;
    nc.authority = se ? "南京市市场监督管理局" : "南京市应急管理局";
    if (c.reviewed) {
      // The last scheduled review (or renewal review) was passed inside its window.
      core::Date due = nc.issue_date.AddYears(3);
      if (due > today) due = nc.issue_date.AddYears(6);
      nc.last_review_date = std::min(due.AddDays(-20), today);
    }
    if (std::string_view(c.worker) == "DQ-002") nc.practice_since = today.AddDays(-365 * 12);
    WG_ASSIGN_OR_RETURN(domain::Certificate saved, reg.AddCertificate(org.id, nc, actor));
    if (c.revoke_reason) {
      WG_RETURN_IF_ERROR(reg.RevokeCertificate(org.id, saved.id, c.revoke_reason, actor).error());
    }
  }

  // Permits: best effort — the demo still serves when a rulebook edit refuses them, and
  // says why.
  auto permits = SeedPermits(inst, org.id, clock);
  std::string permit_line =
      permits ? *permits : "permits: not seeded (" + permits.error().ToString() + ")\n";

  std::string out = "seeded demo organization 'demo-petrochem' (示范石化有限公司): 3 sites, " +
                    std::to_string(kWorkers.size()) + " workers, " +
                    std::to_string(kCerts.size()) + " certificates\n";
  out += "users (password '" + std::string(kDemoPassword) + "'):";
  for (const auto& u : kUsers) out += " " + std::string(u.username) + "(" + std::string(domain::RoleName(u.role)) + ")";
  out += "\n" + permit_line;
  return out;
}

}  // namespace wg::server

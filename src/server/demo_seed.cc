// The demo organization: a petrochemical plant (常减压 CDU, 加氢 hydrotreater, tank farm,
// maintenance workshop) with its maintenance contractors (docs/demo.md). Dates are
// relative to today so that the demo always shows certificates in every state a safety
// manager cares about; everything is generated deterministically.

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/live/presence_service.h"
#include "wg/live/service.h"
#include "wg/monitor/model.h"
#include "wg/presence/model.h"
#include "wg/presence/site_plan.h"
#include "wg/registry/id_number.h"
#include "wg/permit/check.h"
#include "wg/server/demo.h"
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

// The first of each role is the one the banner prints. guardian2..7 guard the other open
// permits (one guardian watches one open permit: general.guardian_workload).
constexpr std::array<DemoUser, 16> kUsers{{
    {"admin", "系统管理员", domain::Role::kAdmin},
    {"safety", "安全部 王建国", domain::Role::kSafetyManager},
    {"leader", "检修班长 李强", domain::Role::kTeamLeader},
    {"unit", "常减压车间 副主任 钱进", domain::Role::kTeamLeader},
    {"shift", "常减压当班班长 郑丽", domain::Role::kTeamLeader},
    {"guardian", "监护人 赵敏", domain::Role::kGuardian},
    {"approver", "车间主任 陈立", domain::Role::kApprover},
    {"supervisor", "监理 周海", domain::Role::kSupervisor},
    {"regulator", "应急管理局 孙涛", domain::Role::kRegulator},
    {"guardian2", "监护人 孙丽（加氢）", domain::Role::kGuardian},
    {"guardian3", "监护人 周建（吊装）", domain::Role::kGuardian},
    {"guardian4", "监护人 吴芳（临时用电）", domain::Role::kGuardian},
    {"guardian5", "监护人 冯刚（高处）", domain::Role::kGuardian},
    {"guardian6", "监护人 韩梅（动土）", domain::Role::kGuardian},
    {"guardian7", "监护人 曹阳（罐区动火）", domain::Role::kGuardian},
    {"guardian8", "监护人 蒋涛（常减压）", domain::Role::kGuardian},
}};

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
  std::string worker;
  domain::CertKind kind;
  std::string category;
  std::string item;
  int issued_days_ago;  // the state follows from the rules, not from this table
  bool reviewed;        // a review passed in the last window
  const char* revoke_reason;
};

using K = domain::CertKind;
// issued_days_ago picks the state on today's date (Order 30: review at 3 years with a
// 60-day window, expiry at 6 years; TSG Z6001: expiry at 4 years with a 30-day window).
const std::vector<DemoCert>& NamedCerts() {
  static const std::vector<DemoCert> certs = {
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
  };
  return certs;
}

// Generated workers: 96 more contractors and operators, names from syllable lists, each
// with one certificate of their trade. The index picks everything (no randomness).
constexpr std::array<const char*, 24> kSurnames{{"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                                "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
                                                "何", "高", "林", "罗", "郑", "梁", "谢", "宋"}};
constexpr std::array<const char*, 30> kGiven{{"伟", "芳", "军", "磊", "洋", "勇", "静", "强",
                                             "敏", "杰", "涛", "明", "超", "平", "刚", "辉",
                                             "鹏", "华", "飞", "斌", "宁", "健", "波", "凯",
                                             "峰", "亮", "红", "燕", "建国", "志强"}};
struct Trade {
  const char* prefix;
  const char* employer;
  domain::CertKind kind;
  const char* category;
  const char* item;
};
constexpr std::array<Trade, 6> kTrades{{
    {"JX", "华东石化检修有限公司", K::kSpecialOperation, "welding", "fusion_welding"},
    {"DQ", "金陵电气安装工程公司", K::kSpecialOperation, "electrical", "low_voltage"},
    {"QZ", "长江吊装运输有限公司", K::kSpecialEquipment, "lifting_machinery", "Q2"},
    {"GC", "苏建高空作业工程队", K::kSpecialOperation, "height", "scaffolding"},
    {"HG", "示范石化 加氢车间", K::kSpecialOperation, "hazardous_chemicals", "hydrogenation"},
    {"CY", "示范石化 储运车间", K::kSpecialOperation, "hazardous_chemicals", "polymerization"},
}};
constexpr int kGeneratedWorkers = 96;

struct GenWorker {
  std::string code, name, employer, birth;
  const Trade* trade;
  int issued_days_ago;
};

GenWorker Generated(int i) {
  GenWorker g;
  g.trade = &kTrades[static_cast<std::size_t>(i) % kTrades.size()];
  char code[16];
  std::snprintf(code, sizeof code, "%s-%03d", g.trade->prefix, 101 + i / static_cast<int>(kTrades.size()));
  g.code = code;
  g.name = std::string(kSurnames[static_cast<std::size_t>(i * 7) % kSurnames.size()]) +
           kGiven[static_cast<std::size_t>(i * 11 + 3) % kGiven.size()];
  g.employer = g.trade->employer;
  char birth[16];
  std::snprintf(birth, sizeof birth, "%04d%02d%02d", 1970 + (i * 13) % 32, 1 + (i * 5) % 12,
                1 + (i * 7) % 28);
  g.birth = birth;
  // Mostly valid; every 16th inside its review window, every 23rd due for renewal.
  g.issued_days_ago = 60 + (i * 97) % 900;
  if (i % 16 == 5) g.issued_days_ago = 1095 - 10 - i % 30;
  if (i % 23 == 7) g.issued_days_ago = 2190 - 5 - i % 20;
  return g;
}

std::string ResidentId(const std::string& birth, int n) {
  // Synthetic but well-formed resident IDs (area code 320102, 南京市玄武区).
  char seq[8];
  std::snprintf(seq, sizeof seq, "%03d", n % 1000);
  std::string first17 = "320102" + birth + seq;
  return first17 + registry::ResidentIdCheckChar(first17);
}

std::string NameOf(const std::string& code) {
  for (const auto& w : kWorkers) {
    if (code == w.code) return w.name;
  }
  for (int i = 0; i < kGeneratedWorkers; ++i) {
    GenWorker g = Generated(i);
    if (g.code == code) return g.name;
  }
  return code;
}

// --- permits -----------------------------------------------------------------------------

using permit::Permit;
using permit::PermitType;
using permit::State;

permit::Person P(const char* role, const std::string& worker, const std::string& user,
                 const std::string& name, std::vector<std::string> certs = {}) {
  return permit::Person{role, worker, user, name, std::move(certs)};
}

permit::Measure M(const char* code, const char* text, const std::string& confirmer,
                  core::Timestamp now) {
  return permit::Measure{code, text, true, confirmer, now};
}

std::vector<permit::Point> Rect(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

// The people every permit carries: the work leader, the guardian, the safety briefer and
// the briefing recipients (the performers), and the gas analyst.
void Crew(Permit& p, const std::string& guardian_user, const std::string& guardian_name,
          std::vector<permit::Person> performers, bool gas_analyst) {
  p.people = {P("work_leader", "", "leader", "李强"),
              P("guardian", "", guardian_user, guardian_name),
              P("safety_briefer", "", "safety", "王建国")};
  for (auto& w : performers) {
    p.people.push_back(P("briefing_recipient", w.worker_code, "", w.name));
    p.people.push_back(std::move(w));
  }
  if (gas_analyst) p.people.push_back(P("gas_analyst", "HG-004", "", "郭静"));
}

Permit Common(const char* site, PermitType type, const char* title, const char* work_unit,
              const char* owning_unit, const char* hazard, const char* zone, const char* where,
              permit::Point point, std::vector<permit::Point> fence, const char* area_class,
              core::Timestamp start, core::Duration length) {
  Permit p;
  p.site = site;
  p.type = type;
  p.title = title;
  p.work_unit = work_unit;
  p.owning_unit = owning_unit;
  p.hazard_analysis = hazard;
  p.location.zone = zone;
  p.location.description = where;
  p.location.point = point;
  p.location.fence = std::move(fence);
  p.location.area_class = area_class;
  p.location.outdoor = true;
  p.planned_start = start;
  p.planned_end = start + length;
  return p;
}

// What a seeded permit is driven to.
enum class Target { kDraft, kPendingSignatures, kApproved, kActive, kSuspended, kCompleted, kCancelled };

struct Seeder {
  Installation& inst;
  core::OrgId org;
  core::Timestamp now;
  std::map<std::string, std::string> cert_of;  // worker code -> first certificate number

  Result<permit::Actor> As(const std::string& username) {
    WG_ASSIGN_OR_RETURN(domain::User u, inst.store().FindUserByUsername(username));
    return permit::Actor{.name = "user:" + username, .user_id = u.id, .username = username,
                         .role = std::string(domain::RoleName(u.role))};
  }

  static std::string Why(const std::string& what, const permit::Outcome& o) {
    std::string s = what + " refused";
    if (o.decision) {
      for (const auto& v : o.decision->violations) {
        if (v.severity == permit::Severity::kBlock) s += " [" + v.rule + ": " + v.message + "]";
      }
    }
    return s;
  }

  std::vector<permit::GasReading> Gas(const Permit& p, core::Timestamp at) {
    const std::string where = p.location.description;
    std::vector<permit::GasReading> g = {
        {at, where, "O2", 20.8, "%vol", "郭静", "PGM-2500 #A17", false},
        {at, where, "CH4", 0.05, "%vol", "郭静", "PGM-2500 #A17", false}};
    if (p.type == PermitType::kConfinedSpace) {
      g.push_back({at, where, "H2S", 0.5, "mg/m3", "郭静", "PGM-2500 #A17", false});
      g.push_back({at, where, "CO", 2.0, "mg/m3", "郭静", "PGM-2500 #A17", false});
    }
    return g;
  }

  // Drives `doc` through the real service to `target`; `signed_steps` < 0 signs the whole
  // chain. Returns the permit as stored.
  Result<Permit> Drive(Permit doc, Target target, std::optional<core::Timestamp> gas_at = {}) {
    permit::PermitService& svc = inst.permits();
    if (auto g = permit::ComputeGrade(inst.permit_rulebook(), doc); g && !g->required.empty()) {
      doc.grade = g->required;
      if (doc.height) doc.height->grade = g->required;
      if (doc.lifting) doc.lifting->grade = g->required;
    }
    WG_ASSIGN_OR_RETURN(permit::Actor leader, As("leader"));
    WG_ASSIGN_OR_RETURN(permit::Outcome created, svc.Create(org, doc, leader));
    const std::int64_t id = created.permit.id;
    if (target == Target::kDraft) return created.permit;
    WG_ASSIGN_OR_RETURN(permit::Outcome submitted, svc.Submit(org, id, leader));
    if (!submitted.applied) return Status::Internal(Why(doc.title + ": submission", submitted));
    Permit p = submitted.permit;
    if (p.state == State::kPendingGasTest) {
      WG_ASSIGN_OR_RETURN(permit::Outcome analysed,
                          svc.RecordGas(org, id, Gas(p, gas_at.value_or(now)), leader));
      if (analysed.permit.state != State::kPendingSignatures) {
        return Status::Internal(Why(doc.title + ": gas analysis", analysed));
      }
      p = analysed.permit;
    }
    if (target == Target::kCancelled) {
      WG_ASSIGN_OR_RETURN(permit::Outcome c, svc.Cancel(org, id, "作业计划调整，取消本次作业", leader));
      if (!c.applied) return Status::Internal(Why(doc.title + ": cancel", c));
      return c.permit;
    }
    const std::map<std::string, std::string> signer = {
        {"applicant", "leader"},          {"owning_unit", "unit"},
        {"safety_department", "safety"},  {"supervisor", "supervisor"},
        {"approver", "approver"},         {"shift_leader_check", "shift"},
        {"commander", "shift"},           {"reviewing_department", "safety"},
        {"user_unit", "unit"},            {"cosign", "safety"}};
    std::string guardian_user;
    for (const auto& person : doc.people) {
      if (person.role == "guardian") guardian_user = person.username;
    }
    const auto& chain = inst.permit_rulebook().type(doc.type).signature_chain;
    std::size_t steps = target == Target::kPendingSignatures ? 2 : chain.size();
    for (std::size_t i = 0; i < steps && i < chain.size(); ++i) {
      const auto& step = chain[i];
      std::string who = step.role == "guardian" ? guardian_user : "";
      if (who.empty()) {
        auto it = signer.find(step.role);
        if (it == signer.end()) return Status::Internal("no demo signer for step " + step.role);
        who = it->second;
      }
      WG_ASSIGN_OR_RETURN(permit::Actor a, As(who));
      WG_ASSIGN_OR_RETURN(permit::Outcome s,
                          svc.Sign(org, id, {.role = step.role, .password = kDemoPassword,
                                             .opinion = "同意"},
                                   a));
      if (!s.applied) return Status::Internal(Why(doc.title + ": signature " + step.role, s));
      p = s.permit;
    }
    if (target == Target::kPendingSignatures || target == Target::kApproved) return p;
    WG_ASSIGN_OR_RETURN(permit::Outcome started, svc.Activate(org, id, leader));
    if (!started.applied) return Status::Internal(Why(doc.title + ": activation", started));
    p = started.permit;
    if (target == Target::kSuspended) {
      WG_ASSIGN_OR_RETURN(permit::Outcome s,
                          svc.Suspend(org, id, "管廊上方工艺管线检修，交叉作业暂停", leader));
      if (!s.applied) return Status::Internal(Why(doc.title + ": suspension", s));
      p = s.permit;
    } else if (target == Target::kCompleted) {
      WG_ASSIGN_OR_RETURN(permit::Outcome s,
                          svc.Complete(org, id, "盲板已抽出，现场清理完毕，验收合格", leader));
      if (!s.applied) return Status::Internal(Why(doc.title + ": completion", s));
      p = s.permit;
    }
    return p;
  }
};

// A grade-2 hot-work permit at the CDU (docs/examples/permits/hot_work.json in spirit):
// welding a pipe support, with the demo's certified welder JX-001.
Permit DemoHotWork(core::Timestamp now, core::Timestamp start) {
  Permit p = Common("cdu", PermitType::kHotWork, "常减压装置 E-102 管托补焊", "华东石化检修有限公司",
                    "常减压车间",
                    "JHA-CDU-2026-118：焊接飞溅引燃、灼烫、触电；管托远离工艺管线，周边无可燃物",
                    "CDU-E", "E-102 换热器东侧管托 PS-07", {120, 45}, Rect(105, 30, 135, 60),
                    "general", start, core::Duration::Hours(8));
  p.grade = "grade2";
  p.measures = {M("hw.1", "动火点周围 15 m 内可燃物已清除", "guardian", now),
                M("hw.2", "配备灭火器 2 具、消防蒸汽带 1 根", "guardian", now),
                M("hw.3", "电焊机接地良好，焊把线绝缘完好", "guardian", now)};
  p.people = {P("performer", "JX-001", "", "张伟"),
              P("guardian", "", "guardian", "赵敏"),
              P("work_leader", "", "leader", "李强"),
              P("safety_briefer", "", "safety", "王建国"),
              P("briefing_recipient", "JX-001", "", "张伟"),
              P("gas_analyst", "HG-004", "", "郭静")};
  p.activities = {"welding"};
  p.hot_work.emplace();
  p.hot_work->method = "welding";
  p.hot_work->oxygen_acetylene_distance_m = 6;
  p.hot_work->cylinder_to_point_distance_m = 12;
  p.hot_work->welder_machine_distance_m = 8;
  return p;
}

Permit HotWorkAt(core::Timestamp now, const char* site, const char* title, const char* zone,
                 const char* where, permit::Point at, const std::string& welder,
                 const std::string& welder_name, const std::string& guardian,
                 const std::string& guardian_name) {
  Permit p = DemoHotWork(now, now);
  p.site = site;
  p.title = title;
  p.owning_unit = std::string(site) == "tank-farm" ? "储运车间" : "检修车间";
  p.location.zone = zone;
  p.location.description = where;
  p.location.point = at;
  p.location.fence = Rect(at.x - 10, at.y - 10, at.x + 10, at.y + 10);
  for (auto& m : p.measures) m.confirmer = guardian;
  Crew(p, guardian, guardian_name, {P("performer", welder, "", welder_name)}, true);
  return p;
}

// The permits of the demo, driven through the real PermitService: every type of GB
// 30871-2022, in every state the board and the permit list show.
Result<std::string> SeedPermits(Installation& inst, core::OrgId org, const core::Clock& clock,
                                const std::map<std::string, std::string>& cert_of) {
  permit::PermitService& svc = inst.permits();
  const core::Timestamp now = clock.Now();
  permit::Actor admin{.name = "system:demo-seed"};
  std::vector<permit::AuthorityScope> scopes;
  for (const char* level : {"safety_department", "power_supply_unit",
                            "deputy_director_or_chief_engineer"}) {
    permit::AuthorityScope s;
    s.level = level;
    scopes.push_back(s);
  }
  WG_RETURN_IF_ERROR(svc.PutAuthorization(org, "approver", scopes, admin));
  Seeder s{inst, org, now, cert_of};
  auto cert = [&](const std::string& code) {
    auto it = cert_of.find(code);
    return it == cert_of.end() ? std::vector<std::string>{} : std::vector<std::string>{it->second};
  };
  std::string out = "permits:";
  std::vector<std::string> failed;
  auto seed = [&](Permit doc, Target target, std::optional<core::Timestamp> gas_at = {}) {
    auto r = s.Drive(std::move(doc), target, gas_at);
    if (!r) {
      failed.push_back(r.error().message());
      return;
    }
    out += " " + r->number + "(" + std::string(permit::StateCode(r->state)) + ")";
  };
  const core::Duration h8 = core::Duration::Hours(8);

  // 1. CDU hot work, active (its guardian walks away in the simulator).
  seed(DemoHotWork(now, now), Target::kActive);

  // 2. Hydrotreater: confined-space entry into separator V-203, active; the H2S incident
  //    happens here (zone HT-V, point HT-V-H2S-01).
  {
    Permit p = Common("hydro", PermitType::kConfinedSpace, "加氢装置 V-203 高压分离器内部检查",
                      "华东石化检修有限公司", "加氢车间",
                      "JHA-HT-2026-041：硫化氢中毒、缺氧窒息、可燃气体爆炸；已盲板隔离、蒸汽吹扫置换",
                      "HT-V", "V-203 人孔 M1（东侧）", {120, 30}, Rect(110, 20, 130, 40),
                      "hazardous_area", now, h8);
    p.measures = {M("cs.1", "与 V-203 相连管线已加盲板隔离并挂牌", "guardian2", now),
                  M("cs.2", "轴流风机强制通风，严禁通入纯氧", "guardian2", now),
                  M("cs.3", "罐内照明 24 V 防爆行灯；入口设出入登记", "guardian2", now),
                  M("cs.4", "作业人员佩戴长管呼吸器及安全绳，四合一检测仪连续监测", "guardian2", now)};
    Crew(p, "guardian2", "孙丽", {P("performer", "HG-002", "", "朱丽")}, true);
    p.activities = {"confined_space_entry"};
    p.confined_space.emplace();
    p.confined_space->space_name = "V-203 高压分离器";
    p.confined_space->original_medium = "含硫氢气、石脑油";
    p.confined_space->isolation = {"blind_plate"};
    p.confined_space->ventilation = "forced";
    p.confined_space->lighting_voltage_v = 24;
    p.confined_space->previously_flammable = true;
    p.confined_space->continuous_monitor = kDemoIncidentPoint;
    seed(std::move(p), Target::kActive);
  }

  // 3. Workshop: a 28 t lift with the truck crane, active.
  {
    Permit p = Common("workshop", PermitType::kLifting, "检修车间 换热器管束吊装（28 t）",
                      "长江吊装运输有限公司", "检修车间",
                      "JHA-WS-2026-077：起重伤害、物体打击、吊车倾覆；吊装半径内无架空线",
                      "WS-1", "检修车间东侧吊装场地，25 t 汽车吊站位 A", {50, 40},
                      Rect(30, 20, 70, 60), "general", now, h8);
    p.measures = {M("lf.1", "吊装区域设置警戒线，吊物下方严禁站人", "guardian3", now),
                  M("lf.2", "汽车吊支腿全部伸出，垫板满足地基承载要求", "guardian3", now)};
    Crew(p, "guardian3", "周建",
         {P("performer", "QZ-001", "", "吴刚", cert("QZ-001"))}, false);
    p.people.push_back(P("commander", "QZ-002", "", "徐明", cert("QZ-002")));
    p.activities = {"lifting"};
    p.environment.wind_force = 3;
    p.lifting.emplace();
    p.lifting->mass_t = 28;
    p.lifting->plan_ref = "吊装方案 DZFA-2026-052";
    p.lifting->max_load_ratio = 0.65;
    seed(std::move(p), Target::kActive);
  }

  // 4. Hydrotreater north: temporary power for the V-203 work, active — its certified
  //    electrician DQ-001 is registered but his tag shows him elsewhere (holder absent).
  {
    Permit p = Common("hydro", PermitType::kTemporaryPower, "加氢装置北侧 临时配电箱接电（V-203 检修照明）",
                      "金陵电气安装工程公司", "加氢车间",
                      "JHA-HT-2026-042：触电、电气火灾；漏电保护器已测试",
                      "HT-N", "加氢装置北侧检修配电箱 JX-07 第 2 回路", {150, 100},
                      Rect(140, 90, 160, 110), "general", now, h8);
    p.measures = {M("tp.1", "临时用电线路架空敷设，配电箱设漏电保护器", "guardian4", now)};
    Crew(p, "guardian4", "吴芳", {P("performer", "DQ-001", "", "杨帆", cert("DQ-001"))}, false);
    for (auto& person : p.people) {
      if (person.role == "work_leader") person = P("work_leader", "DQ-002", "", "黄涛", cert("DQ-002"));
    }
    p.activities = {"temporary_power"};
    p.temporary_power.emplace();
    p.temporary_power->voltage = "380V";
    p.temporary_power->load_kw = 12;
    p.temporary_power->access_point = "加氢装置北侧检修配电箱 JX-07 第 2 回路";
    p.temporary_power->supply_unit = "电气车间";
    seed(std::move(p), Target::kActive);
  }

  // 5. CDU pipe rack: insulation at 9 m, suspended.
  {
    Permit p = Common("cdu", PermitType::kHeight, "常减压管廊 第 6 跨 保温拆除", "苏建高空作业工程队",
                      "常减压车间", "JHA-CDU-2026-121：高处坠落、物体打击；管廊平台护栏完好",
                      "CDU-PR", "管廊第 6 跨 二层平台", {140, 137}, Rect(130, 131, 150, 144),
                      "pipe_rack", now, h8);
    p.location.elevation_m = 9;
    p.measures = {M("ht.1", "全身式安全带高挂低用，下方设警戒区", "guardian5", now)};
    Crew(p, "guardian5", "冯刚", {P("performer", "GC-101", "", NameOf("GC-101"))}, false);
    p.activities = {"insulation_work"};
    p.height.emplace();
    p.height->height_m = 9;
    seed(std::move(p), Target::kSuspended);
  }

  // 6. Hydrotreater reactor area: blind plate removed, completed.
  {
    Permit p = Common("hydro", PermitType::kBlindPlate, "R-201 进料线 MB-12 盲板抽除", "华东石化检修有限公司",
                      "加氢车间", "JHA-HT-2026-039：介质泄漏、中毒、灼烫；管线已泄压置换",
                      "HT-R", "R-201 进料线 P-2105 法兰", {40, 60}, Rect(30, 50, 50, 70),
                      "hazardous_area", now, h8);
    p.measures = {M("bp.1", "管道已泄压至常压，排空残液，使用防爆工具", "guardian8", now)};
    Crew(p, "guardian8", "蒋涛", {P("performer", "JX-003", "", "李娜")}, false);
    p.people.push_back(P("commander", "", "shift", "郑丽"));
    p.activities = {"blind_plate"};
    p.blind_plate.emplace();
    p.blind_plate->pipeline = "P-2105 反应进料线";
    p.blind_plate->medium = "加氢进料（含硫）";
    p.blind_plate->temperature_c = 35;
    p.blind_plate->pressure_mpa = 0;
    p.blind_plate->plates = {{"MB-12", "remove", "304", "DN150 PN6.3"}};
    p.blind_plate->diagram_ref = "加氢车间盲板位置图 2026-11 第 2 版";
    p.blind_plate->toxic_line = true;
    seed(std::move(p), Target::kCompleted);
  }

  // 7. Workshop: excavation for a new foundation, approved.
  {
    Permit p = Common("workshop", PermitType::kExcavation, "检修车间 新建设备基础开挖", "华东石化检修有限公司",
                      "检修车间", "JHA-WS-2026-080：坍塌、地下管线损坏；已探明地下设施",
                      "WS-2", "检修车间南侧 新设备基础 J-3", {150, 40}, Rect(140, 30, 160, 50),
                      "general", now + core::Duration::Minutes(5), h8);
    p.measures = {M("ex.1", "地下电缆、管线已探明并标识，人工开挖", "guardian6", now)};
    Crew(p, "guardian6", "韩梅", {P("performer", "JX-102", "", NameOf("JX-102"))}, false);
    p.activities = {"excavation"};
    p.excavation.emplace();
    p.excavation->depth_m = 1.0;
    p.excavation->sketch_ref = "动土范围示意图 DT-2026-021";
    p.excavation->cosigned_departments = {"water", "power", "steam", "process", "equipment", "fire", "safety"};
    p.excavation->buried_facilities_surveyed = true;
    seed(std::move(p), Target::kApproved);
  }

  // 8. Workshop road: road breaking, cancelled.
  {
    Permit p = Common("workshop", PermitType::kRoadBreaking, "检修车间北侧道路 断路（管线穿越）",
                      "华东石化检修有限公司", "检修车间", "JHA-WS-2026-081：车辆伤害；设置绕行标志",
                      "WS-ROAD", "检修车间北侧 3 号路 K0+020～K0+040", {60, 100},
                      Rect(50, 92, 70, 108), "general", now + core::Duration::Hours(2), h8);
    p.measures = {M("rb.1", "设置路障、警示灯和绕行标志，保留消防通道", "guardian", now)};
    Crew(p, "guardian", "赵敏", {P("performer", "JX-103", "", NameOf("JX-103"))}, false);
    p.activities = {"road_breaking"};
    p.road_breaking.emplace();
    p.road_breaking->road = "厂区 3 号路 K0+020～K0+040 南半幅";
    p.road_breaking->traffic_plan_ref = "交通组织方案 DL-2026-012";
    p.road_breaking->fire_lane_kept = true;
    p.road_breaking->cosigned_departments = {"fire", "safety"};
    seed(std::move(p), Target::kCancelled);
  }

  // 9. CDU west: a blind plate insertion waiting for signatures.
  {
    Permit p = Common("cdu", PermitType::kBlindPlate, "常压塔 T-101 回流线 MB-03 盲板封堵", "华东石化检修有限公司",
                      "常减压车间", "JHA-CDU-2026-125：介质泄漏、灼烫；管线已降温泄压",
                      "CDU-W", "T-101 回流线 P-1108 法兰", {40, 90}, Rect(30, 80, 50, 100),
                      "hazardous_area", now + core::Duration::Hours(1), h8);
    p.measures = {M("bp.1", "管道已泄压至常压，温度降至 60 ℃以下", "guardian8", now)};
    Crew(p, "guardian8", "蒋涛", {P("performer", "JX-104", "", NameOf("JX-104"))}, false);
    p.people.push_back(P("commander", "", "shift", "郑丽"));
    p.activities = {"blind_plate"};
    p.blind_plate.emplace();
    p.blind_plate->pipeline = "P-1108 常顶回流线";
    p.blind_plate->medium = "石脑油";
    p.blind_plate->temperature_c = 40;
    p.blind_plate->pressure_mpa = 0;
    p.blind_plate->plates = {{"MB-03", "insert", "20#", "DN100 PN2.5"}};
    p.blind_plate->diagram_ref = "常减压车间盲板位置图 2026-11 第 4 版";
    seed(std::move(p), Target::kPendingSignatures);
  }

  // 10. Tank farm pump house: hot work approved, its gas analysis taken 45 minutes before
  //     the seed — starting it is refused (gas.before_start: 30 min), scripted.
  {
    Permit p = HotWorkAt(now, "tank-farm", kDemoStaleGasTitle, "TF-PUMP", "泵房 P-302 出口管线支架",
                         {-80, 320}, "JX-004", "刘洋", "guardian7", "曹阳");
    seed(std::move(p), Target::kApproved, now - core::Duration::Minutes(45));
  }

  // 11. Workshop: a welding job drafted with the expired welder JX-005 — submitting it is
  //     refused (general.worker_certificate), scripted.
  seed(HotWorkAt(now, "workshop", kDemoExpiredWelderTitle, "WS-2", "检修车间 钢结构平台 B 轴",
                 {150, 60}, "JX-005", "陈杰", "guardian", "赵敏"),
       Target::kDraft);

  // 12. Tank farm: the T-301 confined-space entry still being drafted (no guardian yet:
  //     the advice says so).
  {
    Permit cs = Common("tank-farm", PermitType::kConfinedSpace, "T-301 原油储罐内部检查",
                       "华东石化检修有限公司", "储运车间", "", "TF-3", "T-301 人孔", {-200, 310}, {},
                       "hazardous_area", now + core::Duration::Hours(24), h8);
    cs.people = {P("performer", "JX-002", "", "王磊")};
    cs.confined_space.emplace();
    cs.confined_space->space_name = "T-301";
    cs.confined_space->original_medium = "原油";
    cs.confined_space->isolation = {"blind_plate"};
    cs.confined_space->ventilation = "forced";
    cs.confined_space->lighting_voltage_v = 24;
    seed(std::move(cs), Target::kDraft);
  }
  out += "\n";
  for (const auto& f : failed) out += "  warning: permit not seeded: " + f + "\n";
  return out;
}

}  // namespace

// --- the plant: points, people on site, site plans ----------------------------------------

namespace {

// Stores one monitoring point of the demo (or of the bench site); `what` names it in errors.
Status PutDemoPoint(Installation& inst, core::OrgId org, const DemoPointSpec& d,
                    const live::Actor& actor, const std::string& what) {
  monitor::PointConfig p;
  p.org = org;
  p.id = d.id;
  p.name = d.name;
  p.site = d.site;
  p.zone = d.zone;
  p.kind = d.kind;
  p.unit = d.unit;
  p.gas = d.gas;
  if (Status s = inst.monitor().PutPoint(org, p, 0, actor).status(); !s.ok()) {
    return s.WithContext(what + d.id);
  }
  return Status::Ok();
}

using presence::Vec2;

struct SiteDef {
  const char* code;
  const char* name;
  const char* address;
  double lat, lon;  // WGS-84 origin of the site frame
};
constexpr std::array<SiteDef, 4> kSites{{
    {"cdu", "常减压装置区", "江苏省南京市 化工园区 1 号", 30.2741, 120.1551},
    {"hydro", "加氢装置区", "江苏省南京市 化工园区 2 号", 30.2765, 120.1590},
    {"tank-farm", "罐区", "江苏省南京市 化工园区 3 号", 30.2712, 120.1583},
    {"workshop", "检修车间", "江苏省南京市 化工园区 5 号", 30.2700, 120.1530},
}};

presence::Ring R(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

presence::PlanFeature Poly(const char* kind, const char* label, presence::Ring ring) {
  presence::PlanFeature f;
  f.kind = kind;
  f.label = label;
  f.polygon = std::move(ring);
  return f;
}
presence::PlanFeature Line(const char* kind, const char* label, presence::Ring line) {
  presence::PlanFeature f;
  f.kind = kind;
  f.label = label;
  f.polyline = std::move(line);
  return f;
}
presence::PlanFeature Circle(const char* kind, const char* label, Vec2 c, double r) {
  presence::PlanFeature f;
  f.kind = kind;
  f.label = label;
  f.centre = c;
  f.radius_m = r;
  return f;
}
presence::PlanFeature Label(const char* text, Vec2 at) { return Circle("label", text, at, 0); }

// The drawing of each site (site-frame metres; zones match the points' and permits' zone
// codes).
presence::SitePlan PlanOf(const std::string& site) {
  presence::SitePlan p;
  auto zone = [&](const char* code, const char* name, presence::Ring ring) {
    p.zones.push_back({code, name, std::move(ring)});
  };
  if (site == "cdu") {
    p.name = "常减压装置区";
    p.min = {-20, -20};
    p.max = {300, 220};
    zone("CDU-W", "常压塔区", R(0, 0, 85, 120));
    zone("CDU-E", "换热器区（东区）", R(90, 10, 160, 80));
    zone("CDU-S", "加热炉区", R(90, 85, 200, 125));
    zone("CDU-PR", "管廊", R(0, 130, 280, 145));
    p.features = {Poly("unit", "常减压装置", R(0, 0, 200, 125)),
                  Circle("vessel", "T-101 常压塔", {40, 60}, 4),
                  Circle("vessel", "T-102 减压塔", {40, 25}, 5),
                  Poly("unit", "E-102 换热器组", R(110, 35, 130, 55)),
                  Poly("building", "F-101 加热炉", R(110, 92, 170, 118)),
                  Poly("rack", "管廊 PR-1", R(0, 130, 280, 145)),
                  Poly("building", "中控室", R(210, 165, 270, 200)),
                  Line("road", "1 号路", {{-15, -12}, {295, -12}}),
                  Line("road", "2 号路", {{290, -12}, {290, 215}}),
                  Circle("gate", "东门", {290, 100}, 3),
                  Label("常减压装置 CDU", {100, 160})};
  } else if (site == "hydro") {
    p.name = "加氢装置区";
    p.min = {-20, -20};
    p.max = {260, 200};
    zone("HT-R", "反应器区", R(0, 0, 80, 80));
    zone("HT-V", "高压分离器 V-203", R(90, 0, 150, 60));
    zone("HT-C", "压缩机厂房", R(160, 0, 240, 60));
    zone("HT-N", "北侧检修区", R(90, 70, 240, 130));
    zone("HT-PR", "管廊", R(0, 140, 240, 155));
    p.features = {Poly("unit", "柴油加氢装置", R(0, 0, 240, 130)),
                  Circle("vessel", "R-201 加氢反应器", {40, 40}, 3),
                  Circle("vessel", "V-203 高压分离器", {120, 30}, 4),
                  Poly("building", "K-201 循环氢压缩机厂房", R(170, 10, 230, 50)),
                  Poly("rack", "管廊 PR-2", R(0, 140, 240, 155)),
                  Poly("building", "配电间", R(10, 170, 60, 195)),
                  Line("road", "4 号路", {{-15, -12}, {255, -12}}),
                  Label("加氢装置 HDS", {120, 180})};
  } else if (site == "tank-farm") {
    p.name = "罐区";
    p.min = {-340, 160};
    p.max = {-20, 460};
    zone("TF-1", "1# 原油罐组", R(-330, 170, -230, 270));
    zone("TF-2", "2# 原油罐组", R(-220, 170, -120, 270));
    zone("TF-3", "3# 罐组（T-301）", R(-230, 280, -130, 380));
    zone("TF-4", "4# 成品油罐组", R(-330, 280, -240, 380));
    zone("TF-PUMP", "罐区泵房", R(-120, 280, -40, 360));
    p.features = {Circle("tank", "T-101", {-280, 220}, 22),
                  Circle("tank", "T-201", {-170, 220}, 22),
                  Circle("tank", "T-301", {-200, 310}, 12),
                  Circle("tank", "T-302", {-160, 350}, 12),
                  Circle("tank", "T-401", {-285, 330}, 20),
                  Poly("building", "泵房", R(-110, 300, -50, 340)),
                  Line("pipe", "输油管线", {{-120, 320}, {-200, 320}, {-280, 330}}),
                  Line("road", "罐区环路", {{-335, 395}, {-25, 395}, {-25, 165}}),
                  Label("罐区 Tank farm", {-180, 430})};
  } else if (site == "workshop") {
    p.name = "检修车间";
    p.min = {-10, -10};
    p.max = {200, 150};
    zone("WS-1", "吊装场地", R(0, 0, 100, 80));
    zone("WS-2", "钢结构加工区", R(110, 0, 190, 80));
    zone("WS-ROAD", "3 号路", R(0, 90, 190, 110));
    p.features = {Poly("building", "检修车间厂房", R(110, 0, 190, 80)),
                  Circle("unit", "25 t 汽车吊", {50, 40}, 3),
                  Line("road", "3 号路", {{0, 100}, {190, 100}}),
                  Label("检修车间 Workshop", {90, 130})};
  }
  for (const auto& d : DemoPoints()) {
    if (d.site == site) p.points[d.id] = {d.x, d.y};
  }
  return p;
}

presence::Fence MakeFence(core::OrgId org, const char* id, const char* site, const char* zone,
                          const char* name, presence::Ring outer) {
  presence::Fence f;
  f.org = org;
  f.id = id;
  f.site = site;
  f.zone = zone;
  f.name = name;
  f.area.outer = std::move(outer);
  return f;
}

// Site plans: stored when missing; a refusal is a warning (the demo runs without plans).
std::string SeedPlans(Installation& inst, core::OrgId org, const live::Actor& actor,
                      const std::vector<std::string>& sites) {
  std::string out;
  int stored = 0, present = 0;
  for (const auto& site : sites) {
    if (inst.presence().GetSitePlan(org, site).has_value()) {
      ++present;
      continue;
    }
    auto put = inst.presence().PutSitePlan(org, site, PlanOf(site), 0, actor);
    if (!put) {
      out += "  warning: site plan of " + site + " not stored: " + put.error().ToString() + "\n";
    } else {
      ++stored;
    }
  }
  return "site plans: " + std::to_string(stored) + " stored, " + std::to_string(present) +
         " already present\n" + out;
}

}  // namespace

std::vector<DemoLogin> DemoLogins() {
  static const std::map<std::string, std::string> zh = {
      {"admin", "系统管理员"},     {"safety_manager", "安全管理"}, {"team_leader", "班组长"},
      {"guardian", "监护人"},       {"approver", "审批人"},         {"supervisor", "安全监督"},
      {"regulator", "监管部门"},   {"worker", "作业人员"},         {"gateway", "网关"}};
  std::vector<DemoLogin> out;
  std::set<std::string> roles;
  for (const auto& u : kUsers) {
    std::string role(domain::RoleName(u.role));
    if (!roles.insert(role).second) continue;  // one login per role
    auto it = zh.find(role);
    out.push_back({u.username, u.display_name, role, it == zh.end() ? role : it->second});
  }
  return out;
}

// Normal readings: O2 20.9 %vol, H2S and CO near zero, combustibles a few %LEL, cranes
// lifting at 60-70 % of their rated load, a light breeze.
const std::vector<DemoPointSpec>& DemoPoints() {
  static const std::vector<DemoPointSpec> points = {
      // CDU
      {"CDU-E-LEL-01", "常减压东区 1# 可燃气体", "cdu", "CDU-E", "combustible", "%LEL", "CH4", 2.0, 0.4, 115, 40},
      {"CDU-E-H2S-01", "常减压东区 2# 硫化氢", "cdu", "CDU-E", "h2s", "mg/m3", "", 0.6, 0.2, 140, 50},
      {"CDU-E-LEL-02", "常减压东区 3# 可燃气体", "cdu", "CDU-E", "combustible", "%LEL", "CH4", 1.5, 0.3, 150, 20},
      {"CDU-W-LEL-01", "常压塔底 可燃气体", "cdu", "CDU-W", "combustible", "%LEL", "CH4", 2.5, 0.5, 45, 50},
      {"CDU-W-H2S-01", "常压塔顶回流罐 硫化氢", "cdu", "CDU-W", "h2s", "mg/m3", "", 0.8, 0.25, 30, 100},
      {"CDU-W-CO-01", "减压塔区 一氧化碳", "cdu", "CDU-W", "co", "mg/m3", "", 3.0, 0.8, 50, 20},
      {"CDU-S-CO-01", "加热炉 F-101 一氧化碳", "cdu", "CDU-S", "co", "mg/m3", "", 4.0, 1.0, 100, 105},
      {"CDU-S-LEL-01", "加热炉 F-101 燃料气 可燃气体", "cdu", "CDU-S", "combustible", "%LEL", "CH4", 1.8, 0.4, 180, 100},
      {"CDU-PR-LEL-01", "管廊 PR-1 第 3 跨 可燃气体", "cdu", "CDU-PR", "combustible", "%LEL", "CH4", 1.2, 0.3, 80, 137},
      {"CDU-PR-H2S-01", "管廊 PR-1 第 8 跨 硫化氢", "cdu", "CDU-PR", "h2s", "mg/m3", "", 0.5, 0.15, 200, 137},
      {"CDU-WIND-01", "常减压装置 风速仪", "cdu", "CDU-S", "wind_speed", "m/s", "", 3.2, 0.8, 195, 120},
      // Hydrotreater
      {"HT-V-O2-01", "V-203 罐内 四合一 氧气", "hydro", "HT-V", "o2", "%vol", "", 20.8, 0.05, 118, 28},
      {"HT-V-H2S-01", "V-203 罐内 四合一 硫化氢", "hydro", "HT-V", "h2s", "mg/m3", "", 0.6, 0.15, 122, 28},
      {"HT-V-CO-01", "V-203 罐内 四合一 一氧化碳", "hydro", "HT-V", "co", "mg/m3", "", 2.0, 0.5, 118, 32},
      {"HT-V-LEL-01", "V-203 罐内 四合一 可燃气体", "hydro", "HT-V", "combustible", "%LEL", "CH4", 0.8, 0.2, 122, 32},
      {"HT-R-H2S-01", "R-201 反应器区 硫化氢", "hydro", "HT-R", "h2s", "mg/m3", "", 0.9, 0.25, 25, 40},
      {"HT-R-LEL-01", "R-201 反应器区 氢气", "hydro", "HT-R", "combustible", "%LEL", "H2", 1.5, 0.4, 55, 40},
      {"HT-R-LEL-02", "R-201 进料泵 可燃气体", "hydro", "HT-R", "combustible", "%LEL", "CH4", 1.2, 0.3, 40, 70},
      {"HT-C-LEL-01", "K-201 压缩机厂房 氢气", "hydro", "HT-C", "combustible", "%LEL", "H2", 2.0, 0.5, 185, 30},
      {"HT-C-H2S-01", "K-201 压缩机厂房 硫化氢", "hydro", "HT-C", "h2s", "mg/m3", "", 0.7, 0.2, 215, 30},
      {"HT-N-LEL-01", "北侧检修区 可燃气体", "hydro", "HT-N", "combustible", "%LEL", "CH4", 1.0, 0.3, 130, 110},
      {"HT-PR-LEL-01", "管廊 PR-2 可燃气体", "hydro", "HT-PR", "combustible", "%LEL", "CH4", 1.1, 0.3, 120, 147},
      {"HT-WIND-01", "加氢装置 风速仪", "hydro", "HT-N", "wind_speed", "m/s", "", 3.5, 0.9, 230, 120},
      // Tank farm
      {"TF3-O2-01", "T-301 罐内 四合一 A", "tank-farm", "TF-3", "o2", "%vol", "", 20.8, 0.05, -203, 307},
      {"TF3-H2S-01", "T-301 罐内 四合一 B", "tank-farm", "TF-3", "h2s", "mg/m3", "", 1.0, 0.3, -197, 307},
      {"TF3-CO-01", "T-301 罐内 四合一 C", "tank-farm", "TF-3", "co", "mg/m3", "", 3.0, 0.8, -203, 313},
      {"TF3-LEL-01", "T-301 罐内 四合一 D", "tank-farm", "TF-3", "combustible", "%LEL", "CH4", 1.0, 0.3, -197, 313},
      {"TF1-LEL-01", "T-101 防火堤 可燃气体", "tank-farm", "TF-1", "combustible", "%LEL", "CH4", 1.5, 0.4, -250, 190},
      {"TF1-H2S-01", "T-101 防火堤 硫化氢", "tank-farm", "TF-1", "h2s", "mg/m3", "", 0.7, 0.2, -310, 250},
      {"TF2-LEL-01", "T-201 防火堤 可燃气体", "tank-farm", "TF-2", "combustible", "%LEL", "CH4", 1.4, 0.4, -140, 190},
      {"TF2-H2S-01", "T-201 防火堤 硫化氢", "tank-farm", "TF-2", "h2s", "mg/m3", "", 0.6, 0.2, -200, 250},
      {"TF4-LEL-01", "T-401 防火堤 可燃气体", "tank-farm", "TF-4", "combustible", "%LEL", "CH4", 1.3, 0.3, -260, 300},
      {"TF4-LEL-02", "T-401 呼吸阀 可燃气体", "tank-farm", "TF-4", "combustible", "%LEL", "CH4", 2.2, 0.5, -300, 360},
      {"TF-PUMP-LEL-01", "泵房 P-302 可燃气体", "tank-farm", "TF-PUMP", "combustible", "%LEL", "CH4", 2.0, 0.5, -85, 315},
      {"TF-PUMP-H2S-01", "泵房 硫化氢", "tank-farm", "TF-PUMP", "h2s", "mg/m3", "", 0.8, 0.25, -60, 330},
      {"TF-PUMP-CO-01", "泵房 一氧化碳", "tank-farm", "TF-PUMP", "co", "mg/m3", "", 2.5, 0.7, -100, 345},
      // Workshop
      {"WS-CRANE-01", "检修车间 25t 汽车吊", "workshop", "WS-1", "crane_load", "%", "", 65.0, 3.0, 50, 40},
      {"WS-CRANE-02", "检修车间 10t 行车", "workshop", "WS-2", "crane_load", "%", "", 40.0, 4.0, 150, 70},
      {"WS-WIND-01", "检修车间 风速仪", "workshop", "WS-1", "wind_speed", "m/s", "", 3.0, 0.8, 90, 70},
      {"WS-2-CO-01", "钢结构加工区 一氧化碳", "workshop", "WS-2", "co", "mg/m3", "", 3.5, 0.9, 130, 20},
      {"WS-2-O2-01", "钢结构加工区 氧气", "workshop", "WS-2", "o2", "%vol", "", 20.9, 0.05, 170, 20},
      {"WS-2-LEL-01", "钢结构加工区 乙炔间 可燃气体", "workshop", "WS-2", "combustible", "%LEL", "CH4", 1.0, 0.3, 180, 50},
  };
  return points;
}

// People on site: UWB tags (site-frame metres) bound to the people of the active permits
// and to a few walkers (demo_live.cc moves them).
const std::vector<DemoTagSpec>& DemoTags() {
  static const std::vector<DemoTagSpec> tags = {
      {"UWB-CDU-01", "cdu", "worker:JX-001", "焊工 张伟"},
      {"UWB-CDU-02", "cdu", "user:guardian", "监护人 赵敏"},
      {"UWB-CDU-03", "cdu", "user:leader", "检修班长 李强"},
      {"UWB-CDU-04", "cdu", "user:approver", "车间主任 陈立"},
      {"UWB-CDU-05", "cdu", "worker:HG-003", "储运车间 胡军（无票人员）"},
      {"UWB-CDU-06", "cdu", "worker:HG-001", "常减压车间 马超（巡检）"},
      {"UWB-TF-01", "tank-farm", "worker:JX-002", "王磊（罐区巡检）"},
      {"UWB-TF-02", "tank-farm", "worker:HG-005", "何勇（储运车间）"},
      {"UWB-HT-01", "hydro", "worker:HG-002", "朱丽（V-203 受限空间进入者）"},
      {"UWB-HT-02", "hydro", "user:guardian2", "监护人 孙丽"},
      {"UWB-HT-03", "hydro", "worker:DQ-001", "电工 杨帆（临时用电持证人）"},
      {"UWB-WS-01", "workshop", "worker:QZ-001", "司机 吴刚"},
      {"UWB-WS-02", "workshop", "worker:QZ-002", "指挥 徐明"},
      {"UWB-WS-03", "workshop", "user:guardian3", "监护人 周建"},
  };
  return tags;
}

Result<std::string> SeedDemoPlant(Installation& inst, const core::Clock& clock) {
  WG_ASSIGN_OR_RETURN(auto org, inst.OrgByCode(kDemoOrg));
  const live::Actor actor{"system:demo", "admin"};
  std::string out;
  // Monitoring points.
  WG_ASSIGN_OR_RETURN(auto existing_points, inst.store().ListPoints(org.id));
  std::set<std::string> have;
  for (const auto& p : existing_points) have.insert(p.id);
  int added = 0;
  for (const auto& d : DemoPoints()) {
    if (have.count(d.id)) continue;
    WG_RETURN_IF_ERROR(PutDemoPoint(inst, org.id, d, actor, "demo point "));
    ++added;
  }
  out += "monitoring points: " + std::to_string(DemoPoints().size()) + " (" +
         std::to_string(added) + " added; O2, H2S, CO, combustible, crane load, wind)\n";

  // People on site.
  live::PresenceService& svc = inst.presence();
  WG_ASSIGN_OR_RETURN(auto tags, svc.ListTags(org.id));
  if (tags.empty()) {
    for (const auto& s : kSites) {
      presence::SiteFrame f;
      f.origin = presence::LatLon{s.lat, s.lon};
      WG_RETURN_IF_ERROR(svc.PutSiteFrame(org.id, s.code, f, actor).status());
    }
    // A restricted fence round the CDU hot-work area (only people of an open permit of
    // zone CDU-E may enter), hazardous ones round tank T-301 and vessel V-203 (man-down
    // watched inside).
    presence::Fence hot = MakeFence(org.id, "CDU-E-HOTWORK", "cdu", "CDU-E",
                                    "常减压东区 动火作业隔离区", R(95, 20, 145, 70));
    hot.restricted = true;
    WG_RETURN_IF_ERROR(svc.PutFence(org.id, hot, 0, actor).status());
    presence::Fence tank = MakeFence(org.id, "TF3-T301", "tank-farm", "TF-3", "T-301 储罐区",
                                     R(-215, 295, -185, 325));
    tank.hazardous = true;
    WG_RETURN_IF_ERROR(svc.PutFence(org.id, tank, 0, actor).status());
    presence::Fence vessel = MakeFence(org.id, "HT-V203", "hydro", "HT-V", "V-203 高压分离器",
                                       R(112, 22, 128, 38));
    vessel.hazardous = true;
    WG_RETURN_IF_ERROR(svc.PutFence(org.id, vessel, 0, actor).status());
    for (const auto& d : DemoTags()) {
      presence::Tag tag;
      tag.org = org.id;
      tag.id = d.id;
      tag.site = d.site;
      tag.kind = presence::TagKind::kUwb;
      tag.description = d.description;
      if (Status s = svc.PutTag(org.id, tag, 0, actor).status(); !s.ok()) {
        return s.WithContext("demo tag " + d.id);
      }
      WG_ASSIGN_OR_RETURN(presence::PersonRef person, presence::ParsePersonRef(d.person));
      presence::Binding b;
      b.tag = d.id;
      b.person = person;
      b.valid_from = clock.Now();
      if (Status s = svc.Bind(org.id, b, actor).status(); !s.ok()) {
        return s.WithContext("demo binding " + d.id);
      }
    }
    out += "people on site: " + std::to_string(DemoTags().size()) +
           " UWB tags, 3 fences (CDU-E hot work restricted; T-301, V-203 hazardous)\n";
  } else {
    out += "people on site already present\n";
  }
  std::vector<std::string> sites;
  for (const auto& s : kSites) sites.push_back(s.code);
  out += SeedPlans(inst, org.id, actor, sites);
  return out;
}

DemoPointSpec BenchPoint(int i) {
  static constexpr const char* kKinds[4][4] = {{"o2", "%vol", "", "氧气"},
                                               {"h2s", "mg/m3", "", "硫化氢"},
                                               {"co", "mg/m3", "", "一氧化碳"},
                                               {"combustible", "%LEL", "CH4", "可燃气体"}};
  static constexpr double kBase[4][2] = {{20.9, 0.05}, {0.6, 0.2}, {2.5, 0.7}, {1.5, 0.4}};
  DemoPointSpec p;
  char id[32];
  std::snprintf(id, sizeof id, "BENCH-%04d", i + 1);
  p.id = id;
  const int k = i % 4;
  const int zone = (i / 20) % 100;  // 10 x 10 zones of 100 m, 20 points a zone in turn
  char zcode[16];
  std::snprintf(zcode, sizeof zcode, "B-%02d", zone);
  p.zone = zcode;
  p.site = "bench-site";
  p.kind = kKinds[k][0];
  p.unit = kKinds[k][1];
  p.gas = kKinds[k][2];
  p.name = std::string("基准测试 ") + zcode + " " + kKinds[k][3] + " " + std::to_string(i + 1);
  p.base = kBase[k][0];
  p.noise = kBase[k][1];
  const int slot = i % 20;  // position inside the zone; every 2,000 a layer 3 m up
  p.x = (zone % 10) * 100 + 10 + (slot % 5) * 20;
  p.y = (zone / 10) * 100 + 10 + ((slot / 5) % 4) * 20 + (i / 2000) * 3;
  return p;
}

Result<std::string> SeedBenchSite(Installation& inst, int n) {
  WG_ASSIGN_OR_RETURN(auto org, inst.OrgByCode(kDemoOrg));
  const live::Actor actor{"system:demo", "admin"};
  WG_ASSIGN_OR_RETURN(auto sites, inst.store().ListSites(org.id));
  const bool have_site = std::any_of(sites.begin(), sites.end(),
                                     [](const domain::Site& s) { return s.code == "bench-site"; });
  if (!have_site) {
    WG_RETURN_IF_ERROR(
        inst.CreateSite(org.id, {"bench-site", "基准测试场地", "生成的大型场地（看板基准）"}, "system:demo")
            .error());
  }
  WG_ASSIGN_OR_RETURN(auto existing, inst.store().ListPoints(org.id));
  std::set<std::string> have;
  for (const auto& p : existing) have.insert(p.id);
  int added = 0;
  for (int i = 0; i < n; ++i) {
    DemoPointSpec d = BenchPoint(i);
    if (have.count(d.id)) continue;
    WG_RETURN_IF_ERROR(PutDemoPoint(inst, org.id, d, actor, "bench point "));
    ++added;
  }
  // The plan: a 10 x 10 grid of zones, every point placed; replaced when points were added.
  presence::SitePlan plan;
  plan.name = "基准测试场地";
  plan.min = {-10, -10};
  plan.max = {1010, 1010};
  for (int z = 0; z < 100; ++z) {
    char code[16];
    std::snprintf(code, sizeof code, "B-%02d", z);
    const double x = (z % 10) * 100.0, y = (z / 10) * 100.0;
    plan.zones.push_back({code, std::string("区域 ") + code, R(x + 2, y + 2, x + 98, y + 98)});
  }
  for (int i = 0; i < n; ++i) {
    DemoPointSpec d = BenchPoint(i);
    plan.points[d.id] = {d.x, d.y};
  }
  std::string warn;
  auto current = inst.presence().GetSitePlan(org.id, "bench-site");
  if (!current || current->first.points.size() != plan.points.size()) {
    const std::int64_t version = current ? current->second : 0;
    if (auto put = inst.presence().PutSitePlan(org.id, "bench-site", std::move(plan), version, actor);
        !put) {
      warn = "  warning: site plan of bench-site not stored: " + put.error().ToString() + "\n";
    }
  }
  return "bench-site: " + std::to_string(n) + " generated points (" + std::to_string(added) +
         " added)\n" + warn;
}

Result<std::string> SeedDemo(Installation& inst, const core::Clock& clock) {
  store::Store& st = inst.store();
  registry::Registry& reg = inst.registry();
  auto existing = st.FindOrganizationByCode(kDemoOrg);
  if (existing.has_value()) {
    // Already seeded: only what a newer demo adds (each part checks what is there).
    WG_ASSIGN_OR_RETURN(std::string plant, SeedDemoPlant(inst, clock));
    return "demo organization already present\n" + plant;
  }

  const std::string actor = "system:demo-seed";
  WG_ASSIGN_OR_RETURN(domain::Organization org,
                      inst.CreateOrganization({kDemoOrg, "示范石化有限公司"}, actor));
  for (const auto& s : kSites) {
    WG_RETURN_IF_ERROR(inst.CreateSite(org.id, {s.code, s.name, s.address}, actor).error());
  }

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
    registry::NewWorker nw{w.code, w.name, w.employer, ResidentId(w.birth, 100 + n),
                           "139" + std::to_string(10000000 + (n + 1) * 7919), ""};
    ++n;
    WG_ASSIGN_OR_RETURN(domain::Worker saved, reg.CreateWorker(org.id, nw, actor));
    ids[w.code] = saved.id;
  }
  std::vector<DemoCert> certs = NamedCerts();
  for (int i = 0; i < kGeneratedWorkers; ++i) {
    GenWorker g = Generated(i);
    registry::NewWorker nw{g.code, g.name, g.employer, ResidentId(g.birth, 200 + i),
                           "138" + std::to_string(10000000 + (i + 1) * 6007), ""};
    WG_ASSIGN_OR_RETURN(domain::Worker saved, reg.CreateWorker(org.id, nw, actor));
    ids[g.code] = saved.id;
    certs.push_back({g.code, g.trade->kind, g.trade->category, g.trade->item, g.issued_days_ago,
                     g.issued_days_ago > 1095, nullptr});
  }
  // A second organization proves tenants are apart: its worker is invisible to the demo.
  WG_ASSIGN_OR_RETURN(domain::Organization other,
                      inst.CreateOrganization({"other-chem", "邻厂化工有限公司"}, actor));
  (void)other;

  core::Date today = core::ShanghaiDate(clock.Now());
  int seq = 0;
  std::map<std::string, std::string> cert_of;
  for (const auto& c : certs) {
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
    if (c.worker == "DQ-002") nc.practice_since = today.AddDays(-365 * 12);
    WG_ASSIGN_OR_RETURN(domain::Certificate saved, reg.AddCertificate(org.id, nc, actor));
    cert_of.emplace(c.worker, saved.number);
    if (c.revoke_reason) {
      WG_RETURN_IF_ERROR(reg.RevokeCertificate(org.id, saved.id, c.revoke_reason, actor).error());
    }
  }

  // Permits: best effort — the demo still serves when a rulebook edit refuses them, and
  // says why.
  auto permits = SeedPermits(inst, org.id, clock, cert_of);
  std::string permit_line =
      permits ? *permits : "permits: not seeded (" + permits.error().ToString() + ")\n";
  WG_ASSIGN_OR_RETURN(std::string plant, SeedDemoPlant(inst, clock));

  std::string out = "seeded demo organization 'demo-petrochem' (示范石化有限公司): " +
                    std::to_string(kSites.size()) + " sites, " +
                    std::to_string(kWorkers.size() + kGeneratedWorkers) + " workers, " +
                    std::to_string(certs.size()) + " certificates\n";
  out += "users (password '" + std::string(kDemoPassword) + "'):";
  for (const auto& u : kUsers) out += " " + std::string(u.username) + "(" + std::string(domain::RoleName(u.role)) + ")";
  out += "\n" + permit_line + plant;
  return out;
}

}  // namespace wg::server

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

constexpr std::array<DemoUser, 7> kUsers{{
    {"admin", "系统管理员", domain::Role::kAdmin},
    {"safety", "安全部 王建国", domain::Role::kSafetyManager},
    {"leader", "检修班长 李强", domain::Role::kTeamLeader},
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

  std::string out = "seeded demo organization 'demo-petrochem' (示范石化有限公司): 3 sites, " +
                    std::to_string(kWorkers.size()) + " workers, " +
                    std::to_string(kCerts.size()) + " certificates\n";
  out += "users (password '" + std::string(kDemoPassword) + "'):";
  for (const auto& u : kUsers) out += " " + std::string(u.username) + "(" + std::string(domain::RoleName(u.role)) + ")";
  out += "\n";
  return out;
}

}  // namespace wg::server

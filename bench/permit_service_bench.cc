// End-to-end harness: the dry run a client gets from POST /api/v1/permits/check, i.e.
// PermitService::CheckDocument with the real Directory (registry verification of the
// performer's certificate, user, key and authorization lookups in SQLite) and the
// open-permit index holding N open permits on the same site. Baseline in the same run: the
// pure Check() of the same document without a Directory and without conflicts.
//
//   permit_service_bench [--open N] [--checks K]     (defaults 1000, 5000)
//
// Prints p50/p90/p99 in µs for both and their ratio. See bench/README.md.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/crypto/crypto.h"
#include "wg/permit/check.h"
#include "wg/permit/service.h"
#include "wg/registry/id_number.h"
#include "wg/server/installation.h"

namespace {

using wg::core::Duration;
using wg::core::Timestamp;
namespace permit = wg::permit;

void Die(const std::string& what, const wg::core::Status& s) {
  std::fprintf(stderr, "permit_service_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(2);
}

template <typename T>
T Must(wg::core::Result<T> r, const std::string& what) {
  if (!r) Die(what, r.error());
  return std::move(*r);
}

struct Percentiles {
  double p50, p90, p99;
};

Percentiles Summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))]; };
  return {at(0.50), at(0.90), at(0.99)};
}

permit::Permit HotWork(Timestamp start, double x, double y) {
  permit::Permit p;
  p.site = "S1";
  p.type = permit::PermitType::kHotWork;
  p.grade = "grade2";
  p.title = "管托焊接";
  p.work_unit = "维修车间";
  p.owning_unit = "一联合装置";
  p.hazard_analysis = "JHA-1";
  p.location.zone = "U1";
  p.location.description = "管托 PS-12";
  p.location.point = {x, y};
  p.location.fence = {{x - 10, y - 10}, {x + 10, y - 10}, {x + 10, y + 10}, {x - 10, y + 10}};
  p.location.area_class = "general";
  p.planned_start = start;
  p.planned_end = start + Duration::Hours(8);
  p.measures.push_back({"m1", "动火点周围易燃物已清除", true, "guard", start - Duration::Hours(1)});
  p.people = {{"performer", "W1", "", "张三", {}},
              {"guardian", "", "guard", "李四", {}},
              {"work_leader", "", "leader", "王五", {}},
              {"safety_briefer", "", "safety", "赵六", {}},
              {"briefing_recipient", "W1", "", "张三", {}},
              {"gas_analyst", "", "guard2", "陈七", {}}};
  p.hot_work.emplace();
  p.hot_work->method = "welding";
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  int open = 1000, checks = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--open") open = std::atoi(argv[i + 1]);
    else if (a == "--checks") checks = std::atoi(argv[i + 1]);
  }
  if (open < 0 || checks < 10) {
    std::fprintf(stderr, "usage: permit_service_bench [--open N>=0] [--checks K>=10]\n");
    return 2;
  }
  const std::string dir = std::filesystem::temp_directory_path() / "wg-permit-service-bench";
  std::filesystem::remove_all(dir);
  const Timestamp start = *wg::core::ParseTimestamp("2026-11-30T10:00:00+08:00");
  wg::core::FakeClock clock(start - Duration::Minutes(30));
  auto inst = Must(wg::server::Installation::Open({.data_dir = dir}, clock), "open");
  auto org = Must(inst->CreateOrganization({"bench", "基准石化"}, "cli:bench"), "org");
  Must(inst->CreateSite(org.id, {"S1", "一厂区", ""}, "cli:bench"), "site");
  const std::string hash = Must(wg::crypto::HashPassword("bench-password-1"), "hash");
  for (auto [name, role] : std::vector<std::pair<std::string, wg::domain::Role>>{
           {"guard", wg::domain::Role::kGuardian}, {"guard2", wg::domain::Role::kGuardian},
           {"leader", wg::domain::Role::kTeamLeader}, {"safety", wg::domain::Role::kSafetyManager},
           {"appr", wg::domain::Role::kApprover}}) {
    wg::domain::User u;
    u.org_id = org.id;
    u.username = name;
    u.role = role;
    u.password_hash = hash;
    Must(inst->CreateUser(u, "cli:bench"), "user");
  }
  std::string first17 = "11010519800101123";
  auto w = Must(inst->registry().CreateWorker(
                    org.id, {"W1", "张三", "检修公司",
                             first17 + wg::registry::ResidentIdCheckChar(first17), "", ""}),
                "worker");
  wg::registry::NewCertificate c;
  c.worker_id = w.id;
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = "T110105198001011234";
  c.authority = "北京市应急管理局";
  c.issue_date = *wg::core::ParseDate("2025-03-01");
  Must(inst->registry().AddCertificate(org.id, c), "certificate");
  // N open permits on the site: approved rows written straight to the store.
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> pos(0, 1000);
  const permit::PermitType types[] = {permit::PermitType::kHotWork, permit::PermitType::kHeight,
                                      permit::PermitType::kConfinedSpace,
                                      permit::PermitType::kBlindPlate};
  for (int i = 0; i < open; ++i) {
    permit::Permit p = HotWork(start - Duration::Hours(1), pos(rng), pos(rng));
    p.type = types[i % 4];
    p.hot_work.reset();
    p.grade.clear();
    if (p.type == permit::PermitType::kHotWork) {
      p.grade = "grade2";
      p.hot_work.emplace();
      p.hot_work->method = "welding";
    } else if (p.type == permit::PermitType::kHeight) {
      p.grade = "II";
      p.height.emplace();
      p.height->height_m = 8;
      p.location.elevation_m = 8;
    } else if (p.type == permit::PermitType::kConfinedSpace) {
      p.confined_space.emplace();
      p.confined_space->space_name = "V-" + std::to_string(i % 50);
    } else {
      p.blind_plate.emplace();
      p.blind_plate->pipeline = "P-" + std::to_string(i % 80);
      p.blind_plate->plates = {{"BP-" + std::to_string(i), "insert", "", ""}};
    }
    if (i % 7 == 0) p.activities = {"painting"};
    p.state = permit::State::kApproved;
    p.org = "bench";
    wg::store::PermitRow row;
    row.org_id = org.id;
    row.site = p.site;
    row.type = std::string(permit::PermitTypeCode(p.type));
    row.grade = p.grade;
    row.state = "approved";
    row.planned_start = p.planned_start;
    row.planned_end = p.planned_end;
    row.document = wg::core::DumpJson(permit::ToJson(p));
    Must(inst->store().CreatePermit(row, "BX-", {}), "permit");
  }
  if (auto s = inst->permits().LoadIndex(); !s.ok()) Die("load index", s);
  std::printf("open permits on the site: %zu\n", inst->permits().open_permits());

  std::vector<permit::Permit> docs;
  for (int i = 0; i < 256; ++i) docs.push_back(HotWork(start, pos(rng), pos(rng)));
  std::vector<double> full, pure;
  full.reserve(checks);
  pure.reserve(checks);
  int blocked = 0;
  for (int i = 0; i < checks; ++i) {
    const permit::Permit& d = docs[static_cast<std::size_t>(i) % docs.size()];
    auto t0 = std::chrono::steady_clock::now();
    auto r = inst->permits().CheckDocument(org.id, d, start, permit::Stage::kPlan);
    auto t1 = std::chrono::steady_clock::now();
    if (!r) Die("check", r.error());
    blocked += r->blocked() ? 1 : 0;
    if (r->blocked() && std::getenv("WG_BENCH_SHOW") != nullptr) {
      std::printf("%s\n", wg::core::DumpJson(permit::ToJson(*r), 1).c_str());
    }
    full.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    permit::CheckOptions o;
    o.at = start;
    o.stage = permit::Stage::kPlan;
    auto t2 = std::chrono::steady_clock::now();
    auto d2 = permit::Check(inst->permit_rulebook(), d, o);
    auto t3 = std::chrono::steady_clock::now();
    (void)d2;
    pure.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
  }
  const Percentiles f = Summarize(full), p = Summarize(pure);
  std::printf("CheckDocument (Directory + %d open permits): p50 %.1f µs  p90 %.1f µs  p99 %.1f µs"
              "  (%d of %d blocked by conflicts or rules)\n",
              open, f.p50, f.p90, f.p99, blocked, checks);
  std::printf("Check() alone (no Directory, no conflicts):  p50 %.1f µs  p90 %.1f µs  p99 %.1f µs\n",
              p.p50, p.p90, p.p99);
  std::printf("ratio end-to-end / pure: %.1fx at p50, %.1fx at p99\n", f.p50 / p.p50, f.p99 / p.p99);
  inst.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

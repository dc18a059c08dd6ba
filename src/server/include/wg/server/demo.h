#pragma once
// The demo plant of `workguard demo` (docs/demo.md): what the seed stores and what the
// simulator (apps/workguard/demo_live.cc) publishes. SeedDemo (installation.h) stores the
// organization, users, workers, certificates, permits, and through SeedDemoPlant the
// monitoring points, site frames, fences, tags and site plans below. Every step is
// idempotent: a second seed of the same data directory adds nothing.

#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/server/installation.h"

namespace wg::server {

inline constexpr const char* kDemoOrg = "demo-petrochem";
inline constexpr const char* kDemoPassword = "workguard-demo";

struct DemoLogin {
  std::string username, display_name, role;  // role code (domain::RoleName)
  std::string role_zh;                        // the role in Chinese
};
// One login per role, for the start-up banner.
std::vector<DemoLogin> DemoLogins();

// A monitoring point of the demo plant: normal value `base` with Gaussian noise `noise`,
// drawn at (x, y) on its site's plan.
struct DemoPointSpec {
  std::string id, name, site, zone, kind, unit, gas;
  double base = 0, noise = 0;
  double x = 0, y = 0;
};
const std::vector<DemoPointSpec>& DemoPoints();

// A UWB tag of the demo, bound to `person` ("worker:CODE" or "user:NAME").
struct DemoTagSpec {
  std::string id, site, person, description;
};
const std::vector<DemoTagSpec>& DemoTags();

// The incident point (hydrotreater vessel V-203's H2S detector, zone HT-V), where the
// active confined-space permit works.
inline constexpr const char* kDemoIncidentPoint = "HT-V-H2S-01";
inline constexpr const char* kDemoIncidentO2 = "HT-V-O2-01";
// Titles of the seeded permits the simulator acts on (scripted refusals).
inline constexpr const char* kDemoExpiredWelderTitle = "检修车间 钢结构平台补焊（焊工证已过期）";
inline constexpr const char* kDemoStaleGasTitle = "罐区泵房 P-302 出口管线动火";

// Points, site frames, fences, tags, bindings and site plans of the demo sites (each part
// only when missing). A refused site plan (PutSitePlan error) is a printed warning.
core::Result<std::string> SeedDemoPlant(Installation& inst, const core::Clock& clock);

// The benchmark site "bench-site": `n` generated points (ids BENCH-NNNN) on a grid of
// zones, with its plan. Adds the missing points only. Returns a summary line.
core::Result<std::string> SeedBenchSite(Installation& inst, int n);
// The generated point `i` of the bench site (same as stored by SeedBenchSite).
DemoPointSpec BenchPoint(int i);

}  // namespace wg::server

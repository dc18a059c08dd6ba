// The live part of `workguard demo` (demo_live.h).
#include "demo_live.h"

#include <chrono>
#include <cmath>
#include <random>

#include "wg/core/json.h"
#include "wg/ingest/decode.h"
#include "wg/live/service.h"
#include "wg/monitor/model.h"

namespace wg::cli {

namespace {

constexpr const char* kOrg = "demo-petrochem";

struct DemoPoint {
  const char* id;
  const char* name;
  const char* site;
  const char* zone;
  const char* kind;
  const char* unit;
  const char* gas;
  double base;
  double noise;
};

// Normal readings: O2 20.9 %vol, H2S and CO near zero, combustibles a few %LEL, a crane
// lifting at 60-70 % of its rated load, a light breeze.
constexpr DemoPoint kPoints[] = {
    {"CDU-E-LEL-01", "常减压东区 1# 检测仪", "cdu", "CDU-E", "combustible", "%LEL", "CH4", 2.0, 0.4},
    {"CDU-E-H2S-01", "常减压东区 2# 检测仪", "cdu", "CDU-E", "h2s", "mg/m3", "", 0.6, 0.2},
    {"TF3-O2-01", "T-301 罐内 四合一 A", "tank-farm", "TF-3", "o2", "%vol", "", 20.8, 0.05},
    {"TF3-H2S-01", "T-301 罐内 四合一 B", "tank-farm", "TF-3", "h2s", "mg/m3", "", 1.0, 0.3},
    {"TF3-CO-01", "T-301 罐内 四合一 C", "tank-farm", "TF-3", "co", "mg/m3", "", 3.0, 0.8},
    {"TF3-LEL-01", "T-301 罐内 四合一 D", "tank-farm", "TF-3", "combustible", "%LEL", "CH4", 1.0, 0.3},
    {"WS-CRANE-01", "检修车间 25t 汽车吊", "workshop", "WS-1", "crane_load", "%", "", 65.0, 3.0},
    {"WS-WIND-01", "检修车间 风速仪", "workshop", "WS-1", "wind_speed", "m/s", "", 3.0, 0.8},
};

}  // namespace

core::Result<std::string> SeedDemoPoints(server::Installation& inst) {
  WG_ASSIGN_OR_RETURN(auto org, inst.OrgByCode(kOrg));
  WG_ASSIGN_OR_RETURN(auto existing, inst.store().ListPoints(org.id));
  if (!existing.empty()) return std::string("demo points already present\n");
  live::Actor actor{"system:demo", "admin"};
  for (const auto& d : kPoints) {
    monitor::PointConfig p;
    p.org = org.id;
    p.id = d.id;
    p.name = d.name;
    p.site = d.site;
    p.zone = d.zone;
    p.kind = d.kind;
    p.unit = d.unit;
    p.gas = d.gas;
    if (core::Status s = inst.monitor().PutPoint(org.id, p, 0, actor).status(); !s.ok()) {
      return s.WithContext(std::string("demo point ") + d.id);
    }
  }
  return "monitoring points: " + std::to_string(std::size(kPoints)) +
         " (gas detectors at CDU-E and T-301, crane load, wind)\n";
}

DemoSimulator::DemoSimulator(std::string host, int port, const core::Clock& clock,
                             core::Duration incident_every)
    : host_(std::move(host)), port_(port), clock_(clock), incident_every_(incident_every) {}

DemoSimulator::~DemoSimulator() { Stop(); }

core::Status DemoSimulator::Start() {
  ingest::MqttOptions o;
  o.host = host_;
  o.port = port_;
  o.client_id = "workguard-demo-sim";
  o.clean_session = true;
  pub_ = std::make_unique<ingest::MqttPublisher>(o);
  WG_RETURN_IF_ERROR(pub_->Start());
  thread_ = std::thread([this] { Run(); });
  return core::Status::Ok();
}

void DemoSimulator::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (pub_) pub_->Stop();
}

void DemoSimulator::Run() {
  std::mt19937 rng(20261129);
  std::normal_distribution<double> unit(0.0, 1.0);
  const core::Timestamp start = clock_.Now();
  const std::int64_t period = std::max<std::int64_t>(incident_every_.micros, 60'000'000);
  while (!stop_.load()) {
    const core::Timestamp now = clock_.Now();
    // The T-301 H2S surge: from 60 s into each period, rises 1 mg/m3 a second to ~31,
    // holds a minute, decays over a minute.
    const double phase = static_cast<double>((now.micros - start.micros) % period) / 1e6;
    double surge = 0;
    if (phase >= 60 && phase < 90) surge = (phase - 60);
    else if (phase >= 90 && phase < 150) surge = 30;
    else if (phase >= 150 && phase < 210) surge = 30 * (1 - (phase - 150) / 60);
    for (const auto& d : kPoints) {
      double v = d.base + d.noise * unit(rng);
      if (std::string_view(d.id) == "TF3-H2S-01") v += surge;
      if (std::string_view(d.id) == "TF3-O2-01") v -= surge * 0.02;  // displaced air
      if (v < 0) v = 0;
      v = std::round(v * 100) / 100;
      core::Json msg = {{"t", now.micros / 1000}, {"v", v}, {"u", d.unit}};
      (void)pub_->Publish(ingest::ReadingTopic(kOrg, d.site, d.id), msg.dump(), 1, false);
    }
    for (int i = 0; i < 10 && !stop_.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace wg::cli

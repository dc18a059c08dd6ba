// The live part of `workguard demo` (demo_live.h).
#include "demo_live.h"

#include <chrono>
#include <cmath>
#include <random>

#include "wg/core/json.h"
#include "wg/ingest/decode.h"
#include "wg/live/presence_service.h"
#include "wg/live/service.h"
#include "wg/monitor/model.h"
#include "wg/presence/model.h"

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

// People on site: UWB tags (site-frame metres) bound to the people of the demo permits
// (src/server/demo_seed.cc): the CDU hot-work permit's welder, guardian, work leader and
// approver, and the T-301 confined-space permit's performer.
struct DemoTag {
  const char* id;
  const char* site;
  const char* person;
  const char* description;
};

constexpr DemoTag kTags[] = {
    {"UWB-CDU-01", "cdu", "worker:JX-001", "焊工 张伟"},
    {"UWB-CDU-02", "cdu", "user:guardian", "监护人 赵敏"},
    {"UWB-CDU-03", "cdu", "user:leader", "检修班长 李强"},
    {"UWB-CDU-04", "cdu", "user:approver", "车间主任 陈立"},
    {"UWB-TF-01", "tank-farm", "worker:JX-002", "王磊 (T-301 受限空间)"},
};

presence::Vec2 Circle(double cx, double cy, double r, double period_s, double t) {
  const double a = 2 * 3.14159265358979 * t / period_s;
  return {cx + r * std::cos(a), cy + r * std::sin(a)};
}

// 0 before `from`, rising to 1 over `ramp` seconds, 1 until `to` - ramp, falling to 0 at `to`.
double Window(double phase, double from, double to, double ramp) {
  if (phase < from || phase >= to) return 0;
  if (phase < from + ramp) return (phase - from) / ramp;
  if (phase > to - ramp) return (to - phase) / ramp;
  return 1;
}

presence::Vec2 Lerp(presence::Vec2 a, presence::Vec2 b, double f) {
  return {a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f};
}

// Where demo tag `i` is `t` seconds after the start (`phase`: seconds into the incident
// period). Everyone keeps moving (the man-down rule watches for stillness).
presence::Vec2 DemoPosition(std::size_t i, double t, double phase) {
  switch (i) {
    case 0:  // the welder at pipe support PS-07 (work point 120, 45)
      return Circle(120, 45, 2, 60, t);
    case 1: {  // the guardian: by the work, away 80 m for three minutes (phase 300..480)
      const double away = Window(phase, 300, 480, 30);
      return Lerp(Circle(126, 50, 1.5, 40, t), Circle(200, 45, 1.5, 40, t), away);
    }
    case 2:  // the work leader round the work area
      return Circle(115, 40, 5, 90, t);
    case 3:  // the approver by the fence
      return Circle(130, 55, 3, 120, t);
    default: {  // the T-301 performer: inside the tank's fence for two minutes (420..540)
      const double inside = Window(phase, 420, 540, 20);
      return Lerp(Circle(-235, 310, 1.5, 50, t), Circle(-200, 312, 2, 45, t), inside);
    }
  }
}

presence::Fence DemoFence(core::OrgId org, const char* id, const char* site, const char* zone,
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

}  // namespace

core::Result<std::string> SeedDemoPresence(server::Installation& inst, const core::Clock& clock) {
  WG_ASSIGN_OR_RETURN(auto org, inst.OrgByCode(kOrg));
  live::PresenceService& svc = inst.presence();
  WG_ASSIGN_OR_RETURN(auto existing, svc.ListTags(org.id));
  if (!existing.empty()) return std::string("people on site already present\n");
  const live::Actor actor{"system:demo", "admin"};
  // Site frames: WGS-84 origins of the site coordinates (UWB anchors aligned with them).
  presence::SiteFrame cdu;
  cdu.origin = presence::LatLon{30.2741, 120.1551};
  WG_RETURN_IF_ERROR(svc.PutSiteFrame(org.id, "cdu", cdu, actor).status());
  presence::SiteFrame tanks;
  tanks.origin = presence::LatLon{30.2712, 120.1583};
  WG_RETURN_IF_ERROR(svc.PutSiteFrame(org.id, "tank-farm", tanks, actor).status());
  // A restricted fence round the CDU hot-work area (only people of an open permit of zone
  // CDU-E may enter) and a hazardous one round tank T-301 (man-down watched inside).
  presence::Fence hot = DemoFence(org.id, "CDU-E-HOTWORK", "cdu", "CDU-E",
                                  "常减压东区 动火作业隔离区", {{95, 20}, {145, 20}, {145, 70}, {95, 70}});
  hot.restricted = true;
  WG_RETURN_IF_ERROR(svc.PutFence(org.id, hot, 0, actor).status());
  presence::Fence tank = DemoFence(org.id, "TF3-T301", "tank-farm", "TF-3", "T-301 储罐区",
                                   {{-215, 295}, {-185, 295}, {-185, 325}, {-215, 325}});
  tank.hazardous = true;
  WG_RETURN_IF_ERROR(svc.PutFence(org.id, tank, 0, actor).status());
  for (const auto& d : kTags) {
    presence::Tag tag;
    tag.org = org.id;
    tag.id = d.id;
    tag.site = d.site;
    tag.kind = presence::TagKind::kUwb;
    tag.description = d.description;
    if (core::Status s = svc.PutTag(org.id, tag, 0, actor).status(); !s.ok()) {
      return s.WithContext(std::string("demo tag ") + d.id);
    }
    WG_ASSIGN_OR_RETURN(presence::PersonRef person, presence::ParsePersonRef(d.person));
    presence::Binding b;
    b.tag = d.id;
    b.person = person;
    b.valid_from = clock.Now();
    if (core::Status s = svc.Bind(org.id, b, actor).status(); !s.ok()) {
      return s.WithContext(std::string("demo binding ") + d.id);
    }
  }
  return "people on site: " + std::to_string(std::size(kTags)) +
         " UWB tags (welder, guardian, leader, approver at CDU-E; a T-301 entrant), 2 fences\n";
}

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
    PublishPositions(now, static_cast<double>(now.micros - start.micros) / 1e6);
    for (int i = 0; i < 10 && !stop_.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

// One fix a tag a second: the CDU's as one batch, the tank farm's on its tag's topic
// (QoS 0: a position is worth nothing once the next one is out).
void DemoSimulator::PublishPositions(core::Timestamp now, double t) {
  const double period = static_cast<double>(std::max<std::int64_t>(incident_every_.micros,
                                                                    60'000'000)) / 1e6;
  const double phase = std::fmod(t, period);
  const std::int64_t ms = now.micros / 1000;
  core::Json batch = core::Json::array();
  for (std::size_t i = 0; i < std::size(kTags); ++i) {
    const presence::Vec2 p = DemoPosition(i, t, phase);
    core::Json fix = {{"t", ms},
                      {"x", std::round(p.x * 100) / 100},
                      {"y", std::round(p.y * 100) / 100},
                      {"acc", 0.3}};
    if (std::string_view(kTags[i].site) == "cdu") {
      fix["tag"] = kTags[i].id;
      batch.push_back(std::move(fix));
    } else {
      (void)pub_->Publish(ingest::PositionTopic(kOrg, kTags[i].site, kTags[i].id), fix.dump(), 0,
                          false);
    }
  }
  (void)pub_->Publish(ingest::PositionBatchTopic(kOrg, "cdu"),
                      core::Json{{"positions", std::move(batch)}}.dump(), 0, false);
}

}  // namespace wg::cli

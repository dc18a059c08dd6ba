// The live part of `workguard demo` (demo_live.h).
#include "demo_live.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "spdlog/spdlog.h"
#include "wg/core/json.h"
#include "wg/ingest/decode.h"
#include "wg/live/service.h"
#include "wg/monitor/model.h"
#include "wg/permit/service.h"
#include "wg/presence/model.h"
#include "wg/server/demo.h"

namespace wg::cli {

namespace {

using server::kDemoOrg;

// Scenario seconds of the timeline (demo_live.h). The H2S rise is 1 mg/m3 a minute: the
// shipped early-warning model (data/models/early-warning.json) warns of slow rises only
// (faster ones cross before its features show a trend), ~5-7 minutes before the crossing.
//
// By default the rise began before the demo started (h2s_start_s = -1050): the buffered
// history the simulator uploads first already holds its first 17 minutes, the yellow
// alarm comes with the upload and the red alarm about 90 s after the start, so a new user
// sees the whole loop within two minutes. `--h2s-start 60` plays the rise live, for the
// early warning's predicted alarm well before red.
// The H2S profile relative to its start (DemoOptions::h2s_start_s, default -1050).
constexpr double kH2sPeakAfter = 1380, kH2sHoldAfter = 1500, kH2sEndAfter = 1620;
constexpr double kH2sRatePerMin = 1.0;  // mg/m3 a minute above the base; red at 20
constexpr double kH2sRedAfter = 1140;   // where the rise crosses 20 mg/m3
constexpr double kIntruderFrom = 180, kIntruderTo = 300;
constexpr double kExpiredWelderAt = 240, kStaleGasAt = 270;
constexpr double kGuardianAway = 180;   // the hot-work guardian's walk, after the red alarm
constexpr double kBackfillS = 1800, kBackfillStepS = 1;

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

// Scenario time `s` (negative: the uploaded history) as seconds since the start of the
// H2S rise of its period, in [0, period).
double H2sPhase(double s, double from, double period) {
  double p = std::fmod(s - from, period);
  if (p < 0) p += period;
  return p;
}

// The H2S added at the incident point `since` seconds after the start of the rise.
double H2sSurge(double since) {
  constexpr double peak = kH2sRatePerMin * kH2sPeakAfter / 60;
  if (since < 0) return 0;
  if (since < kH2sPeakAfter) return kH2sRatePerMin * since / 60;
  if (since < kH2sHoldAfter) return peak;
  if (since < kH2sEndAfter) {
    return peak * (1 - (since - kH2sHoldAfter) / (kH2sEndAfter - kH2sHoldAfter));
  }
  return 0;
}

// Where demo tag `id` is at scenario time `s` (`phase`: seconds into the period).
// Everyone keeps moving (the man-down rule watches for stillness).
presence::Vec2 Position(const std::string& id, double s, double phase, bool entry_open,
                        double red_at) {
  if (id == "UWB-CDU-01") return Circle(120, 45, 2, 60, s);  // welder at PS-07
  if (id == "UWB-CDU-02") {  // the guardian: by the work, 80 m away for three minutes
    // After the H2S red alarm (at least 330 s in), for three minutes.
    const double from = std::max(330.0, red_at + 240);
    const double away = Window(phase, from, from + kGuardianAway, 30);
    return Lerp(Circle(126, 50, 1.5, 40, s), Circle(200, 45, 1.5, 40, s), away);
  }
  if (id == "UWB-CDU-03") return Circle(115, 40, 5, 90, s);   // work leader
  if (id == "UWB-CDU-04") return Circle(130, 55, 3, 120, s);  // approver by the fence
  if (id == "UWB-CDU-05") {  // no permit: walks into the hot-work fence for a while
    const double in = Window(phase, kIntruderFrom, kIntruderTo, 30);
    return Lerp(Circle(60, 110, 2, 50, s), Circle(118, 52, 2, 50, s), in);
  }
  if (id == "UWB-CDU-06") return Circle(45, 60, 25, 300, s);  // rounds at the towers
  if (id == "UWB-TF-01") return Circle(-170, 220, 30, 400, s);
  if (id == "UWB-TF-02") return Circle(-80, 320, 15, 200, s);
  if (id == "UWB-HT-01") {  // the V-203 entrant: inside until the red alarm, then out
    // Nobody enters a suspended space (a demo restarted after the alarm).
    const double out =
        !entry_open ? 1 : s < red_at + 20 ? 0 : std::min(1.0, (s - red_at - 20) / 15);
    return Lerp(Circle(120, 30, 1.5, 45, s), Circle(120, 50, 1.5, 45, s), out);
  }
  if (id == "UWB-HT-02") return Circle(120, 42, 1, 60, s);    // guardian at the manhole
  if (id == "UWB-HT-03") return Circle(25, 182, 2, 80, s);    // the holder, far away
  if (id == "UWB-WS-01") return Circle(50, 40, 1.5, 70, s);   // crane driver
  if (id == "UWB-WS-02") return Circle(42, 30, 3, 90, s);     // crane commander
  if (id == "UWB-WS-03") return Circle(58, 32, 2, 80, s);     // lifting guardian
  return Circle(0, 0, 1, 60, s);
}

std::string Clock(double real_s) {
  char buf[24];
  const int whole = static_cast<int>(std::abs(real_s));
  std::snprintf(buf, sizeof buf, "%c%d:%02d", real_s < 0 ? '-' : '+', whole / 60, whole % 60);
  return buf;
}

}  // namespace

DemoSimulator::DemoSimulator(server::Installation& inst, std::string host, int port,
                             const core::Clock& clock, DemoOptions options)
    : inst_(inst), host_(std::move(host)), port_(port), clock_(clock), opt_(options) {
  if (!(opt_.speed > 0)) opt_.speed = 1;
  opt_.incident_every_s = std::max(opt_.incident_every_s, 1800.0);
  opt_.h2s_start_s = std::clamp(opt_.h2s_start_s, -1200.0, 600.0);
}

DemoSimulator::~DemoSimulator() { Stop(); }

std::string DemoSimulator::Schedule() const {
  const double k = 1 / opt_.speed;
  char speed[32];
  std::snprintf(speed, sizeof speed, "%g", opt_.speed);
  std::string out = "incident schedule (speed " + std::string(speed) +
                    ", repeats every " + Clock(opt_.incident_every_s * k) + " real time):\n";
  std::vector<std::pair<double, std::string>> lines;
  auto line = [&](double at, const std::string& what) { lines.emplace_back(at * k, what); };
  const double from = opt_.h2s_start_s, red = from + kH2sRedAfter;
  line(from, std::string("V-203（加氢 HT-V）受限空间作业中硫化氢缓慢上升 H2S rising 1 mg/m3 per scenario minute in "
                         "vessel V-203 during the confined-space entry") +
                 (from < 0 ? "（开始前，已在上传的历史数据中 since before the start, in the uploaded history）" : "") +
                 (opt_.speed > 1.2 ? ": at this speed the rise may be too fast for the early warning to come "
                                     "before red"
                  : from < -600 ? ": most of the rise is history; the early warning may have no time left "
                                  "before red (--h2s-start 60 plays it live)"
                                : ": the predicted yellow (early warning) expected ~" + Clock((from + 700) / opt_.speed)));
  line(kIntruderFrom, "无票人员进入常减压动火隔离区 unauthorized worker HG-003 enters the CDU hot-work fence (yellow)");
  line(kExpiredWelderAt, "提交焊工证过期的动火票被拒 a team leader submits the permit naming expired welder JX-005: refused");
  line(kStaleGasAt, "气体分析超过 30 分钟的动火票开工被拒 start of the pump-house hot work with a 45-minute-old gas test: refused");
  lines.emplace_back(300, "临时用电持证人不在现场 holder DQ-001 away from his temporary-power work (yellow after 5 real minutes)");
  line(red, "硫化氢超过 20 mg/m3 红色报警 red alarm: permits of HT-V suspended, power lock, broadcast, evidence");
  line(red + 20, "V-203 进入者撤离 the entrant climbs out");
  line(std::max(330.0, red + 240), "常减压动火监护人离开 the CDU hot-work guardian walks 80 m away (red after the 2-minute grace, permit suspended)");
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [at, what] : lines) out += "  " + Clock(at) + "  " + what + "\n";
  return out;
}

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
  // Every point its own noise stream, so a point's series does not depend on the others.
  const auto& points = server::DemoPoints();
  std::vector<std::mt19937> rng;
  for (std::size_t i = 0; i < points.size(); ++i) rng.emplace_back(20261129u + static_cast<unsigned>(i));
  std::mt19937 bench_rng(7);
  std::normal_distribution<double> unit(0.0, 1.0);
  std::vector<server::DemoPointSpec> bench;
  for (int i = 0; i < opt_.extra_points; ++i) bench.push_back(server::BenchPoint(i));
  auto publish = [&](const server::DemoPointSpec& d, double v, core::Timestamp at) {
    if (v < 0) v = 0;
    v = std::round(v * 100) / 100;
    core::Json msg = {{"t", at.micros / 1000}, {"v", v}, {"u", d.unit}};
    (void)pub_->Publish(ingest::ReadingTopic(kDemoOrg, d.site, d.id), msg.dump(), 1, false);
  };
  // The detectors' last 30 minutes, as a site gateway uploads its buffer after a
  // reconnect (one reading a second, stamped with its measurement time): the
  // early-warning model needs that much history to see a trend. Readings older than what
  // the server already holds (a restarted demo) are refused as out of order, harmlessly.
  // Waits for the server's MQTT bridge to subscribe first.
  for (int i = 0; i < 30 && !stop_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    // One reading a second per point (the model's features assume the live rate), sent as
    // one batch per site and minute in time order, paced so the intake queue keeps up.
    const core::Timestamp now = clock_.Now();
    std::mt19937 back(11);
    for (double from = kBackfillS; from > 0 && !stop_.load(); from -= 60) {
      std::map<std::string, core::Json> batches;
      for (double ago = from; ago > std::max(0.0, from - 60); ago -= kBackfillStepS) {
        const core::Timestamp at{now.micros - static_cast<std::int64_t>(ago * 1e6)};
        // Only the current period's rise: older periods are not replayed into the history.
        const double back_s = -ago * opt_.speed;
        const double surge = H2sSurge(back_s - opt_.h2s_start_s);
        for (const auto& d : points) {
          double v = d.base + d.noise * unit(back);
          if (d.id == server::kDemoIncidentPoint) v += surge;
          if (d.id == server::kDemoIncidentO2) v -= surge * 0.02;
          if (v < 0) v = 0;
          v = std::round(v * 100) / 100;
          auto [it, fresh] = batches.try_emplace(d.site, core::Json::array());
          it->second.push_back({{"p", d.id}, {"t", at.micros / 1000}, {"v", v}, {"u", d.unit}});
        }
      }
      for (auto& [site, readings] : batches) {
        (void)pub_->Publish(ingest::BatchTopic(kDemoOrg, site),
                            core::Json{{"readings", std::move(readings)}}.dump(), 1, false);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (long tick = 0; !stop_.load(); ++tick) {
    const core::Timestamp now = clock_.Now();
    const double s = static_cast<double>(tick) * opt_.speed;  // scenario seconds
    const double surge = H2sSurge(H2sPhase(s, opt_.h2s_start_s, opt_.incident_every_s));
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto& d = points[i];
      double v = d.base + d.noise * unit(rng[i]);
      if (d.id == server::kDemoIncidentPoint) v += surge;
      if (d.id == server::kDemoIncidentO2) v -= surge * 0.02;  // displaced air
      publish(d, v, now);
    }
    for (const auto& d : bench) publish(d, d.base + d.noise * unit(bench_rng), now);
    PublishPositions(now, s);
    ScriptedActions(s);
    AcknowledgeYellow(now);
    // The next tick one real second after the previous one.
    const auto next = t0 + std::chrono::seconds(tick + 1);
    while (!stop_.load() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

// One fix a tag a second, per site as one batch (QoS 0: a position is worth nothing once
// the next one is out).
void DemoSimulator::PublishPositions(core::Timestamp now, double s) {
  const double phase = std::fmod(s, opt_.incident_every_s);
  const std::int64_t ms = now.micros / 1000;
  std::map<std::string, core::Json> batches;
  for (const auto& tag : server::DemoTags()) {
    const presence::Vec2 p = Position(tag.id, s, phase, entry_open_.load(),
                                      opt_.h2s_start_s + kH2sRedAfter);
    core::Json fix = {{"tag", tag.id},
                      {"t", ms},
                      {"x", std::round(p.x * 100) / 100},
                      {"y", std::round(p.y * 100) / 100},
                      {"acc", 0.3}};
    auto [it, fresh] = batches.try_emplace(tag.site, core::Json::array());
    it->second.push_back(std::move(fix));
  }
  for (auto& [site, batch] : batches) {
    (void)pub_->Publish(ingest::PositionBatchTopic(kDemoOrg, site),
                        core::Json{{"positions", std::move(batch)}}.dump(), 0, false);
  }
}

// The shift's response: team leader "shift" acknowledges every blue or yellow alarm of the
// demo 45 s (real time, less at higher speeds) after it is raised, as the SOP asks — so a
// yellow alarm does not escalate to red on its 5-minute deadline and the red alarms are
// those of the timeline. Red alarms are left to the safety manager (the demo user).
void DemoSimulator::AcknowledgeYellow(core::Timestamp now) {
  auto org = inst_.OrgByCode(kDemoOrg);
  if (!org) return;
  live::AlarmQuery q;
  q.states = {"active_unacked"};
  q.limit = 100;
  auto alarms = inst_.monitor().ListAlarms(org->id, q);
  if (!alarms) return;
  const auto after = static_cast<std::int64_t>(std::max(10.0, 45.0 / opt_.speed) * 1e6);
  const live::Actor shift{"user:shift", "team_leader"};
  for (const auto& a : *alarms) {
    if (a.level == monitor::Level::kRed || now.micros - a.raised_at.micros < after) continue;
    if (auto r = inst_.monitor().Acknowledge(org->id, a.id, "当班班长已到现场核实，加强监测 / shift leader on site, checking", shift);
        !r) {
      spdlog::warn("demo: acknowledging alarm {}: {}", a.id, r.error().ToString());
    }
  }
}

// The scripted permit actions, once a period each, through the real permit service as
// team leader "leader": both are refused and the refusal is recorded (permit.refused).
void DemoSimulator::ScriptedActions(double s) {
  const long period = static_cast<long>(s / opt_.incident_every_s);
  const double phase = std::fmod(s, opt_.incident_every_s);
  // Is the V-203 entry open (its confined-space permit active)? Checked every 10 ticks.
  if (entry_checks_++ % 10 == 0) {
    if (auto org = inst_.OrgByCode(kDemoOrg)) {
      if (auto list = inst_.permits().List(org->id, {.filter = {.states = {"active"}}})) {
        bool open = false;
        for (const auto& p : *list) {
          open = open || (p.type == permit::PermitType::kConfinedSpace && p.location.zone == "HT-V");
        }
        entry_open_.store(open);
      }
    }
  }
  const std::pair<double, const char*> actions[2] = {{kExpiredWelderAt, server::kDemoExpiredWelderTitle},
                                                     {kStaleGasAt, server::kDemoStaleGasTitle}};
  for (int i = 0; i < 2; ++i) {
    if (phase < actions[i].first || last_action_period_[i] == period) continue;
    last_action_period_[i] = period;
    auto org = inst_.OrgByCode(kDemoOrg);
    auto user = inst_.store().FindUserByUsername("leader");
    if (!org || !user) continue;
    permit::Actor leader{.name = "user:leader", .user_id = user->id, .username = "leader",
                         .role = "team_leader"};
    auto list = inst_.permits().List(org->id, {});
    if (!list) continue;
    for (const auto& p : *list) {
      if (p.title != actions[i].second) continue;
      auto r = i == 0 ? inst_.permits().Submit(org->id, p.id, leader)
                      : inst_.permits().Activate(org->id, p.id, leader);
      if (!r) {
        spdlog::warn("demo: scripted action on {}: {}", p.number, r.error().ToString());
      } else {
        std::string rules;
        if (r->decision) {
          for (const auto& v : r->decision->violations) {
            if (v.severity == permit::Severity::kBlock) rules += " " + v.rule;
          }
        }
        spdlog::info("demo: {} {} {}:{}", i == 0 ? "submission of" : "start of", p.number,
                     r->applied ? "applied" : "refused", rules);
      }
      break;
    }
  }
}

}  // namespace wg::cli

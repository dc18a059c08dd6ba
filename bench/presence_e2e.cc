// People on site end to end (bench/README.md, "People on site"): positions through the
// real path, all in one process on loopback:
//
//   ingest::MqttPublisher (QoS 1) -> mosquitto (ingest::TestBroker) -> live::MqttBridge
//   (SetPresence) -> live::PresenceService inside a server::Installation (SQLite store,
//   evidence logs, monitor and presence threads as the serving process runs them).
//
//   presence_e2e [--quick] [--out FILE.json] [--tags N] [--fences N] [--permits N]
//                [--rate FIXES_PER_S] [--batch-s S] [--single-s S] [--max-s S]
//                [--window MSGS] [--setup-threads N] [--mosquitto PATH] [--keep]
//
// Scenario: one organization, one site with a site frame (WGS-84 origin, UWB transform);
// 10,000 UWB tags each bound (PresenceService::Bind) to a registry worker; 1,000 zone
// fences (convex and concave polygons 10-60 m across on a 2 km x 2 km site, as in
// bench/presence_engine_bench.cc); a few active hot-work permits whose guardian and
// performer are tagged workers. Every tag walks at ~1.2 m/s (a heading kept for ~20 s,
// bouncing off the site's edges); a fix's position follows from its time, so any fix rate
// stays a plausible walk. A probe tag is bound to a system user.
//
//   (1) paced batches: 10,000 fixes/s (every tag at 1 Hz) for 30 s, 100 fixes a message on
//       wg/v1/<org>/<site>/positions
//   (2) paced single fixes: 10,000 messages/s for 15 s on wg/v1/<org>/<site>/tags/<tag>/position
//   (3) max rate: batches of 100 as fast as the pipeline takes them for 20 s (the publisher
//       keeps at most --window messages not yet received by the bridge)
//   (4) latency, during (1): every 100 ms one fix of the probe tag on its single topic, on
//       its own connection; publish -> the fix visible in the service. Visibility is polled
//       every 50 us (sleep granularity makes it ~50-110 us) with
//       PresenceService::UserPosition (the probe's person's freshest tag state: one lookup
//       under the engine lock). PresenceService::Positions would copy all 10,001 tag
//       states per poll, holding the engine lock; its cost per call is reported beside.
//
// Per phase: fixes sent, PresenceService::Stats deltas (received, accepted, rejected by
// reason, dropped), wall time, and the CPU time of this process (getrusage RUSAGE_SELF:
// publisher(s), bridge, presence and monitor threads, probe poller, all together) plus the
// broker's (from /proc). Before reading the final figures of a phase the harness waits
// until the service has received every fix sent, then calls Flush().

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/ingest/broker.h"
#include "wg/ingest/decode.h"
#include "wg/ingest/mqtt.h"
#include "wg/live/mqtt_bridge.h"
#include "wg/live/presence_service.h"
#include "wg/permit/model.h"
#include "wg/permit/service.h"
#include "wg/presence/model.h"
#include "wg/server/installation.h"

namespace {

namespace fs = std::filesystem;
using wg::core::Duration;
using wg::core::OrgId;
using wg::core::Timestamp;
namespace presence = wg::presence;

constexpr const char* kOrg = "bench";
constexpr const char* kSite = "S1";
constexpr const char* kProbeTag = "PROBE";
constexpr const char* kProbeUser = "probe.user";
constexpr double kSiteM = 2000;  // metres square
constexpr double kSpeed = 1.2;   // m/s

// ---------------------------------------------------------------------------------------
// Time, logging
// ---------------------------------------------------------------------------------------

std::int64_t MonoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
double SecondsSince(std::int64_t t0) { return static_cast<double>(MonoNs() - t0) / 1e9; }
std::int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
void SleepUs(std::int64_t us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

const std::int64_t g_start_ns = MonoNs();

void Log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void Log(const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "[%7.2fs] %s\n", SecondsSince(g_start_ns), buf);
}

pid_t FindBrokerPid();

[[noreturn]] void Die(const std::string& what) {
  Log("FATAL: %s", what.c_str());
  std::fflush(stderr);
  const pid_t b = FindBrokerPid();  // the TestBroker's mosquitto must not outlive us
  if (b > 0) kill(b, SIGKILL);
  std::_Exit(2);
}

template <typename T>
T Must(wg::core::Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.error().ToString());
  return std::move(*r);
}
void MustOk(const wg::core::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

std::string LoadAvg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

double RssMb() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
                      (1024 * 1024)
                : 0;
}

// ---------------------------------------------------------------------------------------
// CPU accounting: this process (getrusage) and the broker (/proc/<pid>/stat)
// ---------------------------------------------------------------------------------------

double SelfCpuS() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// The mosquitto TestBroker started: our child named "mosquitto".
pid_t FindBrokerPid() {
  const pid_t self = getpid();
  DIR* d = opendir("/proc");
  if (d == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (comm == "mosquitto" && ppid == self) {
      found = pid;
      break;
    }
  }
  closedir(d);
  return found;
}

double PidCpuS(pid_t pid) {
  if (pid <= 0) return NAN;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return NAN;
  const auto close = line.rfind(')');
  std::istringstream rest(line.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // Fields after comm: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 15; ++i) {
    rest >> f;
    if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// ---------------------------------------------------------------------------------------
// Percentiles
// ---------------------------------------------------------------------------------------

struct Percentile {
  std::size_t n = 0;
  double p50 = NAN, p90 = NAN, p99 = NAN, max = NAN, mean = NAN;
};
Percentile Summarize(std::vector<double> v) {
  Percentile p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {  // nearest rank
    auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
    return v[std::min(idx, v.size() - 1)];
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = v.back();
  double s = 0;
  for (double x : v) s += x;
  p.mean = s / static_cast<double>(v.size());
  return p;
}

std::string J(double v, int prec = 3) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}
std::string Fmt(double v, int prec = 0) {
  if (!std::isfinite(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  std::string s = b;
  if (prec == 0 && std::fabs(v) >= 1000) {  // thousands separators
    std::string out;
    const bool neg = s[0] == '-';
    std::string digits = neg ? s.substr(1) : s;
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return neg ? "-" + out : out;
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// The walkers: position is a function of fix time (~1.2 m/s), so any rate stays plausible
// ---------------------------------------------------------------------------------------

struct Walkers {
  std::vector<std::string> ids;
  std::vector<double> x, y, heading;
  std::vector<std::int64_t> last_ms;
  std::mt19937_64 rng{20261129};

  void Init(int n) {
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < n; ++i) {
      std::string id = "T";
      id += std::to_string(i);
      ids.push_back(std::move(id));
      x.push_back(u(rng) * kSiteM);
      y.push_back(u(rng) * kSiteM);
      heading.push_back(u(rng) * 2 * M_PI);
      last_ms.push_back(0);
    }
  }
  // The next fix of walker i: time now (strictly after its last fix), position advanced by
  // kSpeed x elapsed along its heading (a new heading with probability dt/20 s).
  std::int64_t Step(std::size_t i, double& ox, double& oy) {
    std::int64_t& last = last_ms[i];
    const std::int64_t t = std::max(WallMs(), last + 1);
    if (last != 0) {
      const double dt = static_cast<double>(t - last) / 1000.0;
      std::uniform_real_distribution<double> u(0, 1);
      if (u(rng) < dt / 20.0) heading[i] = u(rng) * 2 * M_PI;
      double nx = x[i] + kSpeed * dt * std::cos(heading[i]);
      double ny = y[i] + kSpeed * dt * std::sin(heading[i]);
      if (nx < 0 || nx > kSiteM || ny < 0 || ny > kSiteM) {
        heading[i] += M_PI;
        nx = std::clamp(nx, 0.0, kSiteM);
        ny = std::clamp(ny, 0.0, kSiteM);
      }
      x[i] = nx;
      y[i] = ny;
    }
    last = t;
    ox = x[i];
    oy = y[i];
    return t;
  }
};

// {"positions":[{"tag":"T1","t":...,"x":...,"y":...,"z":1.2,"acc":0.3}, ...]}
std::string BatchPayload(Walkers& w, std::size_t first, std::size_t n) {
  std::string s;
  s.reserve(n * 80 + 16);
  s += "{\"positions\":[";
  char buf[160];
  for (std::size_t j = 0; j < n; ++j) {
    const std::size_t i = (first + j) % w.ids.size();
    double x = 0, y = 0;
    const std::int64_t t = w.Step(i, x, y);
    std::snprintf(buf, sizeof buf, "%s{\"tag\":\"%s\",\"t\":%lld,\"x\":%.2f,\"y\":%.2f,\"z\":1.2,\"acc\":0.3}",
                  j == 0 ? "" : ",", w.ids[i].c_str(), static_cast<long long>(t), x, y);
    s += buf;
  }
  s += "]}";
  return s;
}

std::string SinglePayload(std::int64_t t, double x, double y) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "{\"t\":%lld,\"x\":%.2f,\"y\":%.2f,\"z\":1.2,\"acc\":0.3}",
                static_cast<long long>(t), x, y);
  return buf;
}

// Fence outlines as in bench/presence_engine_bench.cc: 8-24 vertices, radius r (10-60 m
// across), every third one concave (star-ish notches), every seventh with a hole.
presence::Ring Blob(std::mt19937_64& rng, presence::Vec2 c, double r, bool concave) {
  std::uniform_int_distribution<int> nv(8, 24);
  std::uniform_real_distribution<double> jitter(0.75, 1.0);
  const int n = nv(rng);
  presence::Ring ring;
  for (int k = 0; k < n; ++k) {
    const double a = 2 * M_PI * k / n;
    double rr = r * jitter(rng);
    if (concave && k % 4 == 2) rr *= 0.45;
    ring.push_back({c.x + rr * std::cos(a), c.y + rr * std::sin(a)});
  }
  return ring;
}

// ---------------------------------------------------------------------------------------
// The installation
// ---------------------------------------------------------------------------------------

struct Options {
  bool quick = false;
  bool keep = false;
  std::string out;
  int tags = 10'000;
  int fences = 1'000;
  int permits = 10;
  double rate = 10'000;   // fixes/s in (1), messages/s in (2)
  double batch_s = 30;    // (1)
  double single_s = 15;   // (2)
  double max_s = 20;      // (3)
  std::uint64_t window = 200;  // (3): messages published but not yet received by the bridge
  std::string mosquitto = "/usr/sbin/mosquitto";
  double limit_s = 420;   // watchdog
  int setup_threads = 8;  // concurrent PutTag / Bind calls during setup
};

wg::permit::Permit ActiveHotWork(int k, presence::Vec2 at, const std::string& guardian,
                                 const std::string& performer, Timestamp start) {
  namespace permit = wg::permit;
  permit::Permit p;
  p.org = kOrg;
  p.site = kSite;
  p.type = permit::PermitType::kHotWork;
  p.grade = "grade2";
  p.title = "管托焊接 (bench " + std::to_string(k) + ")";
  p.work_unit = "维修车间";
  p.owning_unit = "一联合装置";
  p.hazard_analysis = "JHA-1";
  p.location.zone = "PZ" + std::to_string(k);
  p.location.description = "bench work " + std::to_string(k);
  p.location.point = {at.x, at.y};
  p.location.fence = {{at.x - 10, at.y - 10},
                      {at.x + 10, at.y - 10},
                      {at.x + 10, at.y + 10},
                      {at.x - 10, at.y + 10}};
  p.location.area_class = "general";
  p.planned_start = start;
  p.planned_end = start + Duration::Hours(8);
  p.measures.push_back({"m1", "动火点周围易燃物已清除", true, "guard", start});
  p.people = {{"performer", performer, "", "作业人 " + performer, {}},
              {"guardian", guardian, "", "监护人 " + guardian, {}},
              {"work_leader", "", "leader", "王五", {}},
              {"safety_briefer", "", "safety", "赵六", {}},
              {"briefing_recipient", performer, "", "作业人 " + performer, {}},
              {"gas_analyst", "", "guard2", "陈七", {}}};
  p.hot_work.emplace();
  p.hot_work->method = "welding";
  p.state = permit::State::kActive;
  return p;
}

struct Site {
  wg::core::SystemClock clock;
  std::unique_ptr<wg::server::Installation> inst;
  std::unique_ptr<wg::live::MqttBridge> bridge;
  OrgId org{};
  double setup_workers_s = 0, setup_tags_s = 0, setup_bind_s = 0, setup_fences_s = 0;
  int permits = 0;

  wg::live::PresenceService& svc() { return inst->presence(); }

  void Open(const std::string& dir, const Options& opt, Walkers& walkers) {
    wg::server::InstallationOptions io;
    io.data_dir = dir;
    io.start_monitor = true;  // monitor + presence threads, as the serving process
    inst = Must(wg::server::Installation::Open(io, clock), "installation");
    auto o = Must(inst->CreateOrganization({kOrg, "基准石化"}, "cli:bench"), "organization");
    org = o.id;
    Must(inst->CreateSite(org, {kSite, "一厂区", ""}, "cli:bench"), "site");
    const wg::live::Actor actor{"cli:bench", "admin"};
    const Timestamp now = clock.Now();

    // Workers: one import batch (one transaction, as the registry's CSV import commits).
    std::int64_t t0 = MonoNs();
    {
      std::vector<wg::store::ImportWorker> ws;
      ws.reserve(static_cast<std::size_t>(opt.tags));
      for (int i = 0; i < opt.tags; ++i) {
        wg::domain::Worker w;
        w.org_id = org;
        w.code = "W" + std::to_string(i);
        w.name = "工人 " + std::to_string(i);
        w.employer = "检修公司";
        w.id_salt = "00112233445566778899aabbccddeeff";
        w.id_digest = "bench-digest-" + std::to_string(i);
        w.id_lookup = "bench-lookup-" + std::to_string(i);
        w.id_last4 = "123X";
        w.phone = "13800000000";
        w.created_at = now;
        w.updated_at = now;
        ws.push_back({std::move(w)});
      }
      auto sum = Must(inst->store().ImportBatch(org, ws, {}), "import workers");
      Log("workers: %lld created", static_cast<long long>(sum.workers_created));
    }
    setup_workers_s = SecondsSince(t0);
    // The probe tag's person: a system user.
    {
      wg::domain::User u;
      u.org_id = org;
      u.username = kProbeUser;
      u.display_name = "延迟探针";
      u.role = wg::domain::Role::kWorker;
      u.password_hash = "!";  // cannot log in
      u.active = true;
      u.created_at = now;
      Must(inst->CreateUser(u, "cli:bench"), "probe user");
    }
    // The site frame: WGS-84 origin, identity UWB transform (anchors set up in site metres).
    {
      presence::SiteFrame f;
      f.origin = presence::LatLon{31.2304, 121.4737};
      f.uwb = presence::FrameTransform{0, 0, 0, 0};
      Must(svc().PutSiteFrame(org, kSite, f, actor), "site frame");
    }
    // Active hot-work permits whose guardian and performer are tagged workers.
    {
      std::mt19937_64 rng(31);
      std::uniform_real_distribution<double> u(0, 1);
      for (int k = 0; k < opt.permits; ++k) {
        const presence::Vec2 at{100 + u(rng) * (kSiteM - 200), 100 + u(rng) * (kSiteM - 200)};
        wg::permit::Permit p =
            ActiveHotWork(k, at, "W" + std::to_string((k * 97) % opt.tags),
                          "W" + std::to_string((k * 97 + 1) % opt.tags), now - Duration::Minutes(30));
        wg::store::PermitRow row;
        row.org_id = org;
        row.site = p.site;
        row.type = std::string(wg::permit::PermitTypeCode(p.type));
        row.grade = p.grade;
        row.state = std::string(wg::permit::StateCode(p.state));
        row.planned_start = p.planned_start;
        row.planned_end = p.planned_end;
        row.document = wg::core::DumpJson(wg::permit::ToJson(p));
        Must(inst->store().CreatePermit(row, "BX-", {}), "active permit");
        ++permits;
      }
      MustOk(inst->permits().LoadIndex(), "permit index");
    }
    // Tags and bindings through the service (each a stored fact, synced into the log).
    t0 = MonoNs();
    auto put_tag = [&](const std::string& id) {
      presence::Tag t;
      t.org = org;
      t.id = id;
      t.site = kSite;
      t.kind = presence::TagKind::kUwb;
      Must(svc().PutTag(org, t, 0, actor), "tag " + id);
    };
    // Configuration writes from several threads: each write is its own transaction and
    // evidence sync, and concurrent syncs share their work.
    auto parallel = [&](const std::function<void(int)>& one) {
      std::vector<std::thread> ts;
      const int n = std::max(1, opt.setup_threads);
      for (int k = 0; k < n; ++k) {
        ts.emplace_back([&, k] {
          for (int i = k; i < opt.tags; i += n) one(i);
        });
      }
      for (auto& t : ts) t.join();
    };
    parallel([&](int i) { put_tag(walkers.ids[static_cast<std::size_t>(i)]); });
    put_tag(kProbeTag);
    setup_tags_s = SecondsSince(t0);
    Log("tags: %d + probe in %.1f s", opt.tags, setup_tags_s);
    t0 = MonoNs();
    auto bind = [&](const std::string& tag, presence::PersonRef person) {
      presence::Binding b;
      b.tag = tag;
      b.person = std::move(person);
      b.valid_from = now - Duration::Days(1);
      Must(svc().Bind(org, b, actor), "bind " + tag);
    };
    parallel([&](int i) {
      bind(walkers.ids[static_cast<std::size_t>(i)],
           {presence::PersonRef::Kind::kWorker, "W" + std::to_string(i)});
    });
    bind(kProbeTag, {presence::PersonRef::Kind::kUser, kProbeUser});
    setup_bind_s = SecondsSince(t0);
    Log("bindings: %d + probe in %.1f s", opt.tags, setup_bind_s);
    // Zone fences.
    t0 = MonoNs();
    {
      std::mt19937_64 rng(20261129);
      std::uniform_real_distribution<double> u(0, 1);
      for (int i = 0; i < opt.fences; ++i) {
        presence::Fence fe;
        fe.org = org;
        fe.id = "F" + std::to_string(i);
        fe.site = kSite;
        fe.zone = "Z" + std::to_string(i % 60);
        fe.name = "围栏 " + std::to_string(i);
        fe.hazardous = i % 10 == 0;
        fe.restricted = i % 20 == 5;
        const presence::Vec2 c{30 + u(rng) * (kSiteM - 60), 30 + u(rng) * (kSiteM - 60)};
        const double r = 5 + u(rng) * 25;  // 10-60 m across
        fe.area.outer = Blob(rng, c, r, i % 3 == 0);
        if (i % 7 == 0) fe.area.holes.push_back(presence::CircleRing(c, r * 0.2, 8));
        Must(svc().PutFence(org, fe, 0, actor), "fence " + fe.id);
      }
    }
    setup_fences_s = SecondsSince(t0);
    Log("fences: %d in %.1f s", opt.fences, setup_fences_s);
    MustOk(svc().Refresh(), "presence refresh (permits)");
    auto st = svc().Stats();
    Log("presence: %llu tags, %llu fences, %llu permits in the engine; RSS %.0f MB",
        static_cast<unsigned long long>(st.tags), static_cast<unsigned long long>(st.fences),
        static_cast<unsigned long long>(st.permits), RssMb());
  }

  void StartBridge(int port) {
    wg::live::BridgeOptions bo;
    bo.mqtt.host = "127.0.0.1";
    bo.mqtt.port = port;
    bo.client_id = "wg-bench";
    bo.mqtt.client_id = "wg-bench";
    bridge = std::make_unique<wg::live::MqttBridge>(inst->monitor(), bo);
    bridge->SetPresence(&svc());
    MustOk(bridge->Start(10000), "bridge start");
  }
  std::uint64_t BridgeMessages() const { return bridge->in_counters().messages.load(); }

  void Close() {
    if (bridge) bridge->Stop();
    bridge.reset();
    inst.reset();
  }
};

// ---------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------

struct PhaseResult {
  std::string name;
  std::string topic_kind;  // "batch x100" / "single"
  double target_rate = 0;  // fixes/s asked for (0: max)
  std::uint64_t messages = 0, fixes = 0;  // load sent (probe fixes counted apart)
  std::uint64_t probe_fixes = 0;
  std::uint64_t publish_failed = 0;
  double publish_s = 0;  // first publish -> last publish
  double total_s = 0;    // first publish -> everything accepted (Flush returned)
  double drain_s = 0;    // last publish -> everything accepted
  double sent_rate = 0;      // fixes / publish_s
  double accepted_rate = 0;  // accepted / total_s
  double cpu_s = 0;          // RUSAGE_SELF delta over total_s
  double broker_cpu_s = NAN;
  std::uint64_t received = 0, accepted = 0, dropped = 0, rejected = 0;
  std::map<std::string, std::uint64_t> rejected_by;
  std::int64_t broker_dropped = -1;  // the bridge's last view of the $SYS drop counter
  std::uint64_t events = 0, alarms_raised = 0, blocks_sealed = 0, persist_errors = 0;
  bool lossless = false;
  bool flushed = false;
  std::uint64_t queue_depth_max = 0;
};

struct Snapshot {
  wg::live::PresenceStats st;
  double cpu = 0, broker_cpu = NAN;
};

std::uint64_t SumRejected(const std::map<std::string, std::uint64_t>& m) {
  std::uint64_t n = 0;
  for (const auto& [k, v] : m) n += v;
  return n;
}

struct Latency {
  int probes = 0, seen = 0;
  Percentile ms;
  std::vector<double> samples;
};

// Probe loop (runs on its own thread during a phase): every `every_ms` one fix of the
// probe tag on its single topic, over its own connection; polls UserPosition every
// `poll_us` until the service shows that fix (or 2 s).
void ProbeLoop(Site& site, int port, std::atomic<bool>& stop, int every_ms, int poll_us,
               Latency& out) {
  wg::ingest::MqttOptions mo;
  mo.host = "127.0.0.1";
  mo.port = port;
  mo.client_id = "bench-probe";
  mo.clean_session = true;
  wg::ingest::MqttPublisher pub(mo);
  MustOk(pub.Start(10000), "probe publisher");
  Walkers w;
  w.Init(1);
  const std::string topic = wg::ingest::PositionTopic(kOrg, kSite, kProbeTag);
  std::int64_t next = MonoNs();
  while (!stop.load()) {
    double x = 0, y = 0;
    const std::int64_t t_ms = w.Step(0, x, y);
    const std::string payload = SinglePayload(t_ms, x, y);
    const std::int64_t t_pub = MonoNs();
    const auto s = pub.Publish(topic, payload, 1, false);
    if (!s.ok()) Die("probe publish: " + s.ToString());
    out.probes++;
    const std::int64_t want = t_ms * 1000;
    for (;;) {
      auto p = site.svc().UserPosition(site.org, kSite, kProbeUser);
      if (p && p->second.micros >= want) {
        out.samples.push_back(static_cast<double>(MonoNs() - t_pub) / 1e6);
        out.seen++;
        break;
      }
      if (MonoNs() - t_pub > 2'000'000'000LL) break;
      SleepUs(poll_us);
    }
    next += static_cast<std::int64_t>(every_ms) * 1'000'000;
    while (MonoNs() < next && !stop.load()) SleepUs(1000);
  }
  (void)pub.Drain(5000);
  pub.Stop();
  out.ms = Summarize(out.samples);
}

struct PhaseSpec {
  std::string name;
  bool batch = true;        // 100 fixes a message on .../positions; else .../tags/<t>/position
  double rate = 0;          // fixes/s; 0: as fast as the pipeline takes them (window)
  double seconds = 0;
  bool probes = false;      // latency probes every 100 ms
};

PhaseResult RunPhase(Site& site, int port, const PhaseSpec& spec, Walkers& w,
                     std::uint64_t window, Latency* lat) {
  PhaseResult r;
  r.name = spec.name;
  r.topic_kind = spec.batch ? "batch x100" : "single";
  r.target_rate = spec.rate;
  const std::size_t per_msg = spec.batch ? 100 : 1;
  const std::string batch_topic = wg::ingest::PositionBatchTopic(kOrg, kSite);
  std::vector<std::string> single_topics;
  if (!spec.batch) {
    for (const auto& id : w.ids) single_topics.push_back(wg::ingest::PositionTopic(kOrg, kSite, id));
  }

  wg::ingest::MqttOptions mo;
  mo.host = "127.0.0.1";
  mo.port = port;
  mo.client_id = "bench-load";
  mo.clean_session = true;
  wg::ingest::MqttPublisher pub(mo);
  MustOk(pub.Start(10000), "load publisher");

  const pid_t broker = FindBrokerPid();
  const wg::live::PresenceStats base = site.svc().Stats();
  const std::uint64_t bridge_base = site.BridgeMessages();
  const double cpu0 = SelfCpuS();
  const double bcpu0 = PidCpuS(broker);

  // Queue depth sampler (Stats() every 100 ms).
  std::atomic<bool> stop_sampler{false};
  std::atomic<std::uint64_t> qmax{0};
  std::thread sampler([&] {
    while (!stop_sampler.load()) {
      const auto st = site.svc().Stats();
      if (st.queue_depth > qmax.load()) qmax = st.queue_depth;
      SleepUs(100'000);
    }
  });
  std::atomic<bool> stop_probe{false};
  std::thread probe;
  if (spec.probes && lat != nullptr) {
    probe = std::thread([&] { ProbeLoop(site, port, stop_probe, 100, 50, *lat); });
  }

  const double msg_rate = spec.rate / static_cast<double>(per_msg);
  const std::uint64_t total_msgs =
      spec.rate > 0 ? static_cast<std::uint64_t>(std::llround(msg_rate * spec.seconds)) : 0;
  std::uint64_t i = 0;
  std::size_t next_tag = 0;
  auto publish_one = [&] {
    if (spec.batch) {
      const std::string payload = BatchPayload(w, next_tag, per_msg);
      next_tag = (next_tag + per_msg) % w.ids.size();
      if (!pub.Publish(batch_topic, payload, 1, false).ok()) r.publish_failed++;
    } else {
      double x = 0, y = 0;
      const std::int64_t t = w.Step(next_tag, x, y);
      if (!pub.Publish(single_topics[next_tag], SinglePayload(t, x, y), 1, false).ok()) {
        r.publish_failed++;
      }
      next_tag = (next_tag + 1) % w.ids.size();
    }
    ++i;
  };
  const std::int64_t t0 = MonoNs();
  if (spec.rate > 0) {
    while (i < total_msgs) {
      const auto due = std::min<std::uint64_t>(
          total_msgs, static_cast<std::uint64_t>(SecondsSince(t0) * msg_rate) + 1);
      while (i < due) publish_one();
      SleepUs(500);
    }
  } else {
    while (SecondsSince(t0) < spec.seconds) {
      int burst = 0;
      while (i - (site.BridgeMessages() - bridge_base) < window && burst < 64) {
        publish_one();
        ++burst;
      }
      if (burst == 0) SleepUs(20);
    }
  }
  const std::int64_t t_last = MonoNs();
  r.publish_s = static_cast<double>(t_last - t0) / 1e9;
  stop_probe = true;
  if (probe.joinable()) probe.join();
  r.messages = i;
  r.fixes = i * per_msg;
  r.probe_fixes = lat != nullptr && spec.probes ? static_cast<std::uint64_t>(lat->probes) : 0;

  // Everything received by the service, then Flush() (processed and its facts synced).
  const std::uint64_t expect = r.fixes + r.probe_fixes;
  const std::int64_t wait0 = MonoNs();
  for (;;) {
    const auto st = site.svc().Stats();
    const std::uint64_t got = st.received - base.received;
    if (got >= expect) break;
    if (SecondsSince(wait0) > 120) {
      Log("%s: timed out waiting: received %llu of %llu", spec.name.c_str(),
          static_cast<unsigned long long>(got), static_cast<unsigned long long>(expect));
      break;
    }
    SleepUs(1000);
  }
  const auto fl = site.svc().Flush(Duration::Seconds(60));
  r.flushed = fl.ok();
  if (!fl.ok()) Log("%s: flush: %s", spec.name.c_str(), fl.ToString().c_str());
  const std::int64_t t_end = MonoNs();
  r.cpu_s = SelfCpuS() - cpu0;
  r.broker_cpu_s = PidCpuS(broker) - bcpu0;
  stop_sampler = true;
  sampler.join();
  r.queue_depth_max = qmax.load();
  if (!pub.Drain(10000).ok()) Log("%s: load publisher not drained", spec.name.c_str());
  pub.Stop();

  r.total_s = static_cast<double>(t_end - t0) / 1e9;
  r.drain_s = static_cast<double>(t_end - t_last) / 1e9;
  const wg::live::PresenceStats st = site.svc().Stats();
  r.received = st.received - base.received;
  r.accepted = st.accepted - base.accepted;
  r.dropped = st.dropped - base.dropped;
  for (const auto& [k, v] : st.rejected) {
    const auto it = base.rejected.find(k);
    const std::uint64_t d = v - (it == base.rejected.end() ? 0 : it->second);
    if (d > 0) r.rejected_by[k] = d;
  }
  r.rejected = SumRejected(r.rejected_by);
  r.events = st.events - base.events;
  r.alarms_raised = st.alarms_raised - base.alarms_raised;
  r.blocks_sealed = st.blocks_sealed - base.blocks_sealed;
  r.persist_errors = st.persist_errors - base.persist_errors;
  r.broker_dropped = site.bridge->in_counters().broker_dropped.load();
  r.sent_rate = static_cast<double>(r.fixes) / r.publish_s;
  r.accepted_rate = static_cast<double>(r.accepted) / r.total_s;
  r.lossless = r.flushed && r.accepted == expect && r.received == expect && r.dropped == 0 &&
               r.rejected == 0 && r.publish_failed == 0 && r.broker_dropped <= 0;
  std::string rej;
  for (const auto& [k, v] : r.rejected_by) rej += " " + k + "=" + std::to_string(v);
  Log("%s: %llu msgs, %llu fixes (+%llu probe) published in %.2f s (%.0f fixes/s); all "
      "accepted %.2f s after the last publish; received %llu accepted %llu dropped %llu "
      "rejected %llu%s; cpu %.2f s (broker %.2f s); queue max %llu; events %llu alarms %llu "
      "blocks %llu%s",
      spec.name.c_str(), static_cast<unsigned long long>(r.messages),
      static_cast<unsigned long long>(r.fixes), static_cast<unsigned long long>(r.probe_fixes),
      r.publish_s, r.sent_rate, r.drain_s, static_cast<unsigned long long>(r.received),
      static_cast<unsigned long long>(r.accepted), static_cast<unsigned long long>(r.dropped),
      static_cast<unsigned long long>(r.rejected), rej.c_str(), r.cpu_s, r.broker_cpu_s,
      static_cast<unsigned long long>(r.queue_depth_max),
      static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.alarms_raised),
      static_cast<unsigned long long>(r.blocks_sealed), r.lossless ? "" : "  ** NOT LOSSLESS **");
  return r;
}

std::string ToJson(const PhaseResult& r) {
  std::ostringstream o;
  o << "{\"name\": \"" << r.name << "\", \"topic\": \"" << r.topic_kind
    << "\", \"target_fixes_per_s\": " << J(r.target_rate, 0) << ", \"messages\": " << r.messages
    << ", \"fixes_sent\": " << r.fixes << ", \"probe_fixes\": " << r.probe_fixes
    << ", \"publish_failed\": " << r.publish_failed << ", \"received\": " << r.received
    << ", \"accepted\": " << r.accepted << ", \"dropped\": " << r.dropped
    << ", \"rejected\": " << r.rejected << ", \"rejected_by\": {";
  bool first = true;
  for (const auto& [k, v] : r.rejected_by) {
    o << (first ? "" : ", ") << "\"" << k << "\": " << v;
    first = false;
  }
  o << "}, \"lossless\": " << (r.lossless ? "true" : "false")
    << ", \"flushed\": " << (r.flushed ? "true" : "false")
    << ", \"broker_dropped\": " << r.broker_dropped << ", \"publish_s\": " << J(r.publish_s)
    << ", \"drain_s\": " << J(r.drain_s) << ", \"total_s\": " << J(r.total_s)
    << ", \"sent_fixes_per_s\": " << J(r.sent_rate, 0)
    << ", \"accepted_fixes_per_s\": " << J(r.accepted_rate, 0)
    << ", \"process_cpu_s\": " << J(r.cpu_s)
    << ", \"process_cpu_cores\": " << J(r.cpu_s / r.total_s)
    << ", \"broker_cpu_s\": " << J(r.broker_cpu_s)
    << ", \"queue_depth_max\": " << r.queue_depth_max << ", \"fence_events\": " << r.events
    << ", \"alarms_raised\": " << r.alarms_raised << ", \"blocks_sealed\": " << r.blocks_sealed
    << ", \"persist_errors\": " << r.persist_errors << "}";
  return o.str();
}

std::string ToJson(const Percentile& p) {
  std::ostringstream o;
  o << "{\"n\": " << p.n << ", \"p50\": " << J(p.p50) << ", \"p90\": " << J(p.p90)
    << ", \"p99\": " << J(p.p99) << ", \"max\": " << J(p.max) << ", \"mean\": " << J(p.mean)
    << "}";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int a = 1; a < argc; ++a) {
    const std::string s = argv[a];
    auto next = [&]() -> std::string {
      if (a + 1 >= argc) Die("missing value after " + s);
      return argv[++a];
    };
    if (s == "--quick") {
      opt.quick = true;
    } else if (s == "--keep") {
      opt.keep = true;
    } else if (s == "--out") {
      opt.out = next();
    } else if (s == "--tags") {
      opt.tags = std::stoi(next());
    } else if (s == "--fences") {
      opt.fences = std::stoi(next());
    } else if (s == "--permits") {
      opt.permits = std::stoi(next());
    } else if (s == "--rate") {
      opt.rate = std::stod(next());
    } else if (s == "--batch-s") {
      opt.batch_s = std::stod(next());
    } else if (s == "--single-s") {
      opt.single_s = std::stod(next());
    } else if (s == "--max-s") {
      opt.max_s = std::stod(next());
    } else if (s == "--window") {
      opt.window = std::stoull(next());
    } else if (s == "--setup-threads") {
      opt.setup_threads = std::stoi(next());
    } else if (s == "--mosquitto") {
      opt.mosquitto = next();
    } else {
      std::fprintf(stderr,
                   "usage: presence_e2e [--quick] [--out FILE.json] [--tags N] [--fences N] "
                   "[--permits N] [--rate FIXES_PER_S] [--batch-s S] [--single-s S] "
                   "[--max-s S] [--window MSGS] [--setup-threads N] [--mosquitto PATH] [--keep]\n");
      return 2;
    }
  }
  if (opt.quick) {
    opt.batch_s = std::min(opt.batch_s, 5.0);
    opt.single_s = std::min(opt.single_s, 3.0);
    opt.max_s = std::min(opt.max_s, 5.0);
  }
  opt.tags = std::max(opt.tags, 100);
  opt.permits = std::clamp(opt.permits, 0, opt.tags / 100);

  // Watchdog: the whole run is bounded (Die also kills the broker).
  std::unique_ptr<wg::ingest::TestBroker> broker;
  std::thread([limit = opt.limit_s] {
    SleepUs(static_cast<std::int64_t>(limit * 1e6));
    Die("watchdog: the run took longer than " + Fmt(limit) + " s");
  }).detach();

  const std::string load_start = LoadAvg();
  char tmpl[] = "/tmp/wg-presence-e2e-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp");
  const std::string tmp = tmpl;
  Log("presence_e2e: work dir %s; %d tags, %d fences, %d permits; (1) %.0f fixes/s x %.0f s "
      "batched, (2) %.0f msgs/s x %.0f s single, (3) max x %.0f s (window %llu msgs)%s",
      tmp.c_str(), opt.tags, opt.fences, opt.permits, opt.rate, opt.batch_s, opt.rate,
      opt.single_s, opt.max_s, static_cast<unsigned long long>(opt.window),
      opt.quick ? " [--quick]" : "");

  wg::ingest::BrokerOptions bopt;
  bopt.mosquitto = opt.mosquitto;
  bopt.dir = tmp + "/broker";
  fs::create_directories(bopt.dir);
  broker = std::make_unique<wg::ingest::TestBroker>(bopt);
  MustOk(broker->Start(), "broker");
  const int port = broker->port();
  Log("broker: mosquitto pid %d on 127.0.0.1:%d (TestBroker configuration)", FindBrokerPid(),
      port);

  Walkers walkers;
  walkers.Init(opt.tags);
  Site site;
  const std::int64_t setup0 = MonoNs();
  site.Open(tmp + "/data", opt, walkers);
  site.StartBridge(port);
  const double setup_s = SecondsSince(setup0);
  Log("setup done in %.1f s", setup_s);

  // Warm-up (not reported): two rounds of every tag, so each has a position and fences.
  PhaseResult warm = RunPhase(site, port, {"warm-up (not reported)", true, opt.rate, 2, false},
                              walkers, opt.window, nullptr);

  Latency lat;
  PhaseResult p1 = RunPhase(site, port,
                            {"(1) paced batch x100", true, opt.rate, opt.batch_s, true}, walkers,
                            opt.window, &lat);
  Log("(4) latency: %d/%d probes seen: p50 %.3f ms p90 %.3f ms p99 %.3f ms max %.3f ms",
      lat.seen, lat.probes, lat.ms.p50, lat.ms.p90, lat.ms.p99, lat.ms.max);
  PhaseResult p2 = RunPhase(site, port,
                            {"(2) paced single", false, opt.rate, opt.single_s, false}, walkers,
                            opt.window, nullptr);
  PhaseResult p3 = RunPhase(site, port, {"(3) max rate batch x100", true, 0, opt.max_s, false},
                            walkers, opt.window, nullptr);

  // What one Positions() call costs now (all tags of the site, under the engine lock).
  std::vector<double> pos_ms;
  std::size_t pos_n = 0;
  for (int k = 0; k < 20; ++k) {
    const std::int64_t t = MonoNs();
    auto all = Must(site.svc().Positions(site.org, kSite), "positions");
    pos_ms.push_back(static_cast<double>(MonoNs() - t) / 1e6);
    pos_n = all.size();
  }
  const Percentile pos_cost = Summarize(pos_ms);
  const auto final_stats = site.svc().Stats();
  const double rss = RssMb();
  Log("Positions(): %zu tag states, p50 %.2f ms max %.2f ms a call; RSS %.0f MB", pos_n,
      pos_cost.p50, pos_cost.max, rss);

  site.Close();
  (void)broker->Stop();
  broker.reset();
  const std::string load_end = LoadAvg();

  // ------------------------------------------------------------------ table
  std::printf(
      "\nPeople on site, end to end: mosquitto (TestBroker) -> MqttBridge -> PresenceService "
      "in an Installation%s\n",
      opt.quick ? "  [--quick]" : "");
  std::printf("%d UWB tags bound to workers, %d zone fences, %d active permits, 2 km x 2 km "
              "site; QoS 1; walkers ~1.2 m/s\n",
              opt.tags, opt.fences, site.permits);
  std::printf("setup: workers %.1f s (one import batch), tags %.1f s, bindings %.1f s (%d threads), "
              "fences %.1f s (each a fact synced into the evidence log); total %.1f s\n\n",
              site.setup_workers_s, site.setup_tags_s, site.setup_bind_s, opt.setup_threads,
              site.setup_fences_s, setup_s);
  std::printf("%-26s %10s %10s %10s %10s %7s %7s %8s %8s %8s %8s  %s\n", "phase", "sent",
              "received", "accepted", "rej/drop", "wall s", "drain s", "sent/s", "acc/s",
              "cpu s", "broker", "result");
  std::printf("%s\n", std::string(140, '-').c_str());
  for (const PhaseResult* r : {&p1, &p2, &p3}) {
    const std::string sent = Fmt(static_cast<double>(r->fixes + r->probe_fixes));
    std::printf("%-26s %10s %10s %10s %5s/%-4s %7.2f %7.2f %8s %8s %8.2f %8.2f  %s\n",
                r->name.c_str(), sent.c_str(), Fmt(static_cast<double>(r->received)).c_str(),
                Fmt(static_cast<double>(r->accepted)).c_str(),
                Fmt(static_cast<double>(r->rejected)).c_str(),
                Fmt(static_cast<double>(r->dropped)).c_str(), r->total_s, r->drain_s,
                Fmt(r->sent_rate).c_str(), Fmt(r->accepted_rate).c_str(), r->cpu_s,
                r->broker_cpu_s, r->lossless ? "lossless" : "LOSS/TIMEOUT");
  }
  std::printf(
      "  sent = load fixes (+ the probe fixes in (1)); wall s = first publish -> every fix "
      "received and Flush() returned;\n"
      "  drain s = last publish -> that point; acc/s = accepted / wall s; cpu s = this "
      "process (RUSAGE_SELF): publisher,\n"
      "  probe poller, bridge, presence + monitor threads together; broker = mosquitto's "
      "CPU s (separate process).\n");
  std::printf("  (1) cpu %.2f cores of 2 over %.1f s at %s fixes/s; (2) %.2f cores; (3) %.2f "
              "cores at %s fixes/s sustained (publisher window %llu msgs)\n",
              p1.cpu_s / p1.total_s, p1.total_s, Fmt(opt.rate).c_str(), p2.cpu_s / p2.total_s,
              p3.cpu_s / p3.total_s, Fmt(p3.accepted_rate).c_str(),
              static_cast<unsigned long long>(opt.window));
  std::printf("(4) latency, probe fix publish -> visible (UserPosition polled every 50 us; "
              "INCLUDES the polling granularity, ~50-110 us)\n"
              "    during (1): %d/%d probes seen, p50 %s ms, p90 %s ms, p99 %s ms, max %s ms\n",
              lat.seen, lat.probes, Fmt(lat.ms.p50, 3).c_str(), Fmt(lat.ms.p90, 3).c_str(),
              Fmt(lat.ms.p99, 3).c_str(), Fmt(lat.ms.max, 3).c_str());
  std::printf("    one Positions() call (all %zu tag states, engine lock held): p50 %s ms, "
              "max %s ms\n",
              pos_n, Fmt(pos_cost.p50, 2).c_str(), Fmt(pos_cost.max, 2).c_str());
  std::printf("presence totals: events %llu, alarms raised %llu, trajectory blocks sealed %llu, "
              "persist errors %llu; RSS %.0f MB\n",
              static_cast<unsigned long long>(final_stats.events),
              static_cast<unsigned long long>(final_stats.alarms_raised),
              static_cast<unsigned long long>(final_stats.blocks_sealed),
              static_cast<unsigned long long>(final_stats.persist_errors), rss);
  std::printf("load average at start %s, at end %s (2 cores; compare within one run)\n",
              load_start.c_str(), load_end.c_str());

  if (!opt.out.empty()) {
    if (fs::path(opt.out).has_parent_path()) fs::create_directories(fs::path(opt.out).parent_path());
    std::ofstream o(opt.out);
    o << "{\n  \"benchmark\": \"presence_e2e\",\n  \"quick\": " << (opt.quick ? "true" : "false")
      << ",\n  \"loadavg_start\": \"" << load_start << "\",\n  \"loadavg_end\": \"" << load_end
      << "\",\n  \"tags\": " << opt.tags << ",\n  \"fences\": " << opt.fences
      << ",\n  \"permits\": " << site.permits << ",\n  \"setup_s\": {\"workers\": "
      << J(site.setup_workers_s) << ", \"tags\": " << J(site.setup_tags_s)
      << ", \"bindings\": " << J(site.setup_bind_s) << ", \"fences\": " << J(site.setup_fences_s)
      << ", \"total\": " << J(setup_s) << "},\n  \"cpu_note\": \"process_cpu_s is getrusage "
      << "RUSAGE_SELF over the phase: it includes the load publisher, the probe poller, the "
      << "bridge and the presence/monitor threads; broker_cpu_s is mosquitto's\""
      << ",\n  \"warmup\": " << ToJson(warm) << ",\n  \"paced_batch\": " << ToJson(p1)
      << ",\n  \"paced_single\": " << ToJson(p2) << ",\n  \"max_rate_batch\": " << ToJson(p3)
      << ",\n  \"max_rate_window_msgs\": " << opt.window
      << ",\n  \"latency_ms\": {\"during\": \"paced_batch\", \"probes\": " << lat.probes
      << ", \"seen\": " << lat.seen
      << ", \"method\": \"publish -> PresenceService::UserPosition shows the fix, polled every "
         "50 us (includes the polling granularity)\", \"summary\": "
      << ToJson(lat.ms) << "},\n  \"positions_call_ms\": " << ToJson(pos_cost)
      << ",\n  \"positions_tag_states\": " << pos_n << ",\n  \"rss_mb\": " << J(rss, 0)
      << ",\n  \"presence_totals\": {\"events\": " << final_stats.events
      << ", \"alarms_raised\": " << final_stats.alarms_raised
      << ", \"blocks_sealed\": " << final_stats.blocks_sealed
      << ", \"persist_errors\": " << final_stats.persist_errors << "}\n}\n";
    Log("wrote %s", opt.out.c_str());
  }
  if (!opt.keep) fs::remove_all(tmp);
  const bool ok = p1.lossless && p2.lossless && p3.lossless && lat.seen == lat.probes;
  return ok ? 0 : 1;
}

// End-to-end live monitoring over MQTT (issue 5, "Figures to measure"), all in one run on
// loopback, side by side with Node-RED 4.1. See bench/README.md, "Live monitoring over MQTT".
//
//   mqtt_e2e [--quick] [--skip-nodered] [--out FILE.json] [--count N] [--batches N]
//            [--probes N] [--window N] [--reps N] [--broker-config LINES] [--load-nagle]
//            [--mosquitto PATH] [--node PATH] [--keep]
//
// Every measurement uses a mosquitto 2.0 started by this program on a free loopback port
// with the configuration of wg::ingest::TestBroker (max_queued_messages 0 = never drop a
// queued QoS 1 message, persistence on, $SYS every second, set_tcp_nodelay true); the
// untuned Node-RED variant gets a second broker without set_tcp_nodelay. The load
// generator is libmosquitto driven from one thread (no library thread: each publish is
// written to the socket at once), ~80-byte single-reading JSON, QoS 1, a window of 2,000
// unacknowledged messages. "Zero loss" means every published reading is accounted for at
// the receiving end (counted by the raw subscriber, accepted by the MonitorService,
// processed by the Node-RED flow) and the broker's $SYS drop counter stays at 0. A run
// publishes a fixed count as fast as the broker takes it; the rate is count / (time from
// the first publish to the moment the receiver has the last one).
//
//   (a) raw limit: a subscriber that only counts (QoS 1; QoS 0 for reference)
//   (b) workguard, single readings: live::MqttBridge + live::MonitorService in-process on
//       a temporary Installation with 1,000 points; ratio to (a)
//   (c) workguard, batched (100 readings a message)
//   (d) red-alarm latency under 10,000 readings/s of background load: a crossing reading
//       on a fresh point (one per probe, each raising a new red alarm) -> the power-lock
//       command received by a separate subscriber; CLOCK_MONOTONIC in this process; and
//       the same with no background load. Every 10th probe's zone holds an ACTIVE permit:
//       the time until its "permit.suspended" fact is durable (in the store and synced
//       into the evidence log), from MonitorService::LastActionTimings (steady_clock).
//   (e) Node-RED 4.1 (bench/nodered: flow.json, settings.js, nodelay.js), untuned and with
//       TCP_NODELAY on its sockets and the broker's: the same single-reading zero-loss
//       rate and the same latency probes.
//
// The program bounds its own run time (a watchdog), and kills its children (mosquitto,
// node) on exit, on a signal and, through PR_SET_PDEATHSIG, when it dies.

#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// WG_E2E_WITH_LIVE=0 builds the harness without workguard (parts a and e only), with
// nothing but libmosquitto: g++ -std=c++20 -O2 -DWG_E2E_WITH_LIVE=0 bench/mqtt_e2e.cc -lmosquitto
#ifndef WG_E2E_WITH_LIVE
#define WG_E2E_WITH_LIVE 1
#endif
#if WG_E2E_WITH_LIVE
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/live/mqtt_bridge.h"
#include "wg/live/service.h"
#include "wg/monitor/rulebook.h"
#include "wg/permit/model.h"
#include "wg/permit/service.h"
#include "wg/server/installation.h"
#endif

#ifndef WG_SOURCE_DIR
#define WG_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
#if WG_E2E_WITH_LIVE
using wg::core::Duration;
using wg::core::Timestamp;
#endif

// ---------------------------------------------------------------------------------------
// Time, logging, children
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

std::mutex g_children_mu;
std::vector<pid_t> g_children;  // process-group leaders we started

void KillAllChildren() {
  std::vector<pid_t> kids;
  {
    std::lock_guard<std::mutex> l(g_children_mu);
    kids.swap(g_children);
  }
  for (pid_t p : kids) kill(-p, SIGKILL);
  for (pid_t p : kids) waitpid(p, nullptr, 0);
}

[[noreturn]] void Die(const std::string& what) {
  Log("FATAL: %s", what.c_str());
  KillAllChildren();
  std::_Exit(2);
}

extern "C" void OnSignal(int sig) {
  // Async-signal-safe: kill the process groups we started, then leave.
  for (pid_t p : g_children) kill(-p, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

// Starts argv[0] with `env` added, in its own process group, output to `log`.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& log, const std::string& cwd = "") {
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  for (const auto& e : env) envs.push_back(e);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  const pid_t parent = getpid();
  std::lock_guard<std::mutex> l(g_children_mu);
  pid_t pid = fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  g_children.push_back(pid);
  return pid;
}

// SIGTERM, up to `grace_ms`, then SIGKILL; reaps.
void StopChild(pid_t pid, int grace_ms = 5000) {
  if (pid <= 0) return;
  kill(-pid, SIGTERM);
  const std::int64_t t0 = MonoNs();
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (SecondsSince(t0) * 1000 > grace_ms) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    SleepUs(10'000);
  }
  kill(-pid, SIGKILL);  // anything left in its group
  std::lock_guard<std::mutex> l(g_children_mu);
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
}

bool ChildAlive(pid_t pid) { return pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0; }

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("bind for a free port");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

std::string LoadAvg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `done` every `poll_us` until true or `timeout_s`; returns the monotonic time it
// was first seen true, or nullopt.
std::optional<std::int64_t> WaitUntil(const std::function<bool()>& done, double timeout_s,
                                      std::int64_t poll_us = 1000) {
  const std::int64_t t0 = MonoNs();
  for (;;) {
    if (done()) return MonoNs();
    if (SecondsSince(t0) > timeout_s) return std::nullopt;
    SleepUs(poll_us);
  }
}

// ---------------------------------------------------------------------------------------
// Broker: mosquitto with wg::ingest::TestBroker's configuration
// ---------------------------------------------------------------------------------------

struct Broker {
  std::string dir;
  int port = 0;
  pid_t pid = -1;
  bool nodelay = true;

  void Start(const std::string& mosquitto, const std::string& parent, const std::string& name,
             bool tcp_nodelay, const std::string& extra) {
    nodelay = tcp_nodelay;
    dir = parent + "/" + name;
    fs::create_directories(dir);
    port = FreePort();
    std::ofstream conf(dir + "/mosquitto.conf");
    conf << "# bench/mqtt_e2e: wg::ingest::TestBroker's configuration\n"
         << "listener " << port << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         << "max_queued_messages 0\n"
         << "max_queued_bytes 0\n"
         << "persistence true\n"
         << "persistence_location " << dir << "/\n"
         << "persistence_file mosquitto.db\n"
         << "sys_interval 1\n"
         << "set_tcp_nodelay " << (tcp_nodelay ? "true" : "false") << "\n"
         << "log_dest file " << dir << "/mosquitto.log\n"
         << "log_type error\nlog_type warning\n";
    // As root, mosquitto would switch to the `mosquitto` user, which cannot write here.
    if (geteuid() == 0) conf << "user root\n";
    if (!extra.empty()) conf << extra << "\n";
    conf.close();
    pid = Spawn({mosquitto, "-c", dir + "/mosquitto.conf"}, {}, dir + "/stdout.log");
    if (!WaitUntil([&] { return PortOpen(port); }, 10, 5000)) {
      Die(std::string("mosquitto did not open port ").append(std::to_string(port)) + ": " +
          ReadFile(dir + "/mosquitto.log") + ReadFile(dir + "/stdout.log"));
    }
    Log("broker %s: mosquitto pid %d on 127.0.0.1:%d (set_tcp_nodelay %s)", name.c_str(), pid, port,
        tcp_nodelay ? "true" : "false");
  }
  void Stop() {
    StopChild(pid);
    pid = -1;
  }
};

// ---------------------------------------------------------------------------------------
// libmosquitto clients
// ---------------------------------------------------------------------------------------

// A publisher driven by the calling thread (no library thread): each mosquitto_publish is
// written to the socket at once; Service() reads PUBACKs and flushes what the socket did
// not take.
class Publisher {
 public:
  Publisher(std::string id, int port, bool nodelay = true)
      : id_(std::move(id)), port_(port), nodelay_(nodelay) {}
  ~Publisher() { Close(); }

  void Connect() {
    m_ = mosquitto_new(id_.c_str(), true, this);
    if (m_ == nullptr) Die("mosquitto_new");
    mosquitto_int_option(m_, MOSQ_OPT_TCP_NODELAY, nodelay_ ? 1 : 0);
    mosquitto_max_inflight_messages_set(m_, 0);  // our own window below
    mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
      static_cast<Publisher*>(self)->connected_ = (rc == 0);
    });
    mosquitto_publish_callback_set(
        m_, [](mosquitto*, void* self, int) { static_cast<Publisher*>(self)->acked_++; });
    if (mosquitto_connect(m_, "127.0.0.1", port_, 60) != MOSQ_ERR_SUCCESS) {
      Die("publisher " + id_ + ": connect");
    }
    const std::int64_t t0 = MonoNs();
    while (!connected_) {
      if (mosquitto_loop(m_, 10, 1) != MOSQ_ERR_SUCCESS || SecondsSince(t0) > 10) {
        Die("publisher " + id_ + ": no CONNACK");
      }
    }
  }
  void Close() {
    if (m_ == nullptr) return;
    mosquitto_disconnect(m_);
    mosquitto_loop(m_, 0, 1);
    mosquitto_destroy(m_);
    m_ = nullptr;
  }
  void Publish(const std::string& topic, const std::string& payload, int qos, bool retain = false) {
    int rc = mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                               payload.data(), qos, retain);
    if (rc != MOSQ_ERR_SUCCESS) {
      errors_++;
      if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) Die("publisher " + id_ + ": lost");
      return;
    }
    sent_++;
  }
  void Service(int timeout_ms) {
    int rc = mosquitto_loop(m_, timeout_ms, 1);
    if (rc != MOSQ_ERR_SUCCESS) Die("publisher " + id_ + ": loop: " + mosquitto_strerror(rc));
  }
  std::uint64_t inflight() const { return sent_ - acked_; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t errors() const { return errors_; }
  bool Drain(double timeout_s) {
    const std::int64_t t0 = MonoNs();
    while (acked_ < sent_) {
      if (SecondsSince(t0) > timeout_s) return false;
      Service(2);
    }
    return true;
  }

 private:
  std::string id_;
  int port_;
  bool nodelay_;
  mosquitto* m_ = nullptr;
  bool connected_ = false;
  std::uint64_t sent_ = 0, acked_ = 0, errors_ = 0;
};

// A subscriber with the library's network thread; `on_message` runs on it.
class Subscriber {
 public:
  using OnMessage = std::function<void(const mosquitto_message&)>;
  Subscriber(std::string id, int port, std::vector<std::pair<std::string, int>> topics,
             OnMessage on_message)
      : id_(std::move(id)), port_(port), topics_(std::move(topics)), on_(std::move(on_message)) {}
  ~Subscriber() { Stop(); }

  void Start() {
    m_ = mosquitto_new(id_.c_str(), true, this);
    if (m_ == nullptr) Die("mosquitto_new");
    mosquitto_int_option(m_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m_, [](mosquitto* m, void* p, int rc) {
      auto* self = static_cast<Subscriber*>(p);
      // The library's network thread: named for `top -H` ("s:" + client id).
      pthread_setname_np(pthread_self(), ("s:" + self->id_).substr(0, 15).c_str());
      if (rc != 0) return;
      for (const auto& [t, q] : self->topics_) mosquitto_subscribe(m, nullptr, t.c_str(), q);
    });
    mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* p, int, int, const int*) {
      static_cast<Subscriber*>(p)->subacks_++;
    });
    mosquitto_message_callback_set(m_, [](mosquitto*, void* p, const mosquitto_message* msg) {
      static_cast<Subscriber*>(p)->on_(*msg);
    });
    if (mosquitto_connect(m_, "127.0.0.1", port_, 60) != MOSQ_ERR_SUCCESS) {
      Die("subscriber " + id_ + ": connect");
    }
    mosquitto_loop_start(m_);
    if (!WaitUntil([&] { return subacks_.load() >= static_cast<int>(topics_.size()); }, 10)) {
      Die("subscriber " + id_ + ": no SUBACK");
    }
  }
  void Stop() {
    if (m_ == nullptr) return;
    mosquitto_disconnect(m_);
    mosquitto_loop_stop(m_, false);
    mosquitto_destroy(m_);
    m_ = nullptr;
  }

 private:
  std::string id_;
  int port_;
  std::vector<std::pair<std::string, int>> topics_;
  OnMessage on_;
  mosquitto* m_ = nullptr;
  std::atomic<int> subacks_{0};
};

// Connects with `client_id` and a clean session, then leaves: the broker discards the
// persistent session (and its queue) a stopped subscriber left behind.
[[maybe_unused]] void WipeSession(int port, const std::string& client_id) {
  mosquitto* m = mosquitto_new(client_id.c_str(), true, nullptr);
  if (mosquitto_connect(m, "127.0.0.1", port, 10) == MOSQ_ERR_SUCCESS) {
    for (int i = 0; i < 20; ++i) mosquitto_loop(m, 10, 1);
    mosquitto_disconnect(m);
    mosquitto_loop(m, 10, 1);
  }
  mosquitto_destroy(m);
}

// The broker's $SYS drop counter, watched for the whole run.
struct DropWatch {
  std::atomic<std::int64_t> dropped{-1};
  std::unique_ptr<Subscriber> sub;
  void Start(int port, const std::string& name) {
    sub = std::make_unique<Subscriber>(
        "bench-sys-" + name, port,
        std::vector<std::pair<std::string, int>>{{"$SYS/broker/publish/messages/dropped", 0}},
        [this](const mosquitto_message& m) {
          dropped = std::strtoll(std::string(static_cast<const char*>(m.payload),
                                             static_cast<std::size_t>(m.payloadlen))
                                     .c_str(),
                                 nullptr, 10);
        });
    sub->Start();
  }
};

// ---------------------------------------------------------------------------------------
// Load: ~80-byte single-reading JSON, batches
// ---------------------------------------------------------------------------------------

bool g_load_nodelay = true;  // TCP_NODELAY on the throughput load generator's socket

constexpr const char* kOrg = "bench";
constexpr const char* kSite = "S1";
constexpr const char* kUnit = "mg/m3";
constexpr double kRed = 20;  // gbt50493.h2s.ah (red) in data/rules/monitor/thresholds.json

struct Points {
  int n = 1000;
  std::vector<std::string> ids, topics;
  std::vector<std::int64_t> last_ms;  // strictly increasing reading time per point
  void Init(int count) {
    n = count;
    for (int i = 0; i < n; ++i) {
      ids.push_back(
          std::string("Z").append(std::to_string(i % 10)).append(".p").append(std::to_string(i)));
      topics.push_back(std::string("wg/v1/") + kOrg + "/" + kSite + "/points/" + ids.back());
    }
    last_ms.assign(static_cast<std::size_t>(n), 0);
  }
  // Reading time for point i: now, kept unique per point (de-duplication is by (point, t)).
  std::int64_t NextTime(int i) {
    auto& last = last_ms[static_cast<std::size_t>(i)];
    last = std::max(WallMs(), last + 1);
    return last;
  }
  // Normal values, constant per point (below every h2s threshold, no rate-of-change).
  static double Value(int i) { return 1.0 + 0.1 * (i % 5); }
};

std::string SinglePayload(std::int64_t t_ms, double v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "{\"t\":%lld,\"v\":%.2f,\"u\":\"%s\"}",
                static_cast<long long>(t_ms), v, kUnit);
  return buf;
}

// ---------------------------------------------------------------------------------------
// Throughput: publish `count` messages as fast as the window allows; wait for `received`
// ---------------------------------------------------------------------------------------

struct Throughput {
  std::string name;
  std::uint64_t messages = 0, readings = 0;
  std::uint64_t accounted = 0;  // readings counted by the receiver
  double publish_s = 0;         // first publish -> last publish written
  double total_s = 0;           // first publish -> last reading accounted for
  double rate = 0;              // readings / total_s
  bool zero_loss = false;
  std::int64_t broker_dropped = -1;
  std::vector<double> reps;  // rate of every repetition; the best zero-loss one is reported
};

Throughput RunThroughput(
    const std::string& name, int port, std::uint64_t messages, int readings_per_message, int qos,
    std::uint64_t window,
    const std::function<std::pair<const std::string*, std::string>(std::uint64_t)>& make,
    const std::function<std::uint64_t()>& accounted, DropWatch* drops, double timeout_s) {
  Throughput r;
  r.name = name;
  r.messages = messages;
  r.readings = messages * static_cast<std::uint64_t>(readings_per_message);
  const std::uint64_t base = accounted();
  const std::int64_t before_drops = drops != nullptr ? drops->dropped.load() : -1;
  Publisher pub("bench-load-" + name, port, g_load_nodelay);
  pub.Connect();
  pthread_setname_np(pthread_self(), "bench-pub");  // for top -H; threads started later
                                                    // must not inherit it: reset below
  const std::int64_t t0 = MonoNs();
  for (std::uint64_t i = 0; i < messages; ++i) {
    while (pub.inflight() >= window) pub.Service(1);
    auto [topic, payload] = make(i);
    pub.Publish(*topic, payload, qos);
    if ((i & 63) == 63) pub.Service(0);
    if ((i & 4095) == 0 && SecondsSince(t0) > timeout_s) break;
  }
  r.publish_s = SecondsSince(t0);
  // Keep servicing the publisher (PUBACKs) while waiting for the receiver.
  std::optional<std::int64_t> done;
  const std::int64_t wait0 = MonoNs();
  while (!done) {
    pub.Service(1);
    if (accounted() - base >= r.readings) done = MonoNs();
    if (SecondsSince(wait0) > timeout_s) break;
  }
  pub.Drain(5);
  pthread_setname_np(pthread_self(), "mqtt_e2e");
  r.accounted = accounted() - base;
  r.total_s = static_cast<double>((done ? *done : MonoNs()) - t0) / 1e9;
  r.rate = static_cast<double>(r.accounted) / r.total_s;
  if (drops != nullptr) {
    // The counter is published every second: wait for a fresh value.
    SleepUs(1'100'000);
    r.broker_dropped = drops->dropped.load() - std::max<std::int64_t>(before_drops, 0);
  }
  r.zero_loss =
      done.has_value() && r.accounted == r.readings && pub.errors() == 0 && r.broker_dropped <= 0;
  r.reps = {r.rate};
  Log("%-28s %9llu readings in %6.2f s (published in %5.2f s): %10.0f readings/s, "
      "accounted %llu, broker drops %s%s",
      name.c_str(), static_cast<unsigned long long>(r.readings), r.total_s, r.publish_s, r.rate,
      static_cast<unsigned long long>(r.accounted),
      drops != nullptr ? std::to_string(r.broker_dropped).c_str() : "n/a",
      r.zero_loss ? "" : "  ** LOSS or TIMEOUT **");
  return r;
}

// Runs `reps` times; the result is the best zero-loss repetition (the highest rate that
// was sustained without loss), or the last one when none was lossless.
Throughput RunReps(int reps, const std::function<Throughput()>& once) {
  Throughput best;
  std::vector<double> rates;
  bool have = false;
  for (int i = 0; i < reps; ++i) {
    Throughput t = once();
    rates.push_back(t.rate);
    if (!have || (t.zero_loss && (!best.zero_loss || t.rate > best.rate)) ||
        (!best.zero_loss && !t.zero_loss)) {
      best = t;
      have = true;
    }
  }
  best.reps = rates;
  return best;
}

// ---------------------------------------------------------------------------------------
// Latency: background load + probes; a power-lock subscriber timestamps arrivals
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
  auto at = [&](double q) {
    // nearest rank
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

struct Latency {
  std::string name;
  int probes = 0;
  int received = 0;
  double background_rate = 0;  // achieved readings/s
  Percentile lock_ms;
  std::vector<std::int64_t> pub_ns, recv_ns;  // per probe, CLOCK_MONOTONIC (0: none)
  // workguard only, from MonitorService::LastActionTimings (steady_clock = CLOCK_MONOTONIC)
  Percentile stopwork_ms;  // publish -> "permit.suspended" durable in the evidence log
  Percentile facts_ms;     // publish -> the alarm's facts durable
  Percentile in_ms;        // publish -> MonitorService::Submit (broker + bridge decode)
  Percentile engine_ms;    // Submit -> power-lock Send returned (queue + engine + publish)
  Percentile out_ms;       // Send returned -> lock received (broker + subscriber)
  int stopwork_probes = 0, stopwork_seen = 0;
};

// Zone of probe k for phase prefix `pre` ("wgP", "nrU", "nrT").
std::string ProbeZone(const std::string& pre, int k) { return pre + std::to_string(k); }

Latency RunLatency(const std::string& name, int port, Points& points, const std::string& pre,
                   int probes, double bg_rate, int spacing_min_ms, int spacing_max_ms) {
  Latency L;
  L.name = name;
  L.probes = probes;
  std::vector<std::atomic<std::int64_t>> pub_ns(static_cast<std::size_t>(probes));
  std::vector<std::atomic<std::int64_t>> recv_ns(static_cast<std::size_t>(probes));
  for (auto& x : pub_ns) x = 0;
  for (auto& x : recv_ns) x = 0;
  const std::string lock_prefix = std::string("wg/v1/") + kOrg + "/" + kSite + "/actuators/" + pre;
  Subscriber locks("bench-locks-" + pre, port, {{"wg/v1/+/+/actuators/+/power-lock", 1}},
                   [&](const mosquitto_message& m) {
                     const std::int64_t now = MonoNs();
                     std::string_view topic(m.topic);
                     if (topic.substr(0, lock_prefix.size()) != lock_prefix) return;
                     const int k = std::atoi(std::string(topic.substr(lock_prefix.size())).c_str());
                     if (k < 0 || k >= probes) return;
                     auto& slot = recv_ns[static_cast<std::size_t>(k)];
                     if (pub_ns[static_cast<std::size_t>(k)].load() == 0) return;  // retained
                     std::int64_t zero = 0;
                     slot.compare_exchange_strong(zero, now);
                   });
  locks.Start();

  // Background load on its own connection and thread, paced in 1 ms steps.
  std::atomic<bool> stop_bg{false};
  std::atomic<std::uint64_t> bg_sent{0};
  std::int64_t bg_t0 = 0, bg_t1 = 0;
  std::thread bg([&] {
    pthread_setname_np(pthread_self(), "bench-bg-load");
    Publisher pub("bench-bg-" + pre, port);
    pub.Connect();
    bg_t0 = MonoNs();
    std::uint64_t i = 0;
    while (!stop_bg) {
      const double el = SecondsSince(bg_t0);
      const auto target = static_cast<std::uint64_t>(el * bg_rate);
      while (i < target && pub.inflight() < 20000) {
        const int p = static_cast<int>(i % static_cast<std::uint64_t>(points.n));
        pub.Publish(points.topics[static_cast<std::size_t>(p)],
                    SinglePayload(points.NextTime(p), Points::Value(p)), 1);
        ++i;
      }
      bg_sent = i;
      pub.Service(1);
    }
    bg_t1 = MonoNs();
    pub.Drain(5);
  });

  SleepUs(1'000'000);  // let the background load settle
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> spacing(spacing_min_ms, spacing_max_ms);
  {
    Publisher probe("bench-probe-" + pre, port);
    probe.Connect();
    for (int k = 0; k < probes; ++k) {
      const std::string zone = ProbeZone(pre, k);
      const std::string point = zone + ".probe";
      const std::string topic = std::string("wg/v1/") + kOrg + "/" + kSite + "/points/" + point;
      const std::string payload = SinglePayload(WallMs(), kRed + 10);
      const std::int64_t t = MonoNs();
      pub_ns[static_cast<std::size_t>(k)] = t;
      probe.Publish(topic, payload, 1);
      const std::int64_t next = t + static_cast<std::int64_t>(spacing(rng)) * 1'000'000;
      while (MonoNs() < next) probe.Service(1);
    }
    // Wait for the last commands.
    WaitUntil(
        [&] {
          for (int k = 0; k < probes; ++k)
            if (recv_ns[static_cast<std::size_t>(k)].load() == 0) return false;
          return true;
        },
        3, 2000);
    probe.Drain(2);
  }
  stop_bg = true;
  bg.join();
  L.background_rate =
      static_cast<double>(bg_sent.load()) / (static_cast<double>(bg_t1 - bg_t0) / 1e9);
  locks.Stop();
  std::vector<double> ms;
  for (int k = 0; k < probes; ++k) {
    L.pub_ns.push_back(pub_ns[static_cast<std::size_t>(k)].load());
    L.recv_ns.push_back(recv_ns[static_cast<std::size_t>(k)].load());
    const std::int64_t r = recv_ns[static_cast<std::size_t>(k)].load();
    if (r == 0) continue;
    L.received++;
    ms.push_back(static_cast<double>(r - pub_ns[static_cast<std::size_t>(k)].load()) / 1e6);
  }
  L.lock_ms = Summarize(ms);
  Log("%-28s lock received %d/%d: p50 %.3f ms p90 %.3f ms p99 %.3f ms max %.3f ms "
      "(background %.0f readings/s)",
      name.c_str(), L.received, probes, L.lock_ms.p50, L.lock_ms.p90, L.lock_ms.p99, L.lock_ms.max,
      L.background_rate);
  return L;
}

// ---------------------------------------------------------------------------------------
// Options and report
// ---------------------------------------------------------------------------------------

struct Options {
  bool quick = false;
  bool skip_nodered = false;
  bool keep = false;
  std::string out;
  std::uint64_t count = 300'000;   // single-reading messages per throughput run
  std::uint64_t batches = 20'000;  // batched messages (x100 readings)
  int probes = 200;
  int nodered_probes = 200;
  // Unacknowledged QoS 1 messages in flight. Far more than the broker's per-client window
  // (20) and than loopback needs, but not 20,000: libmosquitto 2.0.11 walks its whole
  // outgoing list on every PUBACK (message__release_to_inflight), which at 20,000 burns
  // most of a core in the load generator on a 2-core machine.
  std::uint64_t window = 2'000;
  int reps = 0;  // repetitions of each throughput run (best kept); 0: 2, --quick 1
  std::string mosquitto = "/usr/sbin/mosquitto";
  std::string broker_extra;  // appended to both brokers' mosquitto.conf
  std::string node = "node";
  double limit_s = 900;  // watchdog
};

std::string Fmt(double v, int prec = 0) {
  if (std::isnan(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

std::string J(double v) { return std::isnan(v) || std::isinf(v) ? "null" : Fmt(v, 4); }

std::string ToJson(const Throughput& t) {
  std::ostringstream o;
  o << "{\"name\":\"" << t.name << "\",\"messages\":" << t.messages
    << ",\"readings\":" << t.readings << ",\"accounted\":" << t.accounted
    << ",\"publish_s\":" << J(t.publish_s) << ",\"total_s\":" << J(t.total_s)
    << ",\"readings_per_s\":" << J(t.rate) << ",\"zero_loss\":" << (t.zero_loss ? "true" : "false")
    << ",\"broker_dropped\":" << t.broker_dropped << ",\"reps_readings_per_s\":[";
  for (std::size_t i = 0; i < t.reps.size(); ++i) o << (i ? "," : "") << J(t.reps[i]);
  o << "]}";
  return o.str();
}
std::string ToJson(const Percentile& p) {
  std::ostringstream o;
  o << "{\"n\":" << p.n << ",\"p50_ms\":" << J(p.p50) << ",\"p90_ms\":" << J(p.p90)
    << ",\"p99_ms\":" << J(p.p99) << ",\"max_ms\":" << J(p.max) << ",\"mean_ms\":" << J(p.mean)
    << "}";
  return o.str();
}
std::string ToJson(const Latency& l) {
  std::ostringstream o;
  o << "{\"name\":\"" << l.name << "\",\"probes\":" << l.probes << ",\"received\":" << l.received
    << ",\"background_readings_per_s\":" << J(l.background_rate)
    << ",\"lock\":" << ToJson(l.lock_ms);
  if (l.stopwork_probes > 0) {
    o << ",\"stopwork_probes\":" << l.stopwork_probes << ",\"stopwork_seen\":" << l.stopwork_seen
      << ",\"stopwork_fact_durable\":" << ToJson(l.stopwork_ms)
      << ",\"alarm_facts_durable\":" << ToJson(l.facts_ms)
      << ",\"publish_to_submit\":" << ToJson(l.in_ms)
      << ",\"submit_to_command_sent\":" << ToJson(l.engine_ms)
      << ",\"command_sent_to_received\":" << ToJson(l.out_ms);
  }
  o << "}";
  return o.str();
}

// ---------------------------------------------------------------------------------------
// workguard in-process
// ---------------------------------------------------------------------------------------
#if WG_E2E_WITH_LIVE

template <typename T>
T Must(wg::core::Result<T> r, const std::string& what) {
  if (!r) Die(what + ": " + r.error().ToString());
  return std::move(*r);
}
void MustOk(const wg::core::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

wg::permit::Permit ActiveHotWork(const std::string& zone, Timestamp start) {
  namespace permit = wg::permit;
  permit::Permit p;
  p.org = kOrg;
  p.site = kSite;
  p.type = permit::PermitType::kHotWork;
  p.grade = "grade2";
  p.title = "管托焊接 (bench)";
  p.work_unit = "维修车间";
  p.owning_unit = "一联合装置";
  p.hazard_analysis = "JHA-1";
  p.location.zone = zone;
  p.location.description = "bench zone " + zone;
  p.location.point = {10, 10};
  p.location.fence = {{0, 0}, {20, 0}, {20, 20}, {0, 20}};
  p.location.area_class = "general";
  p.planned_start = start;
  p.planned_end = start + Duration::Hours(8);
  p.measures.push_back({"m1", "动火点周围易燃物已清除", true, "guard", start});
  p.people = {
      {"performer", "W1", "", "张三", {}},          {"guardian", "", "guard", "李四", {}},
      {"work_leader", "", "leader", "王五", {}},    {"safety_briefer", "", "safety", "赵六", {}},
      {"briefing_recipient", "W1", "", "张三", {}}, {"gas_analyst", "", "guard2", "陈七", {}}};
  p.hot_work.emplace();
  p.hot_work->method = "welding";
  p.state = permit::State::kActive;
  return p;
}

struct Workguard {
  std::unique_ptr<wg::server::Installation> inst;
  std::unique_ptr<wg::monitor::MonitorRulebook> book;
  std::unique_ptr<wg::live::MonitorService> service;
  std::unique_ptr<wg::live::MqttBridge> bridge;
  wg::core::OrgId org{};
  wg::core::SystemClock clock;

  void Open(const std::string& dir, Points& points, int probes, int idle_probes,
            int stopwork_every) {
    inst = Must(wg::server::Installation::Open({.data_dir = dir}, clock), "installation");
    auto o = Must(inst->CreateOrganization({kOrg, "基准石化"}, "cli:bench"), "organization");
    org = o.id;
    Must(inst->CreateSite(org, {kSite, "一厂区", ""}, "cli:bench"), "site");
    auto embedded = wg::monitor::MonitorRulebook::LoadEmbedded();
    if (embedded) {
      book = std::move(*embedded);
    } else {
      book = Must(
          wg::monitor::MonitorRulebook::LoadDir(std::string(WG_SOURCE_DIR) + "/data/rules/monitor"),
          "monitor rulebook");
    }
    // Active permits in every `stopwork_every`-th probe zone: rows written straight to the
    // store (as bench/permit_service_bench.cc does for approved ones).
    const Timestamp now = clock.Now();
    int permits = 0;
    for (int k = 0; stopwork_every > 0 && k < probes; k += stopwork_every) {
      wg::permit::Permit p = ActiveHotWork(ProbeZone("wgP", k), now - Duration::Minutes(30));
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
    wg::live::MonitorOptions mo;
    service = std::make_unique<wg::live::MonitorService>(inst->store(), inst->evidence(), *book,
                                                         clock, &inst->permits(), mo);
    MustOk(service->Start(), "monitor service start");
    const wg::live::Actor actor{"cli:bench", "admin"};
    const std::int64_t t0 = MonoNs();
    auto put = [&](const std::string& id, const std::string& zone) {
      wg::monitor::PointConfig c;
      c.org = org;
      c.id = id;
      c.name = "bench " + id;
      c.site = kSite;
      c.zone = zone;
      c.kind = "h2s";
      c.unit = kUnit;
      Must(service->PutPoint(org, c, 0, actor), "point " + id);
    };
    for (int i = 0; i < points.n; ++i) {
      put(points.ids[static_cast<std::size_t>(i)], std::string("Z").append(std::to_string(i % 10)));
    }
    for (int k = 0; k < probes; ++k) put(ProbeZone("wgP", k) + ".probe", ProbeZone("wgP", k));
    for (int k = 0; k < idle_probes; ++k) {
      put(ProbeZone("wgI", k) + ".probe", ProbeZone("wgI", k));
    }
    MustOk(service->Refresh(), "monitor refresh");
    Log("workguard: installation %s, %d points + %d probe points configured in %.1f s, "
        "%d active permits in probe zones",
        dir.c_str(), points.n, probes, SecondsSince(t0), permits);
  }
  void StartBridge(int port) {
    wg::live::BridgeOptions bo;
    bo.mqtt.host = "127.0.0.1";
    bo.mqtt.port = port;
    bo.client_id = "wg-bench";
    bo.mqtt.client_id = "wg-bench";
    bridge = std::make_unique<wg::live::MqttBridge>(*service, bo);
    MustOk(bridge->Start(10000), "bridge start");
  }
  void StopBridge(int port) {
    if (!bridge) return;
    bridge->Stop();
    bridge.reset();
    WipeSession(port, "wg-bench-in");  // no queue kept for us during the Node-RED runs
  }
  std::uint64_t Accepted() const { return service->Stats().accepted; }
  void Close() {
    if (bridge) bridge->Stop();
    bridge.reset();
    if (service) service->Stop();
    service.reset();
    inst.reset();
  }
};

// Joins the service's action timings of the red probe alarms with the probes' publish and
// receive times: stop-work and alarm-fact durability, and where the time goes.
void AddServiceTimings(Workguard& wg, Latency& L, int stopwork_every) {
  MustOk(wg.service->Flush(Duration::Seconds(10)), "flush");
  std::vector<double> stop, facts, in, engine, out;
  for (int k = 0; k < L.probes; k += stopwork_every) L.stopwork_probes++;
  for (const wg::live::ActionTiming& t : wg.service->LastActionTimings()) {
    if (t.level != "red") continue;
    auto a = wg.service->GetAlarm(wg.org, t.alarm_id);
    if (!a || a->point.rfind("wgP", 0) != 0) continue;
    const int k = std::atoi(a->point.c_str() + 3);
    if (k < 0 || k >= L.probes) continue;
    const std::int64_t pub = L.pub_ns[static_cast<std::size_t>(k)];
    const std::int64_t recv = L.recv_ns[static_cast<std::size_t>(k)];
    auto ms = [](std::int64_t a0, std::int64_t a1) { return static_cast<double>(a1 - a0) / 1e6; };
    if (pub != 0 && t.submitted_ns != 0) in.push_back(ms(pub, t.submitted_ns));
    if (t.submitted_ns != 0 && t.commands_sent_ns != 0) {
      engine.push_back(ms(t.submitted_ns, t.commands_sent_ns));
    }
    if (recv != 0 && t.commands_sent_ns != 0) out.push_back(ms(t.commands_sent_ns, recv));
    if (pub != 0 && t.facts_durable_ns != 0) facts.push_back(ms(pub, t.facts_durable_ns));
    if (k % stopwork_every == 0 && pub != 0 && t.stopwork_durable_ns != 0 && !t.suspended.empty()) {
      stop.push_back(ms(pub, t.stopwork_durable_ns));
      L.stopwork_seen++;
    }
  }
  L.stopwork_ms = Summarize(stop);
  L.facts_ms = Summarize(facts);
  L.in_ms = Summarize(in);
  L.engine_ms = Summarize(engine);
  L.out_ms = Summarize(out);
  Log("%-28s permit.suspended durable %d/%d: p50 %.3f ms p99 %.3f ms max %.3f ms; alarm facts "
      "durable p50 %.3f ms p99 %.3f ms",
      L.name.c_str(), L.stopwork_seen, L.stopwork_probes, L.stopwork_ms.p50, L.stopwork_ms.p99,
      L.stopwork_ms.max, L.facts_ms.p50, L.facts_ms.p99);
  Log("%-28s split p50/p99 ms: publish->Submit %.3f/%.3f, Submit->command sent %.3f/%.3f, "
      "sent->received %.3f/%.3f",
      L.name.c_str(), L.in_ms.p50, L.in_ms.p99, L.engine_ms.p50, L.engine_ms.p99, L.out_ms.p50,
      L.out_ms.p99);
}

#endif  // WG_E2E_WITH_LIVE

// ---------------------------------------------------------------------------------------
// Node-RED
// ---------------------------------------------------------------------------------------

struct NodeRed {
  pid_t pid = -1;
  std::string dir;
  std::atomic<std::int64_t> processed{-1};
  std::atomic<std::int64_t> reports{0};
  std::unique_ptr<Subscriber> sub;
  std::unique_ptr<Publisher> control;

  void Start(const Options& opt, const std::string& parent, const std::string& name, int port,
             bool nodelay) {
    const std::string nr = std::string(WG_SOURCE_DIR) + "/bench/nodered";
    const std::string red = nr + "/node_modules/node-red/red.js";
    if (!fs::exists(red)) Die(red + " missing: run bench/nodered/setup.sh (or use --skip-nodered)");
    dir = parent + "/" + name;
    fs::create_directories(dir);
    fs::copy_file(nr + "/flow.json", dir + "/flows.json", fs::copy_options::overwrite_existing);
    sub = std::make_unique<Subscriber>(
        "bench-nr-count-" + name, port,
        std::vector<std::pair<std::string, int>>{{"wg/bench/nodered/processed", 1}},
        [this](const mosquitto_message& m) {
          processed = std::strtoll(std::string(static_cast<const char*>(m.payload),
                                               static_cast<std::size_t>(m.payloadlen))
                                       .c_str(),
                                   nullptr, 10);
          reports++;
        });
    sub->Start();
    std::string node = opt.node;
    if (node.find('/') == std::string::npos) {
      for (const char* d : {"/usr/bin/", "/usr/local/bin/", "/bin/"}) {
        if (fs::exists(std::string(d) + node)) {
          node = std::string(d) + node;
          break;
        }
      }
    }
    std::vector<std::string> argv{node};
    if (nodelay) {
      argv.push_back("--require");
      argv.push_back(nr + "/nodelay.js");
    }
    for (const char* a : {"-u", "", "-s", ""}) argv.emplace_back(a);
    argv[argv.size() - 3] = dir;
    argv[argv.size() - 1] = nr + "/settings.js";
    argv.insert(argv.begin() + (nodelay ? 3 : 1), red);
    const std::int64_t t0 = MonoNs();
    pid = Spawn(argv,
                {std::string("WG_MQTT_PORT=").append(std::to_string(port)), "NODE_ENV=production"},
                dir + "/node-red.log", dir);
    // Ready when the flow reports its count (its MQTT connection is up) ...
    if (!WaitUntil([&] { return reports.load() > 0 || !ChildAlive(pid); }, 90, 20'000) ||
        !ChildAlive(pid)) {
      Die("Node-RED did not come up: " + ReadFile(dir + "/node-red.log"));
    }
    // ... and its readings subscription delivers: a reading every 100 ms until counted.
    control = std::make_unique<Publisher>("bench-nr-control-" + name, port);
    control->Connect();
    bool ok = false;
    for (int i = 0; i < 300 && !ok; ++i) {
      const std::int64_t before = processed.load();
      control->Publish("wg/v1/bench/S1/points/warmup.w", SinglePayload(WallMs(), 1.0), 1);
      ok = WaitUntil(
               [&] {
                 control->Service(0);
                 return processed.load() > before;
               },
               0.6, 2000)
               .has_value();
    }
    if (!ok) Die("Node-RED flow never counted a reading: " + ReadFile(dir + "/node-red.log"));
    Log("Node-RED (%s) pid %d up in %.1f s", name.c_str(), pid, SecondsSince(t0));
  }
  // Zeroes the flow's counter and waits until it reports 0.
  void Reset() {
    control->Publish("wg/bench/nodered/control", "reset", 1);
    if (!WaitUntil(
            [&] {
              control->Service(0);
              return processed.load() == 0;
            },
            10, 1000)) {
      Die("Node-RED did not reset its counter");
    }
  }
  void Stop() {
    if (control) control->Close();
    control.reset();
    if (sub) sub->Stop();
    sub.reset();
    StopChild(pid, 5000);
    pid = -1;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--skip-nodered") {
      opt.skip_nodered = true;
    } else if (a == "--keep") {
      opt.keep = true;
    } else if (a == "--out") {
      opt.out = next();
    } else if (a == "--count") {
      opt.count = std::stoull(next());
    } else if (a == "--batches") {
      opt.batches = std::stoull(next());
    } else if (a == "--probes") {
      opt.probes = opt.nodered_probes = std::stoi(next());
    } else if (a == "--reps") {
      opt.reps = std::max(1, std::stoi(next()));
    } else if (a == "--window") {
      opt.window = std::stoull(next());
    } else if (a == "--load-nagle") {
      g_load_nodelay = false;
    } else if (a == "--broker-config") {
      opt.broker_extra = next();
    } else if (a == "--mosquitto") {
      opt.mosquitto = next();
    } else if (a == "--node") {
      opt.node = next();
    } else {
      std::fprintf(stderr,
                   "usage: mqtt_e2e [--quick] [--skip-nodered] [--out FILE.json] [--count N] "
                   "[--batches N] [--probes N] [--window N] [--reps N] [--broker-config LINES] "
                   "[--load-nagle] [--mosquitto PATH] [--node PATH] [--keep]\n");
      return 2;
    }
  }
  if (opt.quick) {
    opt.count = std::min<std::uint64_t>(opt.count, 50'000);
    opt.batches = std::min<std::uint64_t>(opt.batches, 3'000);
    opt.probes = std::min(opt.probes, 50);
    opt.nodered_probes = std::min(opt.nodered_probes, 50);
    opt.limit_s = 400;
  }
  if (opt.reps == 0) opt.reps = opt.quick ? 1 : 2;
  opt.count = std::max<std::uint64_t>(1000, opt.count / 1000 * 1000);  // Node-RED reports per 1000

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGHUP, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  std::atexit(KillAllChildren);
  std::thread([limit = opt.limit_s] {
    SleepUs(static_cast<std::int64_t>(limit * 1e6));
    Die("watchdog: the run took longer than " + Fmt(limit) + " s");
  }).detach();

  const std::string load_start = LoadAvg();
  char tmpl[] = "/tmp/wg-mqtt-e2e-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp");
  const std::string tmp = tmpl;
  Log("mqtt_e2e: work dir %s; %llu single-reading messages a run, %llu batches x100, "
      "%d probes, window %llu, %d repetition(s)%s",
      tmp.c_str(), static_cast<unsigned long long>(opt.count),
      static_cast<unsigned long long>(opt.batches), opt.probes,
      static_cast<unsigned long long>(opt.window), opt.reps, opt.quick ? " (quick)" : "");
  mosquitto_lib_init();

  Points points;
  points.Init(1000);
  const double to = opt.quick ? 60 : 120;  // per-run timeout

  auto single = [&](std::uint64_t i) {
    const int p = static_cast<int>(i % static_cast<std::uint64_t>(points.n));
    return std::pair<const std::string*, std::string>(
        &points.topics[static_cast<std::size_t>(p)],
        SinglePayload(points.NextTime(p), Points::Value(p)));
  };

  Broker b1;
  b1.Start(opt.mosquitto, tmp, "broker-nodelay", true, opt.broker_extra);
  DropWatch drops1;
  drops1.Start(b1.port, "b1");

  // (a) raw limit and (b) workguard, single readings, interleaved a, b, a, b, ... so that
  // load from elsewhere on the machine hits both alike (only one of them is subscribed
  // at a time: the broker never fans out to both).
  std::atomic<std::uint64_t> raw_count{0};
  Throughput raw1, raw0, wg_single, wg_batch;
  Latency wg_lat, wg_idle;
  const std::uint64_t warm = opt.quick ? 5'000 : 20'000;
  // Latency without background load too (fewer probes), to tell queueing from the path.
  const int idle_probes = std::max(10, opt.probes / 2);
  const double bg_rate = 10'000;
  auto raw_run = [&](const std::string& name, int qos, std::uint64_t n, DropWatch* dw) {
    Subscriber raw("bench-raw", b1.port, {{"wg/v1/+/+/points/+", qos}},
                   [&](const mosquitto_message&) { raw_count++; });
    raw.Start();
    Throughput t = RunThroughput(
        name, b1.port, n, 1, qos, opt.window, single, [&] { return raw_count.load(); }, dw, to);
    raw.Stop();
    return t;
  };
#if WG_E2E_WITH_LIVE
  Workguard wg;
  const int stopwork_every = 10;
  wg.Open(tmp + "/data", points, opt.probes, idle_probes, stopwork_every);
  auto wg_run = [&](const std::string& name, std::uint64_t n, DropWatch* dw) {
    wg.StartBridge(b1.port);
    Throughput t = RunThroughput(
        name, b1.port, n, 1, 1, opt.window, single, [&] { return wg.Accepted(); }, dw, to);
    wg.StopBridge(b1.port);
    return t;
  };
#endif
  raw_run("warm-up (not reported)", 1, warm, nullptr);
#if WG_E2E_WITH_LIVE
  wg_run("warm-up (not reported)", warm, nullptr);
#endif
  {
    std::vector<Throughput> as, bs;
    for (int r = 0; r < opt.reps; ++r) {
      as.push_back(raw_run("a raw subscriber QoS 1", 1, opt.count, &drops1));
#if WG_E2E_WITH_LIVE
      bs.push_back(wg_run("b workguard single QoS 1", opt.count, &drops1));
#endif
    }
    std::size_t ia = 0, ib = 0;
    raw1 = RunReps(opt.reps, [&] { return as[ia++]; });
    if (!bs.empty()) wg_single = RunReps(opt.reps, [&] { return bs[ib++]; });
  }
  raw0 =
      RunReps(opt.reps, [&] { return raw_run("a raw subscriber QoS 0", 0, opt.count, &drops1); });

  // (c), (d) workguard
#if WG_E2E_WITH_LIVE
  wg.StartBridge(b1.port);
  const std::string batch_topic = std::string("wg/v1/") + kOrg + "/" + kSite + "/batch";
  std::uint64_t batch_reading = 0;
  auto batch = [&](std::uint64_t) {
    std::string s = "{\"readings\":[";
    s.reserve(100 * 64);
    for (int j = 0; j < 100; ++j) {
      const int p = static_cast<int>(batch_reading++ % static_cast<std::uint64_t>(points.n));
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s{\"p\":\"%s\",\"t\":%lld,\"v\":%.2f,\"u\":\"%s\"}",
                    j == 0 ? "" : ",", points.ids[static_cast<std::size_t>(p)].c_str(),
                    static_cast<long long>(points.NextTime(p)), Points::Value(p), kUnit);
      s += buf;
    }
    s += "]}";
    return std::pair<const std::string*, std::string>(&batch_topic, std::move(s));
  };
  wg_batch = RunReps(opt.reps, [&] {
    return RunThroughput(
        "c workguard batch x100 QoS 1", b1.port, opt.batches, 100, 1,
        std::max<std::uint64_t>(opt.window / 100, 200), batch, [&] { return wg.Accepted(); },
        &drops1, to);
  });
  wg_idle =
      RunLatency("d workguard red->lock, no load", b1.port, points, "wgI", idle_probes, 0, 20, 50);
  wg_lat = RunLatency("d workguard red->lock", b1.port, points, "wgP", opt.probes, bg_rate, 20, 50);
  AddServiceTimings(wg, wg_lat, stopwork_every);
  {
    auto st = wg.service->Stats();
    std::string rej;
    for (const auto& [k, v] : st.rejected) rej += " " + k + "=" + std::to_string(v);
    Log("workguard stats: received %llu accepted %llu dropped %llu actions_sent %llu "
        "actions_failed %llu rejected:%s",
        static_cast<unsigned long long>(st.received), static_cast<unsigned long long>(st.accepted),
        static_cast<unsigned long long>(st.dropped),
        static_cast<unsigned long long>(st.actions_sent),
        static_cast<unsigned long long>(st.actions_failed), rej.empty() ? " none" : rej.c_str());
  }
  wg.StopBridge(b1.port);
#endif

  // (e) Node-RED, tuned on b1 (set_tcp_nodelay true), untuned on b2
  struct NrResult {
    bool ran = false;
    Throughput tp;
    Latency lat, idle;
    Throughput raw;  // the raw limit on the same broker
  } nr_tuned, nr_untuned;
  Broker b2;
  if (!opt.skip_nodered) {
    auto run_nr = [&](NrResult& res, Broker& b, DropWatch& dw, const std::string& name,
                      bool nodelay, const std::string& pre, const std::string& idle_pre) {
      NodeRed nr;
      nr.Start(opt, tmp, name, b.port, nodelay);
      nr.Reset();
      RunThroughput(
          "warm-up (not reported)", b.port, warm, 1, 1, opt.window, single,
          [&] {
            return static_cast<std::uint64_t>(std::max<std::int64_t>(nr.processed.load(), 0));
          },
          nullptr, to);
      nr.Reset();
      res.tp = RunReps(opt.reps, [&] {
        return RunThroughput(
            "e Node-RED " + name + " single", b.port, opt.count, 1, 1, opt.window, single,
            [&] {
              return static_cast<std::uint64_t>(std::max<std::int64_t>(nr.processed.load(), 0));
            },
            &dw, to);
      });
      res.idle = RunLatency("e Node-RED " + name + " red->lock, no load", b.port, points, idle_pre,
                            idle_probes, 0, 20, 50);
      res.lat = RunLatency("e Node-RED " + name + " red->lock", b.port, points, pre,
                           opt.nodered_probes, bg_rate, 20, 50);
      nr.Stop();
      res.ran = true;
    };
    run_nr(nr_tuned, b1, drops1, "tcp_nodelay", true, "nrT", "nrS");
    b2.Start(opt.mosquitto, tmp, "broker-default", false, opt.broker_extra);
    DropWatch drops2;
    drops2.Start(b2.port, "b2");
    {
      Subscriber raw("bench-raw-b2", b2.port, {{"wg/v1/+/+/points/+", 1}},
                     [&](const mosquitto_message&) { raw_count++; });
      raw.Start();
      nr_untuned.raw = RunReps(opt.reps, [&] {
        return RunThroughput(
            "a raw QoS 1 (no nodelay)", b2.port, opt.count, 1, 1, opt.window, single,
            [&] { return raw_count.load(); }, &drops2, to);
      });
      raw.Stop();
    }
    run_nr(nr_untuned, b2, drops2, "untuned", false, "nrU", "nrV");
    drops2.sub->Stop();
    b2.Stop();
  }
#if WG_E2E_WITH_LIVE
  wg.Close();
#endif
  drops1.sub->Stop();
  b1.Stop();
  mosquitto_lib_cleanup();

  // ------------------------------------------------------------------ table
  const double ratio_b = wg_single.rate / raw1.rate;
  std::printf(
      "\nLive monitoring over MQTT, end to end (mosquitto on loopback, ~80-byte JSON, "
      "QoS 1 unless noted)%s\n",
      opt.quick ? "  [--quick]" : "");
  std::printf("%-46s %14s  %s\n", "measure", "value", "notes");
  std::printf("%s\n", std::string(110, '-').c_str());
  auto row_tp = [&](const Throughput& t, const std::string& extra) {
    std::printf("%-46s %10s r/s  %s%s\n", t.name.c_str(), Fmt(t.rate).c_str(),
                t.zero_loss ? "zero loss" : "LOSS/TIMEOUT", extra.c_str());
  };
  row_tp(raw1, "  (the limit)");
  row_tp(raw0, "  (reference)");
  row_tp(wg_single, "  ratio to (a) " + Fmt(ratio_b, 3) + " (target >= 0.9)");
  row_tp(wg_batch, "  (target >= 500,000)");
  std::printf("%-46s %6s/%6s ms  p90 %s max %s, %d/%d locks, bg %s r/s (target p99 <= 1 ms)\n",
              "d workguard red->lock p50/p99", Fmt(wg_lat.lock_ms.p50, 3).c_str(),
              Fmt(wg_lat.lock_ms.p99, 3).c_str(), Fmt(wg_lat.lock_ms.p90, 3).c_str(),
              Fmt(wg_lat.lock_ms.max, 3).c_str(), wg_lat.received, wg_lat.probes,
              Fmt(wg_lat.background_rate).c_str());
  auto row_idle = [&](const Latency& l, const Latency* ref) {
    std::printf("%-46s %6s/%6s ms  p90 %s max %s, %d/%d locks%s\n", (l.name + " p50/p99").c_str(),
                Fmt(l.lock_ms.p50, 3).c_str(), Fmt(l.lock_ms.p99, 3).c_str(),
                Fmt(l.lock_ms.p90, 3).c_str(), Fmt(l.lock_ms.max, 3).c_str(), l.received, l.probes,
                ref == nullptr
                    ? ""
                    : ("; Node-RED/workguard p50 " + Fmt(l.lock_ms.p50 / ref->lock_ms.p50, 1) +
                       "x p99 " + Fmt(l.lock_ms.p99 / ref->lock_ms.p99, 1) + "x")
                          .c_str());
  };
  row_idle(wg_idle, nullptr);
  std::printf("%-46s %s/%s, %s/%s, %s/%s ms\n",
              "d   split p50/p99: publish->Submit, ->sent, ->recv",
              Fmt(wg_lat.in_ms.p50, 3).c_str(), Fmt(wg_lat.in_ms.p99, 3).c_str(),
              Fmt(wg_lat.engine_ms.p50, 3).c_str(), Fmt(wg_lat.engine_ms.p99, 3).c_str(),
              Fmt(wg_lat.out_ms.p50, 3).c_str(), Fmt(wg_lat.out_ms.p99, 3).c_str());
  std::printf("%-46s %6s/%6s ms  max %s, %d/%d seen (target <= 10 ms)\n",
              "d stop-work fact durable p50/p99", Fmt(wg_lat.stopwork_ms.p50, 3).c_str(),
              Fmt(wg_lat.stopwork_ms.p99, 3).c_str(), Fmt(wg_lat.stopwork_ms.max, 3).c_str(),
              wg_lat.stopwork_seen, wg_lat.stopwork_probes);
  for (const NrResult* r : {&nr_untuned, &nr_tuned}) {
    if (!r->ran) continue;
    if (r == &nr_untuned) row_tp(r->raw, "  (limit on the untuned broker)");
    row_tp(r->tp, "  workguard/Node-RED " + Fmt(wg_single.rate / r->tp.rate, 2) + "x");
    std::printf(
        "%-46s %6s/%6s ms  p90 %s max %s, %d/%d locks; Node-RED/workguard p50 %sx "
        "p99 %sx\n",
        (r->lat.name + " p50/p99").c_str(), Fmt(r->lat.lock_ms.p50, 3).c_str(),
        Fmt(r->lat.lock_ms.p99, 3).c_str(), Fmt(r->lat.lock_ms.p90, 3).c_str(),
        Fmt(r->lat.lock_ms.max, 3).c_str(), r->lat.received, r->lat.probes,
        Fmt(r->lat.lock_ms.p50 / wg_lat.lock_ms.p50, 1).c_str(),
        Fmt(r->lat.lock_ms.p99 / wg_lat.lock_ms.p99, 1).c_str());
    row_idle(r->idle, &wg_idle);
    if (r->tp.rate < 1.5 * bg_rate) {
      std::printf(
          "%-46s (its lossless rate here is under 1.5x the background load: the latency "
          "includes queueing)\n",
          "");
    }
  }
  const std::string load_end = LoadAvg();
  std::printf(
      "load average at start %s, at end %s (2 cores; other work on the machine makes "
      "figures noisy: compare within one run)\n",
      load_start.c_str(), load_end.c_str());

  if (!opt.out.empty()) {
    if (fs::path(opt.out).has_parent_path())
      fs::create_directories(fs::path(opt.out).parent_path());
    std::ofstream o(opt.out);
    o << "{\n  \"benchmark\": \"mqtt_e2e\",\n  \"loadavg_start\": \"" << load_start
      << "\",\n  \"loadavg_end\": \"" << load_end << "\",\n  \"reps\": " << opt.reps
      << ",\n  \"quick\": " << (opt.quick ? "true" : "false") << ",\n  \"count\": " << opt.count
      << ",\n  \"window\": " << opt.window << ",\n  \"raw_qos1\": " << ToJson(raw1)
      << ",\n  \"raw_qos0\": " << ToJson(raw0) << ",\n  \"workguard_single\": " << ToJson(wg_single)
      << ",\n  \"workguard_single_ratio_to_raw\": " << J(ratio_b)
      << ",\n  \"workguard_batch\": " << ToJson(wg_batch)
      << ",\n  \"workguard_latency\": " << ToJson(wg_lat)
      << ",\n  \"workguard_latency_no_load\": " << ToJson(wg_idle);
    if (nr_tuned.ran) {
      o << ",\n  \"nodered_tcp_nodelay\": {\"throughput\": " << ToJson(nr_tuned.tp)
        << ", \"latency\": " << ToJson(nr_tuned.lat)
        << ", \"latency_no_load\": " << ToJson(nr_tuned.idle)
        << ", \"workguard_over_nodered_throughput\": " << J(wg_single.rate / nr_tuned.tp.rate)
        << ", \"nodered_over_workguard_p50\": " << J(nr_tuned.lat.lock_ms.p50 / wg_lat.lock_ms.p50)
        << ", \"nodered_over_workguard_p99\": " << J(nr_tuned.lat.lock_ms.p99 / wg_lat.lock_ms.p99)
        << "}";
    }
    if (nr_untuned.ran) {
      o << ",\n  \"raw_qos1_untuned_broker\": " << ToJson(nr_untuned.raw)
        << ",\n  \"nodered_untuned\": {\"throughput\": " << ToJson(nr_untuned.tp)
        << ", \"latency\": " << ToJson(nr_untuned.lat)
        << ", \"latency_no_load\": " << ToJson(nr_untuned.idle)
        << ", \"workguard_over_nodered_throughput\": " << J(wg_single.rate / nr_untuned.tp.rate)
        << ", \"nodered_over_workguard_p50\": "
        << J(nr_untuned.lat.lock_ms.p50 / wg_lat.lock_ms.p50)
        << ", \"nodered_over_workguard_p99\": "
        << J(nr_untuned.lat.lock_ms.p99 / wg_lat.lock_ms.p99) << "}";
    }
    o << "\n}\n";
    Log("wrote %s", opt.out.c_str());
  }
  if (!opt.keep) fs::remove_all(tmp);
  KillAllChildren();
  const bool ok = raw1.zero_loss && wg_single.zero_loss && wg_batch.zero_loss &&
                  wg_lat.received == wg_lat.probes;
  return ok ? 0 : 1;
}

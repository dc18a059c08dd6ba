// The `monitor` commands (monitor_commands.h).
#include "monitor_commands.h"

#include <csignal>
#include <iostream>
#include <thread>

#include "cli_common.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/time.h"
#include "wg/ingest/broker.h"
#include "wg/ingest/decode.h"
#include "wg/ingest/mqtt.h"
#include "wg/ingest/replay.h"
#include "wg/server/installation.h"

namespace wg::cli {

namespace {

using core::Json;
using core::Result;
using core::Status;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

Result<std::unique_ptr<server::Installation>> Open(const std::string& data,
                                                   const core::Clock& clock) {
  return server::Installation::Open({.data_dir = data, .load_index = false}, clock);
}

int RunBroker(const MonitorArgs& a) {
  ingest::BrokerOptions opts;
  opts.dir = a.dir;
  opts.port = a.port;
  ingest::TestBroker broker(opts);
  if (Status s = broker.Start(); !s.ok()) return Fail(s);
  std::cout << "mosquitto listening on 127.0.0.1:" << broker.port() << " (dir " << broker.dir()
            << "); Ctrl-C stops it" << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (g_stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (Status s = broker.Stop(); !s.ok()) return Fail(s);
  return kExitOk;
}

int RunReplay(const MonitorArgs& a) {
  if (a.org.empty()) return Fail(Status::InvalidArgument("required", "org"));
  if (a.site.empty()) return Fail(Status::InvalidArgument("required", "site"));
  if (!(a.speed >= 0) || a.speed > 1e6) {
    return Fail(Status::InvalidArgument("must be between 0 and 1000000", "speed"));
  }
  if (a.batch < 1 || static_cast<std::size_t>(a.batch) > ingest::kMaxBatchReadings) {
    return Fail(Status::InvalidArgument("must be between 1 and 10000", "batch"));
  }
  auto hp = ParseListen(a.mqtt);
  if (!hp) return Fail(hp.error().WithContext("mqtt"));
  ingest::MqttOptions mo;
  mo.host = hp->first;
  mo.port = hp->second;
  mo.client_id = "workguard-replay-" + std::to_string(::getpid());
  mo.clean_session = true;
  ingest::MqttPublisher pub(mo);
  if (Status s = pub.Start(); !s.ok()) return Fail(s);
  const std::string topic = ingest::BatchTopic(a.org, a.site);
  core::SystemClock clock;
  ingest::ReplayOptions ro;
  ro.speed = a.speed;
  ro.retime = !a.keep_times;
  ro.start = clock.Now();
  ro.batch = static_cast<std::size_t>(a.batch);
  std::signal(SIGINT, OnSignal);
  auto stats = ingest::ReplayCsv(a.file, ro, [&](std::vector<ingest::RawReading>& batch) -> Status {
    if (g_stop != 0) return Status::Unavailable("interrupted");
    Json readings = Json::array();
    for (const auto& r : batch) {
      Json one = {{"p", r.point}, {"t", r.time.micros / 1000}, {"v", r.value}};
      if (!r.unit.empty()) one["u"] = r.unit;
      readings.push_back(std::move(one));
    }
    return pub.Publish(topic, Json{{"readings", std::move(readings)}}.dump(), 1, false);
  });
  Status drained = pub.Drain(30000);
  pub.Stop();
  if (!stats) return Fail(stats.error());
  std::cout << core::DumpJson({{"rows", stats->rows},
                               {"published", stats->delivered},
                               {"bad_rows", stats->bad_rows},
                               {"errors", stats->errors},
                               {"acknowledged", drained.ok()}})
            << "\n";
  if (!drained.ok()) return Fail(drained);
  return stats->bad_rows > 0 ? kExitNegative : kExitOk;
}

int RunPoints(const MonitorArgs& a) {
  core::SystemClock clock;
  auto inst = Open(a.data, clock);
  if (!inst) return Fail(inst.error());
  auto org = ResolveOrg(**inst, a.org);
  if (!org) return Fail(org.error());
  auto rows = (*inst)->store().ListPoints(*org);
  if (!rows) return Fail(rows.error());
  for (const auto& r : *rows) std::cout << r.document << "\n";
  return kExitOk;
}

int RunAlarms(const MonitorArgs& a) {
  core::SystemClock clock;
  auto inst = Open(a.data, clock);
  if (!inst) return Fail(inst.error());
  auto org = ResolveOrg(**inst, a.org);
  if (!org) return Fail(org.error());
  store::AlarmFilter f;
  if (!a.state.empty()) f.states = {a.state};
  auto rows = (*inst)->store().ListAlarms(*org, f, 0, a.limit);
  if (!rows) return Fail(rows.error());
  for (const auto& r : *rows) std::cout << r.document << "\n";
  return kExitOk;
}

}  // namespace

void AddMonitorCommands(CLI::App& app, MonitorArgs& a) {
  auto* m = app.add_subcommand("monitor", "Live monitoring: broker, CSV replay, points, alarms");
  m->require_subcommand(1);
  a.broker = m->add_subcommand("broker", "Run a mosquitto configured for workguard");
  a.broker->add_option("--dir", a.dir, "Working directory (persistence, log); default a temp dir");
  a.broker->add_option("--port", a.port, "Port on 127.0.0.1 (0 picks a free one)")
      ->check(CLI::Range(0, 65535));
  a.replay = m->add_subcommand("replay", "Replay a CSV of readings onto an MQTT broker");
  a.replay->add_option("file", a.file, "CSV: time,point,value[,unit]")->required();
  a.replay->add_option("--mqtt", a.mqtt, "Broker HOST:PORT")->required();
  a.replay->add_option("--org", a.org, "Organization code (topic)")->required();
  a.replay->add_option("--site", a.site, "Site code (topic)")->required();
  a.replay->add_option("--speed", a.speed, "Times real time; 0 = as fast as possible")
      ->capture_default_str();
  a.replay->add_option("--batch", a.batch, "Readings per message (1..10000)")
      ->capture_default_str();
  a.replay->add_flag("--keep-times", a.keep_times, "Keep the file's times (default: start now)");
  a.points = m->add_subcommand("points", "List the configured monitoring points");
  a.points->add_option("--data", a.data, "Data directory")->required();
  a.points->add_option("--org", a.org, "Organization code");
  a.alarms = m->add_subcommand("alarms", "List alarms, newest first");
  a.alarms->add_option("--data", a.data, "Data directory")->required();
  a.alarms->add_option("--org", a.org, "Organization code");
  a.alarms->add_option("--state", a.state,
                       "active_unacked|active_acked|cleared_unacked|cleared_acked");
  a.alarms->add_option("--limit", a.limit, "At most N (1..1000)")->check(CLI::Range(1, 1000));
}

std::optional<int> RunMonitorCommands(const MonitorArgs& a) {
  if (a.broker != nullptr && a.broker->parsed()) return RunBroker(a);
  if (a.replay != nullptr && a.replay->parsed()) return RunReplay(a);
  if (a.points != nullptr && a.points->parsed()) return RunPoints(a);
  if (a.alarms != nullptr && a.alarms->parsed()) return RunAlarms(a);
  return std::nullopt;
}

}  // namespace wg::cli

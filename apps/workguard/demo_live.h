#pragma once
// The live part of `workguard demo`: monitoring points for the demo organization's sites
// (gas detectors at the CDU hot-work zone and at tank T-301's confined space, a crane's
// load cell and an anemometer in the workshop), an embedded mosquitto when no --mqtt broker
// is given, and a simulator that publishes their readings over MQTT every second —
// normal values with noise, and every `incident_every` an H2S surge at T-301 that crosses
// the yellow and red set-points, lasts a minute and decays, so the whole loop (alarm,
// power-lock and broadcast commands, stop-work, acknowledgement deadlines) can be watched.
//
// People on site: site frames for the CDU and the tank farm (WGS-84 origins, so the map
// shows them), a restricted fence round the CDU hot-work area and a hazardous fence round
// tank T-301, and UWB tags bound to the hot-work permit's welder, guardian, work leader
// and approver and to the confined-space performer. The simulator publishes their
// positions every second: the welder and the leader work inside the hot-work fence, the
// approver stands by it, and in every `incident_every` the guardian walks away for three
// minutes (minutes 5-8: past the two-minute grace the guardian-absent red alarm is raised
// and the permit is suspended) and the confined-space performer enters T-301's fence for
// two minutes (minutes 7-9). Deterministic: positions are a function of the time since
// start.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/ingest/broker.h"
#include "wg/ingest/mqtt.h"
#include "wg/server/installation.h"

namespace wg::cli {

// Adds the demo points when the demo organization has none; returns a summary line.
core::Result<std::string> SeedDemoPoints(server::Installation& inst);
// Adds the demo's site frames, fences, tags and bindings when the demo organization has
// no tags; returns a summary line.
core::Result<std::string> SeedDemoPresence(server::Installation& inst, const core::Clock& clock);

class DemoSimulator {
 public:
  DemoSimulator(std::string host, int port, const core::Clock& clock,
                core::Duration incident_every = core::Duration::Minutes(10));
  ~DemoSimulator();  // Stop()
  core::Status Start();
  void Stop();

 private:
  void Run();
  void PublishPositions(core::Timestamp now, double t);
  std::string host_;
  int port_;
  const core::Clock& clock_;
  core::Duration incident_every_;
  std::unique_ptr<ingest::MqttPublisher> pub_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace wg::cli

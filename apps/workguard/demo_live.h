#pragma once
// The live part of `workguard demo`: monitoring points for the demo organization's sites
// (gas detectors at the CDU hot-work zone and at tank T-301's confined space, a crane's
// load cell and an anemometer in the workshop), an embedded mosquitto when no --mqtt broker
// is given, and a simulator that publishes their readings over MQTT every second —
// normal values with noise, and every `incident_every` an H2S surge at T-301 that crosses
// the yellow and red set-points, lasts a minute and decays, so the whole loop (alarm,
// power-lock and broadcast commands, stop-work, acknowledgement deadlines) can be watched.

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

class DemoSimulator {
 public:
  DemoSimulator(std::string host, int port, const core::Clock& clock,
                core::Duration incident_every = core::Duration::Minutes(10));
  ~DemoSimulator();  // Stop()
  core::Status Start();
  void Stop();

 private:
  void Run();
  std::string host_;
  int port_;
  const core::Clock& clock_;
  core::Duration incident_every_;
  std::unique_ptr<ingest::MqttPublisher> pub_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace wg::cli

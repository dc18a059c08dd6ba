#pragma once
// The live part of `workguard demo` (docs/demo.md): a simulator that publishes, through
// the MQTT broker (the demo's embedded mosquitto unless --mqtt names one), the readings
// of every demo monitoring point (src/server/include/wg/server/demo.h) and the positions
// of the demo's UWB tags every second, and plays a scripted timeline of incidents in
// scenario time (--speed X plays it X times faster; readings carry the real time). At
// start it uploads the detectors' last 30 minutes (every second, as a gateway uploads its
// buffer), the history the early-warning model needs. Scenario seconds:
//
//  -1050   H2S starts rising 1 mg/m3 a minute in vessel V-203 (hydrotreater, zone HT-V)
//          during the active confined-space entry — before the demo starts, so the
//          uploaded history holds it: the early-warning model raises its predicted yellow
//          alarm and the yellow threshold alarm (10 mg/m3) comes with the upload.
//     90   the red threshold (20 mg/m3) is crossed: the red alarm suspends the permits of
//          HT-V and sends power-lock and broadcast commands; the entrant climbs out at
//          110 s. H2S holds at ~23 mg/m3 to 450 s and decays by 570 s.
//    180   an unauthorized worker (HG-003) walks into the CDU hot-work fence for 2 minutes
//          (restricted-entry alarm).
//    240   a team leader submits the drafted welding permit naming the expired welder
//          JX-005: refused (general.worker_certificate), recorded as permit.refused.
//    270   a team leader starts the approved pump-house hot work whose gas test is 45
//          minutes old: refused (gas.before_start).
//    330   the CDU hot-work guardian walks 80 m away for 3 minutes (guardian-absent red
//          alarm after the 2-minute grace, permit suspended).
//  always  the temporary-power electrician DQ-001 (a certificate holder on an active
//          permit) stays 150 m from his work: holder-absent alarm after 5 minutes.
//
// The shift leader ("shift") acknowledges every blue and yellow alarm 45 s after it is
// raised, so none escalates to red on its deadline; red alarms wait for a human.
// The timeline repeats every `incident_every` scenario seconds (default 1800). Positions
// and readings are a function of the scenario time (deterministic noise). At --speed
// above ~1.2 the H2S rise is too fast in real time for the model to warn before red.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/ingest/mqtt.h"
#include "wg/server/installation.h"

namespace wg::cli {

struct DemoOptions {
  double speed = 1;                 // scenario seconds per real second (> 0)
  double incident_every_s = 1800;   // scenario period of the timeline (>= 1800)
  int extra_points = 0;             // bench-site points published too
  // Scenario second the V-203 H2S rise starts (-1200..600). The default, -1050, puts most
  // of the rise in the uploaded history: red about 90 s after the start. 60 plays the
  // whole rise live: the early-warning model's predicted yellow ~12 minutes in, red ~20.
  double h2s_start_s = -1050;
};

class DemoSimulator {
 public:
  DemoSimulator(server::Installation& inst, std::string host, int port, const core::Clock& clock,
                DemoOptions options);
  ~DemoSimulator();  // Stop()
  core::Status Start();
  void Stop();
  // The incident schedule with real-time offsets from start, for the banner.
  std::string Schedule() const;

 private:
  void Run();
  void PublishPositions(core::Timestamp now, double s);
  void ScriptedActions(double s);
  void AcknowledgeYellow(core::Timestamp now);
  server::Installation& inst_;
  std::string host_;
  int port_;
  const core::Clock& clock_;
  DemoOptions opt_;
  std::unique_ptr<ingest::MqttPublisher> pub_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  long last_action_period_[2] = {-1, -1};
  long entry_checks_ = 0;
  std::atomic<bool> entry_open_{true};
};

}  // namespace wg::cli

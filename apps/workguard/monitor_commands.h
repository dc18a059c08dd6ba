#pragma once
// The `monitor` commands of the CLI (docs/formats/mqtt-topics.md, docs/api.md#monitoring):
//   monitor broker [--dir DIR] [--port N]
//       runs a mosquitto configured as workguard needs it (every QoS 1 message kept for
//       persistent sessions, persistence, TCP_NODELAY) until SIGINT.
//   monitor replay FILE --mqtt HOST:PORT --org CODE --site CODE [--speed X] [--batch N]
//                  [--keep-times]
//       replays a CSV of readings (time,point,value[,unit]) onto the broker's batch topic at
//       X times real time (0 = as fast as possible), re-timed to start now unless
//       --keep-times; bad rows are reported with their line and skipped.
//   monitor points --data DIR [--org CODE]       the configured points (JSON lines)
//   monitor alarms --data DIR [--org CODE] [--state S] [--limit N]
//       alarms, newest first (JSON lines).

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace wg::cli {

struct MonitorArgs {
  std::string data;
  std::string org;
  std::string site;
  std::string file;
  std::string mqtt;
  std::string dir;
  std::string state;
  int port = 0;
  double speed = 1.0;
  int batch = 100;
  int limit = 100;
  bool keep_times = false;
  CLI::App* broker = nullptr;
  CLI::App* replay = nullptr;
  CLI::App* points = nullptr;
  CLI::App* alarms = nullptr;
};

void AddMonitorCommands(CLI::App& app, MonitorArgs& a);
// The exit code when one of the commands ran; nullopt when none was chosen.
std::optional<int> RunMonitorCommands(const MonitorArgs& a);

}  // namespace wg::cli

#pragma once
// TestBroker: a real mosquitto (the Debian package's /usr/sbin/mosquitto) started on a
// free loopback port in a temporary directory, for tests, benchmarks and `workguard demo`.
// Its configuration keeps every QoS 1 message (max_queued_messages 0, i.e. no limit;
// persistence on, so a restart keeps sessions and their queues), sets TCP_NODELAY and
// publishes $SYS counters every second. Stop() sends SIGTERM (mosquitto then saves its
// persistence file) and waits; Restart() stops and starts it on the same port.

#include <memory>
#include <string>

#include "wg/core/status.h"

namespace wg::ingest {

struct BrokerOptions {
  std::string mosquitto = "/usr/sbin/mosquitto";
  std::string dir;       // working directory; empty: a new temp dir removed at destruction
  int port = 0;          // 0: pick a free port
  bool persistence = true;
  std::string extra_config;  // appended to mosquitto.conf
};

class TestBroker {
 public:
  explicit TestBroker(BrokerOptions options = {});
  ~TestBroker();  // stops the broker
  // Starts and waits until the port accepts connections (kUnavailable after 10 s, with
  // the broker's log in the message).
  core::Status Start();
  core::Status Stop();
  core::Status Restart();
  int port() const;
  const std::string& dir() const;
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::ingest

#pragma once
// MQTT adapters over libmosquitto (MQTT 3.1.1), with TCP_NODELAY on every socket.
//
// MqttSubscriber: a persistent session (clean_session = false, fixed client id) so the
// broker keeps QoS 1 messages while it is away; subscribes to the reading topics
// (wg/v1/+/+/points/+ and wg/v1/+/+/batch, QoS 1) and to the broker's drop counter
// ($SYS/broker/publish/messages/dropped). Messages are handed to `on_message` on the
// client's network thread; when the callback blocks (the ingest queue is full) the
// client stops reading its socket, which is the back-pressure: the broker queues for us.
// Reconnects by itself with back-off; the broker redelivers unacknowledged messages.
//
// MqttPublisher: a second connection for commands (power lock, broadcast) and load
// generation; Publish is thread-safe and does not wait for the broker's PUBACK (qos 1
// messages are retried by the library after a reconnect).
//
// Both start a network thread in Start() and stop it in Stop()/destructor.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"

namespace wg::ingest {

struct MqttOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id;         // required for a persistent session
  std::string username, password;  // optional
  int keepalive_s = 30;
  bool clean_session = false;
  int qos = 1;
  int max_inflight = 1000;       // client-side inflight window (QoS 1)
  // Automatic reconnect back-off (mosquitto_reconnect_delay_set): the delay grows from
  // reconnect_delay_s to reconnect_delay_max_s, quadratically when reconnect_backoff.
  unsigned reconnect_delay_s = 1;
  unsigned reconnect_delay_max_s = 10;
  bool reconnect_backoff = true;
};

struct MqttCounters {
  std::atomic<std::uint64_t> messages{0};     // application messages received
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> publish_failed{0};
  std::atomic<std::int64_t> broker_dropped{-1};  // last value of the broker's $SYS drop
                                                 // counter; -1 until the broker reports
  std::atomic<bool> connected{false};
};

class MqttSubscriber {
 public:
  using OnMessage = std::function<void(std::string_view topic, std::string_view payload)>;
  // `topics`: filters to subscribe at options.qos; empty = the reading topics above.
  MqttSubscriber(MqttOptions options, OnMessage on_message,
                 std::vector<std::string> topics = {});
  ~MqttSubscriber();
  // Connects (waiting up to `timeout_ms` for the first CONNACK + SUBACK) and starts the
  // network thread. kUnavailable when the broker cannot be reached in time.
  core::Status Start(int timeout_ms = 5000);
  void Stop();
  const MqttCounters& counters() const;
  // The client's socket (mosquitto_socket), -1 when there is none; for diagnostics and
  // tests (e.g. checking TCP_NODELAY with getsockopt). Do not read or close it.
  int native_socket() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class MqttPublisher {
 public:
  explicit MqttPublisher(MqttOptions options);
  ~MqttPublisher();
  core::Status Start(int timeout_ms = 5000);
  void Stop();
  // Queues one message (thread-safe). kUnavailable when the client is not connected and
  // cannot queue; kInvalidArgument for a bad topic or an oversized payload.
  core::Status Publish(std::string_view topic, std::string_view payload, int qos, bool retain);
  // Waits until every queued QoS 1 message has been acknowledged (PUBACK) or the timeout.
  core::Status Drain(int timeout_ms);
  const MqttCounters& counters() const;
  // See MqttSubscriber::native_socket.
  int native_socket() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::ingest

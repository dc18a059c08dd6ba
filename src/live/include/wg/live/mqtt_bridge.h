#pragma once
// MqttBridge: connects a MonitorService (and optionally a PresenceService) to an MQTT
// broker.
//   in:  an ingest::MqttSubscriber on the reading topics (docs/formats/mqtt-topics.md);
//        each message is parsed (ParseTopic, DecodePayload) on the client's network
//        thread and submitted with SubmitByCode, waiting as long as it takes for room in
//        the queue — back-pressure reaches the broker, which queues for our persistent
//        session; decode rejections are counted; the broker's $SYS drop counter is
//        forwarded (SetBrokerDropped) every time it changes.
//        With a PresenceService (SetPresence), also the position topics
//        (wg/v1/<org>/<site>/tags/<tag>/position, wg/v1/<org>/<site>/positions): fixes are
//        decoded (DecodePositions) and submitted to it the same way; their decode
//        rejections are counted by the presence service.
//   out: an ingest::MqttPublisher acting as the service's Actuator: power-lock and
//        broadcast commands are published QoS 1, retained, on their command topics the
//        moment the engine thread emits them.

#include <memory>
#include <string>

#include "wg/core/status.h"
#include "wg/ingest/mqtt.h"
#include "wg/live/presence_service.h"
#include "wg/live/service.h"

namespace wg::live {

struct BridgeOptions {
  ingest::MqttOptions mqtt;          // host, port; client ids are derived from client_id
  std::string client_id = "workguard";  // subscriber "<id>-in", publisher "<id>-out"
};

class MqttBridge {
 public:
  MqttBridge(MonitorService& service, BridgeOptions options);
  ~MqttBridge();  // Stop()
  // Also subscribe to the position topics and feed `presence` (which must outlive the
  // bridge). Call before Start(); null (the default) leaves position topics alone.
  void SetPresence(PresenceService* presence);
  // Connects both clients, installs the publisher as the service's actuator.
  core::Status Start(int timeout_ms = 5000);
  void Stop();
  const ingest::MqttCounters& in_counters() const;
  const ingest::MqttCounters& out_counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::live

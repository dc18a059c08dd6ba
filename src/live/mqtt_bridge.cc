// MqttBridge: MQTT readings into a MonitorService and positions into a PresenceService
// (back-pressure by blocking the client's network thread), the monitor's commands out
// through an MqttPublisher.
#include "wg/live/mqtt_bridge.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace wg::live {

namespace {

// The publisher as the service's actuator: QoS 1, retained, on the command topics.
class PublisherActuator final : public Actuator {
 public:
  explicit PublisherActuator(ingest::MqttPublisher& pub) : pub_(pub) {}
  core::Status Send(const Command& c) override {
    // A point without a zone watches the whole site: its commands go to zone "site".
    const std::string zone = c.zone.empty() ? std::string("site") : c.zone;
    return pub_.Publish(ingest::CommandTopic(c.org_code, c.site, zone, c.kind), c.payload, 1,
                        /*retain=*/true);
  }

 private:
  ingest::MqttPublisher& pub_;
};

}  // namespace

struct MqttBridge::Impl {
  MonitorService& service;
  PresenceService* presence = nullptr;
  BridgeOptions options;
  std::unique_ptr<ingest::MqttSubscriber> sub;
  std::unique_ptr<ingest::MqttPublisher> pub;
  std::unique_ptr<PublisherActuator> actuator;
  std::atomic<bool> stopping{false};
  std::thread watcher;  // forwards the broker's drop counter
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  ingest::MqttCounters empty;

  Impl(MonitorService& s, BridgeOptions o) : service(s), options(std::move(o)) {}

  void OnMessage(std::string_view topic, std::string_view payload) {
    if (!topic.empty() && topic.front() == '$') {
      std::int64_t n = 0;
      auto r = std::from_chars(payload.data(), payload.data() + payload.size(), n);
      if (r.ec == std::errc()) service.SetBrokerDropped(n);
      return;
    }
    auto info = ingest::ParseTopic(topic);
    if (!info.ok()) {
      service.CountRejected({ingest::Rejection{"bad_topic", "topic", info.error().message()}});
      return;
    }
    if (info->is_position()) {
      OnPositions(topic, *info, payload);
      return;
    }
    ingest::Decoded decoded;
    ingest::DecodePayload(*info, payload, decoded);
    service.CountRejected(decoded.rejected);
    if (decoded.readings.empty()) return;
    // Wait as long as it takes: while this callback blocks the client reads nothing and
    // the broker queues for our persistent session.
    while (!stopping.load()) {
      auto r = service.SubmitByCode(info->org, info->site, decoded.readings,
                                    core::Duration::Seconds(1));
      if (r.ok()) return;
      if (r.error().code() != core::StatusCode::kResourceExhausted) {
        spdlog::warn("mqtt bridge: readings of {} not accepted: {}", topic, r.error().ToString());
        return;
      }
    }
  }

  // Position fixes (only subscribed with a presence service; a stray one without it is
  // counted by the monitor as a topic it does not take).
  void OnPositions(std::string_view topic, const ingest::TopicInfo& info,
                   std::string_view payload) {
    if (presence == nullptr) {
      service.CountRejected(
          {ingest::Rejection{"bad_topic", "topic", "position topics are not taken here"}});
      return;
    }
    ingest::DecodedPositions decoded;
    ingest::DecodePositions(info, payload, decoded);
    presence->CountRejected(decoded.rejected);
    if (decoded.fixes.empty()) return;
    while (!stopping.load()) {
      auto r = presence->SubmitByCode(info.org, info.site, decoded.fixes,
                                      core::Duration::Seconds(1));
      if (r.ok()) return;
      if (r.error().code() != core::StatusCode::kResourceExhausted) {
        spdlog::warn("mqtt bridge: positions of {} not accepted: {}", topic, r.error().ToString());
        return;
      }
    }
  }

  void Watch() {
    std::int64_t last = -1;
    std::unique_lock lock(mu);
    while (!stopping.load()) {
      cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping.load(); });
      if (!sub) continue;
      const std::int64_t n = sub->counters().broker_dropped.load();
      if (n >= 0 && n != last) {
        last = n;
        service.SetBrokerDropped(n);
      }
    }
  }
};

MqttBridge::MqttBridge(MonitorService& service, BridgeOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

MqttBridge::~MqttBridge() { Stop(); }

void MqttBridge::SetPresence(PresenceService* presence) { impl_->presence = presence; }

core::Status MqttBridge::Start(int timeout_ms) {
  Impl& m = *impl_;
  if (m.started) return core::Status::Ok();
  m.stopping.store(false);
  ingest::MqttOptions out = m.options.mqtt;
  out.client_id = m.options.client_id + "-out";
  m.pub = std::make_unique<ingest::MqttPublisher>(out);
  WG_RETURN_IF_ERROR(m.pub->Start(timeout_ms));
  m.actuator = std::make_unique<PublisherActuator>(*m.pub);
  m.service.SetActuator(m.actuator.get());
  ingest::MqttOptions in = m.options.mqtt;
  in.client_id = m.options.client_id + "-in";
  // The reading topics (the subscriber's default) and, with people on site, the position
  // topics.
  std::vector<std::string> topics;
  if (m.presence != nullptr) {
    topics = {"wg/v1/+/+/points/+", "wg/v1/+/+/batch", "wg/v1/+/+/tags/+/position",
              "wg/v1/+/+/positions"};
  }
  m.sub = std::make_unique<ingest::MqttSubscriber>(
      in, [&m](std::string_view topic, std::string_view payload) { m.OnMessage(topic, payload); },
      std::move(topics));
  if (core::Status s = m.sub->Start(timeout_ms); !s.ok()) {
    m.service.SetActuator(nullptr);
    m.pub->Stop();
    m.sub.reset();
    return s;
  }
  m.watcher = std::thread([&m] { m.Watch(); });
  m.started = true;
  return core::Status::Ok();
}

void MqttBridge::Stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  {
    std::lock_guard lock(m.mu);
    m.stopping.store(true);
  }
  m.cv.notify_all();
  if (m.watcher.joinable()) m.watcher.join();
  if (m.sub) m.sub->Stop();
  m.service.SetActuator(nullptr);
  if (m.pub) {
    (void)m.pub->Drain(1000);
    m.pub->Stop();
  }
  m.started = false;
}

const ingest::MqttCounters& MqttBridge::in_counters() const {
  return impl_->sub ? impl_->sub->counters() : impl_->empty;
}

const ingest::MqttCounters& MqttBridge::out_counters() const {
  return impl_->pub ? impl_->pub->counters() : impl_->empty;
}

}  // namespace wg::live

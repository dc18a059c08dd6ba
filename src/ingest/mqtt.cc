// MQTT adapters over libmosquitto. Each client runs libmosquitto's own network thread
// (mosquitto_loop_start); callbacks run on it. Reconnection is libmosquitto's: after a
// lost connection mosquitto_loop_forever sleeps the reconnect delay and reconnects, and
// queued/in-flight QoS 1 messages are (re)sent once the new session is up.

#include "wg/ingest/mqtt.h"

#include <mosquitto.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_set>

#include "wg/ingest/decode.h"

namespace wg::ingest {
namespace {

using core::Status;

constexpr std::string_view kDroppedTopic = "$SYS/broker/publish/messages/dropped";

void LibInit() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string MosqError(int rc) {
  std::string s = mosquitto_strerror(rc);
  return s + " (" + std::to_string(rc) + ")";
}

// State shared by both client kinds.
struct Client {
  MqttOptions options;
  mosquitto* mosq = nullptr;
  MqttCounters counters;
  bool loop_running = false;

  std::mutex mu;
  std::condition_variable cv;
  bool ever_connected = false;  // guarded by mu
  int connack_rc = -1;          // last CONNACK result, -1 before any; guarded by mu

  Status Create(void* userdata) {
    LibInit();
    if (!options.clean_session && options.client_id.empty()) {
      return Status::InvalidArgument("a persistent session needs a client id", "client_id");
    }
    if (options.qos < 0 || options.qos > 2) {
      return Status::InvalidArgument("qos must be 0, 1 or 2", "qos");
    }
    mosq = mosquitto_new(options.client_id.empty() ? nullptr : options.client_id.c_str(),
                         options.clean_session, userdata);
    if (mosq == nullptr) return Status::Internal("mosquitto_new failed");
    int rc = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
    if (rc == MOSQ_ERR_SUCCESS) {
      rc = mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM,
                                options.max_inflight <= 0 ? 0 : options.max_inflight);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
      rc = mosquitto_reconnect_delay_set(mosq, std::max(1u, options.reconnect_delay_s),
                                         std::max(std::max(1u, options.reconnect_delay_s),
                                                  options.reconnect_delay_max_s),
                                         options.reconnect_backoff);
    }
    if (rc == MOSQ_ERR_SUCCESS && !options.username.empty()) {
      rc = mosquitto_username_pw_set(
          mosq, options.username.c_str(),
          options.password.empty() ? nullptr : options.password.c_str());
    }
    if (rc != MOSQ_ERR_SUCCESS) {
      Destroy();
      return Status::InvalidArgument("mosquitto option: " + MosqError(rc));
    }
    return Status::Ok();
  }

  // Connects asynchronously and starts the network thread; a refused TCP connect is
  // retried by the loop with the reconnect delay.
  Status Connect() {
    const int rc =
        mosquitto_connect_async(mosq, options.host.c_str(), options.port, options.keepalive_s);
    if (rc == MOSQ_ERR_INVAL) {
      return Status::InvalidArgument("bad host/port/keepalive: " + MosqError(rc));
    }
    // Other failures (connection refused, broker not yet up): the loop retries.
    const int lrc = mosquitto_loop_start(mosq);
    if (lrc != MOSQ_ERR_SUCCESS) {
      return Status::Internal("mosquitto_loop_start: " + MosqError(lrc));
    }
    loop_running = true;
    return Status::Ok();
  }

  // Waits until `ready()` (called under mu) or a refused CONNACK or the timeout.
  template <typename Ready>
  Status WaitReady(int timeout_ms, Ready ready) {
    std::unique_lock lock(mu);
    const bool ok = cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
      return ready() || (connack_rc > 0);
    });
    if (connack_rc > 0) {
      const std::string why = mosquitto_connack_string(connack_rc);
      return Status::Unavailable("broker refused the connection: " + why);
    }
    if (!ok) {
      return Status::Unavailable("no MQTT connection to " + options.host + ":" +
                                 std::to_string(options.port) + " within " +
                                 std::to_string(timeout_ms) + " ms");
    }
    return Status::Ok();
  }

  void OnConnect(int rc) {
    std::lock_guard lock(mu);
    connack_rc = rc;
    if (rc == 0) {
      if (ever_connected) counters.reconnects.fetch_add(1, std::memory_order_relaxed);
      ever_connected = true;
      counters.connected.store(true);
    }
    cv.notify_all();
  }

  void OnDisconnect() {
    counters.connected.store(false);
    std::lock_guard lock(mu);
    cv.notify_all();
  }

  // Not concurrent with Start; may race with Publish, which checks `mosq` under mu.
  void Stop() {
    mosquitto* m = nullptr;
    {
      std::lock_guard lock(mu);
      m = mosq;
      mosq = nullptr;
    }
    if (m == nullptr) return;
    mosquitto_disconnect(m);  // also tells the loop not to reconnect
    if (loop_running) {
      mosquitto_loop_stop(m, false);
      loop_running = false;
    }
    counters.connected.store(false);
    mosquitto_destroy(m);
  }

  int Socket() {
    std::lock_guard lock(mu);
    return mosq == nullptr ? -1 : mosquitto_socket(mosq);
  }

  void Destroy() {
    if (mosq != nullptr) mosquitto_destroy(mosq);
    mosq = nullptr;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Subscriber

struct MqttSubscriber::Impl {
  Client c;
  OnMessage on_message;
  std::vector<std::string> topics;
  int sub_mid = -1;         // guarded by c.mu
  bool subscribed = false;  // guarded by c.mu
  std::string sub_error;    // guarded by c.mu

  static void OnConnectCb(mosquitto* m, void* obj, int rc) {
    auto* self = static_cast<Impl*>(obj);
    self->c.OnConnect(rc);
    if (rc != 0) return;
    // Subscribe on every connect: harmless for a resumed session, required after the
    // broker lost its state.
    std::vector<char*> subs;
    subs.reserve(self->topics.size() + 1);
    for (auto& t : self->topics) subs.push_back(t.data());
    static std::string dropped(kDroppedTopic);
    subs.push_back(dropped.data());
    int mid = 0;
    const int src = mosquitto_subscribe_multiple(m, &mid, static_cast<int>(subs.size()),
                                                 subs.data(), self->c.options.qos, 0, nullptr);
    std::lock_guard lock(self->c.mu);
    if (src == MOSQ_ERR_SUCCESS) {
      self->sub_mid = mid;
    } else {
      self->sub_error = MosqError(src);
      self->c.cv.notify_all();
    }
  }

  static void OnSubscribeCb(mosquitto*, void* obj, int mid, int count, const int* granted) {
    auto* self = static_cast<Impl*>(obj);
    std::lock_guard lock(self->c.mu);
    if (mid != self->sub_mid) return;
    for (int i = 0; i < count; ++i) {
      if (granted[i] == 0x80) {
        self->sub_error = "subscription " + std::to_string(i) + " refused by the broker";
      }
    }
    self->subscribed = true;
    self->c.cv.notify_all();
  }

  static void OnDisconnectCb(mosquitto*, void* obj, int) {
    static_cast<Impl*>(obj)->c.OnDisconnect();
  }

  static void OnMessageCb(mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* self = static_cast<Impl*>(obj);
    const std::string_view topic = msg->topic != nullptr ? msg->topic : "";
    const std::string_view payload(static_cast<const char*>(msg->payload),
                                   msg->payloadlen > 0 ? static_cast<std::size_t>(msg->payloadlen)
                                                       : 0);
    if (topic.starts_with("$SYS/")) {
      if (topic == kDroppedTopic) {
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), v);
        if (ec == std::errc() && v >= 0) self->c.counters.broker_dropped.store(v);
      }
      return;
    }
    self->c.counters.messages.fetch_add(1, std::memory_order_relaxed);
    self->c.counters.bytes.fetch_add(payload.size(), std::memory_order_relaxed);
    if (self->on_message) self->on_message(topic, payload);
  }
};

MqttSubscriber::MqttSubscriber(MqttOptions options, OnMessage on_message,
                               std::vector<std::string> topics)
    : impl_(std::make_unique<Impl>()) {
  impl_->c.options = std::move(options);
  impl_->on_message = std::move(on_message);
  impl_->topics = std::move(topics);
  if (impl_->topics.empty()) {
    impl_->topics = {"wg/v1/+/+/points/+", "wg/v1/+/+/batch"};
  }
}

MqttSubscriber::~MqttSubscriber() { Stop(); }

core::Status MqttSubscriber::Start(int timeout_ms) {
  if (impl_->c.mosq != nullptr) return Status::FailedPrecondition("subscriber already started");
  for (const auto& t : impl_->topics) {
    if (mosquitto_sub_topic_check(t.c_str()) != MOSQ_ERR_SUCCESS) {
      return Status::InvalidArgument("bad topic filter '" + t + "'", "topics");
    }
  }
  {
    std::lock_guard lock(impl_->c.mu);
    impl_->subscribed = false;
    impl_->sub_mid = -1;
    impl_->sub_error.clear();
    impl_->c.connack_rc = -1;
  }
  WG_RETURN_IF_ERROR(impl_->c.Create(impl_.get()));
  mosquitto_connect_callback_set(impl_->c.mosq, &Impl::OnConnectCb);
  mosquitto_disconnect_callback_set(impl_->c.mosq, &Impl::OnDisconnectCb);
  mosquitto_subscribe_callback_set(impl_->c.mosq, &Impl::OnSubscribeCb);
  mosquitto_message_callback_set(impl_->c.mosq, &Impl::OnMessageCb);
  Status s = impl_->c.Connect();
  if (s.ok()) {
    s = impl_->c.WaitReady(timeout_ms,
                           [&] { return impl_->subscribed || !impl_->sub_error.empty(); });
  }
  if (s.ok()) {
    std::lock_guard lock(impl_->c.mu);
    if (!impl_->sub_error.empty()) s = Status::Unavailable("subscribe: " + impl_->sub_error);
  }
  if (!s.ok()) impl_->c.Stop();
  return s;
}

void MqttSubscriber::Stop() { impl_->c.Stop(); }

const MqttCounters& MqttSubscriber::counters() const { return impl_->c.counters; }

int MqttSubscriber::native_socket() const { return impl_->c.Socket(); }

// ---------------------------------------------------------------------------------------
// Publisher

struct MqttPublisher::Impl {
  Client c;
  // Message ids of QoS 1/2 messages queued and not yet acknowledged. Guarded by c.mu,
  // which Publish holds across mosquitto_publish so an acknowledgement (on the network
  // thread) can never be seen before its id is recorded.
  std::unordered_set<int> pending;

  static void OnConnectCb(mosquitto*, void* obj, int rc) {
    static_cast<Impl*>(obj)->c.OnConnect(rc);
  }
  static void OnDisconnectCb(mosquitto*, void* obj, int) {
    static_cast<Impl*>(obj)->c.OnDisconnect();
  }
  static void OnPublishCb(mosquitto*, void* obj, int mid) {
    auto* self = static_cast<Impl*>(obj);
    std::lock_guard lock(self->c.mu);
    if (self->pending.erase(mid) > 0 && self->pending.empty()) self->c.cv.notify_all();
  }
};

MqttPublisher::MqttPublisher(MqttOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->c.options = std::move(options);
}

MqttPublisher::~MqttPublisher() { Stop(); }

core::Status MqttPublisher::Start(int timeout_ms) {
  if (impl_->c.mosq != nullptr) return Status::FailedPrecondition("publisher already started");
  {
    std::lock_guard lock(impl_->c.mu);
    impl_->c.connack_rc = -1;
    impl_->pending.clear();
  }
  WG_RETURN_IF_ERROR(impl_->c.Create(impl_.get()));
  mosquitto_connect_callback_set(impl_->c.mosq, &Impl::OnConnectCb);
  mosquitto_disconnect_callback_set(impl_->c.mosq, &Impl::OnDisconnectCb);
  mosquitto_publish_callback_set(impl_->c.mosq, &Impl::OnPublishCb);
  Status s = impl_->c.Connect();
  if (s.ok()) s = impl_->c.WaitReady(timeout_ms, [&] { return impl_->c.connack_rc == 0; });
  if (!s.ok()) impl_->c.Stop();
  return s;
}

void MqttPublisher::Stop() {
  impl_->c.Stop();
  std::lock_guard lock(impl_->c.mu);
  impl_->pending.clear();
  impl_->c.cv.notify_all();
}

core::Status MqttPublisher::Publish(std::string_view topic, std::string_view payload, int qos,
                                    bool retain) {
  auto fail = [&](Status s) {
    impl_->c.counters.publish_failed.fetch_add(1, std::memory_order_relaxed);
    return s;
  };
  if (qos < 0 || qos > 2) return fail(Status::InvalidArgument("qos must be 0, 1 or 2", "qos"));
  if (payload.size() > kMaxPayloadBytes) {
    return fail(Status::InvalidArgument("payload of " + std::to_string(payload.size()) +
                                            " bytes exceeds " + std::to_string(kMaxPayloadBytes),
                                        "payload"));
  }
  const std::string t(topic);
  if (t.empty() || mosquitto_pub_topic_check(t.c_str()) != MOSQ_ERR_SUCCESS) {
    return fail(Status::InvalidArgument("bad topic '" + t + "'", "topic"));
  }
  std::lock_guard lock(impl_->c.mu);
  if (impl_->c.mosq == nullptr) return fail(Status::Unavailable("publisher not started"));
  int mid = 0;
  const int rc = mosquitto_publish(impl_->c.mosq, &mid, t.c_str(),
                                   static_cast<int>(payload.size()), payload.data(), qos, retain);
  // For QoS > 0 libmosquitto queues the message before trying to send it, so "not
  // connected" means "queued; sent after the reconnect" (the mid is valid). For QoS 0
  // there is nothing to retry: the message is lost and the caller learns it.
  const bool queued = qos > 0 && (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST);
  if (rc != MOSQ_ERR_SUCCESS && !queued) {
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NOMEM) {
      return fail(Status::Unavailable("publish: " + MosqError(rc)));
    }
    return fail(Status::InvalidArgument("publish: " + MosqError(rc), "payload"));
  }
  if (qos > 0) impl_->pending.insert(mid);
  impl_->c.counters.published.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

core::Status MqttPublisher::Drain(int timeout_ms) {
  std::unique_lock lock(impl_->c.mu);
  const bool ok = impl_->c.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                       [&] { return impl_->pending.empty(); });
  if (!ok) {
    return Status::Unavailable(std::to_string(impl_->pending.size()) +
                               " QoS 1 messages not acknowledged within " +
                               std::to_string(timeout_ms) + " ms");
  }
  return Status::Ok();
}

const MqttCounters& MqttPublisher::counters() const { return impl_->c.counters; }

int MqttPublisher::native_socket() const { return impl_->c.Socket(); }

}  // namespace wg::ingest

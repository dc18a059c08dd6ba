// MQTT adapters against a real mosquitto (TestBroker): bulk QoS 1 delivery, a broker
// restart in the middle of a stream, an offline persistent subscriber, the $SYS drop
// counter and TCP_NODELAY.

#include "wg/ingest/mqtt.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "wg/ingest/broker.h"
#include "wg/ingest/decode.h"

namespace wg::ingest {
namespace {

using namespace std::chrono_literals;

bool HaveMosquitto() { return std::filesystem::exists("/usr/sbin/mosquitto"); }

#define REQUIRE_MOSQUITTO()                                            \
  do {                                                                 \
    if (!HaveMosquitto()) GTEST_SKIP() << "/usr/sbin/mosquitto missing"; \
  } while (false)

// Counts messages by the integer id carried as the payload.
class Collector {
 public:
  void Add(std::string_view topic, std::string_view payload) {
    std::lock_guard lock(mu_);
    last_topic_ = std::string(topic);
    ++total_;
    ++counts_[std::stoi(std::string(payload))];
  }
  std::size_t distinct() const {
    std::lock_guard lock(mu_);
    return counts_.size();
  }
  std::size_t total() const {
    std::lock_guard lock(mu_);
    return total_;
  }
  bool Has(int id) const {
    std::lock_guard lock(mu_);
    return counts_.contains(id);
  }
  std::string last_topic() const {
    std::lock_guard lock(mu_);
    return last_topic_;
  }
  // Waits until `n` distinct ids have arrived.
  bool WaitDistinct(std::size_t n, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (distinct() >= n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return distinct() >= n;
  }
  MqttSubscriber::OnMessage Callback() {
    return [this](std::string_view t, std::string_view p) { Add(t, p); };
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<int, int> counts_;
  std::size_t total_ = 0;
  std::string last_topic_;
};

MqttOptions Opts(const TestBroker& broker, std::string id) {
  MqttOptions o;
  o.port = broker.port();
  o.client_id = std::move(id);
  o.reconnect_delay_s = 1;
  o.reconnect_delay_max_s = 1;  // tests wait for reconnects: keep them prompt
  o.reconnect_backoff = false;
  return o;
}

template <typename F>
bool WaitFor(F cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

const std::string kTopic = ReadingTopic("org1", "site1", "gas-1");

TEST(TestBrokerTest, StartsStopsAndRestartsOnTheSamePort) {
  REQUIRE_MOSQUITTO();
  std::string dir;
  {
    TestBroker broker;
    ASSERT_TRUE(broker.Start().ok());
    EXPECT_TRUE(broker.running());
    const int port = broker.port();
    EXPECT_GT(port, 0);
    dir = broker.dir();
    EXPECT_TRUE(std::filesystem::exists(dir + "/mosquitto.conf"));
    ASSERT_TRUE(broker.Restart().ok());
    EXPECT_EQ(broker.port(), port);
    ASSERT_TRUE(broker.Stop().ok());
    EXPECT_FALSE(broker.running());
    // Persistence is written on SIGTERM.
    EXPECT_TRUE(std::filesystem::exists(dir + "/mosquitto.db"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << "temp dir not removed";
}

TEST(TestBrokerTest, BadConfigReportsTheLog) {
  REQUIRE_MOSQUITTO();
  BrokerOptions o;
  o.extra_config = "no_such_option 1";
  TestBroker broker(o);
  auto s = broker.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("no_such_option"), std::string::npos) << s.message();
  EXPECT_FALSE(broker.running());
}

TEST(TestBrokerTest, APortInUseIsReported) {
  REQUIRE_MOSQUITTO();
  TestBroker first;
  ASSERT_TRUE(first.Start().ok());
  BrokerOptions o;
  o.port = first.port();
  TestBroker second(o);
  auto s = second.Start();
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable) << s.ToString();
  EXPECT_FALSE(second.running());
  EXPECT_TRUE(first.running());
}

TEST(MqttTest, StartFailsWithUnavailableWhenNoBroker) {
  // A port nobody listens on: take one from a broker that is then stopped.
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  ASSERT_TRUE(broker.Stop().ok());
  MqttSubscriber sub(Opts(broker, "nobody"), nullptr);
  auto s = sub.Start(300);
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable) << s.ToString();
  MqttPublisher pub(Opts(broker, "nobody-pub"));
  EXPECT_EQ(pub.Start(300).code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(pub.Publish(kTopic, "1", 1, false).code(), core::StatusCode::kUnavailable);
}

TEST(MqttTest, PersistentSessionNeedsAClientId) {
  MqttOptions o;
  o.client_id = "";
  MqttSubscriber sub(o, nullptr);
  EXPECT_EQ(sub.Start(100).field(), "client_id");
}

TEST(MqttTest, TwentyThousandQos1MessagesArriveExactlyOnce) {
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  Collector got;
  MqttSubscriber sub(Opts(broker, "bulk-sub"), got.Callback());
  ASSERT_TRUE(sub.Start().ok());
  MqttPublisher pub(Opts(broker, "bulk-pub"));
  ASSERT_TRUE(pub.Start().ok());
  constexpr int kN = 20000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(pub.Publish(kTopic, std::to_string(i), 1, false).ok());
  }
  ASSERT_TRUE(pub.Drain(15000).ok());
  ASSERT_TRUE(got.WaitDistinct(kN, 15s)) << got.distinct();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
  std::this_thread::sleep_for(100ms);  // nothing extra may trail in
  EXPECT_EQ(got.distinct(), static_cast<std::size_t>(kN));
  EXPECT_EQ(got.total(), static_cast<std::size_t>(kN));
  EXPECT_EQ(sub.counters().messages.load(), static_cast<std::uint64_t>(kN));
  EXPECT_EQ(pub.counters().published.load(), static_cast<std::uint64_t>(kN));
  EXPECT_EQ(pub.counters().publish_failed.load(), 0u);
  EXPECT_EQ(got.last_topic(), kTopic);
  std::printf("20000 QoS 1 messages end to end in %lld ms\n", static_cast<long long>(ms));
}

TEST(MqttTest, BrokerRestartMidStreamLosesNothing) {
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  Collector got;
  // A slowish consumer, so the broker holds a backlog for it when it is restarted: that
  // backlog must survive through the persistence file.
  MqttSubscriber sub(Opts(broker, "restart-sub"), [&](std::string_view t, std::string_view p) {
    got.Add(t, p);
    std::this_thread::sleep_for(100us);
  });
  ASSERT_TRUE(sub.Start().ok());
  MqttPublisher pub(Opts(broker, "restart-pub"));
  ASSERT_TRUE(pub.Start().ok());

  constexpr int kN = 6000;
  std::atomic<int> sent{0};
  std::atomic<bool> publish_ok{true};
  std::thread producer([&] {
    for (int i = 0; i < kN; ++i) {
      auto s = pub.Publish(kTopic, std::to_string(i), 1, false);
      if (!s.ok()) {
        if (publish_ok.exchange(false)) std::printf("publish %d: %s\n", i, s.ToString().c_str());
      }
      sent = i + 1;
      if (i % 20 == 0) std::this_thread::sleep_for(1ms);  // a stream, not one burst
    }
  });
  ASSERT_TRUE(WaitFor([&] { return sent.load() >= kN / 4; }, 10s));
  const std::size_t got_before_restart = got.distinct();
  ASSERT_TRUE(broker.Restart().ok());
  const int sent_at_restart = sent.load();
  producer.join();
  EXPECT_TRUE(publish_ok.load());
  EXPECT_LT(sent_at_restart, kN) << "stream finished before the restart; test is void";

  ASSERT_TRUE(pub.Drain(15000).ok());
  ASSERT_TRUE(got.WaitDistinct(kN, 15s)) << "distinct " << got.distinct() << " of " << kN;
  EXPECT_GE(got.total(), static_cast<std::size_t>(kN));  // at least once: duplicates allowed
  std::printf("restart after %d published, %zu received; finally %zu received (%zu distinct)\n",
              sent_at_restart, got_before_restart, got.total(), got.distinct());
  EXPECT_GE(sub.counters().reconnects.load(), 1u);
  EXPECT_GE(pub.counters().reconnects.load(), 1u);
  EXPECT_TRUE(sub.counters().connected.load());
}

TEST(MqttTest, OfflinePersistentSubscriberGetsEverythingOnReconnect) {
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  Collector got;
  {
    MqttSubscriber sub(Opts(broker, "offline-sub"), got.Callback());
    ASSERT_TRUE(sub.Start().ok());  // creates the session and its subscriptions
    sub.Stop();
  }
  MqttPublisher pub(Opts(broker, "offline-pub"));
  ASSERT_TRUE(pub.Start().ok());
  // More than mosquitto's default max_queued_messages (1000): with the default the
  // broker would silently drop the rest.
  constexpr int kN = 3000;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(pub.Publish(kTopic, std::to_string(i), 1, false).ok());
  ASSERT_TRUE(pub.Drain(10000).ok());
  EXPECT_EQ(got.total(), 0u);

  MqttSubscriber sub(Opts(broker, "offline-sub"), got.Callback());
  ASSERT_TRUE(sub.Start().ok());
  ASSERT_TRUE(got.WaitDistinct(kN, 10s)) << got.distinct();
  // The broker's drop counter stays at 0 when nothing was dropped.
  ASSERT_TRUE(WaitFor([&] { return sub.counters().broker_dropped.load() >= 0; }, 5s));
  EXPECT_EQ(sub.counters().broker_dropped.load(), 0);
}

TEST(MqttTest, ReadsTheBrokerDropCounterAndKeepsSysOutOfTheCallback) {
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  std::atomic<int> sys_seen{0};
  MqttSubscriber sub(Opts(broker, "sys-sub"),
                     [&](std::string_view topic, std::string_view) {
                       if (topic.starts_with("$SYS")) ++sys_seen;
                     });
  ASSERT_TRUE(sub.Start().ok());
  EXPECT_EQ(sub.counters().broker_dropped.load() >= -1, true);
  ASSERT_TRUE(WaitFor([&] { return sub.counters().broker_dropped.load() >= 0; }, 5s))
      << "no $SYS/broker/publish/messages/dropped within 5 s";
  EXPECT_EQ(sys_seen.load(), 0);
  EXPECT_EQ(sub.counters().messages.load(), 0u);
}

// Control for the two tests above: with mosquitto's default-style limit the broker drops
// what an offline subscriber cannot queue, and the drop counter shows it.
TEST(MqttTest, ALimitedBrokerQueueDropsAndTheCounterShowsIt) {
  REQUIRE_MOSQUITTO();
  BrokerOptions bo;
  bo.extra_config = "max_queued_messages 100";  // later lines override the generated ones
  TestBroker broker(bo);
  ASSERT_TRUE(broker.Start().ok());
  Collector got;
  {
    MqttSubscriber sub(Opts(broker, "limited-sub"), got.Callback());
    ASSERT_TRUE(sub.Start().ok());
    sub.Stop();
  }
  MqttPublisher pub(Opts(broker, "limited-pub"));
  ASSERT_TRUE(pub.Start().ok());
  constexpr int kN = 500;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(pub.Publish(kTopic, std::to_string(i), 1, false).ok());
  ASSERT_TRUE(pub.Drain(10000).ok());
  MqttSubscriber sub(Opts(broker, "limited-sub"), got.Callback());
  ASSERT_TRUE(sub.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return sub.counters().broker_dropped.load() > 0; }, 5s))
      << "dropped " << sub.counters().broker_dropped.load();
  std::this_thread::sleep_for(200ms);
  EXPECT_LT(got.distinct(), static_cast<std::size_t>(kN));
  EXPECT_GE(sub.counters().broker_dropped.load(),
            static_cast<std::int64_t>(kN - got.distinct()) - 25);  // in-flight slack
}

bool NoDelay(int fd) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0) return false;
  return v != 0;
}

TEST(MqttTest, EverySocketHasTcpNodelay) {
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MqttSubscriber sub(Opts(broker, "nodelay-sub"), nullptr);
  ASSERT_TRUE(sub.Start().ok());
  MqttPublisher pub(Opts(broker, "nodelay-pub"));
  ASSERT_TRUE(pub.Start().ok());
  ASSERT_GE(sub.native_socket(), 0);
  ASSERT_GE(pub.native_socket(), 0);
  EXPECT_TRUE(NoDelay(sub.native_socket()));
  EXPECT_TRUE(NoDelay(pub.native_socket()));
  // Control: a plain socket does not have it, so the check can fail.
  const int plain = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(plain, 0);
  EXPECT_FALSE(NoDelay(plain));
  ::close(plain);
  // Still set after a reconnect (a new socket).
  ASSERT_TRUE(broker.Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return sub.counters().reconnects.load() >= 1; }, 10s));
  ASSERT_GE(sub.native_socket(), 0);
  EXPECT_TRUE(NoDelay(sub.native_socket()));
}

TEST(MqttTest, RetainedCommandReachesALaterSubscriber) {
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MqttPublisher pub(Opts(broker, "cmd-pub"));
  ASSERT_TRUE(pub.Start().ok());
  const std::string topic = CommandTopic("org1", "site1", "zone-a", "power-lock");
  ASSERT_TRUE(pub.Publish(topic, "7", 1, /*retain=*/true).ok());
  ASSERT_TRUE(pub.Drain(5000).ok());
  Collector got;
  MqttSubscriber sub(Opts(broker, "cmd-sub"), got.Callback(), {"wg/v1/+/+/actuators/+/+"});
  ASSERT_TRUE(sub.Start().ok());
  ASSERT_TRUE(got.WaitDistinct(1, 5s));
  EXPECT_TRUE(got.Has(7));
  EXPECT_EQ(got.last_topic(), topic);
}

TEST(MqttTest, PublishRejectsBadTopicsAndOversizedPayloads) {
  REQUIRE_MOSQUITTO();
  TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MqttPublisher pub(Opts(broker, "bad-pub"));
  ASSERT_TRUE(pub.Start().ok());
  EXPECT_EQ(pub.Publish("wg/+/x", "1", 1, false).field(), "topic");
  EXPECT_EQ(pub.Publish("", "1", 1, false).field(), "topic");
  EXPECT_EQ(pub.Publish(kTopic, std::string(kMaxPayloadBytes + 1, 'x'), 1, false).field(),
            "payload");
  EXPECT_EQ(pub.Publish(kTopic, "1", 3, false).field(), "qos");
  EXPECT_EQ(pub.counters().publish_failed.load(), 4u);
  EXPECT_TRUE(pub.Publish(kTopic, std::string(kMaxPayloadBytes, 'x'), 1, false).ok());
  EXPECT_TRUE(pub.Drain(5000).ok());
}

}  // namespace
}  // namespace wg::ingest

// MqttBridge against a real mosquitto (TestBroker): readings published over MQTT raise an
// alarm whose power-lock command a subscriber receives; malformed payloads are counted
// without stopping ingestion.
#include "wg/live/mqtt_bridge.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "test_fixture.h"
#include "wg/ingest/broker.h"
#include "wg/ingest/decode.h"

namespace wg::live {
namespace {

using namespace std::chrono_literals;
using core::Duration;

class MqttBridgeTest : public testing::LiveFixture {};

template <typename F>
bool WaitFor(F&& f, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

TEST_F(MqttBridgeTest, ReadingsOverMqttLockThePowerAndBadPayloadsAreCounted) {
  if (!std::filesystem::exists("/usr/sbin/mosquitto")) GTEST_SKIP() << "no mosquitto";
  ingest::TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  permit::Permit p = ActivePermit(HotWork());
  ASSERT_EQ(p.state, permit::State::kActive);
  MakeService();
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));

  // The actuator side: a PLC gateway listening on the power-lock topic.
  std::mutex mu;
  std::vector<std::string> locks;
  ingest::MqttOptions listen;
  listen.port = broker.port();
  listen.client_id = "plc-gateway";
  listen.clean_session = true;
  ingest::MqttSubscriber plc(
      listen,
      [&](std::string_view, std::string_view payload) {
        std::lock_guard lock(mu);
        locks.emplace_back(payload);
      },
      {ingest::CommandTopic("plant-a", "S1", "U1", "power-lock")});
  ASSERT_TRUE(plc.Start().ok());

  BridgeOptions bo;
  bo.mqtt.port = broker.port();
  bo.client_id = "wg-test";
  MqttBridge bridge(*svc_, bo);
  ASSERT_TRUE(bridge.Start().ok());

  ingest::MqttOptions po;
  po.port = broker.port();
  po.client_id = "sensor-gw";
  po.clean_session = true;
  ingest::MqttPublisher sensors(po);
  ASSERT_TRUE(sensors.Start().ok());
  const std::string topic = ingest::ReadingTopic("plant-a", "S1", "h2s-1");
  const std::int64_t ms = clock_.Now().micros / 1000;
  // Malformed first: bad JSON, an unknown point, a wrong unit, a bad topic.
  ASSERT_TRUE(sensors.Publish(topic, "{not json", 1, false).ok());
  ASSERT_TRUE(sensors
                  .Publish(ingest::ReadingTopic("plant-a", "S1", "ghost"),
                           "{\"t\":" + std::to_string(ms) + ",\"v\":1}", 1, false)
                  .ok());
  ASSERT_TRUE(sensors
                  .Publish(topic, "{\"t\":" + std::to_string(ms) + ",\"v\":1,\"u\":\"ppm\"}", 1,
                           false)
                  .ok());
  ASSERT_TRUE(sensors.Publish("wg/v1/plant-a/S1/points/bad%id", "{\"t\":1,\"v\":1}", 1, false).ok());
  // Then a normal reading and the crossing one.
  ASSERT_TRUE(sensors.Publish(topic, "{\"t\":" + std::to_string(ms) + ",\"v\":1.5}", 1, false).ok());
  ASSERT_TRUE(
      sensors.Publish(topic, "{\"t\":" + std::to_string(ms + 1000) + ",\"v\":30,\"u\":\"mg/m3\"}",
                      1, false)
          .ok());

  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return !locks.empty();
      },
      10s))
      << "no power-lock command received";
  {
    std::lock_guard lock(mu);
    auto j = core::ParseJson(locks.front());
    ASSERT_TRUE(j.ok());
    EXPECT_EQ((*j)["command"], "lock");
    EXPECT_EQ((*j)["level"], "red");
    EXPECT_EQ((*j)["point"], "h2s-1");
  }
  ASSERT_TRUE(WaitFor([&] { return svc_->Stats().accepted >= 2; }, 5s));
  ASSERT_TRUE(svc_->Flush(Duration::Seconds(10)).ok());
  auto st = svc_->Stats();
  EXPECT_EQ(st.accepted, 2u);
  EXPECT_GE(st.rejected["bad_json"], 1u);
  EXPECT_EQ(st.rejected["unknown_point"], 1u);
  EXPECT_EQ(st.rejected["wrong_unit"], 1u);
  EXPECT_EQ(st.rejected["bad_topic"], 1u);
  EXPECT_GE(st.actions_sent, 2u);
  auto susp = permits_->Get(org_, p.id);
  ASSERT_TRUE(susp.ok());
  EXPECT_EQ(susp->state, permit::State::kSuspended);
  EXPECT_GE(bridge.in_counters().messages.load(), 6u);
  EXPECT_GE(bridge.out_counters().published.load(), 2u);
  sensors.Stop();
  plc.Stop();
  bridge.Stop();
  svc_->Stop();
}

}  // namespace
}  // namespace wg::live

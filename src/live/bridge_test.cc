// MqttBridge against a real mosquitto (TestBroker): readings published over MQTT raise an
// alarm whose power-lock command a subscriber receives; malformed payloads are counted
// without stopping ingestion; with a PresenceService, position fixes on the tag and batch
// topics reach the presence engine (and readings still reach the monitor).
#include "wg/live/mqtt_bridge.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "test_fixture.h"
#include "wg/ingest/broker.h"
#include "wg/ingest/decode.h"
#include "wg/live/presence_service.h"
#include "wg/presence/rulebook.h"

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

TEST_F(MqttBridgeTest, PositionsOverMqttReachThePresenceServiceAndBadFixesAreCounted) {
  if (!std::filesystem::exists("/usr/sbin/mosquitto")) GTEST_SKIP() << "no mosquitto";
  ingest::TestBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MakeService();
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  auto book = presence::PresenceRulebook::LoadEmbedded();
  ASSERT_TRUE(book.ok()) << book.error().ToString();
  PresenceOptions po;
  PresenceService presence(*store_, *evidence_, **book, clock_, permits_.get(), svc_.get(), po);
  ASSERT_TRUE(presence.Start().ok());
  const Actor admin{"user:admin", "admin"};
  for (const char* id : {"uwb-1", "uwb-2"}) {
    presence::Tag tag;
    tag.org = org_;
    tag.id = id;
    tag.site = "S1";
    tag.kind = presence::TagKind::kUwb;
    auto put = presence.PutTag(org_, tag, 0, admin);
    ASSERT_TRUE(put.ok()) << put.error().ToString();
  }

  BridgeOptions bo;
  bo.mqtt.port = broker.port();
  bo.client_id = "wg-test-pos";
  MqttBridge bridge(*svc_, bo);
  bridge.SetPresence(&presence);
  ASSERT_TRUE(bridge.Start().ok());

  ingest::MqttOptions o;
  o.port = broker.port();
  o.client_id = "uwb-engine";
  o.clean_session = true;
  ingest::MqttPublisher uwb(o);
  ASSERT_TRUE(uwb.Start().ok());
  const std::int64_t ms = clock_.Now().micros / 1000;
  const std::string tag_topic = ingest::PositionTopic("plant-a", "S1", "uwb-1");
  // Malformed first: not JSON, a fix without y, a batch that is not an object.
  ASSERT_TRUE(uwb.Publish(tag_topic, "{not json", 1, false).ok());
  ASSERT_TRUE(uwb.Publish(tag_topic, "{\"t\":" + std::to_string(ms) + ",\"x\":1}", 1, false).ok());
  ASSERT_TRUE(uwb.Publish(ingest::PositionBatchTopic("plant-a", "S1"), "[1,2]", 1, false).ok());
  // One fix on the tag's topic, one for the other tag in a batch, and a reading.
  ASSERT_TRUE(uwb.Publish(tag_topic,
                          "{\"t\":" + std::to_string(ms) + ",\"x\":3.5,\"y\":-2,\"acc\":0.3}", 1,
                          false)
                  .ok());
  ASSERT_TRUE(uwb.Publish(ingest::PositionBatchTopic("plant-a", "S1"),
                          "{\"positions\":[{\"tag\":\"uwb-2\",\"t\":" + std::to_string(ms) +
                              ",\"x\":10,\"y\":12}]}",
                          1, false)
                  .ok());
  ASSERT_TRUE(uwb.Publish(ingest::ReadingTopic("plant-a", "S1", "h2s-1"),
                          "{\"t\":" + std::to_string(ms) + ",\"v\":0.5}", 1, false)
                  .ok());
  ASSERT_TRUE(uwb.Drain(5000).ok());

  ASSERT_TRUE(WaitFor([&] { return presence.Stats().accepted >= 2; }, 10s))
      << "accepted " << presence.Stats().accepted;
  ASSERT_TRUE(presence.Flush(Duration::Seconds(10)).ok());
  auto positions = presence.Positions(org_, "S1");
  ASSERT_TRUE(positions.ok()) << positions.error().ToString();
  ASSERT_EQ(positions->size(), 2u);
  PresenceStats st = presence.Stats();
  EXPECT_EQ(st.accepted, 2u);
  std::uint64_t rejected = 0;
  for (const auto& [reason, n] : st.rejected) rejected += n;
  EXPECT_EQ(rejected, 3u);
  EXPECT_GE(st.rejected["bad_json"], 2u);
  // The reading went to the monitor, which counted none of the position messages.
  ASSERT_TRUE(WaitFor([&] { return svc_->Stats().accepted >= 1; }, 5s));
  auto mst = svc_->Stats();
  EXPECT_EQ(mst.accepted, 1u);
  EXPECT_TRUE(mst.rejected.empty());
  uwb.Stop();
  bridge.Stop();
  presence.Stop();
  svc_->Stop();
}

}  // namespace
}  // namespace wg::live

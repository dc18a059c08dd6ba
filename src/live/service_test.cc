// MonitorService end to end over a real store, evidence log and permit service on a
// FakeClock: alarms and their facts, acknowledgement roles, actions before facts,
// stop-work and the resume guard, back-pressure, rejections, sealed blocks, restart,
// conditions from permits, the event hub and webhook delivery.
#include "wg/live/service.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include "test_fixture.h"

namespace wg::live {
namespace {

using core::Duration;
using core::Timestamp;
using testing::FakeActuator;

class MonitorServiceTest : public testing::LiveFixture {
 protected:
  static MonitorOptions Manual() {
    MonitorOptions o;
    o.start_threads = false;
    return o;
  }
  void Process() {
    svc_->Pump();
    ASSERT_TRUE(svc_->PersistPending().ok());
  }
  std::optional<monitor::Alarm> AlarmOfLevel(monitor::Level l) {
    for (auto& a : Alarms()) {
      if (a.level == l) return a;
    }
    return std::nullopt;
  }
};

TEST_F(MonitorServiceTest, ReadingsRaiseAnAlarmPersistedWithItsFact) {
  MakeService(Manual());
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  EXPECT_TRUE(FactKinds("point:h2s-1").count("point.configured"));
  Send("h2s-1", 15.0);  // over the GB/T 50493 first level (10 mg/m3)
  Process();
  auto a = AlarmOfLevel(monitor::Level::kYellow);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->point, "h2s-1");
  EXPECT_EQ(a->rule, "gbt50493.h2s.al");
  EXPECT_EQ(a->state, monitor::AlarmState::kActiveUnacked);
  auto facts = store_->FactsAbout(org_, "alarm:" + std::to_string(a->id), 0, 100);
  ASSERT_TRUE(facts.ok());
  ASSERT_FALSE(facts->empty());
  EXPECT_EQ(facts->front().kind, "alarm.raised");
  EXPECT_EQ(facts->front().site, "S1");
  auto payload = core::ParseJson(facts->front().payload);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ((*payload)["value"], "15");  // no floats in facts
  EXPECT_EQ((*payload)["level"], "yellow");
  // The outbox holds one row per notified role.
  auto notes = store_->ListNotifications(org_, 0, 100);
  ASSERT_TRUE(notes.ok());
  EXPECT_GE(notes->size(), 2u);
  // Durable in the evidence log.
  auto synced = evidence_->Sync(org_);
  ASSERT_TRUE(synced.ok());
  EXPECT_EQ(static_cast<std::int64_t>(*synced), *store_->FactCount(org_));
  auto st = svc_->Stats();
  EXPECT_EQ(st.received, 1u);
  EXPECT_EQ(st.accepted, 1u);
  EXPECT_EQ(st.alarms_raised["yellow"], 1u);
  EXPECT_EQ(st.latency_count, 1u);
  EXPECT_EQ(st.latency_buckets.size(), std::size(kLatencyBucketsUs));
}

TEST_F(MonitorServiceTest, AcknowledgementNeedsARoleOfTheLevel) {
  MakeService(Manual());
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Send("h2s-1", 15.0);
  Process();
  auto a = AlarmOfLevel(monitor::Level::kYellow);
  ASSERT_TRUE(a.has_value());
  auto refused = svc_->Acknowledge(org_, a->id, "seen", Actor{"user:w", "worker"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), core::StatusCode::kPermissionDenied);
  auto ok = svc_->Acknowledge(org_, a->id, "seen", Actor{"user:lead.wang", "team_leader"});
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->state, monitor::AlarmState::kActiveAcked);
  EXPECT_TRUE(FactKinds("alarm:" + std::to_string(a->id)).count("alarm.acknowledged"));
  auto again = svc_->GetAlarm(org_, a->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->acked_by, "user:lead.wang");
}

TEST_F(MonitorServiceTest, RedAlarmLocksFirstThenStopsWorkAndGuardsTheResume) {
  permit::Permit p = ActivePermit(HotWork());
  ASSERT_EQ(p.state, permit::State::kActive);
  MakeService(Manual());
  FakeActuator act(store_.get());
  act.set_org(org_);
  svc_->SetActuator(&act);
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  clock_.Advance(Duration::Minutes(1));
  Send("h2s-1", 25.0);  // over the second level (20 mg/m3): red
  svc_->Pump();
  // The commands went out at once, before any alarm fact was written.
  auto sent = act.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].command.kind, "power-lock");
  EXPECT_EQ(sent[1].command.kind, "broadcast");
  EXPECT_EQ(sent[0].alarm_facts_at_send, 0);
  auto lock = core::ParseJson(sent[0].command.payload);
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ((*lock)["command"], "lock");
  EXPECT_EQ((*lock)["level"], "red");
  EXPECT_EQ((*lock)["org"], "plant-a");
  EXPECT_EQ((*lock)["zone"], "U1");
  EXPECT_EQ((*core::ParseJson(sent[1].command.payload))["command"], "evacuate");
  ASSERT_TRUE(svc_->PersistPending().ok());

  auto red = AlarmOfLevel(monitor::Level::kRed);
  ASSERT_TRUE(red.has_value());
  const std::string subject = "alarm:" + std::to_string(red->id);
  auto kinds = FactKinds(subject);
  EXPECT_TRUE(kinds.count("alarm.raised"));
  EXPECT_TRUE(kinds.count("action.executed"));
  // The permit of the zone is suspended, the fact naming the alarm.
  auto susp = permits_->Get(org_, p.id);
  ASSERT_TRUE(susp.ok());
  EXPECT_EQ(susp->state, permit::State::kSuspended);
  auto pf = store_->FactsAbout(org_, "permit:" + p.number, 0, 1000);
  ASSERT_TRUE(pf.ok());
  bool named = false;
  for (const auto& f : *pf) {
    if (f.kind == "permit.suspended" && f.actor == "system:monitor" &&
        f.payload.find(subject) != std::string::npos) {
      named = true;
    }
  }
  EXPECT_TRUE(named);
  // Timings: commands before durable facts; the stop-work recorded.
  bool timed = false;
  for (const auto& t : svc_->LastActionTimings()) {
    if (t.alarm_id != red->id) continue;
    timed = true;
    EXPECT_GT(t.commands_sent_ns, 0);
    EXPECT_GT(t.facts_durable_ns, t.commands_sent_ns);
    EXPECT_GT(t.stopwork_durable_ns, 0);
    EXPECT_EQ(t.suspended, std::vector<std::string>{p.number});
  }
  EXPECT_TRUE(timed);

  // Resume refused while the alarm is active.
  clock_.Advance(Duration::Minutes(1));
  auto r1 = permits_->Resume(org_, p.id, As("lead.wang"));
  ASSERT_TRUE(r1.ok()) << r1.error().ToString();
  EXPECT_FALSE(r1->applied);
  ASSERT_TRUE(r1->decision.has_value());
  bool guard = false;
  for (const auto& v : r1->decision->violations) {
    if (v.rule == "monitor.resume_guard") {
      guard = true;
      EXPECT_NE(v.message.find("still active"), std::string::npos) << v.message;
    }
  }
  EXPECT_TRUE(guard);

  // The value returns to normal and stays there: the alarms clear.
  Send("h2s-1", 0.5);
  clock_.Advance(Duration::Seconds(15));
  Send("h2s-1", 0.5);
  clock_.Advance(Duration::Seconds(15));
  Send("h2s-1", 0.5);
  Process();
  for (const auto& a : Alarms()) {
    EXPECT_TRUE(a.cleared_at.has_value()) << a.rule << " " << monitor::AlarmStateName(a.state);
  }
  clock_.Advance(Duration::Seconds(30));
  auto r2 = permits_->Resume(org_, p.id, As("lead.wang"));
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->applied);
  bool retest = false;
  for (const auto& v : r2->decision->violations) {
    if (v.rule == "monitor.resume_guard") {
      retest = v.message.find("gas re-test") != std::string::npos;
    }
  }
  EXPECT_TRUE(retest);

  // A passing gas re-test after the clearing: work may resume.
  clock_.Advance(Duration::Seconds(30));
  auto gas = permits_->RecordGas(org_, p.id, PassingGas(clock_.Now()), As("gas.chen"));
  ASSERT_TRUE(gas.ok()) << gas.error().ToString();
  auto r3 = permits_->Resume(org_, p.id, As("lead.wang"));
  ASSERT_TRUE(r3.ok()) << r3.error().ToString();
  EXPECT_TRUE(r3->applied);
  EXPECT_EQ(r3->permit.state, permit::State::kActive);
}

TEST_F(MonitorServiceTest, ThreadsDeliverActionsBeforeFactsAreDurable) {
  permit::Permit p = ActivePermit(HotWork());
  MonitorOptions o;
  MakeService(o);
  FakeActuator act(store_.get());
  act.set_org(org_);
  svc_->SetActuator(&act);
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Send("h2s-1", 30.0);
  ASSERT_TRUE(svc_->Flush(Duration::Seconds(10)).ok());
  auto sent = act.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].alarm_facts_at_send, 0);
  auto susp = permits_->Get(org_, p.id);
  ASSERT_TRUE(susp.ok());
  EXPECT_EQ(susp->state, permit::State::kSuspended);
  ASSERT_TRUE(AlarmOfLevel(monitor::Level::kRed).has_value());
  svc_->Stop();
}

TEST_F(MonitorServiceTest, FullQueueRefusesAfterTheWaitAndCountsTheDrop) {
  MonitorOptions o = Manual();
  o.queue_capacity = 4;
  MakeService(o);
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  for (int i = 0; i < 4; ++i) Send("h2s-1", 1.0, clock_.Now() + Duration::Seconds(i));
  std::vector<ingest::RawReading> more = {{"h2s-1", clock_.Now() + Duration::Seconds(9), 1.0, ""}};
  auto r = svc_->Submit(org_, "S1", more, Duration{10'000});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), core::StatusCode::kResourceExhausted);
  // A caller that reports the failure itself (HTTP 503) does not count a drop.
  auto r2 = svc_->Submit(org_, "S1", more, Duration{1'000}, /*count_drop_on_timeout=*/false);
  ASSERT_FALSE(r2.ok());
  auto st = svc_->Stats();
  EXPECT_EQ(st.dropped, 1u);
  EXPECT_EQ(st.queue_depth, 4u);
  EXPECT_EQ(st.queue_capacity, 4u);
  svc_->Pump();
  EXPECT_EQ(svc_->Stats().queue_depth, 0u);
  EXPECT_TRUE(svc_->Submit(org_, "S1", more, Duration{1'000}).ok());
  // The loss is alarmed (yellow, persisted with its fact), once while it stays open.
  ASSERT_TRUE(svc_->PersistPending().ok());
  auto alarms = svc_->ListAlarms(org_, {});
  ASSERT_TRUE(alarms.ok());
  int drops = 0;
  for (const auto& a : *alarms) {
    if (a.rule == "ingest.queue_drop") {
      ++drops;
      EXPECT_EQ(a.level, monitor::Level::kYellow);
      EXPECT_EQ(a.point, "ingest.queue");
      EXPECT_EQ(a.value, 1.0);
    }
  }
  EXPECT_EQ(drops, 1);
}

TEST_F(MonitorServiceTest, BadReadingsAreCountedByReason) {
  MakeService(Manual());
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  std::vector<ingest::RawReading> v = {
      {"nope", clock_.Now(), 1.0, ""},
      {"h2s-1", clock_.Now(), 1.0, "ppm"},
      {"h2s-1", clock_.Now(), std::numeric_limits<double>::quiet_NaN(), ""},
      {"h2s-1", clock_.Now() + Duration::Hours(2), 1.0, ""},
      {"h2s-1", clock_.Now() - Duration::Seconds(1), 1.0, "mg/m3"},
  };
  auto r = svc_->Submit(org_, "S1", v, Duration::Seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 2u);
  EXPECT_EQ(r->queued, 3u);
  svc_->CountRejected({ingest::Rejection{"bad_json", "payload", "x"}});
  auto other_site = svc_->Submit(org_, "S2", {{"h2s-1", clock_.Now(), 1.0, ""}}, Duration{0});
  ASSERT_TRUE(other_site.ok());
  EXPECT_EQ(other_site->rejected, 1u);
  auto unknown_org = svc_->SubmitByCode("nobody", "S1", {{"h2s-1", clock_.Now(), 1.0, ""}},
                                        Duration{0});
  ASSERT_TRUE(unknown_org.ok());
  EXPECT_EQ(unknown_org->rejected, 1u);
  svc_->Pump();
  auto st = svc_->Stats();
  EXPECT_EQ(st.rejected["unknown_point"], 1u);
  EXPECT_EQ(st.rejected["wrong_unit"], 1u);
  EXPECT_EQ(st.rejected["not_finite"], 1u);
  EXPECT_EQ(st.rejected["too_far_future"], 1u);
  EXPECT_EQ(st.rejected["bad_json"], 1u);
  EXPECT_EQ(st.rejected["site_mismatch"], 1u);
  EXPECT_EQ(st.rejected["unknown_org"], 1u);
  EXPECT_EQ(st.accepted, 1u);
}

TEST_F(MonitorServiceTest, SealedBlocksAreFactsAndProveTheReadings) {
  MakeService(Manual());
  AddPoint(Point("o2-1", "o2", "%vol"));
  const Timestamp minute = Timestamp{(clock_.Now().micros / 60'000'000 + 1) * 60'000'000};
  clock_.Set(minute);
  for (int i = 0; i < 10; ++i) {
    Send("o2-1", 20.9 - 0.01 * i, minute + Duration::Seconds(i * 5));
  }
  clock_.Set(minute + Duration::Seconds(50));
  svc_->Pump();
  auto before = svc_->Readings(org_, "o2-1", minute, minute + Duration::Minutes(1));
  ASSERT_TRUE(before.ok()) << before.error().ToString();
  EXPECT_EQ(before->samples.size(), 10u);
  EXPECT_EQ(before->unsealed, 10);
  EXPECT_TRUE(before->blocks.empty());
  clock_.Set(minute + Duration::Seconds(70));  // minute over + grace
  Process();
  auto after = svc_->Readings(org_, "o2-1", minute, minute + Duration::Minutes(1));
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->samples.size(), 10u);
  EXPECT_EQ(after->unsealed, 0);
  ASSERT_EQ(after->blocks.size(), 1u);
  EXPECT_EQ(after->blocks[0].count, 10);
  EXPECT_EQ(after->blocks[0].sm3_hex.size(), 64u);
  ASSERT_GE(after->blocks[0].fact_seq, 0);
  auto facts = store_->FactsFrom(org_, after->blocks[0].fact_seq, 1);
  ASSERT_TRUE(facts.ok());
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_EQ(facts->front().kind, "readings.sealed");
  EXPECT_NE(facts->front().payload.find(after->blocks[0].sm3_hex), std::string::npos);
  EXPECT_NEAR(after->samples[3].value, 20.87, 1e-9);
  EXPECT_EQ(svc_->Stats().blocks_sealed, 1u);
}

TEST_F(MonitorServiceTest, RestartRestoresOpenAlarmsAndIdsContinue) {
  MakeService(Manual());
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  AddPoint(Point("co-1", "co", "mg/m3"));
  Send("h2s-1", 15.0);
  Process();
  auto first = AlarmOfLevel(monitor::Level::kYellow);
  ASSERT_TRUE(first.has_value());
  svc_->Stop();
  MakeService(Manual());
  auto again = svc_->GetAlarm(org_, first->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, monitor::AlarmState::kActiveUnacked);
  EXPECT_EQ(svc_->Stats().open_alarms, 1u);
  clock_.Advance(Duration::Seconds(5));
  Send("co-1", 30.0);
  Send("h2s-1", 16.0);  // the same (point, rule): de-duplicated into the open alarm
  Process();
  auto all = Alarms();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_GT(all[0].id, first->id);
  EXPECT_EQ(all[0].point, "co-1");
}

TEST_F(MonitorServiceTest, ActivePermitConditionsChangeTheThresholds) {
  MakeService(Manual());
  AddPoint(Point("lel-1", "combustible", "%vol"));
  AddPoint(Point("lel-2", "combustible", "%vol", "U2"));
  auto rules_of = [&](const std::string& point) {
    std::set<std::string> rules;
    for (const auto& a : Alarms()) {
      if (a.point == point) rules.insert(a.rule);
    }
    return rules;
  };
  // No hot work: the GB 30871 hot-work pass criterion (0.5 % vol) is not applied.
  Send("lel-1", 0.6);
  Process();
  EXPECT_FALSE(rules_of("lel-1").count("gb30871.combustible.pass"));
  auto sub = svc_->events().Subscribe(org_, "S1");
  ASSERT_TRUE(sub.ok());
  permit::Permit p = ActivePermit(HotWork());
  ASSERT_EQ(p.state, permit::State::kActive);
  ASSERT_TRUE(svc_->Refresh().ok());
  // The permit's state change is an event of the live stream.
  bool closed = false;
  bool permit_event = false;
  for (const auto& e : svc_->events().Next(**sub, Duration{1000}, &closed)) {
    permit_event = permit_event || (e.type == "permit" &&
                                    e.data.find(p.number) != std::string::npos &&
                                    e.data.find("\"active\"") != std::string::npos);
  }
  EXPECT_TRUE(permit_event);
  svc_->events().Unsubscribe(*sub);
  auto st = svc_->PointStatusJson(org_, "lel-1");
  ASSERT_TRUE(st.ok());
  EXPECT_NE(core::DumpJson((*st)["conditions"]).find("hot_work_active"), std::string::npos);
  auto st2 = svc_->PointStatusJson(org_, "lel-2");
  ASSERT_TRUE(st2.ok());
  EXPECT_EQ(core::DumpJson((*st2)["conditions"]).find("hot_work_active"), std::string::npos);
  clock_.Advance(Duration::Seconds(1));
  Send("lel-1", 0.61);
  Send("lel-2", 0.6);  // another zone: no hot work there
  Process();
  EXPECT_FALSE(rules_of("lel-2").count("gb30871.combustible.pass"));
  bool found = false;
  for (const auto& a : Alarms()) {
    if (a.point != "lel-1" || a.rule != "gb30871.combustible.pass") continue;
    found = true;
    EXPECT_EQ(a.level, monitor::Level::kRed);
    EXPECT_NE(std::find(a.profiles.begin(), a.profiles.end(), "hot_work_active"),
              a.profiles.end());
  }
  EXPECT_TRUE(found);
}

TEST(EventHubTest, ReadingsCoalesceAndSlowSubscribersAreClosed) {
  EventHub hub(2, 4);
  core::OrgId org{1};
  auto a = hub.Subscribe(org, "S1");
  auto b = hub.Subscribe(org, "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(hub.Subscribe(org, "").ok());  // max_subscribers
  for (int i = 0; i < 10; ++i) {
    hub.Publish(StreamEvent{org, "S1", "reading", "{\"v\":" + std::to_string(i) + "}", 0, "p1"});
  }
  hub.Publish(StreamEvent{core::OrgId{2}, "S1", "alarm", "{}", 0, ""});  // other org
  hub.Publish(StreamEvent{org, "S2", "alarm", "{\"x\":1}", 0, ""});
  bool closed = false;
  auto ev = hub.Next(**a, Duration{1000}, &closed);
  ASSERT_EQ(ev.size(), 1u);  // the latest reading of p1 only; S2 filtered
  EXPECT_EQ(ev[0].data, "{\"v\":9}");
  EXPECT_FALSE(closed);
  ev = hub.Next(**b, Duration{1000}, &closed);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, "reading");
  EXPECT_EQ(ev[1].type, "alarm");
  // Too many distinct points pending: the oldest reading goes (counted).
  for (int i = 0; i < 6; ++i) {
    hub.Publish(StreamEvent{org, "S1", "reading", "{}", 0, "q" + std::to_string(i)});
  }
  ev = hub.Next(**b, Duration{1000}, &closed);
  EXPECT_EQ(ev.size(), 4u);
  EXPECT_EQ(hub.dropped(), 2u * 2);  // both subscribers were behind
  // Alarm events are never dropped: a subscriber letting them pile up is closed.
  for (int i = 0; i < 5; ++i) hub.Publish(StreamEvent{org, "S1", "alarm", "{}", 0, ""});
  ev = hub.Next(**a, Duration{1000}, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(hub.subscribers(), 0u);
  EXPECT_TRUE(hub.Subscribe(org, "").ok());
  hub.Close();
}

TEST_F(MonitorServiceTest, WebhooksAreDeliveredAndRetriedWithBackOff) {
  httplib::Server server;
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<std::string> bodies;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    const int n = ++calls;
    std::lock_guard lock(mu);
    bodies.push_back(req.body);
    res.status = n == 1 ? 500 : 200;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  MonitorOptions o = Manual();
  o.webhooks = {"http://127.0.0.1:" + std::to_string(port) + "/hook"};
  MakeService(o);
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  Send("h2s-1", 15.0);
  Process();
  auto first = svc_->DeliverDueNotifications();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(calls.load(), 1);  // answered 500: retried after 1 s
  EXPECT_EQ(*svc_->DeliverDueNotifications(), 0);
  clock_.Advance(Duration::Seconds(1));
  EXPECT_EQ(*svc_->DeliverDueNotifications(), 1);
  EXPECT_EQ(calls.load(), 2);
  clock_.Advance(Duration::Seconds(10));
  EXPECT_EQ(*svc_->DeliverDueNotifications(), 0);  // delivered
  {
    std::lock_guard lock(mu);
    ASSERT_FALSE(bodies.empty());
    auto j = core::ParseJson(bodies.back());
    ASSERT_TRUE(j.ok());
    EXPECT_EQ((*j)["level"], "yellow");
    EXPECT_EQ((*j)["point"], "h2s-1");
  }
  EXPECT_EQ(svc_->Stats().notifications_pending, 0u);
  server.stop();
  t.join();
}

TEST_F(MonitorServiceTest, BrokerDropsRaiseAYellowAlarm) {
  MakeService(Manual());
  AddPoint(Point("h2s-1", "h2s", "mg/m3"));
  svc_->SetBrokerDropped(0);
  svc_->SetBrokerDropped(0);
  EXPECT_TRUE(Alarms().empty());
  svc_->SetBrokerDropped(12);
  ASSERT_TRUE(svc_->PersistPending().ok());
  auto all = Alarms();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].rule, "ingest.broker_drop");
  EXPECT_EQ(all[0].level, monitor::Level::kYellow);
  EXPECT_TRUE(FactKinds("alarm:" + std::to_string(all[0].id)).count("alarm.raised"));
  auto st = svc_->Stats();
  EXPECT_EQ(st.broker_dropped, 12);
  EXPECT_EQ(st.broker_drop_alarms, 1u);
  // Unacknowledged it escalates, but a broker drop stands for no place: no lock, no
  // stop-work.
  FakeActuator act;
  svc_->SetActuator(&act);
  clock_.Advance(Duration::Seconds(book_->Sop(monitor::Level::kYellow).ack_within_s + 1));
  svc_->Pump();
  ASSERT_TRUE(svc_->PersistPending().ok());
  EXPECT_TRUE(act.sent().empty());
  EXPECT_TRUE(FactKinds("alarm:" + std::to_string(all[0].id)).count("alarm.escalated"));
  // It is acknowledged like any other.
  auto ack = svc_->Acknowledge(org_, all[0].id, "", Actor{"user:safe.qian", "safety_manager"});
  EXPECT_TRUE(ack.ok()) << ack.error().ToString();
}

}  // namespace
}  // namespace wg::live

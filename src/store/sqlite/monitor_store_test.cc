// Live monitoring tables of the SQLite store (schema v5).
#include <sqlite3.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "migrations.h"
#include "wg/core/clock.h"
#include "wg/store/store.h"

namespace wg::store {
namespace {

using core::OrgId;
using core::StatusCode;
using core::Timestamp;

constexpr std::int64_t kMinute = 60'000'000;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/wg-monitor-store-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  const int open_rc = sqlite3_open(path.c_str(), &raw);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  ASSERT_EQ(open_rc, SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  ASSERT_EQ(rc, SQLITE_OK) << msg << " in: " << sql;
}

std::string RawQueryText(const std::string& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK) {
    sqlite3_close(raw);
    return "<open failed>";
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_stmt* st_raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &st_raw, nullptr) != SQLITE_OK) {
    return "<prepare failed>";
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(st_raw, &sqlite3_finalize);
  if (sqlite3_step(st.get()) != SQLITE_ROW) return "<no row>";
  const auto* text = sqlite3_column_text(st.get(), 0);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "<null>";
}

FactDraft Fact(const std::string& kind, const std::string& subject) {
  return FactDraft{kind, "system", subject, "", "{}"};
}

PointRow MakePoint(OrgId org, const std::string& id) {
  PointRow p;
  p.org_id = org;
  p.id = id;
  p.site = "S1";
  p.kind = "gas.h2s";
  p.document = R"({"id":")" + id + R"("})";
  return p;
}

AlarmRow MakeAlarm(OrgId org, std::int64_t id, const std::string& state, int level = 2) {
  AlarmRow a;
  a.id = id;
  a.org_id = org;
  a.site = "S1";
  a.point = "P1";
  a.rule = "high";
  a.level = level;
  a.state = state;
  a.raised_at = Timestamp{id * 1'000'000};
  a.updated_at = a.raised_at;
  a.document = "{}";
  return a;
}

ReadingBlockRow MakeBlock(OrgId org, const std::string& point, std::int64_t minute, int part) {
  ReadingBlockRow b;
  b.org_id = org;
  b.point = point;
  b.site = "S1";
  b.minute = Timestamp{minute * kMinute};
  b.part = part;
  b.first = Timestamp{minute * kMinute + 1};
  b.last = Timestamp{minute * kMinute + 5'000'000};
  b.count = 3;
  b.min = -1.5;
  b.max = 2.25;
  b.data = std::string("WGRB1\0\x01", 7);
  b.sm3_hex = std::string(64, 'a');
  return b;
}

NotificationRow MakeNotification(OrgId org, const std::string& channel, std::int64_t alarm) {
  NotificationRow n;
  n.org_id = org;
  n.channel = channel;
  n.target = channel == "webhook" ? "https://example.test/hook" : "safety_officer";
  n.subject = "alarm:" + std::to_string(alarm);
  n.payload = "{}";
  return n;
}

class MonitorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    SqliteOptions options;
    options.path = dir_.File("wg.db");
    options.clock = &clock_;
    auto s = OpenSqliteStore(options);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(*s);
    a_ = store_->CreateOrganization({"org-a", "A"})->id;
    b_ = store_->CreateOrganization({"org-b", "B"})->id;
  }

  std::int64_t Facts(OrgId org) { return store_->FactCount(org).value_or(-1); }

  TempDir dir_;
  core::FakeClock clock_{Timestamp::FromSeconds(1'750'000'000)};
  std::unique_ptr<Store> store_;
  OrgId a_, b_;
};

TEST_F(MonitorStoreTest, SchemaIsAtLeastVersionFiveWithStrictTables) {
  EXPECT_GE(sqlite::LatestSchemaVersion(), 5);
  EXPECT_EQ(store_->SchemaVersion(), sqlite::LatestSchemaVersion());
  for (const char* t : {"monitor_points", "alarms", "reading_blocks", "notifications"}) {
    EXPECT_EQ(RawQueryText(dir_.File("wg.db"),
                           std::string("SELECT strict FROM pragma_table_list WHERE name = '") + t +
                               "'"),
              "1")
        << t;
  }
}

TEST_F(MonitorStoreTest, PointsAreCompareAndSetAndADeletedPointIsRevived) {
  auto p = store_->PutPoint(MakePoint(a_, "P1"), 0, {Fact("point.created", "point:P1")});
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->version, 1);
  EXPECT_FALSE(p->deleted);
  EXPECT_EQ(p->updated_at, clock_.Now());
  EXPECT_EQ(Facts(a_), 1);

  // Creating again is kAlreadyExists; a stale version kFailedPrecondition; no facts.
  auto dup = store_->PutPoint(MakePoint(a_, "P1"), 0, {Fact("point.created", "point:P1")});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.error().field(), "id");
  PointRow changed = MakePoint(a_, "P1");
  changed.document = R"({"v":2})";
  auto v2 = store_->PutPoint(changed, 1, {});
  ASSERT_TRUE(v2.ok()) << v2.error().ToString();
  EXPECT_EQ(v2->version, 2);
  auto stale = store_->PutPoint(changed, 1, {Fact("point.updated", "point:P1")});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.error().field(), "version");
  EXPECT_EQ(Facts(a_), 1);
  auto absent = store_->PutPoint(MakePoint(a_, "P9"), 3, {});
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code(), StatusCode::kNotFound);

  // Delete: kept as a deleted row, not listed; deleting twice is kNotFound.
  ASSERT_TRUE(store_->DeletePoint(a_, "P1", {Fact("point.deleted", "point:P1")}).ok());
  EXPECT_EQ(store_->DeletePoint(a_, "P1", {}).code(), StatusCode::kNotFound);
  auto got = store_->GetPoint(a_, "P1");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->deleted);
  EXPECT_EQ(got->version, 3);
  EXPECT_TRUE(store_->ListPoints(a_)->empty());
  // Replacing a deleted point is kNotFound; creating revives it, the version counting on.
  EXPECT_EQ(store_->PutPoint(MakePoint(a_, "P1"), 3, {}).status().code(), StatusCode::kNotFound);
  auto revived = store_->PutPoint(MakePoint(a_, "P1"), 0, {});
  ASSERT_TRUE(revived.ok()) << revived.error().ToString();
  EXPECT_EQ(revived->version, 4);
  EXPECT_FALSE(revived->deleted);
  ASSERT_EQ(store_->ListPoints(a_)->size(), 1u);
}

TEST_F(MonitorStoreTest, PointsOfAnotherOrganizationAreNotFound) {
  ASSERT_TRUE(store_->PutPoint(MakePoint(a_, "P1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPoint(MakePoint(a_, "P2"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPoint(MakePoint(b_, "Q1"), 0, {}).ok());
  EXPECT_EQ(store_->GetPoint(b_, "P1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeletePoint(b_, "P1", {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->PutPoint(MakePoint(b_, "P1"), 1, {}).status().code(), StatusCode::kNotFound);
  // The same id in another organization is another point.
  ASSERT_TRUE(store_->PutPoint(MakePoint(b_, "P1"), 0, {}).ok());
  auto la = store_->ListPoints(a_);
  ASSERT_TRUE(la.ok());
  ASSERT_EQ(la->size(), 2u);
  EXPECT_EQ((*la)[0].id, "P1");
  EXPECT_EQ((*la)[1].id, "P2");
  ASSERT_TRUE(store_->DeletePoint(a_, "P2", {}).ok());
  std::vector<std::string> scanned;
  ASSERT_TRUE(store_->ScanPoints([&](const PointRow& p) {
                       scanned.push_back(std::to_string(p.org_id.value) + "/" + p.id);
                       return true;
                     })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<std::string>{std::to_string(a_.value) + "/P1",
                                               std::to_string(b_.value) + "/P1",
                                               std::to_string(b_.value) + "/Q1"}));
  // A callback calling back into the store fails instead of deadlocking.
  Status inner;
  ASSERT_TRUE(store_->ScanPoints([&](const PointRow&) {
                       inner = store_->ListPoints(a_).status();
                       return false;
                     })
                  .ok());
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
}

TEST_F(MonitorStoreTest, PointInputsAreValidatedNamingTheField) {
  auto field = [&](const PointRow& row, std::int64_t expected = 0) {
    auto r = store_->PutPoint(row, expected, {});
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string("ok") : r.error().field();
  };
  PointRow p = MakePoint(a_, "bad id");
  EXPECT_EQ(field(p), "id");
  p = MakePoint(a_, std::string(65, 'x'));
  EXPECT_EQ(field(p), "id");
  p = MakePoint(a_, "P1");
  p.site = "";
  EXPECT_EQ(field(p), "site");
  p = MakePoint(a_, "P1");
  p.kind = std::string(65, 'k');
  EXPECT_EQ(field(p), "kind");
  p = MakePoint(a_, "P1");
  p.document = std::string(64 * 1024 + 1, ' ');
  EXPECT_EQ(field(p), "document");
  EXPECT_EQ(field(MakePoint(a_, "P1"), -1), "version");
  EXPECT_EQ(field(MakePoint(OrgId{999}, "P1")), "org_id");
  EXPECT_EQ(store_->GetPoint(a_, "a/b").status().field(), "id");
}

TEST_F(MonitorStoreTest, AlarmsUpsertFilterAndPageByKeyset) {
  std::vector<AlarmRow> alarms;
  for (std::int64_t id = 1; id <= 6; ++id) {
    alarms.push_back(MakeAlarm(a_, id, id % 2 == 0 ? "cleared_acked" : "active_unacked",
                               static_cast<int>(1 + id % 3)));
  }
  alarms[4].point = "P2";
  ASSERT_TRUE(store_->RecordAlarms(alarms, {MakeNotification(a_, "webhook", 1)}, a_,
                                   {Fact("alarm.raised", "alarm:1")})
                  .ok());
  EXPECT_EQ(Facts(a_), 1);
  EXPECT_EQ(*store_->MaxAlarmId(), 6);

  // Upsert: the same id replaces the row.
  AlarmRow acked = MakeAlarm(a_, 1, "active_acked", 3);
  acked.document = R"({"acked":true})";
  ASSERT_TRUE(store_->RecordAlarms({acked}, {}, a_, {}).ok());
  auto got = store_->GetAlarm(a_, 1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, "active_acked");
  EXPECT_EQ(got->level, 3);
  EXPECT_EQ(got->document, R"({"acked":true})");

  auto ids = [&](const AlarmFilter& f, std::int64_t before, int limit) {
    auto r = store_->ListAlarms(a_, f, before, limit);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    std::vector<std::int64_t> out;
    if (r.ok()) {
      for (const AlarmRow& a : *r) out.push_back(a.id);
    }
    return out;
  };
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(ids({}, 0, 100), (V{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(ids({}, 0, 4), (V{6, 5, 4, 3}));
  EXPECT_EQ(ids({}, 3, 4), (V{2, 1}));
  EXPECT_EQ(ids({.states = {"cleared_acked"}}, 0, 100), (V{6, 4, 2}));
  EXPECT_EQ(ids({.states = {"active_unacked", "active_acked"}}, 0, 100), (V{5, 3, 1}));
  EXPECT_EQ(ids({.point = "P2"}, 0, 100), (V{5}));
  EXPECT_EQ(ids({.min_level = 3}, 0, 100), (V{5, 2, 1}));
  EXPECT_EQ(ids({.from = Timestamp{2'000'000}, .to = Timestamp{4'000'000}}, 0, 100), (V{3, 2}));
  EXPECT_EQ(ids({.site = "S2"}, 0, 100), V{});

  // Bad inputs name the field.
  EXPECT_EQ(store_->ListAlarms(a_, {.states = {"open"}}, 0, 10).status().field(),
            "filter.states[0]");
  EXPECT_EQ(store_->ListAlarms(a_, {.min_level = 4}, 0, 10).status().field(), "filter.min_level");
  EXPECT_EQ(store_->ListAlarms(a_, {}, 0, 0).status().field(), "limit");
  EXPECT_EQ(store_->ListAlarms(a_, {}, -1, 10).status().field(), "before_id");
}

TEST_F(MonitorStoreTest, AlarmsAreIsolatedAndOpenAlarmsSpanOrganizations) {
  ASSERT_TRUE(store_->RecordAlarms({MakeAlarm(a_, 1, "active_unacked"),
                                    MakeAlarm(a_, 2, "cleared_acked")},
                                   {}, a_, {})
                  .ok());
  ASSERT_TRUE(store_->RecordAlarms({MakeAlarm(b_, 3, "cleared_unacked")}, {}, b_, {}).ok());
  EXPECT_EQ(store_->GetAlarm(b_, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListAlarms(b_, {}, 0, 100)->size(), 1u);
  // An id of another organization is not taken over.
  auto steal = store_->RecordAlarms({MakeAlarm(b_, 1, "cleared_acked")}, {}, b_, {});
  EXPECT_EQ(steal.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetAlarm(a_, 1)->state, "active_unacked");
  // A row of another organization than the call's is rejected.
  EXPECT_EQ(store_->RecordAlarms({MakeAlarm(b_, 9, "active_unacked")}, {}, a_, {}).field(),
            "alarms[0].org_id");
  auto open = store_->OpenAlarms();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].id, 1);
  EXPECT_EQ((*open)[1].id, 3);
  EXPECT_EQ((*open)[1].org_id, b_);
  EXPECT_EQ(*store_->MaxAlarmId(), 3);
}

TEST_F(MonitorStoreTest, ABadRowInABatchWritesNothing) {
  AlarmRow bad = MakeAlarm(a_, 2, "active_unacked");
  bad.level = 4;
  Status s = store_->RecordAlarms({MakeAlarm(a_, 1, "active_unacked"), bad},
                                  {MakeNotification(a_, "webhook", 1)}, a_,
                                  {Fact("alarm.raised", "alarm:1")});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "alarms[1].level");
  bad = MakeAlarm(a_, 2, "raised");
  EXPECT_EQ(store_->RecordAlarms({bad}, {}, a_, {}).field(), "alarms[0].state");
  NotificationRow n = MakeNotification(a_, "sms", 1);
  EXPECT_EQ(store_->RecordAlarms({}, {n}, a_, {}).field(), "notifications[0].channel");
  // A bad fact fails in the transaction, after the rows were written: all rolled back.
  s = store_->RecordAlarms({MakeAlarm(a_, 1, "active_unacked")},
                           {MakeNotification(a_, "webhook", 1)}, a_,
                           {Fact("alarm.raised", "alarm:1"), Fact("Bad Kind", "alarm:1")});
  EXPECT_EQ(s.field(), "facts[1].kind");
  // The other organization's row in a block batch is rejected before writing.
  s = store_->AppendReadingBlocks(a_, {MakeBlock(a_, "P1", 1, 0), MakeBlock(b_, "P1", 2, 0)},
                                  {0, 0}, {Fact("readings.sealed", "point:P1")});
  EXPECT_EQ(s.field(), "blocks[1].org_id");
  // A duplicate inside the batch fails in the transaction: nothing stays, facts included.
  s = store_->AppendReadingBlocks(a_, {MakeBlock(a_, "P1", 1, 0), MakeBlock(a_, "P1", 1, 0)},
                                  {0, 0}, {Fact("readings.sealed", "point:P1")});
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.field(), "blocks[1]");
  EXPECT_EQ(*store_->MaxAlarmId(), 0);
  EXPECT_EQ(*store_->CountPendingNotifications(), 0);
  EXPECT_TRUE(store_->ListNotifications(a_, 0, 100)->empty());
  EXPECT_TRUE(store_->ReadingBlocks(a_, "P1", Timestamp{0}, Timestamp{100 * kMinute}, 100)
                  ->empty());
  EXPECT_EQ(Facts(a_), 0);
}

TEST_F(MonitorStoreTest, BlocksAreUniqueAndPointAtTheirFacts) {
  // Two earlier facts, so the blocks' facts do not start at 0.
  ASSERT_TRUE(store_->AppendFacts(a_, {Fact("x.y", "s:1"), Fact("x.y", "s:2")}).ok());
  ReadingBlockRow b0 = MakeBlock(a_, "P1", 10, 0);
  ReadingBlockRow b1 = MakeBlock(a_, "P1", 11, 0);
  ReadingBlockRow b2 = MakeBlock(a_, "P2", 10, 0);
  b1.min = -1e300;
  b1.max = 1e300;
  ASSERT_TRUE(store_
                  ->AppendReadingBlocks(a_, {b0, b1, b2}, {0, 0, 1},
                                        {Fact("readings.sealed", "point:P1"),
                                         Fact("readings.sealed", "point:P2")})
                  .ok());
  auto p1 = store_->ReadingBlocks(a_, "P1", Timestamp{0}, Timestamp{100 * kMinute}, 100);
  ASSERT_TRUE(p1.ok()) << p1.error().ToString();
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].fact_seq, 2);
  EXPECT_EQ((*p1)[1].fact_seq, 2);
  EXPECT_EQ((*p1)[1].min, -1e300);
  EXPECT_EQ((*p1)[1].max, 1e300);
  EXPECT_EQ((*p1)[0].data, b0.data);
  EXPECT_EQ((*p1)[0].first, b0.first);
  EXPECT_EQ((*p1)[0].count, 3);
  auto facts = store_->FactsFrom(a_, 2, 10);
  ASSERT_EQ(facts->size(), 2u);
  EXPECT_EQ((*facts)[0].subject, "point:P1");
  auto p2 = store_->ReadingBlocks(a_, "P2", Timestamp{0}, Timestamp{100 * kMinute}, 100);
  ASSERT_EQ(p2->size(), 1u);
  EXPECT_EQ((*p2)[0].fact_seq, 3);

  // The same (point, minute, part) again is kAlreadyExists; the next part is fine.
  Status dup = store_->AppendReadingBlocks(a_, {b0}, {0}, {Fact("readings.sealed", "point:P1")});
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Facts(a_), 4);
  ReadingBlockRow late = b0;
  late.part = 1;
  ASSERT_TRUE(
      store_->AppendReadingBlocks(a_, {late}, {0}, {Fact("readings.sealed", "point:P1")}).ok());
  p1 = store_->ReadingBlocks(a_, "P1", Timestamp{10 * kMinute}, Timestamp{11 * kMinute}, 100);
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[1].part, 1);
  EXPECT_EQ((*p1)[1].fact_seq, 4);
  EXPECT_EQ(store_->ReadingBlocks(a_, "P1", Timestamp{0}, Timestamp{100 * kMinute}, 1)->size(),
            1u);
  // Another organization sees none of them.
  EXPECT_TRUE(
      store_->ReadingBlocks(b_, "P1", Timestamp{0}, Timestamp{100 * kMinute}, 100)->empty());

  // Validation names the field.
  auto field = [&](const ReadingBlockRow& b, std::vector<int> idx = {0}) {
    return store_->AppendReadingBlocks(a_, {b}, idx, {Fact("readings.sealed", "point:P1")})
        .field();
  };
  ReadingBlockRow bad = MakeBlock(a_, "P1", 20, 0);
  EXPECT_EQ(field(bad, {1}), "fact_index[0]");
  EXPECT_EQ(field(bad, {}), "fact_index");
  bad.minute.micros += 1;
  EXPECT_EQ(field(bad), "blocks[0].minute");
  bad = MakeBlock(a_, "P1", 20, 0);
  bad.last = Timestamp{21 * kMinute};
  EXPECT_EQ(field(bad), "blocks[0].last");
  bad = MakeBlock(a_, "P1", 20, 0);
  bad.sm3_hex = std::string(64, 'A');
  EXPECT_EQ(field(bad), "blocks[0].sm3_hex");
  bad = MakeBlock(a_, "P1", 20, 0);
  bad.max = -2;
  EXPECT_EQ(field(bad), "blocks[0].max");
  bad = MakeBlock(a_, "P1", 20, 0);
  bad.data.clear();
  EXPECT_EQ(field(bad), "blocks[0].data");
  EXPECT_EQ(store_->ReadingBlocks(a_, "P1", Timestamp{0}, Timestamp{1}, 10001).status().field(),
            "limit");
}

TEST_F(MonitorStoreTest, NotificationsAreDueMarkedAndCounted) {
  NotificationRow later = MakeNotification(a_, "webhook", 2);
  later.next_attempt_at = clock_.Now() + core::Duration::Seconds(60);
  ASSERT_TRUE(store_
                  ->RecordAlarms({}, {MakeNotification(a_, "webhook", 1),
                                      MakeNotification(a_, "outbox", 1), later},
                                 a_, {})
                  .ok());
  ASSERT_TRUE(store_->RecordAlarms({}, {MakeNotification(b_, "webhook", 3)}, b_, {}).ok());
  EXPECT_EQ(*store_->CountPendingNotifications(), 3);

  auto due = store_->DueNotifications(clock_.Now(), 3, 100);
  ASSERT_TRUE(due.ok()) << due.error().ToString();
  ASSERT_EQ(due->size(), 2u);  // the outbox row and the later one are not due
  EXPECT_EQ((*due)[0].subject, "alarm:1");
  EXPECT_EQ((*due)[0].created_at, clock_.Now());
  EXPECT_EQ((*due)[0].attempts, 0);
  EXPECT_FALSE((*due)[0].delivered_at.has_value());
  EXPECT_EQ((*due)[1].org_id, b_);
  const std::int64_t first = (*due)[0].id;
  const std::int64_t other = (*due)[1].id;

  // Failures count attempts and push the next attempt; max_attempts stops them.
  const Timestamp retry = clock_.Now() + core::Duration::Seconds(10);
  ASSERT_TRUE(store_->MarkNotification(first, false, clock_.Now(), retry, "HTTP 503").ok());
  EXPECT_EQ(store_->DueNotifications(clock_.Now(), 3, 100)->size(), 1u);
  due = store_->DueNotifications(retry, 3, 100);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[1].id, first);
  EXPECT_EQ((*due)[1].attempts, 1);
  EXPECT_EQ((*due)[1].last_error, "HTTP 503");
  EXPECT_EQ(store_->DueNotifications(retry, 1, 100)->size(), 1u);

  ASSERT_TRUE(store_->MarkNotification(other, true, clock_.Now(), Timestamp{}, "").ok());
  EXPECT_EQ(store_->MarkNotification(other, true, clock_.Now(), Timestamp{}, "").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->MarkNotification(9999, true, clock_.Now(), Timestamp{}, "").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(*store_->CountPendingNotifications(), 2);

  auto list = store_->ListNotifications(a_, 0, 100);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[1].channel, "outbox");
  EXPECT_EQ(store_->ListNotifications(a_, (*list)[0].id, 1)->front().id, (*list)[1].id);
  auto lb = store_->ListNotifications(b_, 0, 100);
  ASSERT_EQ(lb->size(), 1u);
  ASSERT_TRUE(lb->front().delivered_at.has_value());
  EXPECT_EQ(*lb->front().delivered_at, clock_.Now());
  EXPECT_EQ(store_->DueNotifications(clock_.Now(), 0, 10).status().field(), "max_attempts");
  EXPECT_EQ(store_->ListNotifications(a_, 0, 1001).status().field(), "limit");
}

// A file at schema version 4 (made from migrations 1..4, as that binary applied them)
// migrates in place (to 5 and every later version), keeping its rows.
TEST(MonitorMigrationTest, VersionFourFileMigratesInPlace) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.File("v4.db");
  RawExec(path, R"sql(CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT)sql");
  for (const sqlite::Migration& m : sqlite::Migrations()) {
    if (m.version > 4) break;
    for (const char* sql : m.statements) RawExec(path, sql);
    RawExec(path, "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 0)");
  }
  RawExec(path,
          "INSERT INTO organizations (id, code, name, created_at) VALUES (1, 'old', 'Old', 0)");
  RawExec(path,
          "INSERT INTO facts (org_id, seq, time, site, kind, actor, subject, payload) VALUES "
          "(1, 0, 0, '', 'org.created', 'system', 'org:old', '{}')");
  ASSERT_EQ(RawQueryText(path, "SELECT max(version) FROM schema_migrations"), "4");

  core::FakeClock clock{Timestamp::FromSeconds(1'750'000'000)};
  auto s = OpenSqliteStore({.path = path, .clock = &clock});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  Store& store = **s;
  EXPECT_EQ(store.SchemaVersion(), sqlite::LatestSchemaVersion());
  EXPECT_EQ(RawQueryText(path, "SELECT applied_at FROM schema_migrations WHERE version = 5"),
            std::to_string(clock.Now().micros));
  EXPECT_EQ(*store.FactCount(OrgId{1}), 1);
  ASSERT_TRUE(store.PutPoint(MakePoint(OrgId{1}, "P1"), 0, {}).ok());
  ASSERT_TRUE(store
                  .AppendReadingBlocks(OrgId{1}, {MakeBlock(OrgId{1}, "P1", 1, 0)}, {0},
                                       {Fact("readings.sealed", "point:P1")})
                  .ok());
  auto blocks = store.ReadingBlocks(OrgId{1}, "P1", Timestamp{0}, Timestamp{kMinute * 2}, 10);
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ((*blocks)[0].fact_seq, 1);
}

}  // namespace
}  // namespace wg::store

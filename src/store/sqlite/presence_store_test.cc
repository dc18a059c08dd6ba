// People-on-site tables of the SQLite store (schema v6): presence objects, tag bindings
// and trajectory blocks.
#include <sqlite3.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
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
    std::string tmpl = "/tmp/wg-presence-store-XXXXXX";
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

PresenceObjectRow MakeObject(OrgId org, const std::string& kind, const std::string& id,
                             const std::string& site = "S1") {
  PresenceObjectRow o;
  o.org_id = org;
  o.kind = kind;
  o.id = id;
  o.site = kind == "site_frame" || kind == "site_plan" ? id : site;
  o.document = R"({"id":")" + id + R"("})";
  return o;
}

TagBindingRow MakeBinding(OrgId org, const std::string& tag, const std::string& person,
                          std::int64_t from_s, std::optional<std::int64_t> until_s) {
  TagBindingRow b;
  b.org_id = org;
  b.tag = tag;
  b.person = person;
  b.valid_from = Timestamp::FromSeconds(from_s);
  if (until_s.has_value()) b.valid_until = Timestamp::FromSeconds(*until_s);
  b.note = "issued at the gate";
  return b;
}

TrajectoryBlockRow MakeBlock(OrgId org, const std::string& tag, std::int64_t minute, int part) {
  TrajectoryBlockRow b;
  b.org_id = org;
  b.tag = tag;
  b.site = "S1";
  b.minute = Timestamp{minute * kMinute};
  b.part = part;
  b.first = Timestamp{minute * kMinute + 1'000};
  b.last = Timestamp{minute * kMinute + 59'000'000};
  b.count = 7;
  b.data = std::string("WGTB1\0\x02\xff", 8);
  b.sm3_hex = std::string(64, 'b');
  return b;
}

class PresenceStoreTest : public ::testing::Test {
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

  std::vector<std::string> Ids(OrgId org, const std::string& kind) {
    std::vector<std::string> out;
    auto rows = store_->ListPresenceObjects(org, kind);
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    if (rows.ok()) {
      for (const auto& r : *rows) out.push_back(r.id);
    }
    return out;
  }

  TempDir dir_;
  core::FakeClock clock_{Timestamp::FromSeconds(1'750'000'000)};
  std::unique_ptr<Store> store_;
  OrgId a_, b_;
};

TEST_F(PresenceStoreTest, SchemaIsVersionSevenWithStrictTables) {
  EXPECT_EQ(sqlite::LatestSchemaVersion(), 7);
  EXPECT_EQ(store_->SchemaVersion(), 7);
  for (const char* t : {"presence_objects", "tag_bindings", "trajectory_blocks"}) {
    EXPECT_EQ(RawQueryText(dir_.File("wg.db"),
                           std::string("SELECT strict FROM pragma_table_list WHERE name = '") + t +
                               "'"),
              "1")
        << t;
  }
  EXPECT_EQ(RawQueryText(dir_.File("wg.db"),
                         "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                         "name = 'tag_bindings_by_tag'"),
            "1");
}

// Create, compare-and-set replace, delete and revive, for every kind.
TEST_F(PresenceStoreTest, ObjectsAreCompareAndSetAndADeletedObjectIsRevived) {
  std::int64_t facts = 0;
  for (const std::string kind : {"tag", "fence", "site_frame", "site_plan"}) {
    SCOPED_TRACE(kind);
    const bool per_site = kind == "site_frame" || kind == "site_plan";
    const std::string id = per_site ? "S1" : "X1";
    clock_.Advance(core::Duration::Seconds(1));
    auto p = store_->PutPresenceObject(MakeObject(a_, kind, id), 0,
                                       {Fact("presence.created", kind + ":" + id)});
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    ++facts;
    EXPECT_EQ(p->version, 1);
    EXPECT_FALSE(p->deleted);
    EXPECT_EQ(p->kind, kind);
    EXPECT_EQ(p->site, "S1");
    EXPECT_EQ(p->updated_at, clock_.Now());
    EXPECT_EQ(Facts(a_), facts);

    // Creating again is kAlreadyExists; a stale version kFailedPrecondition; no facts.
    auto dup = store_->PutPresenceObject(MakeObject(a_, kind, id), 0,
                                         {Fact("presence.created", kind + ":" + id)});
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(dup.error().field(), "id");
    PresenceObjectRow changed = MakeObject(a_, kind, id);
    changed.document = R"({"v":2})";
    clock_.Advance(core::Duration::Seconds(1));
    auto v2 = store_->PutPresenceObject(changed, 1, {Fact("presence.updated", kind + ":" + id)});
    ASSERT_TRUE(v2.ok()) << v2.error().ToString();
    ++facts;
    EXPECT_EQ(v2->version, 2);
    EXPECT_EQ(v2->document, R"({"v":2})");
    EXPECT_EQ(v2->updated_at, clock_.Now());
    auto stale = store_->PutPresenceObject(changed, 1, {Fact("presence.updated", kind + ":" + id)});
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(stale.error().field(), "version");
    EXPECT_NE(stale.error().message().find("stored version is 2"), std::string::npos)
        << stale.error().message();
    EXPECT_EQ(Facts(a_), facts);
    auto absent = store_->PutPresenceObject(
        MakeObject(a_, kind, per_site ? "S9" : "X9"), 3, {});
    ASSERT_FALSE(absent.ok());
    EXPECT_EQ(absent.error().code(), StatusCode::kNotFound);

    // Delete: kept as a deleted row, not listed; deleting twice is kNotFound.
    ASSERT_TRUE(
        store_->DeletePresenceObject(a_, kind, id, {Fact("presence.deleted", kind + ":" + id)})
            .ok());
    ++facts;
    EXPECT_EQ(store_->DeletePresenceObject(a_, kind, id, {Fact("x.y", "s")}).code(),
              StatusCode::kNotFound);
    EXPECT_EQ(Facts(a_), facts);
    auto got = store_->GetPresenceObject(a_, kind, id);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_TRUE(got->deleted);
    EXPECT_EQ(got->version, 3);
    EXPECT_EQ(got->document, R"({"v":2})");
    EXPECT_TRUE(Ids(a_, kind).empty());
    // Replacing a deleted object is kNotFound; creating revives it, the version counting on.
    EXPECT_EQ(store_->PutPresenceObject(MakeObject(a_, kind, id), 3, {}).status().code(),
              StatusCode::kNotFound);
    auto revived = store_->PutPresenceObject(MakeObject(a_, kind, id), 0, {});
    ASSERT_TRUE(revived.ok()) << revived.error().ToString();
    EXPECT_EQ(revived->version, 4);
    EXPECT_FALSE(revived->deleted);
    EXPECT_EQ(Ids(a_, kind), std::vector<std::string>{id});
  }
}

TEST_F(PresenceStoreTest, KindsAreSeparateNamespacesAndListAndScanTakeLiveRows) {
  // The same id under two kinds is two objects.
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T2"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "fence", "T1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "site_frame", "S1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(b_, "tag", "T1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T3"), 0, {}).ok());
  ASSERT_TRUE(store_->DeletePresenceObject(a_, "tag", "T3", {}).ok());
  ASSERT_TRUE(store_->DeletePresenceObject(a_, "fence", "T1", {}).ok());
  EXPECT_EQ(Ids(a_, "tag"), (std::vector<std::string>{"T1", "T2"}));
  EXPECT_TRUE(Ids(a_, "fence").empty());
  EXPECT_EQ(Ids(a_, "site_frame"), (std::vector<std::string>{"S1"}));
  EXPECT_FALSE(store_->GetPresenceObject(a_, "tag", "T1")->deleted);
  EXPECT_TRUE(store_->GetPresenceObject(a_, "fence", "T1")->deleted);
  EXPECT_EQ(store_->GetPresenceObject(a_, "fence", "T2").status().code(),
            StatusCode::kNotFound);

  std::vector<std::string> scanned;
  ASSERT_TRUE(store_
                  ->ScanPresenceObjects([&](const PresenceObjectRow& o) {
                    scanned.push_back(std::to_string(o.org_id.value) + "/" + o.kind + "/" + o.id);
                    return true;
                  })
                  .ok());
  const std::string a = std::to_string(a_.value), b = std::to_string(b_.value);
  EXPECT_EQ(scanned, (std::vector<std::string>{a + "/site_frame/S1", a + "/tag/T1",
                                               a + "/tag/T2", b + "/tag/T1"}));
  // Stopping early.
  int seen = 0;
  ASSERT_TRUE(store_
                  ->ScanPresenceObjects([&](const PresenceObjectRow&) {
                    ++seen;
                    return false;
                  })
                  .ok());
  EXPECT_EQ(seen, 1);
  // A callback calling back into the store fails instead of deadlocking.
  Status inner;
  ASSERT_TRUE(store_
                  ->ScanPresenceObjects([&](const PresenceObjectRow&) {
                    inner = store_->ListPresenceObjects(a_, "tag").status();
                    return false;
                  })
                  .ok());
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
}

TEST_F(PresenceStoreTest, ObjectsOfAnotherOrganizationAreInvisible) {
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "fence", "F1"), 0, {}).ok());
  EXPECT_EQ(store_->GetPresenceObject(b_, "tag", "T1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeletePresenceObject(b_, "tag", "T1", {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->PutPresenceObject(MakeObject(b_, "tag", "T1"), 1, {}).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(Ids(b_, "tag").empty());
  EXPECT_TRUE(Ids(b_, "fence").empty());
  // The same id in another organization is another object, with its own version.
  auto bt = store_->PutPresenceObject(MakeObject(b_, "tag", "T1"), 0, {});
  ASSERT_TRUE(bt.ok());
  EXPECT_EQ(bt->version, 1);
  ASSERT_TRUE(store_->DeletePresenceObject(b_, "tag", "T1", {}).ok());
  EXPECT_FALSE(store_->GetPresenceObject(a_, "tag", "T1")->deleted);
  EXPECT_EQ(Ids(a_, "tag"), std::vector<std::string>{"T1"});
  EXPECT_EQ(Facts(b_), 0);
}

TEST_F(PresenceStoreTest, ObjectInputsAreValidatedNamingTheField) {
  auto field = [&](const PresenceObjectRow& row, std::int64_t expected = 0) {
    auto r = store_->PutPresenceObject(row, expected, {});
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string("ok") : r.error().field();
  };
  EXPECT_EQ(field(MakeObject(a_, "zone", "Z1")), "kind");
  EXPECT_EQ(field(MakeObject(a_, "", "Z1")), "kind");
  EXPECT_EQ(field(MakeObject(a_, "tag", "bad id")), "id");
  EXPECT_EQ(field(MakeObject(a_, "tag", "")), "id");
  EXPECT_EQ(field(MakeObject(a_, "tag", std::string(65, 'x'))), "id");
  PresenceObjectRow o = MakeObject(a_, "tag", "T1");
  o.site = "";
  EXPECT_EQ(field(o), "site");
  o.site = std::string(65, 's');
  EXPECT_EQ(field(o), "site");
  o = MakeObject(a_, "fence", "F1");
  o.document = std::string(256 * 1024 + 1, ' ');
  EXPECT_EQ(field(o), "document");
  o.document = std::string(256 * 1024, ' ');
  EXPECT_TRUE(store_->PutPresenceObject(o, 0, {}).ok());
  o = MakeObject(a_, "site_frame", "S1");
  o.site = "S2";  // a site frame's id is its site code
  EXPECT_EQ(field(o), "id");
  o = MakeObject(a_, "site_plan", "S1");
  o.site = "S2";  // and so is a site plan's
  EXPECT_EQ(field(o), "id");
  // A site plan may be larger (up to 20,000 point positions): 1 MiB.
  o = MakeObject(a_, "site_plan", "S1");
  o.document = std::string(1024 * 1024 + 1, ' ');
  EXPECT_EQ(field(o), "document");
  o.document = std::string(1024 * 1024, ' ');
  EXPECT_TRUE(store_->PutPresenceObject(o, 0, {}).ok());
  EXPECT_EQ(field(MakeObject(a_, "tag", "T1"), -1), "version");
  EXPECT_EQ(field(MakeObject(OrgId{999}, "tag", "T1")), "org_id");
  // A bad fact rolls back the object.
  auto bad_fact = store_->PutPresenceObject(MakeObject(a_, "tag", "T7"), 0, {Fact("", "s")});
  ASSERT_FALSE(bad_fact.ok());
  EXPECT_EQ(store_->GetPresenceObject(a_, "tag", "T7").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetPresenceObject(a_, "tag", "a/b").status().field(), "id");
  EXPECT_EQ(store_->GetPresenceObject(a_, "zone", "a").status().field(), "kind");
  EXPECT_EQ(store_->ListPresenceObjects(a_, "zone").status().field(), "kind");
  EXPECT_EQ(store_->DeletePresenceObject(a_, "zone", "a", {}).field(), "kind");
  EXPECT_EQ(store_->DeletePresenceObject(a_, "tag", "", {}).field(), "id");
}

TEST_F(PresenceStoreTest, BindingsMustNotOverlapAndAreEndedNotDeleted) {
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T2"), 0, {}).ok());
  const std::int64_t facts0 = Facts(a_);

  // [1000, 2000) for worker W1.
  auto b1 = store_->AddTagBinding(MakeBinding(a_, "T1", "worker:W1", 1000, 2000),
                                  {Fact("tag.bound", "tag:T1")});
  ASSERT_TRUE(b1.ok()) << b1.error().ToString();
  EXPECT_GT(b1->id, 0);
  EXPECT_EQ(b1->person, "worker:W1");
  EXPECT_EQ(b1->valid_from, Timestamp::FromSeconds(1000));
  ASSERT_TRUE(b1->valid_until.has_value());
  EXPECT_EQ(*b1->valid_until, Timestamp::FromSeconds(2000));
  EXPECT_EQ(b1->note, "issued at the gate");
  EXPECT_EQ(b1->created_at, clock_.Now());  // 0 = the store's now
  EXPECT_EQ(Facts(a_), facts0 + 1);

  // Overlaps of the same tag are kFailedPrecondition naming valid_from, and write no facts.
  auto overlap = [&](std::int64_t from, std::optional<std::int64_t> until,
                     const std::string& tag = "T1") {
    auto r = store_->AddTagBinding(MakeBinding(a_, tag, "user:bob", from, until),
                                   {Fact("tag.bound", "tag:" + tag)});
    if (r.ok()) return std::string("ok");
    EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition) << r.error().ToString();
    return r.error().field();
  };
  EXPECT_EQ(overlap(1500, 1600), "valid_from");  // inside
  EXPECT_EQ(overlap(500, 1001), "valid_from");   // over the start
  EXPECT_EQ(overlap(1999, 3000), "valid_from");  // over the end
  EXPECT_EQ(overlap(500, 3000), "valid_from");   // around
  EXPECT_EQ(overlap(1999, std::nullopt), "valid_from");  // open-ended from inside
  EXPECT_EQ(overlap(0, std::nullopt), "valid_from");     // open-ended from before
  EXPECT_EQ(Facts(a_), facts0 + 1);
  // Touching windows are fine (valid_until is exclusive), and so is another tag.
  EXPECT_EQ(overlap(500, 1000), "ok");
  EXPECT_EQ(overlap(1500, std::nullopt, "T2"), "ok");
  // An open binding from 3000 blocks everything after it.
  auto open = store_->AddTagBinding(MakeBinding(a_, "T1", "worker:W2", 3000, std::nullopt), {});
  ASSERT_TRUE(open.ok()) << open.error().ToString();
  EXPECT_FALSE(open->valid_until.has_value());
  EXPECT_EQ(overlap(2000, 3001), "valid_from");
  EXPECT_EQ(overlap(100000, 100001), "valid_from");
  EXPECT_EQ(overlap(2000, 3000), "ok");

  // Ending: until must be after valid_from; an ended binding cannot end again.
  auto early = store_->EndTagBinding(a_, open->id, Timestamp::FromSeconds(3000), {});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.error().field(), "until");
  const std::int64_t before_end = Facts(a_);
  auto ended = store_->EndTagBinding(a_, open->id, Timestamp::FromSeconds(4000),
                                     {Fact("tag.unbound", "tag:T1")});
  ASSERT_TRUE(ended.ok()) << ended.error().ToString();
  EXPECT_EQ(ended->id, open->id);
  ASSERT_TRUE(ended->valid_until.has_value());
  EXPECT_EQ(*ended->valid_until, Timestamp::FromSeconds(4000));
  EXPECT_EQ(Facts(a_), before_end + 1);
  auto again = store_->EndTagBinding(a_, open->id, Timestamp::FromSeconds(5000),
                                     {Fact("tag.unbound", "tag:T1")});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Facts(a_), before_end + 1);
  auto closed = store_->EndTagBinding(a_, b1->id, Timestamp::FromSeconds(5000), {});
  EXPECT_EQ(closed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->EndTagBinding(a_, 987654, Timestamp::FromSeconds(5000), {}).status().code(),
            StatusCode::kNotFound);
  // After the end the tag can be bound again.
  EXPECT_EQ(overlap(3999, 4001), "valid_from");
  EXPECT_EQ(overlap(4000, std::nullopt), "ok");

  // Listed by tag, then valid_from.
  auto all = store_->ListTagBindings(a_, "");
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  std::vector<std::string> got;
  for (const auto& b : *all) {
    got.push_back(b.tag + "@" + std::to_string(b.valid_from.micros / 1'000'000));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"T1@500", "T1@1000", "T1@2000", "T1@3000",
                                           "T1@4000", "T2@1500"}));
  auto t2 = store_->ListTagBindings(a_, "T2");
  ASSERT_TRUE(t2.ok());
  ASSERT_EQ(t2->size(), 1u);
  EXPECT_EQ((*t2)[0].person, "user:bob");
  EXPECT_TRUE(store_->ListTagBindings(a_, "T9")->empty());
  EXPECT_EQ(store_->ListTagBindings(a_, "a b").status().field(), "tag");
}

TEST_F(PresenceStoreTest, BindingInputsAreValidatedNamingTheField) {
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "fence", "F1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "GONE"), 0, {}).ok());
  ASSERT_TRUE(store_->DeletePresenceObject(a_, "tag", "GONE", {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(b_, "tag", "TB"), 0, {}).ok());
  auto field = [&](const TagBindingRow& row) {
    auto r = store_->AddTagBinding(row, {});
    EXPECT_FALSE(r.ok());
    if (r.ok()) return std::string("ok");
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << r.error().ToString();
    return r.error().field();
  };
  for (const std::string bad : {"", "W1", "worker:", "user:", "admin:root", "Worker:W1",
                                "worker:W\n1"}) {
    EXPECT_EQ(field(MakeBinding(a_, "T1", bad, 10, 20)), "person") << bad;
  }
  EXPECT_EQ(field(MakeBinding(a_, "T1", "worker:" + std::string(74, 'w'), 10, 20)), "person");
  // 80 bytes is the most.
  auto longest = store_->AddTagBinding(
      MakeBinding(a_, "T1", "worker:" + std::string(73, 'w'), 10, 20), {});
  EXPECT_TRUE(longest.ok()) << longest.error().ToString();
  EXPECT_EQ(field(MakeBinding(a_, "T1", "user:bob", 30, 30)), "valid_until");
  EXPECT_EQ(field(MakeBinding(a_, "T1", "user:bob", 30, 29)), "valid_until");
  TagBindingRow note = MakeBinding(a_, "T1", "user:bob", 30, 40);
  note.note = std::string(257, 'n');
  EXPECT_EQ(field(note), "note");
  // The tag must be a live tag of the organization.
  EXPECT_EQ(field(MakeBinding(a_, "T9", "user:bob", 30, 40)), "tag");
  EXPECT_EQ(field(MakeBinding(a_, "F1", "user:bob", 30, 40)), "tag");    // a fence
  EXPECT_EQ(field(MakeBinding(a_, "GONE", "user:bob", 30, 40)), "tag");  // deleted
  EXPECT_EQ(field(MakeBinding(a_, "TB", "user:bob", 30, 40)), "tag");    // of org b
  EXPECT_EQ(field(MakeBinding(a_, "bad tag", "user:bob", 30, 40)), "tag");
  EXPECT_EQ(field(MakeBinding(OrgId{999}, "T1", "user:bob", 30, 40)), "org_id");
  // A bad fact rolls the binding back.
  auto bad_fact = store_->AddTagBinding(MakeBinding(a_, "T1", "user:bob", 30, 40),
                                        {Fact("Bad Kind", "tag:T1")});
  ASSERT_FALSE(bad_fact.ok());
  EXPECT_EQ(store_->ListTagBindings(a_, "T1")->size(), 1u);
}

TEST_F(PresenceStoreTest, BindingsOfAnotherOrganizationAreInvisible) {
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(a_, "tag", "T1"), 0, {}).ok());
  ASSERT_TRUE(store_->PutPresenceObject(MakeObject(b_, "tag", "T1"), 0, {}).ok());
  auto ba = store_->AddTagBinding(MakeBinding(a_, "T1", "worker:W1", 100, std::nullopt), {});
  ASSERT_TRUE(ba.ok()) << ba.error().ToString();
  // Org b's T1 is another tag: an overlapping window there is fine.
  auto bb = store_->AddTagBinding(MakeBinding(b_, "T1", "worker:W9", 50, std::nullopt), {});
  ASSERT_TRUE(bb.ok()) << bb.error().ToString();
  // Org b cannot end org a's binding.
  EXPECT_EQ(store_->EndTagBinding(b_, ba->id, Timestamp::FromSeconds(200), {}).status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(store_->ListTagBindings(a_, "T1")->front().valid_until.has_value());
  auto la = store_->ListTagBindings(a_, "");
  ASSERT_EQ(la->size(), 1u);
  EXPECT_EQ(la->front().person, "worker:W1");
  auto lb = store_->ListTagBindings(b_, "T1");
  ASSERT_EQ(lb->size(), 1u);
  EXPECT_EQ(lb->front().person, "worker:W9");

  std::vector<std::string> scanned;
  ASSERT_TRUE(store_
                  ->ScanTagBindings([&](const TagBindingRow& b) {
                    scanned.push_back(std::to_string(b.org_id.value) + "/" + b.person);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<std::string>{std::to_string(a_.value) + "/worker:W1",
                                               std::to_string(b_.value) + "/worker:W9"}));
  Status inner;
  ASSERT_TRUE(store_
                  ->ScanTagBindings([&](const TagBindingRow&) {
                    inner = store_->AddTagBinding(
                                      MakeBinding(a_, "T1", "user:x", 1, 2), {})
                                .status();
                    return false;
                  })
                  .ok());
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
}

TEST_F(PresenceStoreTest, TrajectoryBlocksAreUniqueAndPointAtTheirFacts) {
  // Two earlier facts, so the blocks' facts do not start at 0.
  ASSERT_TRUE(store_->AppendFacts(a_, {Fact("x.y", "s:1"), Fact("x.y", "s:2")}).ok());
  TrajectoryBlockRow b0 = MakeBlock(a_, "T1", 10, 0);
  TrajectoryBlockRow b1 = MakeBlock(a_, "T1", 11, 0);
  TrajectoryBlockRow b2 = MakeBlock(a_, "T2", 10, 0);
  ASSERT_TRUE(store_
                  ->AppendTrajectoryBlocks(a_, {b1, b0, b2}, {0, 0, 1},
                                           {Fact("trajectory.sealed", "tag:T1"),
                                            Fact("trajectory.sealed", "tag:T2")})
                  .ok());
  auto t1 = store_->TrajectoryBlocks(a_, "T1", Timestamp{0}, Timestamp{100 * kMinute}, 100);
  ASSERT_TRUE(t1.ok()) << t1.error().ToString();
  ASSERT_EQ(t1->size(), 2u);
  // Oldest first whatever the insertion order.
  EXPECT_EQ((*t1)[0].minute, b0.minute);
  EXPECT_EQ((*t1)[1].minute, b1.minute);
  EXPECT_EQ((*t1)[0].fact_seq, 2);
  EXPECT_EQ((*t1)[1].fact_seq, 2);
  EXPECT_EQ((*t1)[0].data, b0.data);  // binary bytes round-trip (NUL, 0xff)
  EXPECT_EQ((*t1)[0].first, b0.first);
  EXPECT_EQ((*t1)[0].last, b0.last);
  EXPECT_EQ((*t1)[0].count, 7);
  EXPECT_EQ((*t1)[0].site, "S1");
  EXPECT_EQ((*t1)[0].sm3_hex, b0.sm3_hex);
  EXPECT_EQ((*t1)[0].org_id, a_);
  auto facts = store_->FactsFrom(a_, 2, 10);
  ASSERT_EQ(facts->size(), 2u);
  EXPECT_EQ((*facts)[0].subject, "tag:T1");
  EXPECT_EQ((*facts)[1].subject, "tag:T2");
  auto t2 = store_->TrajectoryBlocks(a_, "T2", Timestamp{0}, Timestamp{100 * kMinute}, 100);
  ASSERT_EQ(t2->size(), 1u);
  EXPECT_EQ((*t2)[0].fact_seq, 3);

  // The same (tag, minute, part) again is kAlreadyExists and writes nothing, not even
  // the other blocks or the facts of the call; the next part is fine.
  TrajectoryBlockRow fresh = MakeBlock(a_, "T1", 12, 0);
  Status dup = store_->AppendTrajectoryBlocks(a_, {fresh, b0}, {0, 0},
                                              {Fact("trajectory.sealed", "tag:T1")});
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.field(), "blocks[1]");
  EXPECT_EQ(Facts(a_), 4);
  EXPECT_EQ(store_->TrajectoryBlocks(a_, "T1", Timestamp{0}, Timestamp{100 * kMinute}, 100)
                ->size(),
            2u);
  TrajectoryBlockRow late = b0;
  late.part = 1;
  ASSERT_TRUE(store_
                  ->AppendTrajectoryBlocks(a_, {late}, {0}, {Fact("trajectory.sealed", "tag:T1")})
                  .ok());
  // [from, to) on the minute; parts in order.
  t1 = store_->TrajectoryBlocks(a_, "T1", Timestamp{10 * kMinute}, Timestamp{11 * kMinute}, 100);
  ASSERT_EQ(t1->size(), 2u);
  EXPECT_EQ((*t1)[0].part, 0);
  EXPECT_EQ((*t1)[1].part, 1);
  EXPECT_EQ((*t1)[1].fact_seq, 4);
  t1 = store_->TrajectoryBlocks(a_, "T1", Timestamp{11 * kMinute}, Timestamp{12 * kMinute}, 100);
  ASSERT_EQ(t1->size(), 1u);
  EXPECT_EQ((*t1)[0].minute, b1.minute);
  EXPECT_TRUE(
      store_->TrajectoryBlocks(a_, "T1", Timestamp{12 * kMinute}, Timestamp{99 * kMinute}, 100)
          ->empty());
  // The limit keeps the oldest.
  t1 = store_->TrajectoryBlocks(a_, "T1", Timestamp{0}, Timestamp{100 * kMinute}, 2);
  ASSERT_EQ(t1->size(), 2u);
  EXPECT_EQ((*t1)[1].part, 1);
  // Another organization sees none of them, and may use the same keys.
  EXPECT_TRUE(
      store_->TrajectoryBlocks(b_, "T1", Timestamp{0}, Timestamp{100 * kMinute}, 100)->empty());
  ASSERT_TRUE(store_
                  ->AppendTrajectoryBlocks(b_, {MakeBlock(b_, "T1", 10, 0)}, {0},
                                           {Fact("trajectory.sealed", "tag:T1")})
                  .ok());
  auto bt = store_->TrajectoryBlocks(b_, "T1", Timestamp{0}, Timestamp{100 * kMinute}, 100);
  ASSERT_EQ(bt->size(), 1u);
  EXPECT_EQ((*bt)[0].fact_seq, 0);
  EXPECT_EQ(store_->TrajectoryBlocks(a_, "T1", Timestamp{0}, Timestamp{100 * kMinute}, 100)
                ->size(),
            3u);
  // Nothing at all is a no-op.
  EXPECT_TRUE(store_->AppendTrajectoryBlocks(a_, {}, {}, {}).ok());
}

TEST_F(PresenceStoreTest, TrajectoryBlockInputsAreValidatedNamingTheField) {
  auto field = [&](const TrajectoryBlockRow& b, std::vector<int> idx = {0}) {
    return store_->AppendTrajectoryBlocks(a_, {b}, idx, {Fact("trajectory.sealed", "tag:T1")})
        .field();
  };
  TrajectoryBlockRow bad = MakeBlock(a_, "T1", 20, 0);
  EXPECT_EQ(field(bad, {1}), "fact_index[0]");
  EXPECT_EQ(field(bad, {-1}), "fact_index[0]");
  EXPECT_EQ(field(bad, {}), "fact_index");
  bad = MakeBlock(b_, "T1", 20, 0);
  EXPECT_EQ(field(bad), "blocks[0].org_id");
  bad = MakeBlock(a_, "T 1", 20, 0);
  EXPECT_EQ(field(bad), "blocks[0].tag");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.site = "";
  EXPECT_EQ(field(bad), "blocks[0].site");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.minute.micros += 1;
  EXPECT_EQ(field(bad), "blocks[0].minute");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.part = -1;
  EXPECT_EQ(field(bad), "blocks[0].part");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.count = 0;
  EXPECT_EQ(field(bad), "blocks[0].count");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.first = Timestamp{20 * kMinute - 1};
  EXPECT_EQ(field(bad), "blocks[0].first");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.last = Timestamp{21 * kMinute};
  EXPECT_EQ(field(bad), "blocks[0].last");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.sm3_hex = std::string(64, 'A');
  EXPECT_EQ(field(bad), "blocks[0].sm3_hex");
  bad.sm3_hex = std::string(63, 'a');
  EXPECT_EQ(field(bad), "blocks[0].sm3_hex");
  bad = MakeBlock(a_, "T1", 20, 0);
  bad.data.clear();
  EXPECT_EQ(field(bad), "blocks[0].data");
  bad.data = std::string((std::size_t{4} << 20) + 1, 'x');
  EXPECT_EQ(field(bad), "blocks[0].data");
  EXPECT_EQ(Facts(a_), 0);
  bad = MakeBlock(OrgId{999}, "T1", 20, 0);
  EXPECT_EQ(store_
                ->AppendTrajectoryBlocks(OrgId{999}, {bad}, {0},
                                         {Fact("trajectory.sealed", "tag:T1")})
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store_->TrajectoryBlocks(a_, "T1", Timestamp{0}, Timestamp{1}, 10001).status().field(),
      "limit");
  EXPECT_EQ(store_->TrajectoryBlocks(a_, "T1", Timestamp{0}, Timestamp{1}, 0).status().field(),
            "limit");
  EXPECT_EQ(store_->TrajectoryBlocks(a_, "", Timestamp{0}, Timestamp{1}, 10).status().field(),
            "tag");
}

// A file at schema version 5 (made from migrations 1..5, as that binary applied them)
// migrates to 6 in place, keeping its rows.
TEST(PresenceMigrationTest, VersionFiveFileMigratesInPlace) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.File("v5.db");
  RawExec(path, R"sql(CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT)sql");
  for (const sqlite::Migration& m : sqlite::Migrations()) {
    if (m.version > 5) break;
    for (const char* sql : m.statements) RawExec(path, sql);
    RawExec(path, "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 0)");
  }
  RawExec(path,
          "INSERT INTO organizations (id, code, name, created_at) VALUES (1, 'old', 'Old', 0)");
  RawExec(path,
          "INSERT INTO facts (org_id, seq, time, site, kind, actor, subject, payload) VALUES "
          "(1, 0, 0, '', 'org.created', 'system', 'org:old', '{}')");
  RawExec(path,
          "INSERT INTO monitor_points (org_id, id, site, kind, document, version, deleted, "
          "updated_at) VALUES (1, 'P1', 'S1', 'gas.h2s', '{}', 1, 0, 0)");
  ASSERT_EQ(RawQueryText(path, "SELECT max(version) FROM schema_migrations"), "5");
  ASSERT_EQ(RawQueryText(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'tag_bindings'"),
            "0");

  core::FakeClock clock{Timestamp::FromSeconds(1'750'000'000)};
  auto s = OpenSqliteStore({.path = path, .clock = &clock});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  Store& store = **s;
  EXPECT_EQ(store.SchemaVersion(), sqlite::LatestSchemaVersion());
  EXPECT_EQ(RawQueryText(path, "SELECT applied_at FROM schema_migrations WHERE version = 6"),
            std::to_string(clock.Now().micros));
  // The v5 rows are kept.
  EXPECT_EQ(*store.FactCount(OrgId{1}), 1);
  auto point = store.GetPoint(OrgId{1}, "P1");
  ASSERT_TRUE(point.ok()) << point.error().ToString();
  EXPECT_EQ(point->kind, "gas.h2s");
  // And the new tables work.
  ASSERT_TRUE(store.PutPresenceObject(MakeObject(OrgId{1}, "tag", "T1"), 0, {}).ok());
  ASSERT_TRUE(
      store.AddTagBinding(MakeBinding(OrgId{1}, "T1", "worker:W1", 1, std::nullopt), {}).ok());
  ASSERT_TRUE(store
                  .AppendTrajectoryBlocks(OrgId{1}, {MakeBlock(OrgId{1}, "T1", 1, 0)}, {0},
                                          {Fact("trajectory.sealed", "tag:T1")})
                  .ok());
  auto blocks = store.TrajectoryBlocks(OrgId{1}, "T1", Timestamp{0}, Timestamp{kMinute * 2}, 10);
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ((*blocks)[0].fact_seq, 1);
  s->reset();
  // Reopening applies nothing more.
  auto again = OpenSqliteStore({.path = path, .clock = &clock});
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(RawQueryText(path, "SELECT count(*) FROM schema_migrations"),
            std::to_string(sqlite::LatestSchemaVersion()));
  EXPECT_EQ((*again)->ListTagBindings(OrgId{1}, "T1")->size(), 1u);
}

// A file at schema version 6 migrates to 7: presence_objects is rebuilt with the kind
// 'site_plan' allowed, every row (deleted ones included) copied unchanged.
TEST(PresenceMigrationTest, VersionSixFileGainsSitePlansKeepingItsObjects) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.File("v6.db");
  RawExec(path, R"sql(CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT)sql");
  for (const sqlite::Migration& m : sqlite::Migrations()) {
    if (m.version > 6) break;
    for (const char* sql : m.statements) RawExec(path, sql);
    RawExec(path, "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 0)");
  }
  RawExec(path,
          "INSERT INTO organizations (id, code, name, created_at) VALUES (1, 'old', 'Old', 0)");
  RawExec(path,
          "INSERT INTO presence_objects (org_id, kind, id, site, document, version, deleted, "
          "updated_at) VALUES (1, 'tag', 'T1', 'S1', '{\"a\":1}', 3, 0, 11), "
          "(1, 'fence', 'F1', 'S1', '{}', 2, 1, 12), "
          "(1, 'site_frame', 'S1', 'S1', '{}', 1, 0, 13)");
  // Version 6's CHECK does not know the new kind.
  const std::string table_sql =
      "SELECT instr(sql, 'site_plan') > 0 FROM sqlite_schema WHERE name = 'presence_objects'";
  ASSERT_EQ(RawQueryText(path, table_sql), "0");
  ASSERT_EQ(RawQueryText(path, "SELECT max(version) FROM schema_migrations"), "6");

  core::FakeClock clock{Timestamp::FromSeconds(1'750'000'000)};
  auto s = OpenSqliteStore({.path = path, .clock = &clock});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  Store& store = **s;
  EXPECT_EQ(store.SchemaVersion(), 7);
  EXPECT_EQ(RawQueryText(path, "SELECT applied_at FROM schema_migrations WHERE version = 7"),
            std::to_string(clock.Now().micros));
  EXPECT_EQ(RawQueryText(path, "SELECT group_concat(kind || '/' || id || '/' || version || '/' || "
                               "deleted || '/' || updated_at || '/' || document, ' ') FROM "
                               "(SELECT * FROM presence_objects ORDER BY kind, id)"),
            "fence/F1/2/1/12/{} site_frame/S1/1/0/13/{} tag/T1/3/0/11/{\"a\":1}");
  EXPECT_EQ(RawQueryText(path, "SELECT count(*) FROM sqlite_schema WHERE name LIKE "
                               "'presence_objects%'"),
            "1");  // WITHOUT ROWID: the table is its key; no leftover copy
  EXPECT_EQ(RawQueryText(path, "SELECT strict FROM pragma_table_list WHERE name = "
                               "'presence_objects'"),
            "1");
  EXPECT_EQ(RawQueryText(path, table_sql), "1");
  // The new kind is accepted; others still refused by the store.
  ASSERT_TRUE(store.PutPresenceObject(MakeObject(OrgId{1}, "site_plan", "S1"), 0, {}).ok());
  auto tag = store.GetPresenceObject(OrgId{1}, "tag", "T1");
  ASSERT_TRUE(tag.ok()) << tag.error().ToString();
  EXPECT_EQ(tag->version, 3);
  EXPECT_EQ(store.ListPresenceObjects(OrgId{1}, "fence")->size(), 0u);  // still deleted
  EXPECT_EQ(store.GetPresenceObject(OrgId{1}, "zone", "S1").status().field(), "kind");
}

}  // namespace
}  // namespace wg::store

// End-to-end tests of the live-monitoring routes: a real ApiServer on port 0 over a real
// SQLite store, a live::MonitorService with the embedded monitor rulebook and its own
// threads, a FakeClock and httplib clients (docs/api.md#live-monitoring).

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "service.h"
#include "wg/api/server.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/crypto/crypto.h"
#include "wg/evidence/evidence.h"
#include "wg/live/service.h"
#include "wg/monitor/model.h"
#include "wg/monitor/rulebook.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::api {
namespace {

using core::Json;

constexpr const char* kPassword = "correct horse battery";
const crypto::PasswordParams kFastHash{1, 1024, 1};
constexpr const char* kPoint = "H2S-01";

const registry::Rulebook& Book() {
  static const registry::Rulebook* book = [] {
    auto b = registry::Rulebook::LoadEmbedded();
    if (!b.has_value()) {
      ADD_FAILURE() << b.error().ToString();
      std::abort();
    }
    return new registry::Rulebook(std::move(b).value());
  }();
  return *book;
}

const monitor::MonitorRulebook& MonitorBook() {
  static const monitor::MonitorRulebook* book = [] {
    auto b = monitor::MonitorRulebook::LoadEmbedded();
    if (!b.has_value()) {
      ADD_FAILURE() << b.error().ToString();
      std::abort();
    }
    return std::move(b).value().release();
  }();
  return *book;
}

core::Timestamp Noon(const char* date) {
  return core::ShanghaiStartOfDay(core::ParseDate(date).value()) + core::Duration::Hours(12);
}

struct Reply {
  int status = 0;
  std::string raw;
  Json json;
  httplib::Headers headers;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string ErrorCode() const { return json.value("/error/code"_json_pointer, ""); }
  std::string ErrorField() const { return json.value("/error/field"_json_pointer, ""); }
};

// The person roles of the route table (every role but the gateway account).
const std::vector<domain::Role>& PersonRoles() {
  static const std::vector<domain::Role> roles = {
      domain::Role::kWorker,        domain::Role::kGuardian,   domain::Role::kTeamLeader,
      domain::Role::kApprover,      domain::Role::kSafetyManager, domain::Role::kSupervisor,
      domain::Role::kRegulator,     domain::Role::kAdmin};
  return roles;
}

std::string UserOf(domain::Role r) { return std::string(domain::RoleName(r)) + "-a"; }

class MonitorApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-monapi-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore({.path = dir_ + "/wg.db", .clock = &clock_});
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(opened).value();
    auto a = store_->CreateOrganization({"plant-a", "A 石化"});
    auto b = store_->CreateOrganization({"plant-b", "B 化工"});
    ASSERT_TRUE(a.has_value() && b.has_value());
    org_a_ = a->id;
    org_b_ = b->id;
    ASSERT_TRUE(store_->CreateSite(org_a_, {"S1", "一联合装置", ""}).has_value());
    ASSERT_TRUE(store_->CreateSite(org_b_, {"S1", "B 装置", ""}).has_value());
    for (domain::Role r : PersonRoles()) AddUser(org_a_, UserOf(r), r);
    AddUser(org_a_, "gateway-a", domain::Role::kGateway);
    AddUser(org_b_, "mgr-b", domain::Role::kSafetyManager);
    AddUser(org_b_, "admin-b", domain::Role::kAdmin);

    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/monitor-api");
    ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
    keys_ = std::move(keys).value();
    auto ev = evidence::Evidence::Open({.ledger_dir = dir_ + "/ledger", .sync = false}, *store_,
                                       *keys_, clock_);
    ASSERT_TRUE(ev.has_value()) << ev.error().ToString();
    evidence_ = std::move(ev).value();
    registry_ = std::make_unique<registry::Registry>(*store_, clock_, Book(),
                                                     registry::IdDigester(std::string(32, 'k')),
                                                     *evidence_);
    ASSERT_TRUE(registry_->LoadIndex().ok());
    live::MonitorOptions mo;
    mo.queue_capacity = 1024;
    mo.start_threads = true;
    monitor_ = std::make_unique<live::MonitorService>(*store_, *evidence_, MonitorBook(), clock_,
                                                      nullptr, mo);
    core::Status started = monitor_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    StartServer(/*with_monitor=*/true);
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Stop();
    server_.reset();
    if (monitor_) monitor_->Stop();
    monitor_.reset();
    registry_.reset();
    evidence_.reset();
    keys_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartServer(bool with_monitor) {
    client_.reset();
    if (server_) server_->Stop();
    server_.reset();
    ServerOptions options;
    options.port = 0;
    options.threads = 8;
    options.max_streams = 1;
    options.max_body_bytes = 16 * 1024;
    options.max_import_bytes = 64 * 1024;
    options.import_tmp_dir = dir_ + "/tmp";
    server_ = std::make_unique<ApiServer>(*store_, *registry_, clock_, options);
    if (with_monitor) server_->SetMonitor(monitor_.get());
    core::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void AddUser(core::OrgId org, const std::string& name, domain::Role role) {
    domain::User u;
    u.org_id = org;
    u.username = name;
    u.display_name = name;
    u.role = role;
    u.active = true;
    auto hash = crypto::HashPassword(kPassword, kFastHash);
    ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
    u.password_hash = *hash;
    auto created = store_->CreateUser(u);
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
  }

  static Reply Wrap(const httplib::Result& r) {
    Reply out;
    if (!r) {
      ADD_FAILURE() << "no response: " << httplib::to_string(r.error());
      return out;
    }
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    if (r->get_header_value("Content-Type").starts_with("application/json") && !r->body.empty()) {
      out.json = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(out.json.is_discarded()) << r->body;
    }
    return out;
  }

  static httplib::Headers Auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }

  Reply Get(const std::string& path, const std::string& token) {
    return Wrap(client_->Get(path.c_str(), Auth(token)));
  }
  Reply Post(const std::string& path, const std::string& body, const std::string& token) {
    return Wrap(client_->Post(path.c_str(), Auth(token), body, "application/json"));
  }
  Reply PostJson(const std::string& path, const Json& body, const std::string& token) {
    return Post(path, body.dump(), token);
  }
  Reply Put(const std::string& path, const Json& body, const std::string& token) {
    return Wrap(client_->Put(path.c_str(), Auth(token), body.dump(), "application/json"));
  }
  Reply Delete(const std::string& path, const std::string& token) {
    return Wrap(client_->Delete(path.c_str(), Auth(token)));
  }

  std::string Login(const std::string& user) {
    auto it = tokens_.find(user);
    if (it != tokens_.end()) return it->second;
    Reply r = PostJson("/api/v1/auth/login", {{"username", user}, {"password", kPassword}}, "");
    EXPECT_EQ(r.status, 200) << r.raw;
    std::string token = r.json.value("token", "");
    tokens_[user] = token;
    return token;
  }
  std::string As(domain::Role r) { return Login(UserOf(r)); }

  static std::string H2sUnit() {
    const monitor::KindDef* k = MonitorBook().Kind("h2s");
    return k != nullptr && !k->units.empty() ? k->units.front().unit : "ppm";
  }

  // The point document of an H2S detector at S1/U1 with a point-specific red limit at 10.
  static Json PointDoc(const std::string& id = kPoint) {
    monitor::PointConfig p;
    p.id = id;
    p.name = "1# 罐 H2S";
    p.site = "S1";
    p.zone = "U1";
    p.equipment = "T-101";
    p.kind = "h2s";
    p.unit = H2sUnit();
    p.limits.push_back({.level = monitor::Level::kRed, .high = true, .value = 10});
    Json j = monitor::ToJson(p);
    j.erase("version");
    j.erase("org");
    j.erase("org_id");
    return j;
  }

  std::int64_t EpochMs(core::Timestamp t) { return t.micros / 1000; }

  // Creates the point through the API as the safety manager.
  Json CreatePoint(const std::string& id = kPoint) {
    Reply r = Put("/api/v1/points/" + id, PointDoc(id), As(domain::Role::kSafetyManager));
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.json;
  }

  // Posts one reading of `value` a second before now and waits until it is processed.
  Reply PostReading(double value, const std::string& token, const std::string& point = kPoint) {
    clock_.Advance(core::Duration::Seconds(1));
    Json body = {{"readings",
                  Json::array({{{"p", point},
                                {"t", EpochMs(clock_.Now() - core::Duration::Seconds(1))},
                                {"v", value},
                                {"u", H2sUnit()}}})}};
    Reply r = PostJson("/api/v1/readings", body, token);
    core::Status flushed = monitor_->Flush(core::Duration::Seconds(10));
    EXPECT_TRUE(flushed.ok()) << flushed.ToString();
    return r;
  }

  // The open alarm of kPoint raised by the point's own limit (or any of its alarms).
  Json RaisedAlarm() {
    Reply r = Get(std::string("/api/v1/alarms?point=") + kPoint,
                  As(domain::Role::kSafetyManager));
    EXPECT_EQ(r.status, 200) << r.raw;
    Json found;
    for (const auto& a : r.json.value("alarms", Json::array())) {
      if (found.is_null() || a.value("rule", "").starts_with("point.")) found = a;
    }
    return found;
  }

  std::string dir_;
  core::FakeClock clock_{Noon("2026-11-28")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<live::MonitorService> monitor_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::map<std::string, std::string> tokens_;
  core::OrgId org_a_, org_b_;
};

TEST_F(MonitorApiTest, RoutesAnswer503WithoutTheMonitor) {
  StartServer(/*with_monitor=*/false);
  const std::string mgr = As(domain::Role::kSafetyManager);
  for (const char* path : {"/api/v1/points", "/api/v1/alarms", "/api/v1/monitor/status",
                           "/api/v1/stream"}) {
    Reply r = Get(path, mgr);
    EXPECT_EQ(r.status, 503) << path << " " << r.raw;
    EXPECT_EQ(r.ErrorCode(), "UNAVAILABLE") << path;
  }
  EXPECT_EQ(Post("/api/v1/readings", R"({"readings":[]})", Login("gateway-a")).status, 503);
}

TEST_F(MonitorApiTest, PointRolesAndVersions) {
  // A worker and a guardian may not configure points; a reader may read them.
  EXPECT_EQ(Put("/api/v1/points/H2S-01", PointDoc(), As(domain::Role::kWorker)).status, 403);
  EXPECT_EQ(Put("/api/v1/points/H2S-01", PointDoc(), As(domain::Role::kGuardian)).status, 403);
  EXPECT_EQ(Put("/api/v1/points/H2S-01", PointDoc(), Login("gateway-a")).status, 403);
  Json created = CreatePoint();
  const std::int64_t version = created.value("/point/version"_json_pointer, std::int64_t{0});
  EXPECT_GE(version, 1);

  Reply list = Get("/api/v1/points", As(domain::Role::kGuardian));
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.json["points"].size(), 1u);
  EXPECT_EQ(list.json["points"][0].value("id", ""), kPoint);
  EXPECT_EQ(Get("/api/v1/points", As(domain::Role::kWorker)).status, 403);
  EXPECT_EQ(Get("/api/v1/points", Login("gateway-a")).status, 403);

  Reply one = Get("/api/v1/points/H2S-01", As(domain::Role::kRegulator));
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_EQ(one.json["point"].value("kind", ""), "h2s");
  EXPECT_TRUE(one.json.contains("status"));

  // Creating again (no version) and a stale version are conflicts; the right one applies.
  EXPECT_EQ(Put("/api/v1/points/H2S-01", PointDoc(), As(domain::Role::kAdmin)).status, 409);
  Json doc = PointDoc();
  doc["name"] = "1# 罐 H2S (新)";
  doc["version"] = version + 5;
  EXPECT_EQ(Put("/api/v1/points/H2S-01", doc, As(domain::Role::kAdmin)).status, 409);
  doc["version"] = version;
  Reply updated = Put("/api/v1/points/H2S-01", doc, As(domain::Role::kAdmin));
  ASSERT_EQ(updated.status, 200) << updated.raw;
  EXPECT_GT(updated.json.value("/point/version"_json_pointer, std::int64_t{0}), version);

  // Deleting: not for a reader; then gone.
  EXPECT_EQ(Delete("/api/v1/points/H2S-01", As(domain::Role::kSupervisor)).status, 403);
  EXPECT_EQ(Delete("/api/v1/points/H2S-01", As(domain::Role::kSafetyManager)).status, 204);
  EXPECT_EQ(Get("/api/v1/points/H2S-01", As(domain::Role::kSafetyManager)).status, 404);
}

TEST_F(MonitorApiTest, MalformedInputNamesTheField) {
  const std::string mgr = As(domain::Role::kSafetyManager);
  Json doc = PointDoc();
  doc["unit"] = "furlongs";
  Reply r = Put("/api/v1/points/H2S-01", doc, mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "unit");

  doc = PointDoc();
  doc["id"] = "OTHER";
  r = Put("/api/v1/points/H2S-01", doc, mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "id");

  doc = PointDoc();
  doc["version"] = "one";
  r = Put("/api/v1/points/H2S-01", doc, mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "version");

  r = Get("/api/v1/points/bad$id", mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "id");

  CreatePoint();
  r = Get("/api/v1/points/H2S-01/readings?from=yesterday", mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "from");
  r = Get("/api/v1/points/H2S-01/readings?from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z", mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "from");
  r = Get("/api/v1/points/H2S-01/readings?since=2026-11-26T00:00:00Z", mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "since");

  r = Get("/api/v1/alarms?min_level=purple", mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "min_level");
  r = Get("/api/v1/alarms?state=burning", mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "state");
  r = Get("/api/v1/alarms?limit=0", mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "limit");

  const std::string gw = Login("gateway-a");
  r = Post("/api/v1/readings", "{\"readings\": [", gw);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_FALSE(r.ErrorField().empty()) << r.raw;

  // A bad reading in a batch is listed by member; the good ones are queued.
  Json batch = {{"readings",
                 Json::array({{{"p", kPoint}, {"t", EpochMs(clock_.Now())}, {"v", "high"}},
                              {{"p", kPoint}, {"t", EpochMs(clock_.Now())}, {"v", 1.5}}})}};
  r = PostJson("/api/v1/readings", batch, gw);
  ASSERT_EQ(r.status, 202) << r.raw;
  EXPECT_EQ(r.json.value("queued", 0), 1);
  EXPECT_EQ(r.json.value("rejected", 0), 1);
  ASSERT_EQ(r.json["rejections"].size(), 1u);
  EXPECT_EQ(r.json["rejections"][0].value("field", ""), "readings[0].v");

  // Over 256 KiB: 413, and the connection stays usable.
  std::string big = "{\"readings\": [" + std::string(300 * 1024, ' ') + "]}";
  r = Post("/api/v1/readings", big, gw);
  EXPECT_EQ(r.status, 413) << r.raw.substr(0, 200);
  EXPECT_EQ(Get("/api/v1/me", gw).status, 200);

  r = PostJson("/api/v1/alarms/1/ack", {{"nota", "x"}}, mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "nota");
}

TEST_F(MonitorApiTest, ReadingsRaiseAnAlarmAcknowledgedByTheSopRole) {
  CreatePoint();
  // Readings: worker and guardian may not post; the gateway, the manager and admin may.
  EXPECT_EQ(PostJson("/api/v1/readings", {{"readings", Json::array()}},
                     As(domain::Role::kGuardian)).status,
            403);
  Reply ok = PostReading(1.0, Login("gateway-a"));
  ASSERT_EQ(ok.status, 202) << ok.raw;
  EXPECT_EQ(ok.json.value("queued", 0), 1);
  EXPECT_EQ(ok.json.value("rejected", -1), 0);

  Reply high = PostReading(50.0, As(domain::Role::kSafetyManager));
  ASSERT_EQ(high.status, 202) << high.raw;
  Json alarm = RaisedAlarm();
  ASSERT_TRUE(alarm.is_object()) << "no alarm raised";
  const std::int64_t id = alarm.value("id", std::int64_t{0});
  ASSERT_GT(id, 0);
  EXPECT_EQ(alarm.value("state", ""), "active_unacked");

  Reply got = Get("/api/v1/alarms/" + std::to_string(id), As(domain::Role::kGuardian));
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.json["alarm"].value("point", ""), kPoint);
  ASSERT_TRUE(got.json["actions"].is_array()) << got.raw;

  // What the SOP did automatically: one entry per power-lock / broadcast command, each
  // with its fact's seq (no actuator is wired here, so each says so).
  {
    auto lvl = monitor::ParseLevel(alarm.value("level", "blue"));
    ASSERT_TRUE(lvl.has_value());
    std::size_t commands = 0;
    for (auto k : MonitorBook().Sop(*lvl).actions) {
      if (k == monitor::ActionKind::kPowerLock || k == monitor::ActionKind::kBroadcast) ++commands;
    }
    ASSERT_EQ(alarm.value("level", ""), "red") << "50 ppm H2S is a red alarm";
    ASSERT_EQ(commands, 2u);
    Reply detail = got;
    for (int i = 0; i < 200 && detail.json["actions"].size() < commands; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      detail = Get("/api/v1/alarms/" + std::to_string(id), As(domain::Role::kRegulator));
    }
    ASSERT_EQ(detail.json["actions"].size(), commands) << detail.raw;
    for (const auto& act : detail.json["actions"]) {
      const std::string kind = act.value("kind", "");
      EXPECT_TRUE(kind == "power-lock" || kind == "broadcast") << act;
      EXPECT_EQ(act.value("status", ""), "no_actuator") << act;
      EXPECT_GE(act.value("seq", std::int64_t{-1}), 0) << act;
      EXPECT_FALSE(act.value("time", "").empty()) << act;
      EXPECT_TRUE(act.contains("target")) << act;
      // The seq is a real fact about this alarm in the ledger.
      Reply proof = Get("/api/v1/ledger/proof?seq=" + std::to_string(act.value("seq", 0)),
                        As(domain::Role::kSafetyManager));
      if (proof.status == 200) {
        EXPECT_EQ(proof.json["fact"]["kind"], "action.executed") << proof.raw;
        EXPECT_EQ(proof.json["fact"]["subject"], "alarm:" + std::to_string(id)) << proof.raw;
      }
    }
    // The existing members are unchanged.
    EXPECT_EQ(detail.json["alarm"].value("id", std::int64_t{0}), id);
  }

  // The SOP of the alarm's level names who may acknowledge.
  auto level = monitor::ParseLevel(alarm.value("level", "blue"));
  ASSERT_TRUE(level.has_value());
  const auto& allowed = MonitorBook().Sop(*level).ack_roles;
  std::optional<domain::Role> right, wrong;
  for (domain::Role r : PersonRoles()) {
    const bool may =
        std::find(allowed.begin(), allowed.end(), domain::RoleName(r)) != allowed.end();
    if (may && !right) right = r;
    if (!may && !wrong) wrong = r;
  }
  ASSERT_TRUE(right.has_value()) << "the SOP lets nobody acknowledge";
  const std::string ack = "/api/v1/alarms/" + std::to_string(id) + "/ack";
  if (wrong) {
    Reply denied = PostJson(ack, {{"note", "seen"}}, As(*wrong));
    EXPECT_EQ(denied.status, 403) << denied.raw;
    EXPECT_NE(denied.raw.find(allowed.front()), std::string::npos)
        << "the 403 names the allowed roles: " << denied.raw;
  }
  Reply acked = PostJson(ack, {{"note", "已到现场"}}, As(*right));
  ASSERT_EQ(acked.status, 200) << acked.raw;
  EXPECT_EQ(acked.json["alarm"].value("state", ""), "active_acked");
  EXPECT_EQ(acked.json["alarm"].value("acked_by", ""), "user:" + UserOf(*right));
  Reply again = PostJson(ack, {{"note", "again"}}, As(*right));
  EXPECT_EQ(again.status, 409) << again.raw;

  // Filters and paging.
  Reply red = Get("/api/v1/alarms?min_level=red&state=active_acked&site=S1&limit=1",
                  As(domain::Role::kSupervisor));
  ASSERT_EQ(red.status, 200) << red.raw;
  for (const auto& a : red.json["alarms"]) EXPECT_EQ(a.value("level", ""), "red");

  // The readings of the point, with their (pending or sealed) blocks.
  Reply readings = Get("/api/v1/points/H2S-01/readings", As(domain::Role::kGuardian));
  ASSERT_EQ(readings.status, 200) << readings.raw;
  EXPECT_EQ(readings.json["samples"].size(), 2u) << readings.raw;
  EXPECT_TRUE(readings.json["blocks"].is_array());

  Reply status = Get("/api/v1/monitor/status", As(domain::Role::kGuardian));
  ASSERT_EQ(status.status, 200) << status.raw;
  EXPECT_GE(status.json["installation"].value("accepted", 0), 2);
  EXPECT_EQ(status.json["organization"].value("points", 0), 1);

  // An unknown point is rejected and counted.
  Reply unknown = PostJson("/api/v1/readings",
                           {{"readings", Json::array({{{"p", "NOPE"},
                                                       {"t", EpochMs(clock_.Now())},
                                                       {"v", 1.0}}})}},
                           Login("gateway-a"));
  ASSERT_EQ(unknown.status, 202) << unknown.raw;
  EXPECT_EQ(unknown.json.value("rejected", 0), 1);
  ASSERT_EQ(unknown.json["rejections"].size(), 1u);

  // /metrics carries the live-monitoring series.
  Reply metrics = Get("/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  for (const char* series :
       {"wg_ingest_readings_total{outcome=\"accepted\"}", "wg_ingest_rejected_total",
        "wg_ingest_dropped_total", "wg_ingest_queue_depth", "wg_ingest_queue_capacity 1024",
        "wg_alarms_raised_total{level=\"red\"}", "wg_alarms_open", "wg_actions_total{result=",
        "wg_blocks_sealed_total", "wg_notifications_pending", "wg_broker_dropped",
        "wg_ingest_latency_seconds_bucket", "wg_ingest_latency_seconds_count"}) {
    EXPECT_NE(metrics.raw.find(series), std::string::npos) << series;
  }
  EXPECT_EQ(metrics.raw.find("wg_ingest_readings_total{outcome=\"accepted\"} 0\n"),
            std::string::npos);
}

TEST_F(MonitorApiTest, OrganizationsAreIsolated) {
  CreatePoint();
  ASSERT_EQ(PostReading(50.0, Login("gateway-a")).status, 202);
  Json alarm = RaisedAlarm();
  ASSERT_TRUE(alarm.is_object());
  const std::string id = std::to_string(alarm.value("id", std::int64_t{0}));

  const std::string b = Login("mgr-b");
  EXPECT_EQ(Get("/api/v1/points/H2S-01", b).status, 404);
  Reply points = Get("/api/v1/points", b);
  ASSERT_EQ(points.status, 200);
  EXPECT_TRUE(points.json["points"].empty());
  EXPECT_EQ(Get("/api/v1/points/H2S-01/readings", b).status, 404);
  Reply alarms = Get("/api/v1/alarms", b);
  ASSERT_EQ(alarms.status, 200);
  EXPECT_TRUE(alarms.json["alarms"].empty());
  EXPECT_EQ(Get("/api/v1/alarms/" + id, b).status, 404);
  EXPECT_EQ(PostJson("/api/v1/alarms/" + id + "/ack", {{"note", "x"}}, Login("admin-b")).status,
            404);
  EXPECT_EQ(Delete("/api/v1/points/H2S-01", b).status, 404);

  // Org B's readings for org A's point id are rejected, not delivered to A's point.
  Json batch = {{"readings", Json::array({{{"p", kPoint},
                                           {"t", EpochMs(clock_.Now())},
                                           {"v", 99.0},
                                           {"u", H2sUnit()}}})}};
  Reply r = PostJson("/api/v1/readings", batch, b);
  ASSERT_EQ(r.status, 202) << r.raw;
  EXPECT_EQ(r.json.value("queued", -1), 0);
  EXPECT_EQ(r.json.value("rejected", 0), 1);

  // And org B can create its own point of the same id.
  Reply own = Put("/api/v1/points/H2S-01", PointDoc(), b);
  EXPECT_EQ(own.status, 201) << own.raw;
}

// Reads a stream on its own client until `until` appears in it (or 15 s pass).
class StreamReader {
 public:
  StreamReader(int port, std::string token, std::string path, std::string until)
      : thread_([this, port, token = std::move(token), path = std::move(path),
                 until = std::move(until)] {
          httplib::Client cli("127.0.0.1", port);
          cli.set_read_timeout(15, 0);
          auto res = cli.Get(path.c_str(), {{"Authorization", "Bearer " + token}},
                             [&](const httplib::Response& r) {
                               status_ = r.status;
                               content_type_ = r.get_header_value("Content-Type");
                               return true;
                             },
                             [&](const char* data, std::size_t n) {
                               std::lock_guard lock(mu_);
                               text_.append(data, n);
                               opened_ = true;
                               return text_.find(until) == std::string::npos;
                             });
          (void)res;
          done_ = true;
        }) {}
  ~StreamReader() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool WaitOpen() {
    for (int i = 0; i < 500 && !opened_ && !done_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return opened_;
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  int status() const { return status_; }
  std::string content_type() const { return content_type_; }

 private:
  std::atomic<bool> opened_{false}, done_{false};
  std::atomic<int> status_{0};
  std::string content_type_;
  std::mutex mu_;
  std::string text_;
  std::thread thread_;
};

TEST_F(MonitorApiTest, StreamDeliversAlarmEventsAndIsLimited) {
  CreatePoint();
  EXPECT_EQ(Get("/api/v1/stream", As(domain::Role::kWorker)).status, 403);
  EXPECT_EQ(Get("/api/v1/stream?site=bad$site", As(domain::Role::kGuardian)).status, 400);

  StreamReader reader(server_->port(), As(domain::Role::kGuardian), "/api/v1/stream?site=S1",
                      "event: alarm");
  ASSERT_TRUE(reader.WaitOpen()) << "the stream did not open";
  EXPECT_EQ(reader.status(), 200);
  EXPECT_TRUE(reader.content_type().starts_with("text/event-stream")) << reader.content_type();

  // max_streams is 1 here: a second stream is refused while the first is open.
  Reply busy = Get("/api/v1/stream", As(domain::Role::kSafetyManager));
  EXPECT_EQ(busy.status, 503) << busy.raw;
  EXPECT_FALSE(busy.Header("Retry-After").empty());

  ASSERT_EQ(PostReading(50.0, Login("gateway-a")).status, 202);
  reader.Join();
  const std::string text = reader.text();
  const std::size_t at = text.find("event: alarm");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NE(text.find("id: ", at), std::string::npos) << text;
  const std::size_t data = text.find("data: ", at);
  ASSERT_NE(data, std::string::npos) << text;
  const std::string line = text.substr(data + 6, text.find('\n', data) - data - 6);
  Json event = Json::parse(line, nullptr, false);
  ASSERT_FALSE(event.is_discarded()) << line;
  EXPECT_NE(line.find(kPoint), std::string::npos) << line;

  // The slot is given back once the client has gone: a new stream opens.
  bool reopened = false;
  for (int i = 0; i < 300 && !reopened; ++i) {
    reopened = server_ != nullptr && monitor_->events().subscribers() == 0;
    if (!reopened) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(reopened) << "the stream's subscription was not released";
  StreamReader second(server_->port(), As(domain::Role::kSafetyManager), "/api/v1/stream",
                      "never");
  EXPECT_TRUE(second.WaitOpen());
  monitor_->events().Close();  // ends every stream
  second.Join();
}

TEST_F(MonitorApiTest, StoppingTheServerEndsOpenStreams) {
  StreamReader reader(server_->port(), As(domain::Role::kGuardian), "/api/v1/stream", "never");
  ASSERT_TRUE(reader.WaitOpen());
  const auto started = std::chrono::steady_clock::now();
  server_->Stop();
  reader.Join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  for (int i = 0; i < 100 && monitor_->events().subscribers() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(monitor_->events().subscribers(), 0u);
}

TEST_F(MonitorApiTest, StreamOfAnotherOrganizationSeesNothing) {
  CreatePoint();
  StreamReader other(server_->port(), Login("mgr-b"), "/api/v1/stream", "event: alarm");
  ASSERT_TRUE(other.WaitOpen());
  ASSERT_EQ(PostReading(50.0, Login("gateway-a")).status, 202);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  monitor_->events().Close();
  other.Join();
  EXPECT_EQ(other.text().find("event: alarm"), std::string::npos) << other.text();
}

}  // namespace
}  // namespace wg::api

// End-to-end tests of the early-warning routes (docs/api.md#early-warning): a real
// ApiServer on port 0 over a real SQLite store and a live::MonitorService with its threads,
// driven by a scripted predictor (the test chooses the probabilities), a FakeClock and an
// httplib client.

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

const registry::Rulebook& Book() {
  static const registry::Rulebook* book = [] {
    auto b = registry::Rulebook::LoadEmbedded();
    if (!b.has_value()) std::abort();
    return new registry::Rulebook(std::move(b).value());
  }();
  return *book;
}

const monitor::MonitorRulebook& MonitorBook() {
  static const monitor::MonitorRulebook* book = [] {
    auto b = monitor::MonitorRulebook::LoadEmbedded();
    if (!b.has_value()) std::abort();
    return std::move(b).value().release();
  }();
  return *book;
}

// Probability 0.9 (10 minutes to red) from 7 upwards, 0.1 below.
class ScriptedPredictor final : public predict::Predictor {
 public:
  ScriptedPredictor() {
    predict::WarningPolicy p;
    p.on_probability = 0.5;
    p.off_probability = 0.3;
    p.hold_s = 0;
    set_policy(p);
  }
  std::string_view kind() const override { return "scripted"; }
  std::unique_ptr<predict::State> NewState(const predict::Threshold&) const override {
    return std::make_unique<predict::State>();
  }
  predict::Forecast Update(predict::State&, double, double value) const override {
    predict::Forecast f;
    f.probability = value >= 7 ? 0.9 : 0.1;
    f.tte_s = value >= 7 ? 600 : predict::kNever;
    f.why.source_per_min = 0.5;
    return f;
  }
  core::Json Params() const override { return core::Json::object(); }
};

struct Reply {
  int status = 0;
  std::string raw;
  Json json;
  std::string ErrorField() const { return json.value("/error/field"_json_pointer, ""); }
};

class PredictApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-predapi-XXXXXX";
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
    ASSERT_TRUE(store_->CreateSite(org_a_, {"S2", "二联合装置", ""}).has_value());
    ASSERT_TRUE(store_->CreateSite(org_b_, {"S1", "B 装置", ""}).has_value());
    AddUser(org_a_, "guard-a", domain::Role::kGuardian);
    AddUser(org_a_, "reg-a", domain::Role::kRegulator);
    AddUser(org_a_, "worker-a", domain::Role::kWorker);
    AddUser(org_a_, "gateway-a", domain::Role::kGateway);
    AddUser(org_b_, "mgr-b", domain::Role::kSafetyManager);

    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/predict-api");
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
    monitor_ = std::make_unique<live::MonitorService>(*store_, *evidence_, MonitorBook(), clock_,
                                                      nullptr, mo);
    ASSERT_TRUE(monitor_->Start().ok());
    predict::ModelInfo info;
    info.name = "scripted-api";
    info.kind = "scripted";
    info.digest = "sm3:" + std::string(64, 'b');
    info.evaluation = Json{{"recall", 0.8}, {"false_share", 0.01}};
    ASSERT_TRUE(monitor_->SetPredictor(std::make_shared<ScriptedPredictor>(), info).ok());

    ServerOptions options;
    options.port = 0;
    options.threads = 4;
    options.import_tmp_dir = dir_ + "/tmp";
    server_ = std::make_unique<ApiServer>(*store_, *registry_, clock_, options);
    server_->SetMonitor(monitor_.get());
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
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

  void AddUser(core::OrgId org, const std::string& name, domain::Role role) {
    domain::User u;
    u.org_id = org;
    u.username = name;
    u.display_name = name;
    u.role = role;
    u.active = true;
    auto hash = crypto::HashPassword(kPassword, kFastHash);
    ASSERT_TRUE(hash.has_value());
    u.password_hash = *hash;
    ASSERT_TRUE(store_->CreateUser(u).has_value());
  }

  void AddPoint(core::OrgId org, const std::string& id, const std::string& site,
                const std::string& zone, const std::string& kind = "h2s") {
    monitor::PointConfig p;
    p.org = org;
    p.id = id;
    p.site = site;
    p.zone = zone;
    p.kind = kind;
    p.unit = kind == "h2s" ? "mg/m3" : "degC";
    auto r = monitor_->PutPoint(org, p, 0, live::Actor{"user:admin", "admin"});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  void Read(core::OrgId org, const std::string& site, const std::string& point, double v) {
    clock_.Advance(core::Duration::Seconds(10));
    auto r = monitor_->Submit(org, site, {ingest::RawReading{point, clock_.Now(), v, ""}},
                              core::Duration::Seconds(1));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    ASSERT_EQ(r->queued, 1u);
    ASSERT_TRUE(monitor_->Flush(core::Duration::Seconds(10)).ok());
  }

  Reply Get(const std::string& path, const std::string& token) {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto r = client_->Get(path.c_str(), h);
    Reply out;
    if (!r) {
      ADD_FAILURE() << "no response: " << httplib::to_string(r.error());
      return out;
    }
    out.status = r->status;
    out.raw = r->body;
    out.json = Json::parse(r->body, nullptr, false);
    return out;
  }

  std::string Login(const std::string& user) {
    auto it = tokens_.find(user);
    if (it != tokens_.end()) return it->second;
    auto r = client_->Post("/api/v1/auth/login",
                           Json{{"username", user}, {"password", kPassword}}.dump(),
                           "application/json");
    EXPECT_TRUE(r && r->status == 200);
    std::string token = r ? Json::parse(r->body, nullptr, false).value("token", "") : "";
    tokens_[user] = token;
    return token;
  }

  std::string dir_;
  core::FakeClock clock_{core::ShanghaiStartOfDay(core::ParseDate("2026-11-28").value()) +
                         core::Duration::Hours(12)};
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

TEST_F(PredictApiTest, RoutesNeedAMonitoringViewer) {
  for (const char* path : {"/api/v1/predict/forecasts", "/api/v1/predict/model"}) {
    EXPECT_EQ(Get(path, "").status, 401) << path;
    EXPECT_EQ(Get(path, Login("worker-a")).status, 403) << path;
    EXPECT_EQ(Get(path, Login("gateway-a")).status, 403) << path;
    EXPECT_EQ(Get(path, Login("guard-a")).status, 200) << path;
    EXPECT_EQ(Get(path, Login("reg-a")).status, 200) << path;
  }
}

TEST_F(PredictApiTest, ForecastsAppearAfterReadingsForTheOwnOrganizationOnly) {
  AddPoint(org_a_, "H2S-01", "S1", "U1");
  AddPoint(org_a_, "H2S-02", "S1", "U2");
  AddPoint(org_a_, "H2S-03", "S2", "U1");
  AddPoint(org_a_, "T-01", "S1", "U1", "temperature");  // no red threshold: no forecast
  AddPoint(org_b_, "H2S-01", "S1", "U1");
  const std::string guard = Login("guard-a");
  Reply r = Get("/api/v1/predict/forecasts", guard);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.json["points"].empty()) << "no readings yet";
  EXPECT_EQ(r.json["model"]["name"], "scripted-api");

  Read(org_a_, "S1", "H2S-01", 8);  // 0.9: a predicted alarm
  Read(org_a_, "S1", "H2S-02", 3);
  Read(org_a_, "S2", "H2S-03", 2);
  Read(org_a_, "S1", "T-01", 50);
  Read(org_b_, "S1", "H2S-01", 9);

  r = Get("/api/v1/predict/forecasts", guard);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.json["points"].size(), 3u) << r.raw;
  const Json& p = r.json["points"][0];
  EXPECT_EQ(p["point"], "H2S-01");
  EXPECT_DOUBLE_EQ(p["probability"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(p["tte_s"].get<double>(), 600);
  EXPECT_DOUBLE_EQ(p["explanation"]["source_per_min"].get<double>(), 0.5);
  EXPECT_TRUE(p["explanation"]["trend_per_min"].is_null());
  EXPECT_DOUBLE_EQ(p["threshold"]["value"].get<double>(), 20);
  EXPECT_TRUE(p["warning"]["on"].get<bool>());
  EXPECT_TRUE(p["warning"]["alarm"].is_number_integer());
  EXPECT_TRUE(r.json["points"][1]["tte_s"].is_null());

  // Narrowed by site and zone.
  r = Get("/api/v1/predict/forecasts?site=S1", guard);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["points"].size(), 2u);
  EXPECT_EQ(r.json["zones"].size(), 2u);
  r = Get("/api/v1/predict/forecasts?site=S1&zone=U2", guard);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.json["points"].size(), 1u);
  EXPECT_EQ(r.json["points"][0]["point"], "H2S-02");
  ASSERT_EQ(r.json["zones"].size(), 1u);
  EXPECT_DOUBLE_EQ(r.json["zones"][0]["max_probability"].get<double>(), 0.1);
  r = Get("/api/v1/predict/forecasts?zone=U1", guard);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.json["zones"].size(), 2u);  // S1/U1 and S2/U1
  EXPECT_EQ(r.json["zones"][0]["points"][0]["point"], "H2S-01");

  // The predicted alarm is an alarm like any other.
  Reply alarms = Get("/api/v1/alarms?point=H2S-01", guard);
  ASSERT_EQ(alarms.status, 200) << alarms.raw;
  ASSERT_EQ(alarms.json["alarms"].size(), 1u) << alarms.raw;
  EXPECT_EQ(alarms.json["alarms"][0]["rule"], "predict.red_crossing");
  EXPECT_EQ(alarms.json["alarms"][0]["level"], "yellow");

  // The other organization sees its own point only.
  r = Get("/api/v1/predict/forecasts", Login("mgr-b"));
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.json["points"].size(), 1u);
  EXPECT_DOUBLE_EQ(r.json["points"][0]["value"].get<double>(), 9);

  // Bad parameters name themselves.
  r = Get("/api/v1/predict/forecasts?site=S%201", guard);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "site");
  r = Get("/api/v1/predict/forecasts?zone=", guard);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "zone");
  EXPECT_EQ(Get("/api/v1/predict/forecasts?point=H2S-01", guard).status, 400);
}

TEST_F(PredictApiTest, ModelInfoAndMetrics) {
  AddPoint(org_a_, "H2S-01", "S1", "U1");
  Read(org_a_, "S1", "H2S-01", 8);
  Reply r = Get("/api/v1/predict/model", Login("reg-a"));
  ASSERT_EQ(r.status, 200) << r.raw;
  const Json& m = r.json["model"];
  EXPECT_TRUE(m["enabled"].get<bool>());
  EXPECT_EQ(m["name"], "scripted-api");
  EXPECT_EQ(m["kind"], "scripted");
  EXPECT_EQ(m["digest"], "sm3:" + std::string(64, 'b'));
  EXPECT_DOUBLE_EQ(m["evaluation"]["recall"].get<double>(), 0.8);
  EXPECT_EQ(m["readings"], 1);
  EXPECT_EQ(m["warnings_raised"], 1);
  EXPECT_EQ(m["rule"]["id"], "predict.red_crossing");
  EXPECT_EQ(Get("/api/v1/predict/model?x=1", Login("reg-a")).status, 400);

  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("wg_predict_warnings_total{event=\"raised\"} 1"), std::string::npos)
      << metrics->body.substr(0, 2000);
  EXPECT_NE(metrics->body.find("wg_predict_readings_total 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("wg_predict_ns_per_reading"), std::string::npos);

  // Prediction switched off: the routes still answer, saying so.
  ASSERT_TRUE(monitor_->SetPredictor(nullptr, {}).ok());
  r = Get("/api/v1/predict/model", Login("reg-a"));
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.json["model"]["enabled"].get<bool>());
  r = Get("/api/v1/predict/forecasts", Login("guard-a"));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.json["model"].is_null());
  EXPECT_TRUE(r.json["points"].empty());
}

TEST_F(PredictApiTest, WithoutLiveMonitoringTheRoutesAnswer503) {
  server_->Stop();
  ServerOptions options;
  options.port = 0;
  options.import_tmp_dir = dir_ + "/tmp";
  server_ = std::make_unique<ApiServer>(*store_, *registry_, clock_, options);
  ASSERT_TRUE(server_->Start().ok());
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  tokens_.clear();
  EXPECT_EQ(Get("/api/v1/predict/forecasts", Login("guard-a")).status, 503);
  EXPECT_EQ(Get("/api/v1/predict/model", Login("guard-a")).status, 503);
}

}  // namespace
}  // namespace wg::api

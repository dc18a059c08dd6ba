// End-to-end tests of the people-on-site routes: a real ApiServer on port 0 over a real
// SQLite store, a live::PresenceService with the embedded presence rulebook (driven by
// hand: Pump()), a FakeClock and httplib clients (docs/api.md#people-on-site).

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
#include "wg/live/presence_service.h"
#include "wg/permit/model.h"
#include "wg/presence/rulebook.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::api {
namespace {

using core::Json;
using domain::Role;

constexpr const char* kPassword = "correct horse battery";
const crypto::PasswordParams kFastHash{1, 1024, 1};

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

const presence::PresenceRulebook& PresenceBook() {
  static const presence::PresenceRulebook* book = [] {
    auto b = presence::PresenceRulebook::LoadEmbedded();
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

const std::vector<Role>& PersonRoles() {
  static const std::vector<Role> roles = {Role::kWorker,    Role::kGuardian,      Role::kTeamLeader,
                                          Role::kApprover,  Role::kSafetyManager, Role::kSupervisor,
                                          Role::kRegulator, Role::kAdmin};
  return roles;
}

std::string UserOf(Role r) { return std::string(domain::RoleName(r)) + "-a"; }

// A 20 m x 10 m rectangle of site S1.
Json FenceDoc() {
  return Json{{"site", "S1"},
              {"zone", "U1"},
              {"name", "1# 罐区"},
              {"hazardous", true},
              {"area",
               {{"outer", Json::array({Json::array({0, 0}), Json::array({20, 0}),
                                       Json::array({20, 10}), Json::array({0, 10})})}}}};
}

Json TagDoc(const std::string& site = "S1") {
  return Json{{"site", site}, {"kind", "uwb"}, {"description", "安全帽 UWB"}};
}

class PresenceApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-presapi-XXXXXX";
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
    for (Role r : PersonRoles()) AddUser(org_a_, UserOf(r), r);
    AddUser(org_a_, "gateway-a", Role::kGateway);
    AddUser(org_b_, "mgr-b", Role::kSafetyManager);
    AddUser(org_b_, "admin-b", Role::kAdmin);
    AddUser(org_b_, "guard-b", Role::kGuardian);
    AddUser(org_b_, "gateway-b", Role::kGateway);

    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/presence-api");
    ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
    keys_ = std::move(keys).value();
    auto ev = evidence::Evidence::Open({.ledger_dir = dir_ + "/ledger", .sync = false}, *store_,
                                       *keys_, clock_);
    ASSERT_TRUE(ev.has_value()) << ev.error().ToString();
    evidence_ = std::move(ev).value();
    registry_ = std::make_unique<registry::Registry>(
        *store_, clock_, Book(), registry::IdDigester(std::string(32, 'k')), *evidence_);
    ASSERT_TRUE(registry_->LoadIndex().ok());
    live::PresenceOptions po;
    po.queue_capacity = 1024;
    po.start_threads = false;  // the tests Pump()
    presence_ = std::make_unique<live::PresenceService>(*store_, *evidence_, PresenceBook(), clock_,
                                                        nullptr, nullptr, po);
    core::Status started = presence_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    StartServer(/*with_presence=*/true);
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Stop();
    server_.reset();
    if (presence_) presence_->Stop();
    presence_.reset();
    registry_.reset();
    evidence_.reset();
    keys_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartServer(bool with_presence) {
    client_.reset();
    if (server_) server_->Stop();
    server_.reset();
    ServerOptions options;
    options.port = 0;
    options.threads = 8;
    options.max_body_bytes = 16 * 1024;
    options.max_import_bytes = 64 * 1024;
    options.import_tmp_dir = dir_ + "/tmp";
    server_ = std::make_unique<ApiServer>(*store_, *registry_, clock_, options);
    if (with_presence) server_->SetPresence(presence_.get());
    core::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void AddUser(core::OrgId org, const std::string& name, Role role) {
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
  std::string As(Role r) { return Login(UserOf(r)); }
  std::string Mgr() { return As(Role::kSafetyManager); }

  static std::int64_t EpochMs(core::Timestamp t) { return t.micros / 1000; }

  // Tag T1 on S1, bound to the guardian, created through the API.
  void CreateBoundTag(const std::string& id = "T1") {
    Reply r = Put("/api/v1/tags/" + id, TagDoc(), Mgr());
    ASSERT_EQ(r.status, 201) << r.raw;
    Reply b =
        PostJson("/api/v1/tags/" + id + "/bindings",
                 {{"person", "user:" + UserOf(Role::kGuardian)},
                  {"valid_from", core::FormatTimestamp(clock_.Now() - core::Duration::Hours(1))},
                  {"note", "班前发放"}},
                 Mgr());
    ASSERT_EQ(b.status, 201) << b.raw;
  }

  // Posts a UWB fix of `tag` at (x, y) a second before now and processes it.
  Reply PostFix(const std::string& tag, double x, double y, const std::string& token) {
    clock_.Advance(core::Duration::Seconds(1));
    Json body = {
        {"positions", Json::array({{{"tag", tag},
                                    {"t", EpochMs(clock_.Now() - core::Duration::Seconds(1))},
                                    {"x", x},
                                    {"y", y},
                                    {"z", 1.2},
                                    {"acc", 0.3}}})}};
    Reply r = PostJson("/api/v1/sites/S1/positions", body, token);
    presence_->Pump();
    return r;
  }

  // An active confined-space permit of `org` written straight to the store (the permit
  // workflow is permits.cc's to test) and loaded into the presence engine. Its id.
  std::int64_t ActiveConfinedSpacePermit(core::OrgId org) {
    permit::Permit p;
    p.site = "S1";
    p.type = permit::PermitType::kConfinedSpace;
    p.state = permit::State::kActive;
    p.title = "塔内检修";
    p.work_unit = "维修车间";
    p.owning_unit = "一联合装置";
    p.hazard_analysis = "JHA-2026-002";
    p.location.zone = "U2";
    p.location.description = "T-101 人孔";
    p.location.point = {100, 0};
    p.location.area_class = "general";
    p.location.outdoor = true;
    p.planned_start = clock_.Now() - core::Duration::Hours(1);
    p.planned_end = clock_.Now() + core::Duration::Hours(7);
    p.people = {{"guardian", "", UserOf(Role::kGuardian), "李四", {}}};
    p.confined_space.emplace();
    p.confined_space->space_name = "T-101";
    p.confined_space->original_medium = "石脑油";
    p.confined_space->isolation = {"blind_plate"};
    p.confined_space->ventilation = "forced";
    p.confined_space->continuous_monitor = "CM-01";
    store::PermitRow row;
    row.org_id = org;
    row.site = p.site;
    row.type = "confined_space";
    row.state = "active";
    row.planned_start = p.planned_start;
    row.planned_end = p.planned_end;
    row.document = core::DumpJson(permit::ToJson(p));
    auto created = store_->CreatePermit(row, "YX-20261128-", {});
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    if (!created.has_value()) return 0;
    core::Status refreshed = presence_->Refresh();
    EXPECT_TRUE(refreshed.ok()) << refreshed.ToString();
    return created->id;
  }

  std::string dir_;
  core::FakeClock clock_{Noon("2026-11-28")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<live::PresenceService> presence_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::map<std::string, std::string> tokens_;
  core::OrgId org_a_, org_b_;
};

// A small site plan (docs/formats/site-plan.md).
Json PlanDoc() {
  return Json::parse(R"({
    "name": "一厂区",
    "extent": {"min": [0, 0], "max": [200, 120]},
    "zones": [{"code": "U1", "name": "常减压装置",
               "polygon": [[0, 0], [60, 0], [60, 40], [0, 40]]},
              {"code": "TF3", "name": "罐区", "polygon": [[100, 0], [180, 0], [180, 60]]}],
    "points": {"P-H2S-1": [12.5, 8], "P-LEL-2": [150, 20]},
    "features": [{"kind": "tank", "label": "T-101", "centre": [150, 30], "radius_m": 9},
                 {"kind": "road", "polyline": [[0, 50], [200, 50]]}]})");
}

TEST_F(PresenceApiTest, RoutesAnswer503WithoutThePresenceService) {
  StartServer(/*with_presence=*/false);
  const std::string mgr = Mgr();
  for (const char* path :
       {"/api/v1/tags", "/api/v1/tags/T1", "/api/v1/tags/T1/bindings", "/api/v1/tags/T1/trajectory",
        "/api/v1/fences", "/api/v1/fences/F1", "/api/v1/sites/S1/frame", "/api/v1/positions",
        "/api/v1/sites/S1/plan", "/api/v1/permits/1/register",
        "/api/v1/region?lat=30&lon=120&radius_km=5",
        "/api/v1/presence/status"}) {
    Reply r = Get(path, mgr);
    EXPECT_EQ(r.status, 503) << path << " " << r.raw;
    EXPECT_EQ(r.ErrorCode(), "UNAVAILABLE") << path;
  }
  EXPECT_EQ(Put("/api/v1/tags/T1", TagDoc(), mgr).status, 503);
  EXPECT_EQ(Put("/api/v1/fences/F1", FenceDoc(), mgr).status, 503);
  EXPECT_EQ(Put("/api/v1/sites/S1/plan", PlanDoc(), mgr).status, 503);
  EXPECT_EQ(Post("/api/v1/sites/S1/positions", R"({"positions":[]})", Login("gateway-a")).status,
            503);
  EXPECT_EQ(PostJson("/api/v1/permits/1/register", {{"person", "worker:W001"}, {"direction", "in"}},
                     As(Role::kGuardian))
                .status,
            503);
}

TEST_F(PresenceApiTest, EveryRouteNeedsAToken) {
  for (const char* path : {"/api/v1/tags", "/api/v1/tags/T1", "/api/v1/fences", "/api/v1/positions",
                           "/api/v1/presence/status", "/api/v1/permits/1/register",
                           "/api/v1/sites/S1/frame", "/api/v1/sites/S1/plan", "/api/v1/sites",
                           "/api/v1/region?lat=30&lon=120&radius_km=5"}) {
    Reply r = Get(path, "");
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer") << path;
  }
  EXPECT_EQ(Put("/api/v1/tags/T1", TagDoc(), "").status, 401);
  EXPECT_EQ(Put("/api/v1/sites/S1/plan", PlanDoc(), "").status, 401);
  EXPECT_EQ(Post("/api/v1/sites/S1/positions", R"({"positions":[]})", "").status, 401);
  EXPECT_EQ(PostJson("/api/v1/bindings/1/end", Json::object(), "").status, 401);
}

TEST_F(PresenceApiTest, TagsBindingsRolesAndVersions) {
  // Configuration is for safety managers and admins only.
  for (Role r : {Role::kWorker, Role::kGuardian, Role::kTeamLeader, Role::kSupervisor}) {
    EXPECT_EQ(Put("/api/v1/tags/T1", TagDoc(), As(r)).status, 403) << domain::RoleName(r);
  }
  EXPECT_EQ(Put("/api/v1/tags/T1", TagDoc(), Login("gateway-a")).status, 403);
  Reply created = Put("/api/v1/tags/T1", TagDoc(), Mgr());
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.json.value("/tag/id"_json_pointer, ""), "T1");  // filled from the path
  const std::int64_t version = created.json.value("/tag/version"_json_pointer, std::int64_t{0});
  EXPECT_GE(version, 1);

  // Readers read; a worker and the gateway do not.
  Reply list = Get("/api/v1/tags", As(Role::kGuardian));
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.json["tags"].size(), 1u);
  EXPECT_EQ(list.json["tags"][0].value("site", ""), "S1");
  EXPECT_EQ(Get("/api/v1/tags?site=S2", Mgr()).json["tags"].size(), 0u);
  EXPECT_EQ(Get("/api/v1/tags?site=S1", Mgr()).json["tags"].size(), 1u);
  EXPECT_EQ(Get("/api/v1/tags", As(Role::kWorker)).status, 403);
  EXPECT_EQ(Get("/api/v1/tags", Login("gateway-a")).status, 403);

  // Create again (no version) and a stale version: 409; the right version replaces.
  EXPECT_EQ(Put("/api/v1/tags/T1", TagDoc(), As(Role::kAdmin)).status, 409);
  Json doc = TagDoc();
  doc["description"] = "换新电池";
  doc["version"] = version + 5;
  EXPECT_EQ(Put("/api/v1/tags/T1", doc, As(Role::kAdmin)).status, 409);
  doc["version"] = version;
  doc["id"] = "T1";
  Reply replaced = Put("/api/v1/tags/T1", doc, As(Role::kAdmin));
  ASSERT_EQ(replaced.status, 200) << replaced.raw;
  EXPECT_EQ(replaced.json.value("/tag/description"_json_pointer, ""), "换新电池");

  // Bindings: bind the guardian, list, end.
  EXPECT_EQ(
      PostJson("/api/v1/tags/T1/bindings", {{"person", "user:guardian-a"}}, As(Role::kTeamLeader))
          .status,
      403);
  Reply bound = PostJson("/api/v1/tags/T1/bindings",
                         {{"person", "user:guardian-a"}, {"note", "班前发放"}}, Mgr());
  ASSERT_EQ(bound.status, 201) << bound.raw;
  EXPECT_EQ(bound.json.value("/binding/person"_json_pointer, ""), "user:guardian-a");
  const std::int64_t binding = bound.json.value("/binding/id"_json_pointer, std::int64_t{0});
  ASSERT_GT(binding, 0);
  Reply bindings = Get("/api/v1/tags/T1/bindings", As(Role::kRegulator));
  ASSERT_EQ(bindings.status, 200) << bindings.raw;
  ASSERT_EQ(bindings.json["bindings"].size(), 1u);

  Reply one = Get("/api/v1/tags/T1", As(Role::kSupervisor));
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_EQ(one.json["tag"].value("kind", ""), "uwb");
  EXPECT_EQ(one.json["bindings"].size(), 1u);
  EXPECT_TRUE(one.json["position"].is_null()) << one.raw;

  clock_.Advance(core::Duration::Minutes(5));
  Reply ended =
      PostJson("/api/v1/bindings/" + std::to_string(binding) + "/end", Json::object(), Mgr());
  ASSERT_EQ(ended.status, 200) << ended.raw;
  EXPECT_EQ(ended.json.value("/binding/valid_until"_json_pointer, ""),
            core::FormatTimestamp(clock_.Now()));
  EXPECT_EQ(PostJson("/api/v1/bindings/999999/end", Json::object(), Mgr()).status, 404);

  // Delete: not for a reader; then gone.
  EXPECT_EQ(Delete("/api/v1/tags/T1", As(Role::kSupervisor)).status, 403);
  EXPECT_EQ(Delete("/api/v1/tags/T1", Mgr()).status, 204);
  EXPECT_EQ(Get("/api/v1/tags/T1", Mgr()).status, 404);
}

TEST_F(PresenceApiTest, FencesAndSiteFrames) {
  EXPECT_EQ(Put("/api/v1/fences/F1", FenceDoc(), As(Role::kWorker)).status, 403);
  EXPECT_EQ(Put("/api/v1/fences/F1", FenceDoc(), As(Role::kGuardian)).status, 403);
  Reply created = Put("/api/v1/fences/F1", FenceDoc(), Mgr());
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.json.value("/fence/id"_json_pointer, ""), "F1");
  EXPECT_EQ(created.json["fence"]["area"]["outer"].size(), 4u);
  const std::int64_t version = created.json.value("/fence/version"_json_pointer, std::int64_t{0});

  Reply list = Get("/api/v1/fences?site=S1", As(Role::kTeamLeader));
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.json["fences"].size(), 1u);
  Reply one = Get("/api/v1/fences/F1", As(Role::kApprover));
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_TRUE(one.json["fence"].value("hazardous", false));

  Json doc = FenceDoc();
  doc["version"] = version;
  doc["restricted"] = true;
  Reply replaced = Put("/api/v1/fences/F1", doc, As(Role::kAdmin));
  ASSERT_EQ(replaced.status, 200) << replaced.raw;
  EXPECT_TRUE(replaced.json["fence"].value("restricted", false));

  // The site frame: readers read, configurers write.
  Json frame = {{"origin", {{"lat", 30.25}, {"lon", 120.125}}},
                {"uwb", {{"dx", 5}, {"dy", -3}, {"dz", 0}, {"rotation_deg", 90}}}};
  Reply none = Get("/api/v1/sites/S1/frame", As(Role::kGuardian));
  ASSERT_EQ(none.status, 200) << none.raw;
  EXPECT_FALSE(none.json.value("configured", true));
  EXPECT_FALSE(none.json["frame"].contains("origin")) << none.raw;
  EXPECT_EQ(Put("/api/v1/sites/S1/frame", frame, As(Role::kGuardian)).status, 403);
  Reply put = Put("/api/v1/sites/S1/frame", frame, Mgr());
  ASSERT_EQ(put.status, 200) << put.raw;
  Reply got = Get("/api/v1/sites/S1/frame", As(Role::kGuardian));
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.json.value("site", ""), "S1");
  EXPECT_TRUE(got.json.value("configured", false));
  EXPECT_DOUBLE_EQ(got.json["frame"]["origin"].value("lat", 0.0), 30.25);
  EXPECT_DOUBLE_EQ(got.json["frame"]["uwb"].value("rotation_deg", 0.0), 90.0);
  EXPECT_EQ(Get("/api/v1/sites/NOPE/frame", Mgr()).status, 404);
  EXPECT_EQ(Put("/api/v1/sites/NOPE/frame", frame, Mgr()).status, 404);

  EXPECT_EQ(Delete("/api/v1/fences/F1", As(Role::kRegulator)).status, 403);
  EXPECT_EQ(Delete("/api/v1/fences/F1", Mgr()).status, 204);
  EXPECT_EQ(Get("/api/v1/fences/F1", Mgr()).status, 404);
}

TEST_F(PresenceApiTest, MalformedInputNamesTheField) {
  const std::string mgr = Mgr();
  auto expect_400 = [](const Reply& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(r.ErrorField(), field) << r.raw;
  };
  // Fences: a vertex that is not an [x, y] pair, a self-intersecting ring, an unknown
  // member, an id that is not the path's. Nothing is written.
  Json doc = FenceDoc();
  doc["area"]["outer"][1] = Json::array({20});
  expect_400(Put("/api/v1/fences/F1", doc, mgr), "area.outer[1]");
  doc = FenceDoc();
  doc["area"]["outer"] = Json::array(
      {Json::array({0, 0}), Json::array({10, 10}), Json::array({10, 0}), Json::array({0, 10})});
  Reply bowtie = Put("/api/v1/fences/F1", doc, mgr);
  EXPECT_EQ(bowtie.status, 400) << bowtie.raw;
  EXPECT_TRUE(bowtie.ErrorField().starts_with("area")) << bowtie.raw;
  doc = FenceDoc();
  doc["colour"] = "red";
  expect_400(Put("/api/v1/fences/F1", doc, mgr), "colour");
  doc = FenceDoc();
  doc["id"] = "F2";
  expect_400(Put("/api/v1/fences/F1", doc, mgr), "id");
  doc = FenceDoc();
  doc["version"] = "one";
  expect_400(Put("/api/v1/fences/F1", doc, mgr), "version");
  EXPECT_EQ(Get("/api/v1/fences/F1", mgr).status, 404) << "nothing half-written";
  expect_400(Get("/api/v1/fences/bad$id", mgr), "id");
  expect_400(Get("/api/v1/fences?site=bad$site", mgr), "site");
  expect_400(Get("/api/v1/fences?zone=U1", mgr), "zone");

  // Tags.
  Json tag = TagDoc();
  tag["kind"] = "rfid";
  expect_400(Put("/api/v1/tags/T1", tag, mgr), "kind");
  tag = TagDoc();
  tag["battery"] = 90;
  expect_400(Put("/api/v1/tags/T1", tag, mgr), "battery");
  EXPECT_EQ(Get("/api/v1/tags/T1", mgr).status, 404);

  // Bindings.
  ASSERT_EQ(Put("/api/v1/tags/T1", TagDoc(), mgr).status, 201);
  expect_400(PostJson("/api/v1/tags/T1/bindings", {{"person", "nobody"}}, mgr), "person");
  expect_400(
      PostJson("/api/v1/tags/T1/bindings",
               {{"person", "user:guardian-a"},
                {"valid_from", core::FormatTimestamp(clock_.Now())},
                {"valid_until", core::FormatTimestamp(clock_.Now() - core::Duration::Hours(1))}},
               mgr),
      "valid_until");
  expect_400(
      PostJson("/api/v1/tags/T1/bindings", {{"person", "user:guardian-a"}, {"why", "x"}}, mgr),
      "why");
  expect_400(PostJson("/api/v1/bindings/1/end", {{"until", "tomorrow"}}, mgr), "until");
  expect_400(PostJson("/api/v1/bindings/1/end", {{"at", "2026-11-28T00:00:00Z"}}, mgr), "at");
  expect_400(PostJson("/api/v1/bindings/abc/end", Json::object(), mgr), "id");
  EXPECT_EQ(Get("/api/v1/tags/T1/bindings", mgr).json["bindings"].size(), 0u);

  // Trajectory windows.
  expect_400(Get("/api/v1/tags/T1/trajectory?from=yesterday", mgr), "from");
  expect_400(
      Get("/api/v1/tags/T1/trajectory?from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z", mgr),
      "from");
  expect_400(Get("/api/v1/tags/T1/trajectory?since=2026-11-26T00:00:00Z", mgr), "since");

  // Site frames.
  expect_400(Put("/api/v1/sites/S1/frame", {{"origin", {{"lat", 91}, {"lon", 120}}}}, mgr),
             "origin.lat");
  expect_400(Put("/api/v1/sites/S1/frame", {{"grid", 1}}, mgr), "grid");

  // The regional query.
  expect_400(Get("/api/v1/region?lat=91&lon=120&radius_km=5", mgr), "lat");
  expect_400(Get("/api/v1/region?lat=30&lon=-181&radius_km=5", mgr), "lon");
  expect_400(Get("/api/v1/region?lat=30&lon=120&radius_km=0", mgr), "radius_km");
  expect_400(Get("/api/v1/region?lat=30&lon=120&radius_km=1e6", mgr), "radius_km");
  expect_400(Get("/api/v1/region?lat=nan&lon=120&radius_km=5", mgr), "lat");
  expect_400(Get("/api/v1/region?lat=30&lon=120", mgr), "radius_km");
  expect_400(Get("/api/v1/region?lat=30&lon=120&radius_km=5&org=plant-b", mgr), "org");

  // The register.
  const std::string guard = As(Role::kGuardian);
  expect_400(PostJson("/api/v1/permits/1/register",
                      {{"person", "worker:W001"}, {"direction", "up"}}, guard),
             "direction");
  expect_400(
      PostJson("/api/v1/permits/1/register", {{"person", "W001"}, {"direction", "in"}}, guard),
      "person");
  Json many = Json::array();
  for (int i = 0; i < 33; ++i) many.push_back("tool " + std::to_string(i));
  expect_400(PostJson("/api/v1/permits/1/register",
                      {{"person", "worker:W001"}, {"direction", "in"}, {"tools", many}}, guard),
             "tools");
  expect_400(PostJson("/api/v1/permits/1/register",
                      {{"person", "worker:W001"},
                       {"direction", "in"},
                       {"tools", Json::array({"gas detector", ""})}},
                      guard),
             "tools[1]");
  expect_400(PostJson("/api/v1/permits/1/register",
                      {{"person", "worker:W001"},
                       {"direction", "in"},
                       {"tools", Json::array({std::string(65, 'x')})}},
                      guard),
             "tools[0]");
  expect_400(PostJson("/api/v1/permits/1/register",
                      {{"person", "worker:W001"}, {"direction", "in"}, {"rope", true}}, guard),
             "rope");
  expect_400(Get("/api/v1/permits/1/register?format=xml", mgr), "format");

  // Positions: a body that is not a batch at all is 400.
  const std::string gw = Login("gateway-a");
  Reply broken = Post("/api/v1/sites/S1/positions", "{\"positions\": [", gw);
  EXPECT_EQ(broken.status, 400) << broken.raw;
  EXPECT_FALSE(broken.ErrorField().empty()) << broken.raw;
  Reply no_array = Post("/api/v1/sites/S1/positions", R"({"fixes": []})", gw);
  EXPECT_EQ(no_array.status, 400) << no_array.raw;
}

TEST_F(PresenceApiTest, PositionsFlowToLivePositionsTrajectoryAndStatus) {
  ASSERT_EQ(Put("/api/v1/fences/F1", FenceDoc(), Mgr()).status, 201);
  CreateBoundTag();
  // Positions: workers and guardians may not post; the gateway, the manager and admin may.
  EXPECT_EQ(Post("/api/v1/sites/S1/positions", R"({"positions":[]})", As(Role::kGuardian)).status,
            403);
  EXPECT_EQ(Post("/api/v1/sites/S1/positions", R"({"positions":[]})", As(Role::kWorker)).status,
            403);
  Reply ok = PostFix("T1", 5, 5, Login("gateway-a"));
  ASSERT_EQ(ok.status, 202) << ok.raw;
  EXPECT_EQ(ok.json.value("queued", 0), 1);
  EXPECT_EQ(ok.json.value("rejected", -1), 0);

  // A bad member (a number too large to be finite, a number as text) is rejected by name;
  // the good fix of the batch is queued.
  const std::int64_t t = EpochMs(clock_.Now());
  const std::string mixed = R"({"positions": [{"tag": "T1", "t": )" + std::to_string(t) +
                            R"(, "x": 1e999, "y": 1}, {"tag": "T1", "t": )" + std::to_string(t) +
                            R"(, "x": "NaN", "y": 1}, {"tag": "T1", "t": )" + std::to_string(t) +
                            R"(, "x": 6, "y": 5, "z": 1.2}]})";
  Reply batch = Post("/api/v1/sites/S1/positions", mixed, Mgr());
  ASSERT_EQ(batch.status, 202) << batch.raw;
  EXPECT_EQ(batch.json.value("queued", 0), 1) << batch.raw;
  EXPECT_EQ(batch.json.value("rejected", 0), 2) << batch.raw;
  ASSERT_EQ(batch.json["rejections"].size(), 2u) << batch.raw;
  EXPECT_EQ(batch.json["rejections"][0].value("field", ""), "positions[0].x") << batch.raw;
  EXPECT_EQ(batch.json["rejections"][1].value("field", ""), "positions[1].x") << batch.raw;
  presence_->Pump();

  // Another organization's site code in the path is that organization's: 404 for ours.
  EXPECT_EQ(Post("/api/v1/sites/S9/positions", R"({"positions":[]})", Mgr()).status, 404);

  Reply listed = Get("/api/v1/positions?site=S1", As(Role::kGuardian));
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_EQ(listed.json["positions"].size(), 1u) << listed.raw;
  const Json& p = listed.json["positions"][0];
  EXPECT_EQ(p.value("tag", ""), "T1");
  EXPECT_EQ(p.value("person", ""), "user:guardian-a");
  EXPECT_EQ(p.value("site", ""), "S1");
  EXPECT_DOUBLE_EQ(p.value("x", 0.0), 6.0);
  EXPECT_FALSE(p.value("stale", true));
  for (const char* member : {"y", "z", "lat", "lon", "time", "accuracy", "fences"}) {
    EXPECT_TRUE(p.contains(member)) << member << " " << p.dump();
  }
  bool in_f1 = false;
  for (const auto& f : p["fences"]) in_f1 = in_f1 || f == "F1";
  EXPECT_TRUE(in_f1) << p.dump();
  EXPECT_EQ(Get("/api/v1/positions", As(Role::kWorker)).status, 403);

  Reply tag = Get("/api/v1/tags/T1", Mgr());
  ASSERT_EQ(tag.status, 200) << tag.raw;
  EXPECT_EQ(tag.json["position"].value("tag", ""), "T1") << tag.raw;

  // `to` is exclusive: the last fix is at now.
  Reply track = Get("/api/v1/tags/T1/trajectory?to=" +
                        core::FormatTimestamp(clock_.Now() + core::Duration::Seconds(1)),
                    As(Role::kSupervisor));
  ASSERT_EQ(track.status, 200) << track.raw;
  EXPECT_EQ(track.json.value("tag", ""), "T1");
  EXPECT_TRUE(track.json.contains("from") && track.json.contains("to")) << track.raw;
  EXPECT_EQ(track.json["points"].size(), 2u) << track.raw;
  EXPECT_EQ(Get("/api/v1/tags/NOPE/trajectory", Mgr()).status, 404);

  Reply status = Get("/api/v1/presence/status", As(Role::kGuardian));
  ASSERT_EQ(status.status, 200) << status.raw;
  EXPECT_GE(status.json["installation"].value("accepted", 0), 2) << status.raw;
  EXPECT_EQ(status.json["installation"].value("queue_capacity", 0), 1024) << status.raw;
  EXPECT_EQ(status.json["organization"].value("tags", 0), 1);
  EXPECT_EQ(status.json["organization"].value("fences", 0), 1);
  EXPECT_EQ(status.json.value("rulebook", ""), PresenceBook().version());

  // /metrics carries the people-on-site series.
  Reply metrics = Get("/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  for (const char* series :
       {"wg_presence_fixes_received_total", "wg_presence_fixes_accepted_total",
        "wg_presence_fixes_rejected_total{reason=", "wg_presence_fixes_dropped_total",
        "wg_presence_events_total", "wg_presence_alarms_raised_total", "wg_presence_queue_depth",
        "wg_presence_queue_capacity 1024", "wg_presence_tags"}) {
    EXPECT_NE(metrics.raw.find(series), std::string::npos) << series;
  }
  EXPECT_EQ(metrics.raw.find("wg_presence_fixes_accepted_total 0\n"), std::string::npos);
}

TEST_F(PresenceApiTest, RegionAnswersSitesWithAnOrigin) {
  ASSERT_EQ(
      Put("/api/v1/sites/S1/frame", {{"origin", {{"lat", 30.25}, {"lon", 120.125}}}}, Mgr()).status,
      200);
  Reply near = Get("/api/v1/region?lat=30.26&lon=120.13&radius_km=5", As(Role::kRegulator));
  ASSERT_EQ(near.status, 200) << near.raw;
  ASSERT_EQ(near.json["sites"].size(), 1u) << near.raw;
  EXPECT_EQ(near.json["sites"][0].value("code", ""), "S1");
  EXPECT_LT(near.json["sites"][0].value("distance_km", 99.0), 5.0);
  EXPECT_TRUE(near.json["permits"].is_array());
  Reply far = Get("/api/v1/region?lat=39.9&lon=116.4&radius_km=5", As(Role::kRegulator));
  ASSERT_EQ(far.status, 200) << far.raw;
  EXPECT_TRUE(far.json["sites"].empty()) << far.raw;
  EXPECT_EQ(Get("/api/v1/region?lat=30&lon=120&radius_km=5", As(Role::kWorker)).status, 403);
  // Another organization sees none of our sites, wherever it looks.
  Reply other = Get("/api/v1/region?lat=30.26&lon=120.13&radius_km=50", Login("mgr-b"));
  ASSERT_EQ(other.status, 200) << other.raw;
  EXPECT_TRUE(other.json["sites"].empty()) << other.raw;
}

// Site plans: readers read, configurers write with compare-and-set versions; the site
// list says which sites have a plan and a frame; another organization's site is 404.
TEST_F(PresenceApiTest, SitePlansAndTheSiteList) {
  Reply sites = Get("/api/v1/sites", As(Role::kGuardian));
  ASSERT_EQ(sites.status, 200) << sites.raw;
  ASSERT_FALSE(sites.json["sites"].empty());
  for (const auto& site : sites.json["sites"]) {
    EXPECT_FALSE(site["has_plan"].get<bool>()) << site;
    EXPECT_FALSE(site["has_frame"].get<bool>()) << site;
    EXPECT_TRUE(site.contains("code") && site.contains("name")) << site;
  }
  Reply none = Get("/api/v1/sites/S1/plan", As(Role::kGuardian));
  EXPECT_EQ(none.status, 404) << none.raw;
  EXPECT_EQ(none.ErrorField(), "plan");

  EXPECT_EQ(Put("/api/v1/sites/S1/plan", PlanDoc(), As(Role::kGuardian)).status, 403);
  EXPECT_EQ(Put("/api/v1/sites/S1/plan", PlanDoc(), As(Role::kRegulator)).status, 403);
  EXPECT_EQ(Put("/api/v1/sites/S1/plan", PlanDoc(), As(Role::kTeamLeader)).status, 403);
  Reply created = Put("/api/v1/sites/S1/plan", PlanDoc(), Mgr());
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.json["site"], "S1");
  EXPECT_EQ(created.json["version"], 1);
  EXPECT_EQ(created.json["plan"]["zones"][1]["code"], "TF3");
  EXPECT_EQ(created.json["plan"]["points"]["P-H2S-1"], Json::parse("[12.5, 8.0]"));

  for (Role r : {Role::kGuardian, Role::kTeamLeader, Role::kApprover, Role::kSupervisor,
                 Role::kRegulator, Role::kAdmin}) {
    Reply got = Get("/api/v1/sites/S1/plan", As(r));
    ASSERT_EQ(got.status, 200) << got.raw;
    EXPECT_EQ(got.json["version"], 1);
    EXPECT_EQ(got.json["plan"], created.json["plan"]);
  }
  EXPECT_EQ(Get("/api/v1/sites/S1/plan", As(Role::kWorker)).status, 403);
  EXPECT_EQ(Get("/api/v1/sites/S1/plan?zoom=2", Mgr()).ErrorField(), "zoom");

  // Versions: creating twice is 409, a stale version 409, the stored one replaces.
  EXPECT_EQ(Put("/api/v1/sites/S1/plan", PlanDoc(), Mgr()).status, 409);
  Json doc = PlanDoc();
  doc["version"] = 5;
  EXPECT_EQ(Put("/api/v1/sites/S1/plan", doc, Mgr()).status, 409);
  doc["version"] = 1;
  doc["zones"][0]["name"] = "常减压装置（改）";
  Reply replaced = Put("/api/v1/sites/S1/plan", doc, As(Role::kAdmin));
  ASSERT_EQ(replaced.status, 200) << replaced.raw;
  EXPECT_EQ(replaced.json["version"], 2);
  EXPECT_EQ(Get("/api/v1/sites/S1/plan", Mgr()).json["plan"]["zones"][0]["name"],
            "常减压装置（改）");

  // Malformed plans are 400 naming the member and change nothing.
  auto expect_400 = [&](const Json& body, const std::string& field) {
    Reply r = Put("/api/v1/sites/S1/plan", body, Mgr());
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(r.ErrorField(), field) << r.raw;
  };
  Json bad = PlanDoc();
  bad["version"] = 2;
  bad["zones"][1]["polygon"][0][1] = "north";
  expect_400(bad, "zones[1].polygon[0][1]");
  bad = PlanDoc();
  bad["version"] = 2;
  bad["zones"][1]["code"] = "U1";
  expect_400(bad, "zones[1].code");
  bad = PlanDoc();
  bad["version"] = 2;
  bad["extent"]["max"] = Json::array({0, 120});
  expect_400(bad, "extent.max[0]");
  bad = PlanDoc();
  bad["version"] = 2;
  bad["layers"] = Json::array();
  expect_400(bad, "layers");
  bad = PlanDoc();
  bad["version"] = -1;
  expect_400(bad, "version");
  bad = PlanDoc();
  bad["version"] = 2;
  bad["points"]["P-H2S-1"] = Json::array({1});
  expect_400(bad, "points.P-H2S-1");
  EXPECT_EQ(Get("/api/v1/sites/S1/plan", Mgr()).json["version"], 2);

  // The site list now says so; a frame shows too.
  ASSERT_EQ(Put("/api/v1/sites/S1/frame", {{"origin", {{"lat", 30.25}, {"lon", 120.125}}}}, Mgr())
                .status,
            200);
  sites = Get("/api/v1/sites", As(Role::kRegulator));
  ASSERT_EQ(sites.status, 200) << sites.raw;
  bool seen = false;
  for (const auto& site : sites.json["sites"]) {
    if (site["code"] != "S1") continue;
    seen = true;
    EXPECT_TRUE(site["has_plan"].get<bool>()) << site;
    EXPECT_TRUE(site["has_frame"].get<bool>()) << site;
  }
  EXPECT_TRUE(seen);

  // Unknown sites and another organization's.
  EXPECT_EQ(Get("/api/v1/sites/NOPE/plan", Mgr()).status, 404);
  EXPECT_EQ(Put("/api/v1/sites/NOPE/plan", PlanDoc(), Mgr()).status, 404);
  EXPECT_EQ(Get("/api/v1/sites/bad%20id/plan", Mgr()).status, 400);
  const std::string b = Login("mgr-b");
  EXPECT_EQ(Get("/api/v1/sites/S1/plan", b).status, 404);  // B's S1 has no plan
  const Reply b_sites = Get("/api/v1/sites", b);
  for (const auto& site : b_sites.json["sites"]) {
    EXPECT_FALSE(site["has_plan"].get<bool>()) << site;
  }
  Reply b_created = Put("/api/v1/sites/S1/plan", PlanDoc(), b);  // its own S1
  ASSERT_EQ(b_created.status, 201) << b_created.raw;
  EXPECT_EQ(Get("/api/v1/sites/S1/plan", Mgr()).json["version"], 2);  // A's is untouched
}

TEST_F(PresenceApiTest, OrganizationsAreIsolated) {
  ASSERT_EQ(Put("/api/v1/fences/F1", FenceDoc(), Mgr()).status, 201);
  CreateBoundTag();
  ASSERT_EQ(PostFix("T1", 5, 5, Login("gateway-a")).status, 202);
  const std::int64_t binding = Get("/api/v1/tags/T1/bindings", Mgr())
                                   .json.value("/bindings/0/id"_json_pointer, std::int64_t{0});
  ASSERT_GT(binding, 0);

  const std::string b = Login("mgr-b");
  EXPECT_EQ(Get("/api/v1/tags/T1", b).status, 404);
  EXPECT_EQ(Get("/api/v1/tags/T1/bindings", b).status, 404);
  EXPECT_EQ(Get("/api/v1/tags/T1/trajectory", b).status, 404);
  EXPECT_TRUE(Get("/api/v1/tags", b).json["tags"].empty());
  EXPECT_EQ(Get("/api/v1/fences/F1", b).status, 404);
  EXPECT_TRUE(Get("/api/v1/fences", b).json["fences"].empty());
  Reply positions = Get("/api/v1/positions", b);
  ASSERT_EQ(positions.status, 200);
  EXPECT_TRUE(positions.json["positions"].empty()) << positions.raw;
  EXPECT_EQ(Delete("/api/v1/tags/T1", b).status, 404);
  EXPECT_EQ(Delete("/api/v1/fences/F1", b).status, 404);
  EXPECT_EQ(PostJson("/api/v1/tags/T1/bindings", {{"person", "user:mgr-b"}}, b).status, 404);
  EXPECT_EQ(
      PostJson("/api/v1/bindings/" + std::to_string(binding) + "/end", Json::object(), b).status,
      404);
  EXPECT_EQ(Get("/api/v1/permits/1/register", b).status, 404);
  EXPECT_EQ(PostJson("/api/v1/permits/1/register",
                     {{"person", "user:guard-b"}, {"direction", "in"}}, Login("guard-b"))
                .status,
            404);

  // Org B's fixes for org A's tag id on its own site S1 are not A's: A's position stays.
  const std::string before = Get("/api/v1/positions", Mgr()).json.dump();
  Json fix = {{"positions",
               Json::array({{{"tag", "T1"}, {"t", EpochMs(clock_.Now())}, {"x", 15}, {"y", 2}}})}};
  Reply posted = PostJson("/api/v1/sites/S1/positions", fix, Login("gateway-b"));
  EXPECT_EQ(posted.status, 202) << posted.raw;
  presence_->Pump();
  EXPECT_EQ(Get("/api/v1/positions", Mgr()).json.dump(), before);
  EXPECT_TRUE(Get("/api/v1/positions", b).json["positions"].empty());

  // And org B can create its own tag and fence of the same ids.
  EXPECT_EQ(Put("/api/v1/tags/T1", TagDoc(), b).status, 201);
  EXPECT_EQ(Put("/api/v1/fences/F1", FenceDoc(), b).status, 201);
  EXPECT_EQ(Get("/api/v1/tags/T1", Mgr()).json.value("/tag/description"_json_pointer, ""),
            "安全帽 UWB");
}

TEST_F(PresenceApiTest, RegisterRolesAndUnknownPermits) {
  // Entries are for guardians, team leaders and safety managers.
  const Json entry = {
      {"person", "worker:W001"}, {"direction", "in"}, {"tools", Json::array({"gas detector"})}};
  for (Role r :
       {Role::kWorker, Role::kApprover, Role::kSupervisor, Role::kRegulator, Role::kAdmin}) {
    EXPECT_EQ(PostJson("/api/v1/permits/1/register", entry, As(r)).status, 403)
        << domain::RoleName(r);
  }
  EXPECT_EQ(PostJson("/api/v1/permits/1/register", entry, Login("gateway-a")).status, 403);
  for (Role r : {Role::kGuardian, Role::kTeamLeader, Role::kSafetyManager}) {
    EXPECT_EQ(PostJson("/api/v1/permits/424242/register", entry, As(r)).status, 404)
        << domain::RoleName(r);
  }
  EXPECT_EQ(Get("/api/v1/permits/424242/register", As(Role::kSupervisor)).status, 404);
  EXPECT_EQ(Get("/api/v1/permits/424242/register?format=csv", As(Role::kSupervisor)).status, 404);
  EXPECT_EQ(Get("/api/v1/permits/1/register", As(Role::kWorker)).status, 403);
}

TEST_F(PresenceApiTest, RegisterEntriesAndCsvDownload) {
  const std::int64_t id = ActiveConfinedSpacePermit(org_a_);
  ASSERT_GT(id, 0);
  const std::string path = "/api/v1/permits/" + std::to_string(id) + "/register";
  Reply empty = Get(path, As(Role::kSupervisor));
  ASSERT_EQ(empty.status, 200) << empty.raw;
  EXPECT_EQ(empty.json.value("headcount", -1), 0) << empty.raw;

  Reply in = PostJson(path,
                      {{"person", "user:" + UserOf(Role::kTeamLeader)},
                       {"direction", "in"},
                       {"tools", Json::array({"gas detector", "手电筒, 防爆"})}},
                      As(Role::kGuardian));
  ASSERT_EQ(in.status, 200) << in.raw;
  EXPECT_EQ(in.json.value("headcount", 0), 1) << in.raw;
  EXPECT_EQ(in.json["tools_inside"].value("gas detector", 0), 1) << in.raw;
  // Entering twice is a conflict; an unknown person is named.
  Reply twice =
      PostJson(path, {{"person", "user:" + UserOf(Role::kTeamLeader)}, {"direction", "in"}},
               As(Role::kTeamLeader));
  EXPECT_EQ(twice.status, 409) << twice.raw;
  Reply nobody = PostJson(path, {{"person", "worker:NOPE"}, {"direction", "in"}}, Mgr());
  EXPECT_EQ(nobody.status, 400) << nobody.raw;
  EXPECT_EQ(nobody.ErrorField(), "person") << nobody.raw;

  clock_.Advance(core::Duration::Minutes(30));
  Reply out = PostJson(path,
                       {{"person", "user:" + UserOf(Role::kTeamLeader)},
                        {"direction", "out"},
                        {"tools", Json::array({"gas detector", "手电筒, 防爆"})}},
                       Mgr());
  ASSERT_EQ(out.status, 200) << out.raw;
  EXPECT_EQ(out.json.value("headcount", -1), 0) << out.raw;
  ASSERT_EQ(out.json["entries"].size(), 2u) << out.raw;
  EXPECT_EQ(out.json["entries"][0].value("direction", ""), "in");
  EXPECT_EQ(out.json["entries"][0].value("source", ""), "manual");
  EXPECT_EQ(out.json["entries"][1].value("direction", ""), "out");

  // The CSV export: an attachment, UTF-8 with BOM, a header row and one row an entry.
  auto csv = client_->Get((path + "?format=csv").c_str(), Auth(As(Role::kRegulator)));
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200) << csv->body;
  EXPECT_TRUE(csv->get_header_value("Content-Type").starts_with("text/csv"))
      << csv->get_header_value("Content-Type");
  EXPECT_TRUE(csv->get_header_value("Content-Disposition").starts_with("attachment"))
      << csv->get_header_value("Content-Disposition");
  EXPECT_EQ(csv->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(csv->body.starts_with("\xEF\xBB\xBF")) << "BOM";
  EXPECT_NE(csv->body.find("time,direction,person"), std::string::npos) << csv->body;
  EXPECT_NE(csv->body.find("user:" + UserOf(Role::kTeamLeader)), std::string::npos) << csv->body;
  EXPECT_NE(csv->body.find("\"gas detector;手电筒, 防爆\""), std::string::npos) << csv->body;

  // Another organization's permit id is 404, JSON, CSV and entries alike.
  EXPECT_EQ(Get(path, Login("mgr-b")).status, 404);
  EXPECT_EQ(Get(path + "?format=csv", Login("mgr-b")).status, 404);
  EXPECT_EQ(
      PostJson(path, {{"person", "user:guard-b"}, {"direction", "in"}}, Login("guard-b")).status,
      404);
}

// Back-pressure: a batch that does not fit the queue within 1 s is refused as a whole
// (503, Retry-After) and nothing of it is queued; a body over 256 KiB is 413.
TEST_F(PresenceApiTest, FullQueueAnswers503AndLargeBodies413) {
  ASSERT_EQ(Put("/api/v1/tags/T1", TagDoc(), Mgr()).status, 201);
  auto batch = [&](int n) {
    Json fixes = Json::array();
    for (int i = 0; i < n; ++i) {
      fixes.push_back(
          {{"tag", "T1"}, {"t", EpochMs(clock_.Now()) - n + i}, {"x", i % 50}, {"y", 1}});
    }
    return Json{{"positions", std::move(fixes)}};
  };
  const std::string gw = Login("gateway-a");
  Reply first = PostJson("/api/v1/sites/S1/positions", batch(1000), gw);  // not pumped
  ASSERT_EQ(first.status, 202) << first.raw.substr(0, 200);
  EXPECT_EQ(first.json.value("queued", 0), 1000);
  Reply busy = PostJson("/api/v1/sites/S1/positions", batch(100), gw);
  EXPECT_EQ(busy.status, 503) << busy.raw;
  EXPECT_EQ(busy.Header("Retry-After"), "1");
  EXPECT_EQ(busy.ErrorCode(), "UNAVAILABLE");
  presence_->Pump();
  Reply again = PostJson("/api/v1/sites/S1/positions", batch(100), gw);
  EXPECT_EQ(again.status, 202) << again.raw.substr(0, 200);

  std::string big = "{\"positions\": [" + std::string(300 * 1024, ' ') + "]}";
  Reply large = Post("/api/v1/sites/S1/positions", big, gw);
  EXPECT_EQ(large.status, 413) << large.raw.substr(0, 200);
  EXPECT_EQ(Get("/api/v1/me", gw).status, 200) << "the connection stays usable";
}

}  // namespace
}  // namespace wg::api

// The browser application as the API server serves it: the page with its
// Content-Security-Policy, assets with ETag and 304, refusals that never leave the files,
// and the API's own 404s unchanged.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "wg/api/server.h"
#include "wg/core/clock.h"
#include "wg/evidence/evidence.h"
#include "wg/evidence/keyring.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::api {
namespace {

namespace fs = std::filesystem;

const registry::Rulebook& Book() {
  static const registry::Rulebook* book = [] {
    auto b = registry::Rulebook::LoadEmbedded();
    if (!b.has_value()) std::abort();
    return new registry::Rulebook(std::move(b).value());
  }();
  return *book;
}

class WebServing : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-web-serving-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore({.path = ":memory:", .clock = &clock_});
    ASSERT_TRUE(opened.has_value());
    store_ = std::move(*opened);
    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/web");
    ASSERT_TRUE(keys.has_value());
    keys_ = std::move(*keys);
    auto ev = evidence::Evidence::Open({.ledger_dir = dir_ + "/ledger", .sync = false}, *store_,
                                       *keys_, clock_);
    ASSERT_TRUE(ev.has_value());
    evidence_ = std::move(*ev);
    registry_ = std::make_unique<registry::Registry>(
        *store_, clock_, Book(), registry::IdDigester(std::string(32, 'k')), *evidence_);
    ASSERT_TRUE(registry_->LoadIndex().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    registry_.reset();
    evidence_.reset();
    keys_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  core::Status Start(std::string web_root = "") {
    ServerOptions o{.port = 0, .threads = 4};
    o.web_root = std::move(web_root);
    server_ = std::make_unique<ApiServer>(*store_, *registry_, clock_, o);
    core::Status s = server_->Start();
    if (s.ok()) client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    return s;
  }

  core::FakeClock clock_{core::Timestamp{1'790'000'000'000'000}};
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(WebServing, PageAndAssetsFromTheBinary) {
  ASSERT_TRUE(Start().ok());
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_NE(page->body.find("/assets/js/main.js"), std::string::npos);

  auto js = client_->Get("/assets/vendor/leaflet/leaflet.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_GT(js->body.size(), 100'000u);
  EXPECT_EQ(js->get_header_value("Content-Security-Policy"), "") << "only the page gets one";
  const std::string etag = js->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = client_->Get("/assets/vendor/leaflet/leaflet.js", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto stale = client_->Get("/assets/vendor/leaflet/leaflet.js", {{"If-None-Match", "\"x\""}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 200);

  auto head = client_->Head("/assets/css/app.css");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

TEST_F(WebServing, RefusalsAreJsonAndNeverReachFiles) {
  ASSERT_TRUE(Start().ok());
  for (const char* path : {"/assets/../CMakeLists.txt", "/assets/%2e%2e/CMakeLists.txt",
                           "/assets/nope.js", "/assets/.hidden", "/nothing", "/api/v1/nothing"}) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
    EXPECT_NE(r->body.find("NOT_FOUND"), std::string::npos) << path;
  }
  auto post = client_->Post("/", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404) << "the page is not a POST target";
  auto api = client_->Get("/api/v1/me");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 401) << "the API is unchanged";
}

TEST_F(WebServing, WebRootServesADirectoryAndRefusesABadOne) {
  EXPECT_FALSE(Start(dir_ + "/missing").ok());
  server_.reset();
  fs::create_directories(dir_ + "/site/js");
  std::ofstream(dir_ + "/site/index.html") << "<!doctype html><p>custom</p>";
  std::ofstream(dir_ + "/site/js/main.js") << "console.log(1);";
  ASSERT_TRUE(Start(dir_ + "/site").ok());
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->body, "<!doctype html><p>custom</p>");
  auto js = client_->Get("/assets/js/main.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->body, "console.log(1);");
  auto missing = client_->Get("/assets/vendor/leaflet/leaflet.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << "a web root replaces the embedded files entirely";
}

}  // namespace
}  // namespace wg::api

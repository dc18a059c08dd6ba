#pragma once
// A Registry over a real SQLite store in a temp directory, with a fake clock.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "wg/core/clock.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::registry::testing {

inline std::string MakeResidentId(std::string first17) {
  return first17 + ResidentIdCheckChar(first17);
}

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-registry-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = store::OpenSqliteStore({.path = dir_ + "/wg.db"});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(store).value();
    auto a = store_->CreateOrganization({"plant-a", "A 石化"});
    auto b = store_->CreateOrganization({"plant-b", "B 化工"});
    ASSERT_TRUE(a && b);
    org_a_ = a->id;
    org_b_ = b->id;
    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/registry");
    ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
    keys_ = std::move(keys).value();
    auto ev = evidence::Evidence::Open({.ledger_dir = dir_ + "/ledger", .sync = false}, *store_,
                                       *keys_, clock_);
    ASSERT_TRUE(ev.has_value()) << ev.error().ToString();
    evidence_ = std::move(ev).value();
    registry_ = std::make_unique<Registry>(*store_, clock_, DefaultBook(),
                                           IdDigester(std::string(32, 'k')), *evidence_);
    ASSERT_TRUE(registry_->LoadIndex().ok());
  }
  void TearDown() override {
    registry_.reset();
    evidence_.reset();
    keys_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  domain::Worker AddWorker(core::OrgId org, const std::string& code, const std::string& id17) {
    auto w = registry_->CreateWorker(org, {code, "张三", "A 石化检修公司",
                                           MakeResidentId(id17), "13800000000", ""});
    EXPECT_TRUE(w.has_value()) << w.error().ToString();
    return w.value_or(domain::Worker{});
  }

  domain::Certificate AddWelding(core::OrgId org, core::WorkerId worker, const std::string& number,
                                 const char* issue) {
    NewCertificate c;
    c.worker_id = worker;
    c.kind = domain::CertKind::kSpecialOperation;
    c.category = "welding";
    c.item = "fusion_welding";
    c.number = number;
    c.authority = "南京市应急管理局";
    c.issue_date = D(issue);
    auto r = registry_->AddCertificate(org, c);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(domain::Certificate{});
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
  core::FakeClock clock_{AtNoon("2026-11-28")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<Registry> registry_;
  core::OrgId org_a_, org_b_;
};

}  // namespace wg::registry::testing

#pragma once
// A temp data directory with a real SQLite store, a key ring and an Evidence service.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "wg/core/clock.h"
#include "wg/evidence/evidence.h"
#include "wg/evidence/keyring.h"
#include "wg/store/store.h"

namespace wg::evidence::testing {

inline std::string MakeTempDir(const char* prefix) {
  std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

struct Env {
  std::string dir;
  core::FakeClock clock{core::Timestamp::FromSeconds(1764381600)};  // 2026-11-29 02:00Z
  std::unique_ptr<store::Store> store;
  std::unique_ptr<KeyRing> keys;
  std::unique_ptr<Evidence> ev;

  // (Re)opens everything on `dir`.
  core::Status Open(bool sync = false, bool read_only = false) {
    ev.reset();
    keys.reset();
    store.reset();
    auto s = store::OpenSqliteStore({.path = dir + "/wg.db", .clock = &clock});
    if (!s) return s.error();
    store = std::move(s).value();
    auto k = KeyRing::Open(dir + "/keys", "workguard.test/ev");
    if (!k) return k.error();
    keys = std::move(k).value();
    auto e = Evidence::Open({.ledger_dir = dir + "/ledger", .sync = sync, .read_only = read_only},
                            *store, *keys, clock);
    if (!e) return e.error();
    ev = std::move(e).value();
    return core::Status::Ok();
  }
  void Close() {
    ev.reset();
    keys.reset();
    store.reset();
  }
  ~Env() {
    Close();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

inline store::FactDraft Draft(const std::string& kind, const std::string& subject,
                              const std::string& payload = "{}") {
  return {.kind = kind, .actor = "user:tester", .subject = subject, .site = "", .payload = payload};
}

}  // namespace wg::evidence::testing

// Google Benchmark micro-benchmarks of certificate verification, with the plain SQLite
// indexed point lookup measured in the same run on the same database as the baseline.
// A 200,000-worker / 300,000-certificate data directory is built once in /tmp.
// Scale figures (30 M certificates) come from registry_scale; see bench/README.md.

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <filesystem>
#include <random>

#include "wg/core/clock.h"
#include "wg/registry/verifier.h"
#include "wg/server/installation.h"

namespace {

constexpr std::int64_t kWorkers = 200'000;

struct Fixture {
  std::string dir;
  wg::core::FakeClock clock{*wg::core::ParseTimestamp("2026-11-28T04:00:00Z")};
  std::unique_ptr<wg::server::Installation> inst;
  wg::core::OrgId org;

  Fixture() {
    char tmpl[] = "/tmp/wg-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    inst = std::move(wg::server::Installation::Open({.data_dir = dir}, clock)).value();
    auto& st = inst->store();
    org = st.CreateOrganization({"bench", "bench"})->id;
    auto session = std::move(st.BeginImport(org)).value();
    std::vector<wg::store::ImportWorker> workers;
    std::vector<wg::store::ImportCertificate> certs;
    std::mt19937_64 rng(1);
    for (std::int64_t i = 1; i <= kWorkers; ++i) {
      wg::domain::Worker w;
      w.org_id = org;
      w.code = "W" + std::to_string(i);
      w.name = "张三";
      w.employer = "bench";
      w.id_salt = std::string(32, '0');
      w.id_digest = std::string(64, '0');
      w.id_last4 = "0000";
      workers.push_back({w});
      for (int k = 0; k < (i % 2 == 0 ? 2 : 1); ++k) {
        wg::domain::Certificate c;
        c.org_id = org;
        c.category = k == 0 ? "welding" : "electrical";
        c.item = k == 0 ? "fusion_welding" : "low_voltage";
        c.number = "T" + std::to_string(i) + "-" + std::to_string(k);
        c.authority = "bench";
        c.issue_date = wg::core::Date{20000 - static_cast<std::int32_t>(rng() % 2000)};
        c.expiry_date = c.issue_date.AddYears(6);
        certs.push_back({w.code, c});
      }
      if (workers.size() == 50000) {
        (void)session->Add(workers, certs);
        workers.clear();
        certs.clear();
      }
    }
    (void)session->Add(workers, certs);
    (void)session->Commit();
    (void)inst->registry().LoadIndex();
  }
  ~Fixture() {
    inst.reset();
    std::filesystem::remove_all(dir);
  }
};

Fixture& Shared() {
  static Fixture f;
  return f;
}

void BM_RegistryVerify(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    auto v = f.inst->registry().Verify(f.org, wg::core::WorkerId{1 + static_cast<std::int64_t>(rng() % kWorkers)},
                                       "hot_work");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_RegistryVerify)->ThreadRange(1, 2)->UseRealTime();

void BM_SqlitePointLookup(benchmark::State& state) {
  Fixture& f = Shared();
  sqlite3* db = nullptr;
  sqlite3_open_v2((f.dir + "/workguard.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT id, kind, category, item, number, issue_date, expiry_date, "
                     "last_review_date, status FROM certificates WHERE worker_id = ?",
                     -1, &stmt, nullptr);
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    sqlite3_bind_int64(stmt, 1, 1 + static_cast<std::int64_t>(rng() % kWorkers));
    int rows = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) ++rows;
    sqlite3_reset(stmt);
    benchmark::DoNotOptimize(rows);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}
BENCHMARK(BM_SqlitePointLookup)->UseRealTime();

void BM_EvaluateCertificate(benchmark::State& state) {
  auto book = std::move(wg::registry::Rulebook::LoadEmbedded()).value();
  wg::registry::CertFacts c;
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = "T-1";
  c.issue_date = *wg::core::ParseDate("2024-01-10");
  c.expiry_date = *wg::core::ParseDate("2030-01-10");
  wg::core::Date today = *wg::core::ParseDate("2026-11-28");
  for (auto _ : state) {
    auto s = wg::registry::EvaluateCertificate(book, c, today);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_EvaluateCertificate);

}  // namespace

BENCHMARK_MAIN();

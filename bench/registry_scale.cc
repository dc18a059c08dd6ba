// registry_scale: the end-to-end verification latency harness for a large data directory
// (bench/README.md). It loads the installation (reporting index build time and resident
// memory), then times N random verifications through Registry::Verify and, in the same
// run on the same database and the same random workers, N plain SQLite indexed point
// lookups of the worker's certificates (prepared statement, all rows stepped) — the
// baseline the foundation issue names. Prints one JSON object with p50/p90/p99/p99.9 of
// both and their ratio.
//
//   registry_scale --data DIR [--lookups 1000000] [--operation hot_work] [--seed 7]

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/server/installation.h"

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ProcStatusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtoll(line.c_str() + std::strlen(key), nullptr, 10);
  }
  return -1;
}

wg::core::Json Percentiles(std::vector<double> ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return ns[std::min(ns.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ns.size())))];
  };
  double sum = 0;
  for (double v : ns) sum += v;
  return {{"n", ns.size()},
          {"mean_us", sum / static_cast<double>(ns.size()) / 1000.0},
          {"p50_us", at(0.50) / 1000.0},
          {"p90_us", at(0.90) / 1000.0},
          {"p99_us", at(0.99) / 1000.0},
          {"p999_us", at(0.999) / 1000.0},
          {"max_us", ns.back() / 1000.0}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string data;
  std::string operation = "hot_work";
  std::size_t lookups = 1'000'000;
  std::uint64_t seed = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--data") data = argv[i + 1];
    else if (k == "--lookups") lookups = std::strtoull(argv[i + 1], nullptr, 10);
    else if (k == "--operation") operation = argv[i + 1];
    else if (k == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (data.empty() || lookups == 0) {
    std::fprintf(stderr, "usage: registry_scale --data DIR [--lookups N] [--operation OP]\n");
    return 2;
  }
  wg::core::SystemClock clock;
  auto t0 = Clock::now();
  auto inst = wg::server::Installation::Open({.data_dir = data}, clock);
  if (!inst) {
    std::fprintf(stderr, "%s\n", inst.error().ToString().c_str());
    return 2;
  }
  double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  auto& reg = (*inst)->registry();
  auto orgs = (*inst)->store().ListOrganizations();
  if (!orgs || orgs->empty()) {
    std::fprintf(stderr, "no organization in %s\n", data.c_str());
    return 2;
  }
  wg::core::OrgId org = orgs->front().id;
  auto max_worker = static_cast<std::int64_t>(reg.indexed_workers());

  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> ids(lookups);
  for (auto& id : ids) id = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(max_worker));

  // Warm-up pass over a slice so both sides start with comparable caches.
  std::vector<double> verify_ns;
  verify_ns.reserve(lookups);
  std::size_t may_work = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(lookups, 10000); ++i) {
    (void)reg.Verify(org, wg::core::WorkerId{ids[i]}, operation);
  }
  for (auto id : ids) {
    auto a = Clock::now();
    auto v = reg.Verify(org, wg::core::WorkerId{id}, operation);
    auto b = Clock::now();
    verify_ns.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count()));
    if (v && v->may_work) ++may_work;
  }

  sqlite3* db = nullptr;
  std::string path = data + "/workguard.db";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return 2;
  }
  sqlite3_stmt* stmt = nullptr;
  const char* sql =
      "SELECT id, kind, category, item, number, issue_date, expiry_date, last_review_date, "
      "status FROM certificates WHERE worker_id = ?";
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
    return 2;
  }
  std::vector<double> sqlite_ns;
  sqlite_ns.reserve(lookups);
  std::size_t rows = 0;
  auto lookup = [&](std::int64_t id) {
    sqlite3_bind_int64(stmt, 1, id);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      rows += sqlite3_column_bytes(stmt, 4) > 0;
    }
    sqlite3_reset(stmt);
  };
  for (std::size_t i = 0; i < std::min<std::size_t>(lookups, 10000); ++i) lookup(ids[i]);
  rows = 0;
  for (auto id : ids) {
    auto a = Clock::now();
    lookup(id);
    auto b = Clock::now();
    sqlite_ns.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count()));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  auto v = Percentiles(verify_ns);
  auto s = Percentiles(sqlite_ns);
  wg::core::Json out = {
      {"workers", reg.indexed_workers()},
      {"certificates", reg.indexed_certificates()},
      {"open_and_index_s", load_s},
      {"rss_mb", ProcStatusKb("VmRSS:") / 1024},
      {"peak_rss_mb", ProcStatusKb("VmHWM:") / 1024},
      {"operation", operation},
      {"may_work_fraction", static_cast<double>(may_work) / static_cast<double>(lookups)},
      {"verify", v},
      {"sqlite_point_lookup", s},
      {"sqlite_rows_per_lookup", static_cast<double>(rows) / static_cast<double>(lookups)},
      {"speedup_p50", s["p50_us"].get<double>() / v["p50_us"].get<double>()},
      {"speedup_p99", s["p99_us"].get<double>() / v["p99_us"].get<double>()},
  };
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

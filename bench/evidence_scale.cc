// evidence_scale: the end-to-end evidence figures at scale (bench/README.md).
//
// Fills a fresh data directory's store outbox with N facts of ~256-byte canonical
// payloads for one organization (a handful about one certificate, spread through the
// log), then measures, in one run:
//   sync     Evidence::SyncAll: every outbox fact appended durably to the SM3 log
//            (group commit + fdatasync), facts/s;
//   export   evidence::ExportSubject of the certificate (first call signs a checkpoint),
//            and VerifyBundle of the result, in ms;
//   verify   ledger::VerifyLogFiles (every CRC, leaf and node recomputed), facts/s, and
//            Evidence::Verify (the same plus every entry compared with its outbox row);
//   proofs   1000 random inclusion proofs via Evidence::Prove, p50/p99 µs.
// Prints one JSON object.
//
//   evidence_scale --dir DIR [--facts 10000000] [--subject-facts 5] [--keep]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/evidence/bundle.h"
#include "wg/evidence/evidence.h"
#include "wg/evidence/keyring.h"
#include "wg/ledger/log.h"
#include "wg/store/store.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int Die(const wg::core::Status& s, const char* what) {
  std::fprintf(stderr, "evidence_scale: %s: %s\n", what, s.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::int64_t facts = 10'000'000;
  int subject_facts = 5;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--facts" && i + 1 < argc) facts = std::atoll(argv[++i]);
    else if (a == "--subject-facts" && i + 1 < argc) subject_facts = std::atoi(argv[++i]);
    else if (a == "--keep") keep = true;
    else {
      std::fprintf(stderr, "usage: evidence_scale --dir DIR [--facts N] [--subject-facts K] [--keep]\n");
      return 2;
    }
  }
  if (dir.empty() || facts < subject_facts || subject_facts < 1) {
    std::fprintf(stderr, "evidence_scale: --dir is required; --facts >= --subject-facts >= 1\n");
    return 2;
  }
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  fs::create_directories(dir);
  wg::core::SystemClock clock;
  auto store = wg::store::OpenSqliteStore({.path = dir + "/workguard.db"});
  if (!store) return Die(store.error(), "open store");
  auto org = (*store)->CreateOrganization({"bench", "Bench plant"});
  if (!org) return Die(org.error(), "create org");
  const std::string subject = "cert:special_operation/BENCH-1";

  // ---- Fill the outbox.
  auto t0 = Clock::now();
  const std::int64_t every = facts / subject_facts;
  std::string pad(150, 'x');
  wg::store::FactDrafts chunk;
  int about = 0;
  for (std::int64_t i = 0; i < facts; ++i) {
    const bool ours = about < subject_facts && i % every == every / 2;
    std::string payload = "{\"i\":" + std::to_string(i) + ",\"note\":\"" + pad + "\",\"v\":" +
                          std::to_string(i * 7919 % 100000) + "}";
    chunk.push_back({.kind = ours ? "cert.reviewed" : "sensor.sealed",
                     .actor = "system:bench",
                     .subject = ours ? subject : "point:" + std::to_string(i % 5000),
                     .site = "",
                     .payload = std::move(payload)});
    if (ours) ++about;
    if (chunk.size() == 50000 || i + 1 == facts) {
      if (auto s = (*store)->AppendFacts(org->id, chunk); !s.ok()) return Die(s, "append facts");
      chunk.clear();
    }
  }
  auto t1 = Clock::now();

  auto keys = wg::evidence::KeyRing::Open(dir + "/keys", "workguard.bench/scale");
  if (!keys) return Die(keys.error(), "key ring");
  auto ev = wg::evidence::Evidence::Open({.ledger_dir = dir + "/ledger"}, **store, **keys, clock);
  if (!ev) return Die(ev.error(), "evidence");

  // ---- Sync: outbox -> durable log.
  auto t2 = Clock::now();
  if (auto s = (*ev)->SyncAll(); !s.ok()) return Die(s, "sync");
  auto t3 = Clock::now();

  // ---- Export one subject among all facts, then verify the bundle.
  auto t4 = Clock::now();
  auto bundle = wg::evidence::ExportSubject(**ev, org->id, subject);
  auto t5 = Clock::now();
  if (!bundle) return Die(bundle.error(), "export");
  auto bundle2 = wg::evidence::ExportSubject(**ev, org->id, subject);
  auto t6 = Clock::now();
  if (!bundle2) return Die(bundle2.error(), "export again");
  auto checked = wg::evidence::VerifyBundle(*bundle2, std::nullopt);
  auto t7 = Clock::now();
  if (!checked) return Die(checked.error(), "verify bundle");

  // ---- Proofs.
  std::mt19937_64 rng(7);
  std::vector<double> proof_us;
  for (int i = 0; i < 1000; ++i) {
    auto a = Clock::now();
    auto p = (*ev)->Prove(org->id, rng() % static_cast<std::uint64_t>(facts));
    auto b = Clock::now();
    if (!p) return Die(p.error(), "prove");
    proof_us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
  }
  std::sort(proof_us.begin(), proof_us.end());

  // ---- Full verification.
  const std::string log_dir = (*ev)->LogDir("bench");
  auto t8 = Clock::now();
  auto files = wg::ledger::VerifyLogFiles(log_dir);
  auto t9 = Clock::now();
  if (!files) return Die(files.error(), "verify log files");
  auto full = (*ev)->Verify(org->id);
  auto t10 = Clock::now();
  if (!full) return Die(full.error(), "verify");

  const double n = static_cast<double>(files->entries);
  wg::core::Json out = {
      {"facts", files->entries},
      {"outbox_fill_s", Seconds(t0, t1)},
      {"sync_s", Seconds(t2, t3)},
      {"sync_facts_per_s", n / Seconds(t2, t3)},
      {"export_first_ms", Seconds(t4, t5) * 1000},
      {"export_ms", Seconds(t5, t6) * 1000},
      {"bundle_facts", bundle2->items.size()},
      {"bundle_verify_ms", Seconds(t6, t7) * 1000},
      {"prove_p50_us", proof_us[proof_us.size() / 2]},
      {"prove_p99_us", proof_us[proof_us.size() * 99 / 100]},
      {"verify_files_s", Seconds(t8, t9)},
      {"verify_files_facts_per_s", n / Seconds(t8, t9)},
      {"verify_with_outbox_s", Seconds(t9, t10)},
      {"verify_with_outbox_facts_per_s", n / Seconds(t9, t10)},
  };
  std::cout << wg::core::DumpJson(out, 2) << "\n";
  ev->reset();
  keys->reset();
  store->reset();
  if (!keep) fs::remove_all(dir);
  return 0;
}

// Google Benchmark figures for the evidence ledger (wg_ledger):
//   BM_Sm3Raw / BM_Sha256Raw  leaf hash of a 256-byte entry plus one node hash, one thread:
//                             the hashing floor of an append.
//   BM_DurableAppend          EvidenceLog appends of 256-byte entries from 2 producer threads,
//                             group commit with fdatasync (arg: entries per Append call);
//                             BM_AppendNoSync is the same without fdatasync.
//   BM_InclusionProof         proof generation from a 10 M-leaf tree.nodes file (pread).
//   BM_VerifyInclusion        verification of those proofs.
// Files live under /work/bench-tmp (the same disk as /work); the 10 M-leaf node file is
// built once from generated leaf hashes and reused. See bench/README.md for the figures.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "wg/ledger/log.h"
#include "wg/ledger/merkle.h"

namespace {

namespace fs = std::filesystem;
using wg::ledger::Hash;
using wg::ledger::HashAlg;

const fs::path kBenchDir = "/work/bench-tmp";
constexpr std::size_t kEntryBytes = 256;
constexpr std::uint64_t kBigTree = 10'000'000;

std::string MakeEntry(std::uint64_t i) {
  std::string e(kEntryBytes, '\0');
  std::mt19937_64 rng(i);
  for (std::size_t k = 0; k < e.size(); k += 8) {
    const std::uint64_t v = rng();
    std::memcpy(e.data() + k, &v, 8);
  }
  return e;
}

template <HashAlg kAlg>
void BM_RawHash(benchmark::State& state) {
  const std::string entry = MakeEntry(1);
  Hash left = wg::ledger::HashLeaf(kAlg, entry);
  for (auto _ : state) {
    const Hash leaf = wg::ledger::HashLeaf(kAlg, entry);
    left = wg::ledger::HashChildren(kAlg, left, leaf);
    benchmark::DoNotOptimize(left);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kEntryBytes));
}
void BM_Sm3Raw(benchmark::State& state) { BM_RawHash<HashAlg::kSm3>(state); }
void BM_Sha256Raw(benchmark::State& state) { BM_RawHash<HashAlg::kSha256>(state); }
BENCHMARK(BM_Sm3Raw);
BENCHMARK(BM_Sha256Raw);

// Two producer threads append `batch`-entry groups to one log until each has written
// `per_thread` entries; one benchmark iteration is that whole run.
void AppendRun(benchmark::State& state, bool sync) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  constexpr int kProducers = 2;
  const std::size_t per_thread = std::max<std::size_t>(batch * 16, 32768);
  std::vector<std::string> templ;
  for (std::size_t i = 0; i < batch; ++i) templ.push_back(MakeEntry(i));

  const fs::path dir = kBenchDir / ("append-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  wg::ledger::LogOptions o;
  o.dir = dir.string();
  o.sync = sync;
  auto opened = wg::ledger::EvidenceLog::Open(o);
  if (!opened.ok()) {
    state.SkipWithError(opened.error().ToString().c_str());
    return;
  }
  std::unique_ptr<wg::ledger::EvidenceLog> log = std::move(*opened);
  std::atomic<bool> failed{false};
  for (auto _ : state) {
    std::vector<std::thread> producers;
    for (int t = 0; t < kProducers; ++t) {
      producers.emplace_back([&] {
        for (std::size_t done = 0; done < per_thread; done += batch) {
          std::vector<std::string> group = templ;  // a producer builds each group anew
          if (!log->Append(std::move(group)).ok()) failed = true;
        }
      });
    }
    for (auto& p : producers) p.join();
  }
  if (failed) state.SkipWithError("append failed");
  state.SetItemsProcessed(state.iterations() * kProducers *
                          static_cast<std::int64_t>((per_thread + batch - 1) / batch * batch));
  state.counters["log_entries"] = static_cast<double>(log->size());
  log.reset();
  fs::remove_all(dir);
}
void BM_DurableAppend(benchmark::State& state) { AppendRun(state, /*sync=*/true); }
void BM_AppendNoSync(benchmark::State& state) { AppendRun(state, /*sync=*/false); }
BENCHMARK(BM_DurableAppend)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(4096)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AppendNoSync)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);

// --- Proofs at 10 M leaves ------------------------------------------------------------------

// Generated leaf hashes (splitmix64 output), so the file takes only the node hashing.
Hash GeneratedLeaf(std::uint64_t i) {
  Hash h;
  std::uint64_t x = i * 0x9E3779B97F4A7C15ull;
  for (std::size_t k = 0; k < h.size(); k += 8) {
    x += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(h.data() + k, &z, 8);
  }
  return h;
}

class FileNodes final : public wg::ledger::NodeReader {
 public:
  explicit FileNodes(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~FileNodes() override {
    if (fd_ >= 0) ::close(fd_);
  }
  FileNodes(const FileNodes&) = delete;
  FileNodes& operator=(const FileNodes&) = delete;
  wg::core::Result<Hash> Node(wg::ledger::NodeId id) const override {
    Hash h;
    const auto off = static_cast<off_t>(wg::ledger::PostOrderPosition(id) * 32);
    if (::pread(fd_, h.data(), h.size(), off) != static_cast<ssize_t>(h.size())) {
      return wg::core::Status::IoError("pread tree.nodes");
    }
    return h;
  }

 private:
  int fd_;
};

std::string BuildTreeFile(std::uint64_t leaves) {
  {
    const fs::path p = kBenchDir / ("tree-" + std::to_string(leaves / 1'000'000) + "m-sm3.nodes");
    const std::uint64_t want = wg::ledger::StoredNodeCount(leaves) * 32;
    std::error_code ec;
    if (fs::exists(p, ec) && fs::file_size(p, ec) == want) return p.string();
    fs::create_directories(kBenchDir);
    const fs::path tmp = p.string() + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) {
      std::perror(tmp.c_str());
      std::abort();
    }
    auto write = [&](const std::string& buf) {
      if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) {
        std::perror(tmp.c_str());
        std::abort();
      }
    };
    wg::ledger::TreeAppender tree(HashAlg::kSm3);
    std::string buf;
    for (std::uint64_t i = 0; i < leaves; ++i) {
      tree.Append(GeneratedLeaf(i), &buf);
      if (buf.size() >= (8 << 20)) {
        write(buf);
        buf.clear();
      }
    }
    write(buf);
    if (std::fclose(f) != 0) {
      std::perror(tmp.c_str());
      std::abort();
    }
    fs::rename(tmp, p);
    return p.string();
  }
}

const std::string& TreeFile(std::uint64_t leaves) {
  static std::map<std::uint64_t, std::string> files;
  auto it = files.find(leaves);
  if (it == files.end()) it = files.emplace(leaves, BuildTreeFile(leaves)).first;
  return it->second;
}

void BM_InclusionProof(benchmark::State& state) {
  const auto leaves = static_cast<std::uint64_t>(state.range(0));
  const FileNodes nodes(TreeFile(leaves));
  std::mt19937_64 rng(42);
  for (auto _ : state) {
    auto proof = wg::ledger::InclusionProof(HashAlg::kSm3, rng() % leaves, leaves, nodes);
    if (!proof.ok()) state.SkipWithError(proof.error().ToString().c_str());
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
// 100 M leaves (a 6.4 GB node file, built once in about 3 minutes) only with
// WG_BENCH_100M=1.
void TreeSizes(benchmark::internal::Benchmark* b) {
  b->Arg(static_cast<std::int64_t>(kBigTree));
  const char* big = std::getenv("WG_BENCH_100M");
  if (big != nullptr && std::string(big) == "1") b->Arg(100'000'000);
}
BENCHMARK(BM_InclusionProof)->Apply(TreeSizes);

void BM_VerifyInclusion(benchmark::State& state) {
  const auto leaves = static_cast<std::uint64_t>(state.range(0));
  const FileNodes nodes(TreeFile(leaves));
  const Hash root = *wg::ledger::RootAt(HashAlg::kSm3, leaves, nodes);
  struct Probe {
    std::uint64_t index;
    Hash leaf;
    std::vector<Hash> proof;
  };
  std::vector<Probe> probes;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1024; ++i) {
    const std::uint64_t index = rng() % leaves;
    probes.push_back({index, GeneratedLeaf(index),
                      *wg::ledger::InclusionProof(HashAlg::kSm3, index, leaves, nodes)});
  }
  std::size_t k = 0;
  for (auto _ : state) {
    const Probe& p = probes[k++ % probes.size()];
    auto s = wg::ledger::VerifyInclusion(HashAlg::kSm3, p.index, leaves, p.leaf, p.proof, root);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["proof_hashes"] = static_cast<double>(probes[0].proof.size());
}
BENCHMARK(BM_VerifyInclusion)->Apply(TreeSizes);

// Full offline verification (every CRC, leaf hash and node recomputed) of a 1 M-entry log
// of 256-byte entries, built once without fsync.
void BM_VerifyLogFiles(benchmark::State& state) {
  constexpr std::uint64_t kEntries = 1'000'000;
  const fs::path dir = kBenchDir / "verify-1m";
  {
    wg::ledger::LogOptions o;
    o.dir = dir.string();
    o.sync = false;
    auto log = wg::ledger::EvidenceLog::Open(o);
    if (!log.ok()) {
      state.SkipWithError(log.error().ToString().c_str());
      return;
    }
    while ((*log)->size() < kEntries) {
      std::vector<std::string> group;
      for (int i = 0; i < 4096 && (*log)->size() + group.size() < kEntries; ++i) {
        group.push_back(MakeEntry((*log)->size() + group.size()));
      }
      if (!(*log)->Append(std::move(group)).ok()) {
        state.SkipWithError("append failed");
        return;
      }
    }
  }
  for (auto _ : state) {
    auto r = wg::ledger::VerifyLogFiles(dir.string());
    if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kEntries));
}
BENCHMARK(BM_VerifyLogFiles)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();

// EvidenceLog tests: the contract of log.h on real files. Appends, reads and proofs across
// reopen; group commit under concurrent appenders; recovery of every kind of torn tail;
// damage that is not a torn tail (kCorruption naming the record); VerifyLogFiles; the
// writer lock; and a crash loop that SIGKILLs a child process in the middle of appends.

#include "wg/ledger/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/strings.h"
#include "wg/ledger/merkle.h"

namespace wg::ledger {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}
void AppendToFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}
void FlipBit(const std::string& path, std::uint64_t offset, int bit) {
  std::string d = ReadFile(path);
  ASSERT_LT(offset, d.size()) << path;
  d[offset] = static_cast<char>(d[offset] ^ (1 << bit));
  WriteFile(path, d);
}
std::uint64_t SizeOf(const std::string& path) { return fs::file_size(path); }

// Fixed-size entries make record offsets easy: record i starts at i * kRecord.
constexpr std::size_t kEntryLen = 24;
constexpr std::uint64_t kRecord = 8 + kEntryLen;
std::string EntryText(std::uint64_t i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "evidence-fact-%010llu", static_cast<unsigned long long>(i));
  return std::string(buf);
}

class LogTest : public ::testing::Test {
 public:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("wg-ledger-") + info->name() + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  LogOptions Options(bool sync = false) const {
    LogOptions o;
    o.dir = dir_;
    o.sync = sync;
    o.clock = &clock_;
    return o;
  }
  std::unique_ptr<EvidenceLog> OpenOk(const LogOptions& o) {
    auto log = EvidenceLog::Open(o);
    EXPECT_TRUE(log.ok()) << log.error().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }
  std::string Path(const char* name) const { return (fs::path(dir_) / name).string(); }

  // A closed log of n fixed-size entries.
  void MakeLog(std::uint64_t n) {
    auto log = OpenOk(Options());
    ASSERT_NE(log, nullptr);
    std::vector<std::string> group;
    for (std::uint64_t i = 0; i < n; ++i) group.push_back(EntryText(i));
    ASSERT_TRUE(log->Append(group).ok());
  }

  // Every entry readable and every proof valid; VerifyLogFiles agrees.
  void ExpectHealthy(EvidenceLog& log, std::uint64_t n) {
    ASSERT_EQ(log.size(), n);
    std::vector<Hash> leaves;
    for (std::uint64_t i = 0; i < n; ++i) {
      auto e = log.Entry(i);
      ASSERT_TRUE(e.ok()) << e.error().ToString();
      ASSERT_EQ(*e, EntryText(i));
      leaves.push_back(HashLeaf(log.alg(), *e));
      ASSERT_EQ(*log.LeafHash(i), leaves.back()) << i;
    }
    const Hash root = RootFromLeafHashes(log.alg(), leaves);
    ASSERT_EQ(*log.Root(n), root);
    if (n > 0) {
      const std::uint64_t i = n / 3;
      auto proof = log.InclusionProof(i, n);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyInclusion(log.alg(), i, n, leaves[i], *proof, root).ok());
      const std::uint64_t m = n / 2;
      auto cproof = log.ConsistencyProof(m, n);
      ASSERT_TRUE(cproof.ok());
      EXPECT_TRUE(VerifyConsistency(log.alg(), m, n, *log.Root(m), root, *cproof).ok());
    }
  }

  void ExpectFilesVerify(std::uint64_t n) {
    auto report = VerifyLogFiles(dir_);
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_EQ(report->entries, n);
  }

  std::string dir_;
  core::FakeClock clock_{core::Timestamp::FromSeconds(1764380000)};
};

TEST_F(LogTest, AppendReadAndProveAcrossReopen) {
  std::vector<std::string> all;
  {
    auto log = OpenOk(Options(/*sync=*/true));
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->alg(), HashAlg::kSm3);
    EXPECT_EQ(log->size(), 0u);
    EXPECT_EQ(*log->Root(0), EmptyRoot(HashAlg::kSm3));
    EXPECT_TRUE(log->recovery().detail.empty());
    std::uint64_t expect_first = 0;
    for (std::uint64_t g = 1; g <= 6; ++g) {
      std::vector<std::string> group;
      for (std::uint64_t k = 0; k < g; ++k) group.push_back(EntryText(expect_first + k));
      auto first = log->Append(group);
      ASSERT_TRUE(first.ok()) << first.error().ToString();
      EXPECT_EQ(*first, expect_first);
      expect_first += g;
    }
    ExpectHealthy(*log, 21);
  }
  ExpectFilesVerify(21);
  EXPECT_EQ(SizeOf(Path("entries.dat")), 21 * kRecord);
  EXPECT_EQ(SizeOf(Path("entries.idx")), 21 * 8u);
  EXPECT_EQ(SizeOf(Path("tree.nodes")), StoredNodeCount(21) * 32);
  EXPECT_EQ(SizeOf(Path("log.meta")), 20u);

  auto log = OpenOk(Options());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery().size, 21u);
  EXPECT_EQ(log->recovery().truncated_bytes, 0u);
  EXPECT_EQ(log->recovery().rebuilt_index, 0u);
  EXPECT_EQ(log->recovery().rebuilt_nodes, 0u);
  EXPECT_TRUE(log->recovery().detail.empty()) << log->recovery().detail;
  const Hash old_root = *log->Root(21);
  ASSERT_EQ(*log->Append({EntryText(21), EntryText(22)}), 21u);
  ExpectHealthy(*log, 23);
  auto proof = log->ConsistencyProof(21, 23);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(VerifyConsistency(HashAlg::kSm3, 21, 23, old_root, *log->Root(23), *proof).ok());
  log.reset();
  auto report = VerifyLogFiles(dir_);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->entries, 23u);
}

// The examples of docs/formats/evidence-log.md, byte for byte.
TEST_F(LogTest, FileBytesMatchTheFormatDocument) {
  {
    auto log = OpenOk(Options());
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append({"hello"}).ok());
  }
  EXPECT_EQ(core::ToHex(ReadFile(Path("log.meta"))),
            "57474c4f4731"
            "01"
            "01"
            "000644b1bb261800"
            "0e15df90");
  EXPECT_EQ(core::ToHex(ReadFile(Path("entries.dat"))),
            "00000005"
            "9a71bb4c"
            "68656c6c6f");
  EXPECT_EQ(core::ToHex(ReadFile(Path("entries.idx"))), "0000000000000000");
  const Hash leaf = HashLeaf(HashAlg::kSm3, "hello");
  EXPECT_EQ(ReadFile(Path("tree.nodes")),
            std::string(reinterpret_cast<const char*>(leaf.data()), leaf.size()));
}

TEST_F(LogTest, ExistingLogKeepsItsHashAlgorithm) {
  LogOptions o = Options();
  o.alg = HashAlg::kSha256;
  {
    auto log = OpenOk(o);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append({EntryText(0)}).ok());
    EXPECT_EQ(*log->LeafHash(0), HashLeaf(HashAlg::kSha256, EntryText(0)));
  }
  o.alg = HashAlg::kSm3;
  auto log = OpenOk(o);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->alg(), HashAlg::kSha256);
  ASSERT_TRUE(log->Append({EntryText(1)}).ok());
  ExpectHealthy(*log, 2);
  const std::string meta = ReadFile(Path("log.meta"));
  EXPECT_EQ(meta.substr(0, 6), "WGLOG1");
  EXPECT_EQ(meta[6], 1);
  EXPECT_EQ(meta[7], 2);
}

TEST_F(LogTest, ExpectedFirstGuardsTheAppendPosition) {
  auto log = OpenOk(Options());
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(*log->Append({EntryText(0)}, 0), 0u);
  auto stale = log->Append({EntryText(1)}, 0);
  EXPECT_EQ(stale.error().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.error().field(), "expected_first");
  EXPECT_NE(stale.error().message().find("log size is 1"), std::string::npos);
  EXPECT_EQ(log->size(), 1u);
  EXPECT_EQ(SizeOf(Path("entries.dat")), kRecord);
  ASSERT_EQ(*log->Append({EntryText(1)}, 1), 1u);
  ExpectHealthy(*log, 2);
}

TEST_F(LogTest, RejectsBadEntriesWithNothingWritten) {
  LogOptions o = Options();
  o.max_entry_bytes = 64;
  o.max_batch_bytes = 4096;
  auto log = OpenOk(o);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append({EntryText(0)}).ok());
  auto big = log->Append({EntryText(1), std::string(65, 'x')});
  EXPECT_EQ(big.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(big.error().field(), "entry");
  EXPECT_NE(big.error().message().find("entry 1 is 65 bytes"), std::string::npos);
  auto empty = log->Append({std::string()});
  EXPECT_EQ(empty.error().field(), "entry");
  EXPECT_EQ(log->Append({}).error().field(), "entries");
  std::vector<std::string> huge(100, std::string(60, 'y'));
  EXPECT_EQ(log->Append(huge).error().field(), "entries");
  EXPECT_EQ(log->size(), 1u);
  log.reset();
  EXPECT_EQ(SizeOf(Path("entries.dat")), kRecord);
  EXPECT_EQ(SizeOf(Path("entries.idx")), 8u);
  EXPECT_EQ(SizeOf(Path("tree.nodes")), 32u);
}

TEST_F(LogTest, ReadsOutsideTheLogAreErrors) {
  MakeLog(5);
  auto log = OpenOk(Options());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Entry(5).error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(log->LeafHash(9).error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(log->Root(6).error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->InclusionProof(1, 6).error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->ConsistencyProof(1, 6).error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->nodes().Node(NodeId{0, 5}).error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(log->nodes().Node(NodeId{3, 0}).error().code(), core::StatusCode::kNotFound);
  EXPECT_TRUE(log->nodes().Node(NodeId{2, 0}).ok());
}

TEST_F(LogTest, ConcurrentAppendersAreEachWrittenOnceInOrder) {
  auto log = OpenOk(Options(/*sync=*/true));
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 4, kGroups = 100;
  struct Ack {
    std::uint64_t first;
    std::vector<std::string> entries;
  };
  std::vector<std::vector<Ack>> acks(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int g = 0; g < kGroups; ++g) {
        std::vector<std::string> group;
        // Mostly small groups (their tree nodes hashed by the writer), every fifth one
        // large enough for its caller to hash them.
        const int k =
            g % 5 == 4 ? 32 + static_cast<int>(rng() % 64) : 1 + static_cast<int>(rng() % 6);
        for (int j = 0; j < k; ++j) {
          group.push_back("thread " + std::to_string(t) + " group " + std::to_string(g) + " item " +
                          std::to_string(j));
        }
        auto first = log->Append(group);
        if (!first.ok()) {
          ADD_FAILURE() << first.error().ToString();
          return;
        }
        acks[t].push_back({*first, std::move(group)});
      }
    });
  }
  for (auto& th : threads) th.join();
  std::map<std::uint64_t, std::string> by_index;
  for (int t = 0; t < kThreads; ++t) {
    std::uint64_t last = 0;
    for (std::size_t g = 0; g < acks[t].size(); ++g) {
      const Ack& a = acks[t][g];
      if (g > 0) {
        EXPECT_GT(a.first, last) << "thread " << t << " went backwards";
      }
      last = a.first;
      for (std::size_t j = 0; j < a.entries.size(); ++j) {
        EXPECT_TRUE(by_index.emplace(a.first + j, a.entries[j]).second)
            << "index " << a.first + j << " acknowledged twice";
      }
    }
  }
  ASSERT_EQ(by_index.size(), log->size());
  ASSERT_EQ(by_index.rbegin()->first + 1, log->size());
  std::vector<Hash> leaves;
  for (const auto& [index, text] : by_index) {
    ASSERT_EQ(*log->Entry(index), text);
    leaves.push_back(HashLeaf(HashAlg::kSm3, text));
  }
  EXPECT_EQ(*log->Root(log->size()), RootFromLeafHashes(HashAlg::kSm3, leaves));
  const std::uint64_t n = log->size();
  log.reset();
  ExpectFilesVerify(n);
}

// --- Torn tails ---------------------------------------------------------------------

struct TornCase {
  std::string name;
  std::function<void(LogTest&)> damage;
  std::uint64_t size;             // entries after recovery
  std::uint64_t truncated_bytes;  // cut from entries.dat
  std::uint64_t rebuilt_index;
  std::uint64_t rebuilt_nodes;
  std::string detail;  // substring of the report
};

class TornTailTest : public LogTest, public ::testing::WithParamInterface<int> {};

std::vector<TornCase> TornCases() {
  constexpr std::uint64_t n = 40;
  auto path = [](LogTest& t, const char* f) { return (fs::path(t.dir_) / f).string(); };
  std::string header_claiming_100(8, '\0');
  header_claiming_100[3] = 100;
  return {
      {"partial length header",
       [=](LogTest& t) { AppendToFile(path(t, "entries.dat"), std::string("\0\0", 3)); }, n, 3, 0,
       0, "partial record header (3 of 8 bytes)"},
      {"partial payload",
       [=](LogTest& t) {
         AppendToFile(path(t, "entries.dat"), header_claiming_100 + std::string(40, 'p'));
       },
       n, 48, 0, 0, "partial record payload (40 of 100 bytes)"},
      {"garbage tail",
       [=](LogTest& t) {
         std::mt19937 rng(9);
         std::string junk(1000, '\0');
         for (char& c : junk) c = static_cast<char>(rng());
         AppendToFile(path(t, "entries.dat"), junk);
       },
       n, 1000, 0, 0, "entries.dat: cut 1000 torn bytes at offset 1280"},
      {"zero-filled tail (size extended, pages never written)",
       [=](LogTest& t) { AppendToFile(path(t, "entries.dat"), std::string(4096, '\0')); }, n, 4096,
       0, 0, "impossible record length 0"},
      {"torn record with a bad CRC at the end",
       [=](LogTest& t) {
         std::string rec(8, '\0');
         rec[3] = 5;
         rec += "abcde";  // CRC field 0 does not match
         AppendToFile(path(t, "entries.dat"), rec);
       },
       n, 13, 0, 0, "CRC-32C mismatch"},
      {"idx longer than entries",
       [=](LogTest& t) { fs::resize_file(path(t, "entries.dat"), (n - 3) * kRecord); }, n - 3, 0, 0,
       0, "entries.idx: cut 24 bytes past the last record"},
      {"idx with a partial record",
       [=](LogTest& t) { AppendToFile(path(t, "entries.idx"), "abc"); }, n, 0, 0, 0,
       "entries.idx: cut 3 bytes"},
      {"idx shorter than entries",
       [=](LogTest& t) { fs::resize_file(path(t, "entries.idx"), (n - 4) * 8 + 3); }, n, 0, 4,
       // Nodes after the last index entry are recomputed; they match, so none rewritten.
       0, "entries.idx: rebuilt 4 offsets"},
      {"idx tail never written (zeros)",
       [=](LogTest& t) {
         std::string idx = ReadFile(path(t, "entries.idx"));
         std::fill(idx.end() - 5 * 8, idx.end(), '\0');
         WriteFile(path(t, "entries.idx"), idx);
       },
       n, 0, 5, 0, "entries.idx: rebuilt 5 offsets"},
      {"nodes shorter",
       [=](LogTest& t) { fs::resize_file(path(t, "tree.nodes"), StoredNodeCount(n - 5) * 32 + 7); },
       n, 0, 0, StoredNodeCount(n) - StoredNodeCount(n - 5), "tree.nodes: rebuilt"},
      {"nodes longer",
       [=](LogTest& t) { AppendToFile(path(t, "tree.nodes"), std::string(70, 'n')); }, n, 0, 0, 0,
       "tree.nodes: cut 70 bytes"},
      {"nodes tail never written (zeros) and idx not yet written",
       [=](LogTest& t) {
         // The state after a crash between syncing tree.nodes and writing entries.idx for
         // the last 6 records, with part of the node pages lost.
         fs::resize_file(path(t, "entries.idx"), (n - 6) * 8);
         std::string nodes = ReadFile(path(t, "tree.nodes"));
         std::fill(nodes.end() - 4 * 32, nodes.end(), '\0');
         WriteFile(path(t, "tree.nodes"), nodes);
       },
       n, 0, 6, 4, "tree.nodes: rebuilt 4 node records"},
      {"records durable but not yet indexed",
       [=](LogTest& t) {
         // Crash after entries.dat was synced: complete records the other files lack.
         fs::resize_file(path(t, "entries.idx"), (n - 3) * 8);
         fs::resize_file(path(t, "tree.nodes"), StoredNodeCount(n - 3) * 32);
       },
       n, 0, 3, StoredNodeCount(n) - StoredNodeCount(n - 3), "entries.idx: rebuilt 3 offsets"},
  };
}

TEST_P(TornTailTest, RecoversAndReports) {
  const TornCase c = TornCases()[static_cast<std::size_t>(GetParam())];
  SCOPED_TRACE(c.name);
  MakeLog(40);
  c.damage(*this);
  const std::uint64_t entries_before = SizeOf(Path("entries.dat"));
  const std::uint64_t idx_before = SizeOf(Path("entries.idx"));
  const std::uint64_t nodes_before = SizeOf(Path("tree.nodes"));
  {
    // A read-only open sees the recovered log without touching the files.
    LogOptions ro = Options();
    ro.read_only = true;
    auto log = OpenOk(ro);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->recovery().size, c.size);
    EXPECT_EQ(log->recovery().truncated_bytes, c.truncated_bytes);
    ExpectHealthy(*log, c.size);
    EXPECT_EQ(log->Append({EntryText(99)}).error().code(), core::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(SizeOf(Path("entries.dat")), entries_before);
  EXPECT_EQ(SizeOf(Path("entries.idx")), idx_before);
  EXPECT_EQ(SizeOf(Path("tree.nodes")), nodes_before);

  auto log = OpenOk(Options());
  ASSERT_NE(log, nullptr);
  const RecoveryReport& r = log->recovery();
  EXPECT_EQ(r.size, c.size);
  EXPECT_EQ(r.truncated_bytes, c.truncated_bytes);
  EXPECT_EQ(r.rebuilt_index, c.rebuilt_index);
  EXPECT_EQ(r.rebuilt_nodes, c.rebuilt_nodes);
  EXPECT_NE(r.detail.find(c.detail), std::string::npos) << r.detail;
  ExpectHealthy(*log, c.size);
  ASSERT_EQ(*log->Append({EntryText(c.size)}), c.size);
  ExpectHealthy(*log, c.size + 1);
  log.reset();
  ExpectFilesVerify(c.size + 1);

  // The repair is complete: a second open finds nothing to do.
  auto again = OpenOk(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->recovery().detail.empty()) << again->recovery().detail;
}

INSTANTIATE_TEST_SUITE_P(EveryKind, TornTailTest,
                         ::testing::Range(0, static_cast<int>(TornCases().size())));

// --- Damage that is not a torn tail ---------------------------------------------------

TEST_F(LogTest, FlippedBitInTheMiddleIsCorruptionNamingTheRecord) {
  MakeLog(20);
  FlipBit(Path("entries.dat"), 7 * kRecord + 8 + 5, 2);  // payload of record 7
  auto open = EvidenceLog::Open(Options());
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(open.error().message().find("entries.dat record 7 at offset 224: CRC-32C mismatch"),
            std::string::npos)
      << open.error().message();
  auto verify = VerifyLogFiles(dir_);
  EXPECT_EQ(verify.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(verify.error().message().find("record 7"), std::string::npos)
      << verify.error().message();
  // Nothing was cut.
  EXPECT_EQ(SizeOf(Path("entries.dat")), 20 * kRecord);
}

TEST_F(LogTest, FlippedBitInTheLastAcknowledgedRecordIsNotATornTail) {
  MakeLog(20);
  FlipBit(Path("entries.dat"), 19 * kRecord + 8, 0);
  auto open = EvidenceLog::Open(Options());
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(open.error().message().find("record 19"), std::string::npos);
  EXPECT_NE(open.error().message().find("not a torn tail"), std::string::npos);
}

TEST_F(LogTest, FlippedBitInALengthFieldIsCorruption) {
  MakeLog(20);
  FlipBit(Path("entries.dat"), 5 * kRecord + 3, 1);  // length 24 -> 26
  auto open = EvidenceLog::Open(Options());
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(open.error().message().find("record 5"), std::string::npos) << open.error().message();
  EXPECT_FALSE(VerifyLogFiles(dir_).ok());
}

TEST_F(LogTest, IndexOffsetThatContradictsTheRecordsIsCorruption) {
  MakeLog(10);
  FlipBit(Path("entries.idx"), 4 * 8 + 7, 0);  // offset of record 4 off by one
  auto open = EvidenceLog::Open(Options());
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code(), core::StatusCode::kCorruption);
  EXPECT_EQ(open.error().message(),
            "entries.idx entry 4 holds offset 129, but record 4 starts at offset 128");
  EXPECT_NE(VerifyLogFiles(dir_).error().message().find("entries.idx entry 4"), std::string::npos);
}

TEST_F(LogTest, ReorderedRecordsAreFoundByVerifyLogFiles) {
  MakeLog(10);
  std::string dat = ReadFile(Path("entries.dat"));
  std::string r3 = dat.substr(3 * kRecord, kRecord), r4 = dat.substr(4 * kRecord, kRecord);
  dat.replace(3 * kRecord, kRecord, r4);
  dat.replace(4 * kRecord, kRecord, r3);
  WriteFile(Path("entries.dat"), dat);
  // Every record is intact and where the index says: only the tree tells.
  auto verify = VerifyLogFiles(dir_);
  ASSERT_FALSE(verify.ok());
  EXPECT_EQ(verify.error().code(), core::StatusCode::kCorruption);
  const std::string want_leaf =
      core::ToHex(std::span<const std::uint8_t>(HashLeaf(HashAlg::kSm3, EntryText(3))));
  EXPECT_NE(verify.error().message().find("tree.nodes: leaf hash of entry 3 at position " +
                                          std::to_string(PostOrderPosition(NodeId{0, 3})) +
                                          ": stored " + want_leaf),
            std::string::npos)
      << verify.error().message();
}

TEST_F(LogTest, FlippedBitInTreeNodesIsFoundByVerifyLogFiles) {
  MakeLog(16);
  const std::uint64_t pos = PostOrderPosition(NodeId{2, 1});  // parent node, not a leaf
  FlipBit(Path("tree.nodes"), pos * 32 + 17, 6);
  auto verify = VerifyLogFiles(dir_);
  ASSERT_FALSE(verify.ok());
  EXPECT_EQ(verify.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(verify.error().message().find("tree.nodes: node level 2 index 1 (completed by entry 7)"
                                          " at position " +
                                          std::to_string(pos)),
            std::string::npos)
      << verify.error().message();
}

TEST_F(LogTest, VerifyLogFilesReportsProgressAndRoot) {
  MakeLog(300);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  auto report = VerifyLogFiles(
      dir_, [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->entries, 300u);
  std::vector<Hash> leaves;
  for (std::uint64_t i = 0; i < 300; ++i) leaves.push_back(HashLeaf(HashAlg::kSm3, EntryText(i)));
  EXPECT_EQ(report->root, RootFromLeafHashes(HashAlg::kSm3, leaves));
  ASSERT_GE(calls.size(), 50u);
  EXPECT_LE(calls.size(), 110u);
  EXPECT_EQ(calls.back(), std::make_pair(300 * kRecord, 300 * kRecord));
  // A torn tail is reported by the offline check, which never repairs.
  AppendToFile(Path("entries.dat"), "xyz");
  EXPECT_NE(VerifyLogFiles(dir_).error().message().find("torn tail"), std::string::npos);
}

TEST_F(LogTest, EntryChecksWhatItReads) {
  MakeLog(10);
  LogOptions ro = Options();
  ro.read_only = true;
  auto log = OpenOk(ro);
  ASSERT_NE(log, nullptr);
  // Damage after the open: reads report it instead of returning wrong bytes.
  FlipBit(Path("entries.dat"), 4 * kRecord + 8 + 3, 5);
  auto bad = log->Entry(4);
  EXPECT_EQ(bad.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(bad.error().message().find("entries.dat record 4 at offset 128: CRC-32C mismatch"),
            std::string::npos)
      << bad.error().message();
  FlipBit(Path("entries.dat"), 6 * kRecord + 1, 4);  // length field of record 6
  auto bad_length = log->Entry(6);
  EXPECT_EQ(bad_length.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(bad_length.error().message().find("record length 1048600 does not fit the 24 bytes"),
            std::string::npos)
      << bad_length.error().message();
  FlipBit(Path("entries.dat"), 9 * kRecord + 2, 0);  // the last record's length
  EXPECT_EQ(log->Entry(9).error().code(), core::StatusCode::kCorruption);
  EXPECT_EQ(*log->Entry(5), EntryText(5));
}

TEST_F(LogTest, DamagedMetaIsCorruption) {
  MakeLog(1);
  FlipBit(Path("log.meta"), 9, 0);  // inside created-at, caught by the CRC
  EXPECT_EQ(EvidenceLog::Open(Options()).error().code(), core::StatusCode::kCorruption);
  fs::remove(Path("log.meta"));
  auto missing = EvidenceLog::Open(Options());
  EXPECT_EQ(missing.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(missing.error().message().find("log.meta is missing but entries.dat holds data"),
            std::string::npos);
}

// --- Locking ----------------------------------------------------------------------------

TEST_F(LogTest, OneWriterAtATimeButReadersAnyTime) {
  auto writer = OpenOk(Options());
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Append({EntryText(0), EntryText(1)}).ok());
  auto second = EvidenceLog::Open(Options());
  EXPECT_EQ(second.error().code(), core::StatusCode::kUnavailable);
  EXPECT_NE(second.error().message().find("LOCK"), std::string::npos);

  LogOptions ro = Options();
  ro.read_only = true;
  auto reader = OpenOk(ro);
  ASSERT_NE(reader, nullptr);
  ExpectHealthy(*reader, 2);
  // The reader serves the snapshot it opened; the writer goes on.
  ASSERT_TRUE(writer->Append({EntryText(2)}).ok());
  EXPECT_EQ(reader->size(), 2u);
  writer.reset();
  auto reopened = OpenOk(Options());
  ASSERT_NE(reopened, nullptr);
  ExpectHealthy(*reopened, 3);
}

TEST_F(LogTest, ReadOnlyOpenOfAMissingLogIsNotFound) {
  LogOptions ro = Options();
  ro.read_only = true;
  EXPECT_EQ(EvidenceLog::Open(ro).error().code(), core::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_EQ(VerifyLogFiles(dir_).error().code(), core::StatusCode::kNotFound);
}

// A write that fails (here: the file size limit) stops the log until it is reopened;
// nothing acknowledged is lost and the reopened log is consistent.
TEST_F(LogTest, FailedWriteStopsAppendsUntilReopen) {
  MakeLog(3);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: only the log and _exit. Writes past 2 KiB fail with EFBIG.
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit {2048, 2048};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(10);
    auto log = EvidenceLog::Open(Options(/*sync=*/true));
    if (!log.ok()) _exit(11);
    std::uint64_t next = 3;
    for (int i = 0; i < 200; ++i) {
      auto first = (*log)->Append({EntryText(next)});
      if (first.ok()) {
        if (*first != next) _exit(12);
        ++next;
        continue;
      }
      if (first.error().code() != core::StatusCode::kIoError) _exit(13);
      auto again = (*log)->Append({EntryText(next)});
      if (again.error().code() != core::StatusCode::kIoError) _exit(14);
      if (again.error().message().find("until it is reopened") == std::string::npos) _exit(15);
      if ((*log)->size() != next) _exit(16);
      _exit(0);
    }
    _exit(17);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  auto log = OpenOk(Options());
  ASSERT_NE(log, nullptr);
  const std::uint64_t n = log->size();
  // tree.nodes reaches the limit first: 33 entries need 64 nodes, exactly 2048 bytes. The
  // 34th record was synced to entries.dat before the nodes write failed, so it may stay.
  EXPECT_GE(n, 33u);
  EXPECT_LE(n, 34u);
  ExpectHealthy(*log, n);
  log.reset();
  ExpectFilesVerify(n);
}

// --- Crash loop -------------------------------------------------------------------------

// One acknowledgement, written by the child to the pipe after Append returns.
struct AckRecord {
  std::uint64_t first;
  std::uint32_t count;
  std::uint32_t seq;  // entry text of the group's first entry is CrashEntry(iteration, seq)
  std::uint32_t iteration;
};

std::string CrashEntry(std::uint32_t iteration, std::uint32_t seq) {
  std::string s =
      "crash-loop iteration " + std::to_string(iteration) + " seq " + std::to_string(seq) + " ";
  s.resize(96 + seq % 64, static_cast<char>('a' + seq % 26));
  return s;
}

// Runs in the forked child: only the log, a pipe and _exit.
[[noreturn]] void CrashChild(const LogOptions& o, int ack_fd, std::uint32_t iteration) {
  auto log = EvidenceLog::Open(o);
  if (!log.ok()) _exit(3);
  std::uint32_t seq = 0;
  while (true) {
    const std::uint32_t count = 1 + seq % 5;
    std::vector<std::string> group;
    for (std::uint32_t k = 0; k < count; ++k) group.push_back(CrashEntry(iteration, seq + k));
    auto first = (*log)->Append(std::move(group));
    if (!first.ok()) _exit(4);
    const AckRecord ack{*first, count, seq, iteration};
    if (::write(ack_fd, &ack, sizeof(ack)) != static_cast<ssize_t>(sizeof(ack))) _exit(5);
    seq += count;
  }
}

TEST_F(LogTest, CrashLoopLosesNothingAcknowledged) {
  const LogOptions o = Options(/*sync=*/true);
  std::mt19937 rng(20261129);
  std::map<std::uint64_t, std::string> acknowledged;
  std::uint64_t torn_recoveries = 0;
  for (std::uint32_t iteration = 0; iteration < 20; ++iteration) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      CrashChild(o, fds[1], iteration);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 60));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with status " << WEXITSTATUS(wstatus);
    AckRecord ack;
    while (::read(fds[0], &ack, sizeof(ack)) == static_cast<ssize_t>(sizeof(ack))) {
      for (std::uint32_t k = 0; k < ack.count; ++k) {
        EXPECT_TRUE(
            acknowledged.emplace(ack.first + k, CrashEntry(ack.iteration, ack.seq + k)).second);
      }
    }
    ::close(fds[0]);

    auto log = OpenOk(o);
    ASSERT_NE(log, nullptr) << "iteration " << iteration;
    if (log->recovery().truncated_bytes > 0 || log->recovery().rebuilt_nodes > 0 ||
        log->recovery().rebuilt_index > 0) {
      ++torn_recoveries;
    }
    ASSERT_GE(log->size(), acknowledged.empty() ? 0 : acknowledged.rbegin()->first + 1);
    for (const auto& [index, text] : acknowledged) {
      auto e = log->Entry(index);
      ASSERT_TRUE(e.ok()) << e.error().ToString();
      ASSERT_EQ(*e, text) << "iteration " << iteration << " index " << index;
    }
    // Records the child wrote but never acknowledged may survive; they are part of the log
    // now, so the next child continues after them.
    const std::uint64_t n = log->size();
    for (std::uint64_t i = 0; i < n; ++i) acknowledged.emplace(i, *log->Entry(i));
    log.reset();
    auto report = VerifyLogFiles(dir_);
    ASSERT_TRUE(report.ok()) << "iteration " << iteration << ": " << report.error().ToString();
    ASSERT_EQ(report->entries, n);
  }
  EXPECT_GT(acknowledged.size(), 20u);
  RecordProperty("torn_recoveries", static_cast<int>(torn_recoveries));
}

}  // namespace
}  // namespace wg::ledger

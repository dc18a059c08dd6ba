// Merkle tree tests: RFC 6962 known answers (SHA-256 mode), each good proof paired with
// tampered copies, node layout, and randomized cross-checks against the RFC's recursive
// definitions in both hash modes.
//
// Vector sources (checked digit by digit against both):
//   github.com/transparency-dev/merkle testonly/constants.go (LeafInputs, NodeHashes,
//     RootHashes) and proof/verify_test.go (inclusionProofs, consistencyProofs, roots);
//   github.com/google/certificate-transparency cpp/merkletree/merkle_tree_test.cc
//     (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs).
// Node-id shapes of proofs: transparency-dev/merkle proof/proof_test.go.

#include "wg/ledger/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::ledger {
namespace {

Hash H(std::string_view hex) {
  auto bytes = core::FromHex(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  Hash h{};
  EXPECT_EQ(bytes->size(), h.size()) << hex;
  std::copy_n(bytes->begin(), std::min(bytes->size(), h.size()), h.begin());
  return h;
}

std::string Hex(const Hash& h) { return core::ToHex(std::span<const std::uint8_t>(h)); }

std::string Bytes(std::string_view hex) { return *core::FromHex(hex); }

// Stored nodes in memory, in the same post-order layout as tree.nodes.
class MemoryNodes final : public NodeReader {
 public:
  std::string data;
  core::Result<Hash> Node(NodeId id) const override {
    const std::uint64_t pos = PostOrderPosition(id);
    if ((pos + 1) * 32 > data.size()) {
      return core::Status::NotFound("node " + std::to_string(id.level) + "/" +
                                    std::to_string(id.index) + " not stored");
    }
    Hash h;
    std::copy_n(data.data() + pos * 32, 32, h.begin());
    return h;
  }
};

// Records which nodes a proof reads.
class RecordingNodes final : public NodeReader {
 public:
  explicit RecordingNodes(const NodeReader& inner) : inner_(inner) {}
  core::Result<Hash> Node(NodeId id) const override {
    reads.push_back({id.level, id.index});
    return inner_.Node(id);
  }
  mutable std::vector<std::pair<int, std::uint64_t>> reads;

 private:
  const NodeReader& inner_;
};

// --- RFC 6962 reference tree ----------------------------------------------------------

const char* const kLeafInputs[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

// Roots for sizes 0..8.
const char* const kRoots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

// Perfect subtree hashes by level and index (testonly.NodeHashes()).
const std::vector<std::vector<const char*>> kNodeHashes = {
    {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"},
    {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"},
    {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"},
};

struct InclusionVector {
  std::uint64_t index;  // 0-based (the sources list 1-based leaf numbers)
  std::uint64_t size;
  std::vector<const char*> proof;
};
const InclusionVector kInclusion[] = {
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 1, {}},
};

struct ConsistencyVector {
  std::uint64_t old_size;
  std::uint64_t new_size;
  std::vector<const char*> proof;
};
const ConsistencyVector kConsistency[] = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

const Hash kSomeHash = H("abacaba000000000000000000000000000000000000000000060061e00123456");

std::vector<Hash> Hashes(const std::vector<const char*>& hex) {
  std::vector<Hash> out;
  for (const char* h : hex) out.push_back(H(h));
  return out;
}

// The 8-leaf reference tree in SHA-256 mode.
struct ReferenceTree {
  std::vector<Hash> leaf_hashes;
  MemoryNodes nodes;
  ReferenceTree() {
    TreeAppender t(HashAlg::kSha256);
    for (const char* in : kLeafInputs) {
      leaf_hashes.push_back(HashLeaf(HashAlg::kSha256, Bytes(in)));
      t.Append(leaf_hashes.back(), &nodes.data);
    }
  }
};

TEST(MerkleVectorsTest, LeafHashesAndPerfectNodes) {
  ReferenceTree ref;
  ASSERT_EQ(ref.nodes.data.size(), StoredNodeCount(8) * 32);
  for (std::size_t level = 0; level < kNodeHashes.size(); ++level) {
    for (std::size_t i = 0; i < kNodeHashes[level].size(); ++i) {
      auto got = ref.nodes.Node(NodeId{static_cast<std::uint8_t>(level), i});
      ASSERT_TRUE(got.ok()) << got.error().ToString();
      EXPECT_EQ(Hex(*got), kNodeHashes[level][i]) << "level " << level << " index " << i;
    }
  }
}

TEST(MerkleVectorsTest, RootsForEverySize) {
  ReferenceTree ref;
  EXPECT_EQ(Hex(EmptyRoot(HashAlg::kSha256)), kRoots[0]);
  TreeAppender t(HashAlg::kSha256);
  EXPECT_EQ(Hex(t.Root()), kRoots[0]);
  for (std::uint64_t n = 0; n <= 8; ++n) {
    if (n > 0) t.Append(ref.leaf_hashes[n - 1], nullptr);
    EXPECT_EQ(Hex(t.Root()), kRoots[n]) << "appender, size " << n;
    auto at = RootAt(HashAlg::kSha256, n, ref.nodes);
    ASSERT_TRUE(at.ok()) << at.error().ToString();
    EXPECT_EQ(Hex(*at), kRoots[n]) << "RootAt, size " << n;
    EXPECT_EQ(
        Hex(RootFromLeafHashes(HashAlg::kSha256, std::span<const Hash>(ref.leaf_hashes).first(n))),
        kRoots[n])
        << "reference, size " << n;
  }
}

// Tampered copies of a good inclusion proof, after transparency-dev corruptInclusionProof.
struct InclusionProbe {
  std::string desc;
  std::uint64_t index, size;
  Hash leaf;
  std::vector<Hash> proof;
  Hash root;
};
std::vector<InclusionProbe> CorruptInclusion(HashAlg alg, std::uint64_t index, std::uint64_t size,
                                             const Hash& leaf, const std::vector<Hash>& proof,
                                             const Hash& root) {
  std::vector<InclusionProbe> out = {
      {"index - 1", index - 1, size, leaf, proof, root},
      {"index + 1", index + 1, size, leaf, proof, root},
      {"index ^ 2", index ^ 2, size, leaf, proof, root},
      {"size * 2", index, size * 2, leaf, proof, root},
      {"size / 2", index, size / 2, leaf, proof, root},
      {"wrong leaf", index, size, HashLeaf(alg, "WrongLeaf"), proof, root},
      {"empty root", index, size, leaf, proof, EmptyRoot(alg)},
      {"random root", index, size, leaf, proof, kSomeHash},
  };
  auto with = [&](std::string desc, std::vector<Hash> p) {
    out.push_back({std::move(desc), index, size, leaf, std::move(p), root});
  };
  auto p = proof;
  p.push_back(Hash{});
  with("trailing zero hash", p);
  p = proof;
  p.push_back(root);
  with("trailing root", p);
  p = proof;
  p.insert(p.begin(), Hash{});
  with("preceding zero hash", p);
  p = proof;
  p.insert(p.begin(), root);
  with("preceding root", p);
  for (std::size_t i = 0; i < proof.size(); ++i) {
    p = proof;
    p[i][0] ^= 8;
    with("proof[" + std::to_string(i) + "] bit 3 flipped", p);
    p = proof;
    p[i][31] ^= 1;
    with("proof[" + std::to_string(i) + "] last bit flipped", p);
  }
  if (!proof.empty()) {
    with("removed last hash", std::vector<Hash>(proof.begin(), proof.end() - 1));
  }
  if (proof.size() > 1) {
    p = proof;
    p.insert(p.begin() + 1, kSomeHash);
    with("inserted hash", p);
    p = proof;
    std::swap(p[0], p[1]);
    with("swapped hashes", p);
  }
  return out;
}

void ExpectInclusionTamperRejected(HashAlg alg, std::uint64_t index, std::uint64_t size,
                                   const Hash& leaf, const std::vector<Hash>& proof,
                                   const Hash& root) {
  for (const auto& probe : CorruptInclusion(alg, index, size, leaf, proof, root)) {
    if (probe.index == index && probe.size == size && probe.leaf == leaf && probe.proof == proof &&
        probe.root == root) {
      continue;  // e.g. size/2 == size for size 1: not a tamper
    }
    core::Status s =
        VerifyInclusion(alg, probe.index, probe.size, probe.leaf, probe.proof, probe.root);
    EXPECT_FALSE(s.ok()) << "accepted: " << probe.desc << " (index " << index << ", size " << size
                         << ")";
    EXPECT_TRUE(s.code() == core::StatusCode::kCorruption ||
                s.code() == core::StatusCode::kInvalidArgument)
        << probe.desc << ": " << s.ToString();
    EXPECT_NE(s.message().find("inclusion proof of leaf"), std::string::npos) << s.ToString();
  }
}

TEST(MerkleVectorsTest, InclusionProofs) {
  ReferenceTree ref;
  for (const auto& v : kInclusion) {
    SCOPED_TRACE("index " + std::to_string(v.index) + " size " + std::to_string(v.size));
    const std::vector<Hash> want = Hashes(v.proof);
    auto got = InclusionProof(HashAlg::kSha256, v.index, v.size, ref.nodes);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, want);
    const Hash root = H(kRoots[v.size]);
    const Hash leaf = ref.leaf_hashes[v.index];
    core::Status s = VerifyInclusion(HashAlg::kSha256, v.index, v.size, leaf, want, root);
    EXPECT_TRUE(s.ok()) << s.ToString();
    ExpectInclusionTamperRejected(HashAlg::kSha256, v.index, v.size, leaf, want, root);
  }
}

TEST(MerkleVectorsTest, InclusionErrorsNameWhatWasWantedAndFound) {
  ReferenceTree ref;
  const auto& v = kInclusion[0];
  std::vector<Hash> proof = Hashes(v.proof);
  const Hash root = H(kRoots[8]);
  proof[1][0] ^= 8;
  core::Status s = VerifyInclusion(HashAlg::kSha256, 0, 8, ref.leaf_hashes[0], proof, root);
  EXPECT_EQ(s.code(), core::StatusCode::kCorruption);
  EXPECT_NE(s.message().find("inclusion proof of leaf 0 in tree of size 8: computed root "),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find(", want " + std::string(kRoots[8])), std::string::npos) << s.message();

  proof.pop_back();
  s = VerifyInclusion(HashAlg::kSha256, 0, 8, ref.leaf_hashes[0], proof, root);
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("want 3 hashes, got 2"), std::string::npos) << s.message();

  s = VerifyInclusion(HashAlg::kSha256, 8, 8, ref.leaf_hashes[0], {}, root);
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "index");
}

TEST(MerkleVectorsTest, InclusionDegenerateInputs) {
  // transparency-dev TestVerifyInclusion: nothing verifies against an empty tree or
  // with an index beyond the size.
  const Hash empty = EmptyRoot(HashAlg::kSha256);
  for (auto [index, size] : {std::pair<std::uint64_t, std::uint64_t>{0, 0}, {1, 0}, {2, 1}}) {
    EXPECT_FALSE(VerifyInclusion(HashAlg::kSha256, index, size, kSomeHash, {}, empty).ok());
    EXPECT_FALSE(VerifyInclusion(HashAlg::kSha256, index, size, empty, {}, kSomeHash).ok());
  }
  // A single-entry tree: root == leaf hash, empty proof.
  const Hash leaf = HashLeaf(HashAlg::kSha256, "data");
  EXPECT_TRUE(VerifyInclusion(HashAlg::kSha256, 0, 1, leaf, {}, leaf).ok());
  EXPECT_FALSE(VerifyInclusion(HashAlg::kSha256, 0, 1, leaf, {}, empty).ok());
  EXPECT_FALSE(VerifyInclusion(HashAlg::kSha256, 0, 1, empty, {}, leaf).ok());
  ReferenceTree ref;
  EXPECT_EQ(InclusionProof(HashAlg::kSha256, 8, 8, ref.nodes).error().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(HashAlg::kSha256, 0, 0, ref.nodes).error().code(),
            core::StatusCode::kInvalidArgument);
  // A size beyond what is stored is an error of the reader, not a wrong proof.
  EXPECT_EQ(InclusionProof(HashAlg::kSha256, 0, 9, ref.nodes).error().code(),
            core::StatusCode::kNotFound);
}

struct ConsistencyProbe {
  std::string desc;
  std::uint64_t old_size, new_size;
  Hash old_root, new_root;
  std::vector<Hash> proof;
};
std::vector<ConsistencyProbe> CorruptConsistency(std::uint64_t m, std::uint64_t n, const Hash& r1,
                                                 const Hash& r2, const std::vector<Hash>& proof) {
  const Hash wrong = H("0000000000000000000000000000000000000000000000000000000057726f6e");
  // No "new size + 1" probe: a Merkle root does not commit to the tree size, and for
  // some (m, n) the proof for n also chains to the same hash under n+1. Checkpoints bind
  // the size by signing it next to the root.
  std::vector<ConsistencyProbe> out = {
      {"old size - 1", m - 1, n, r1, r2, proof},  {"old size + 1", m + 1, n, r1, r2, proof},
      {"old size ^ 2", m ^ 2, n, r1, r2, proof},  {"new size * 2", m, n * 2, r1, r2, proof},
      {"new size / 2", m, n / 2, r1, r2, proof},  {"wrong old root", m, n, wrong, r2, proof},
      {"wrong new root", m, n, r1, wrong, proof}, {"swapped roots", m, n, r2, r1, proof},
      {"empty proof", m, n, r1, r2, {}},
  };
  auto with = [&](std::string desc, std::vector<Hash> p) {
    out.push_back({std::move(desc), m, n, r1, r2, std::move(p)});
  };
  auto p = proof;
  p.push_back(Hash{});
  with("trailing zero hash", p);
  for (const Hash& extra : {r1, r2}) {
    p = proof;
    p.push_back(extra);
    with("trailing root", p);
    p = proof;
    p.insert(p.begin(), extra);
    with("preceding root", p);
  }
  p = proof;
  p.insert(p.begin(), Hash{});
  with("preceding zero hash", p);
  p = proof;
  p.insert(p.begin(), proof[0]);
  with("preceding proof[0]", p);
  with("truncated proof", std::vector<Hash>(proof.begin(), proof.end() - 1));
  for (std::size_t i = 0; i < proof.size(); ++i) {
    p = proof;
    p[i][0] ^= 16;
    with("proof[" + std::to_string(i) + "] bit 4 flipped", p);
  }
  return out;
}

void ExpectConsistencyTamperRejected(HashAlg alg, std::uint64_t m, std::uint64_t n, const Hash& r1,
                                     const Hash& r2, const std::vector<Hash>& proof) {
  if (proof.empty()) return;
  for (const auto& probe : CorruptConsistency(m, n, r1, r2, proof)) {
    core::Status s = VerifyConsistency(alg, probe.old_size, probe.new_size, probe.old_root,
                                       probe.new_root, probe.proof);
    EXPECT_FALSE(s.ok()) << "accepted: " << probe.desc << " (" << m << " -> " << n << ")";
    EXPECT_NE(s.message().find("consistency proof from size"), std::string::npos) << s.ToString();
  }
}

TEST(MerkleVectorsTest, ConsistencyProofs) {
  ReferenceTree ref;
  for (const auto& v : kConsistency) {
    SCOPED_TRACE(std::to_string(v.old_size) + " -> " + std::to_string(v.new_size));
    const std::vector<Hash> want = Hashes(v.proof);
    auto got = ConsistencyProof(HashAlg::kSha256, v.old_size, v.new_size, ref.nodes);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, want);
    const Hash r1 = H(kRoots[v.old_size]), r2 = H(kRoots[v.new_size]);
    core::Status s = VerifyConsistency(HashAlg::kSha256, v.old_size, v.new_size, r1, r2, want);
    EXPECT_TRUE(s.ok()) << s.ToString();
    ExpectConsistencyTamperRejected(HashAlg::kSha256, v.old_size, v.new_size, r1, r2, want);
  }
}

TEST(MerkleVectorsTest, ConsistencyErrorsNameWhatWasWantedAndFound) {
  const auto& v = kConsistency[2];  // 6 -> 8
  std::vector<Hash> proof = Hashes(v.proof);
  const Hash r1 = H(kRoots[6]), r2 = H(kRoots[8]);
  core::Status s = VerifyConsistency(HashAlg::kSha256, 6, 8, r1, kSomeHash, proof);
  EXPECT_EQ(s.code(), core::StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "consistency proof from size 6 to size 8: computed new root " +
                             std::string(kRoots[8]) + ", want " + Hex(kSomeHash));
  s = VerifyConsistency(HashAlg::kSha256, 6, 8, kSomeHash, r2, proof);
  EXPECT_EQ(s.message(), "consistency proof from size 6 to size 8: computed old root " +
                             std::string(kRoots[6]) + ", want " + Hex(kSomeHash));
  proof.push_back(r1);
  s = VerifyConsistency(HashAlg::kSha256, 6, 8, r1, r2, proof);
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("want 3 hashes, got 4"), std::string::npos) << s.message();
}

TEST(MerkleVectorsTest, ConsistencyDegenerateInputs) {
  // transparency-dev TestVerifyConsistency, with 32-byte roots.
  const HashAlg a = HashAlg::kSha256;
  const Hash empty = EmptyRoot(a);
  const Hash r1 = H(kRoots[1]), r2 = H(kRoots[2]);
  EXPECT_FALSE(VerifyConsistency(a, 0, 0, r1, r2, {}).ok());
  EXPECT_FALSE(VerifyConsistency(a, 1, 1, r1, r2, {}).ok());
  EXPECT_TRUE(VerifyConsistency(a, 0, 0, empty, empty, {}).ok());
  EXPECT_TRUE(VerifyConsistency(a, 1, 1, r2, r2, {}).ok());
  EXPECT_TRUE(VerifyConsistency(a, 0, 1, empty, r1, {}).ok());
  // Stricter than transparency-dev: the old root of an empty tree must be the empty root.
  EXPECT_EQ(VerifyConsistency(a, 0, 1, r2, r1, {}).code(), core::StatusCode::kCorruption);
  // Time travel to the past.
  EXPECT_EQ(VerifyConsistency(a, 1, 0, r1, r2, {}).code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(a, 2, 1, r1, r2, {}).code(), core::StatusCode::kInvalidArgument);
  // Empty proof between different sizes.
  EXPECT_FALSE(VerifyConsistency(a, 1, 2, r1, r2, {}).ok());
  // Roots match but the proof is not empty.
  const std::vector<Hash> one = {empty};
  EXPECT_FALSE(VerifyConsistency(a, 0, 0, empty, empty, one).ok());
  EXPECT_FALSE(VerifyConsistency(a, 0, 1, empty, empty, one).ok());
  EXPECT_FALSE(VerifyConsistency(a, 1, 1, empty, empty, one).ok());
  ReferenceTree ref;
  EXPECT_EQ(ConsistencyProof(a, 5, 4, ref.nodes).error().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ConsistencyProof(a, 0, 8, ref.nodes)->empty());
  EXPECT_TRUE(ConsistencyProof(a, 8, 8, ref.nodes)->empty());
}

// Proofs read only perfect nodes: the node sets of transparency-dev proof_test.go, where a
// non-perfect right-edge subtree ("rehash") is rebuilt from the perfect nodes under it.
TEST(MerkleShapeTest, ProofsReadPerfectNodes) {
  TreeAppender t(HashAlg::kSha256);
  MemoryNodes nodes;
  for (int i = 0; i < 100; ++i)
    t.Append(HashLeaf(HashAlg::kSha256, std::to_string(i)), &nodes.data);
  using Ids = std::vector<std::pair<int, std::uint64_t>>;
  auto sorted = [](Ids v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  struct Case {
    std::uint64_t a, b;  // inclusion: index, size; consistency: old, new
    bool consistency;
    Ids want;
  };
  const Case cases[] = {
      {0, 7, false, {{0, 1}, {1, 1}, {0, 6}, {1, 2}}},
      {4, 7, false, {{0, 5}, {0, 6}, {2, 0}}},
      {6, 7, false, {{1, 2}, {2, 0}}},
      {10, 15, false, {{0, 11}, {1, 4}, {0, 14}, {1, 6}, {3, 0}}},
      {24, 31, false, {{0, 25}, {1, 13}, {0, 30}, {1, 14}, {3, 2}, {4, 0}}},
      {81, 95, false, {{0, 80}, {1, 41}, {2, 21}, {0, 94}, {1, 46}, {2, 22}, {4, 4}, {6, 0}}},
      {3, 7, true, {{0, 2}, {0, 3}, {1, 0}, {0, 6}, {1, 2}}},
      {5, 7, true, {{0, 4}, {0, 5}, {0, 6}, {2, 0}}},
      {7, 8, true, {{0, 6}, {0, 7}, {1, 2}, {2, 0}}},
      {10, 15, true, {{1, 4}, {1, 5}, {0, 14}, {1, 6}, {3, 0}}},
      {24, 31, true, {{3, 2}, {0, 30}, {1, 14}, {2, 6}, {4, 0}}},
      {81,
       95,
       true,
       {{0, 80}, {0, 81}, {1, 41}, {2, 21}, {0, 94}, {1, 46}, {2, 22}, {4, 4}, {6, 0}}},
  };
  for (const Case& c : cases) {
    RecordingNodes rec(nodes);
    auto proof = c.consistency ? ConsistencyProof(HashAlg::kSha256, c.a, c.b, rec)
                               : InclusionProof(HashAlg::kSha256, c.a, c.b, rec);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(sorted(rec.reads), sorted(c.want))
        << (c.consistency ? "consistency " : "inclusion ") << c.a << ", " << c.b;
  }
}

// --- Node layout ----------------------------------------------------------------------

TEST(MerkleLayoutTest, PostOrderPositionMatchesAppendOrder) {
  TreeAppender t(HashAlg::kSha256);
  std::string completed;
  std::uint64_t next_position = 0;
  for (std::uint64_t i = 0; i < 600; ++i) {
    t.Append(HashLeaf(HashAlg::kSha256, std::to_string(i)), &completed);
    // Leaf i completes node (0, i), then one parent per trailing one bit of i.
    EXPECT_EQ(PostOrderPosition(NodeId{0, i}), next_position++) << "leaf " << i;
    int level = 1;
    for (std::uint64_t s = i; (s & 1) != 0; s >>= 1, ++level) {
      EXPECT_EQ(PostOrderPosition(NodeId{static_cast<std::uint8_t>(level), i >> level}),
                next_position++)
          << "leaf " << i << " level " << level;
    }
    EXPECT_EQ(StoredNodeCount(i + 1), next_position);
    EXPECT_EQ(completed.size(), next_position * 32);
  }
  EXPECT_EQ(StoredNodeCount(0), 0u);
  EXPECT_EQ(StoredNodeCount(1), 1u);
  EXPECT_EQ(StoredNodeCount(8), 15u);
  EXPECT_EQ(PostOrderPosition(NodeId{3, 0}), 14u);
  // Node (40, 1) completes together with its parent (41, 0), which follows it.
  EXPECT_EQ(PostOrderPosition(NodeId{40, 1}), StoredNodeCount(std::uint64_t{1} << 41) - 2);
  EXPECT_EQ(PostOrderPosition(NodeId{41, 0}), StoredNodeCount(std::uint64_t{1} << 41) - 1);
}

TEST(MerkleHashTest, AlgorithmsAndDomainSeparation) {
  EXPECT_EQ(HashAlgName(HashAlg::kSm3), "sm3");
  EXPECT_EQ(HashAlgName(HashAlg::kSha256), "sha256");
  EXPECT_EQ(*ParseHashAlg("sm3"), HashAlg::kSm3);
  EXPECT_EQ(*ParseHashAlg("sha256"), HashAlg::kSha256);
  auto bad = ParseHashAlg("SHA-256", "log.meta hash");
  EXPECT_EQ(bad.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.error().field(), "log.meta hash");

  EXPECT_EQ(EmptyRoot(HashAlg::kSm3), crypto::Sm3(""));
  EXPECT_EQ(EmptyRoot(HashAlg::kSha256), crypto::Sha256(""));
  EXPECT_EQ(HashLeaf(HashAlg::kSm3, "abc"), crypto::Sm3(std::string("\0abc", 4)));
  const Hash l = HashLeaf(HashAlg::kSm3, "l"), r = HashLeaf(HashAlg::kSm3, "r");
  std::string node = "\x01";
  node.append(reinterpret_cast<const char*>(l.data()), 32);
  node.append(reinterpret_cast<const char*>(r.data()), 32);
  EXPECT_EQ(HashChildren(HashAlg::kSm3, l, r), crypto::Sm3(node));
  // A leaf can never be mistaken for a node with the same bytes.
  EXPECT_NE(HashLeaf(HashAlg::kSm3, node.substr(1)), HashChildren(HashAlg::kSm3, l, r));
}

TEST(MerkleHashTest, Sm3RootsDifferFromSha256) {
  std::vector<Hash> sm3, sha;
  for (const char* in : kLeafInputs) {
    sm3.push_back(HashLeaf(HashAlg::kSm3, Bytes(in)));
    sha.push_back(HashLeaf(HashAlg::kSha256, Bytes(in)));
  }
  for (std::size_t n = 0; n <= 8; ++n) {
    const Hash a = RootFromLeafHashes(HashAlg::kSm3, std::span<const Hash>(sm3).first(n));
    const Hash b = RootFromLeafHashes(HashAlg::kSha256, std::span<const Hash>(sha).first(n));
    EXPECT_NE(a, b) << n;
    EXPECT_EQ(Hex(b), kRoots[n]);
  }
}

// Many threads hashing at once each use their own context.
TEST(MerkleHashTest, ConcurrentHashingIsConsistent) {
  const Hash want = HashLeaf(HashAlg::kSm3, "concurrent");
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (HashLeaf(HashAlg::kSm3, "concurrent") != want) ++mismatches;
        (void)HashLeaf(HashAlg::kSha256, "other");
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// --- Randomized cross-checks against the RFC's recursive definitions ------------------

// PATH(m, D[n]) over leaf hashes (RFC 9162 §2.1.3.1), recursively.
std::vector<Hash> ReferencePath(HashAlg alg, std::uint64_t m, std::span<const Hash> d) {
  if (d.size() <= 1) return {};
  const std::size_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> p;
  if (m < k) {
    p = ReferencePath(alg, m, d.first(k));
    p.push_back(RootFromLeafHashes(alg, d.subspan(k)));
  } else {
    p = ReferencePath(alg, m - k, d.subspan(k));
    p.push_back(RootFromLeafHashes(alg, d.first(k)));
  }
  return p;
}

// SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1), recursively.
std::vector<Hash> ReferenceSubproof(HashAlg alg, std::uint64_t m, std::span<const Hash> d, bool b) {
  if (m == d.size()) {
    if (b) return {};
    return {RootFromLeafHashes(alg, d)};
  }
  const std::size_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> p;
  if (m <= k) {
    p = ReferenceSubproof(alg, m, d.first(k), b);
    p.push_back(RootFromLeafHashes(alg, d.subspan(k)));
  } else {
    p = ReferenceSubproof(alg, m - k, d.subspan(k), false);
    p.push_back(RootFromLeafHashes(alg, d.first(k)));
  }
  return p;
}

class MerklePropertyTest : public ::testing::TestWithParam<HashAlg> {};

TEST_P(MerklePropertyTest, ProofsFromStoredNodesVerifyAndMatchTheRfc) {
  const HashAlg alg = GetParam();
  std::mt19937_64 rng(alg == HashAlg::kSm3 ? 3 : 256);
  for (int round = 0; round < 12; ++round) {
    const std::uint64_t n = 1 + rng() % 2000;
    std::vector<Hash> leaves;
    MemoryNodes nodes;
    TreeAppender t(alg);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string entry(1 + rng() % 40, '\0');
      for (char& c : entry) c = static_cast<char>(rng());
      leaves.push_back(HashLeaf(alg, entry));
      t.Append(leaves.back(), &nodes.data);
    }
    ASSERT_EQ(nodes.data.size(), StoredNodeCount(n) * 32);
    const std::span<const Hash> all(leaves);
    EXPECT_EQ(t.Root(), RootFromLeafHashes(alg, all));
    for (int q = 0; q < 25; ++q) {
      const std::uint64_t size = 1 + rng() % n;
      const std::uint64_t index = rng() % size;
      const Hash root = RootFromLeafHashes(alg, all.first(size));
      auto at = RootAt(alg, size, nodes);
      ASSERT_TRUE(at.ok());
      ASSERT_EQ(*at, root) << "size " << size;

      auto proof = InclusionProof(alg, index, size, nodes);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, ReferencePath(alg, index, all.first(size))) << index << "/" << size;
      core::Status s = VerifyInclusion(alg, index, size, leaves[index], *proof, root);
      ASSERT_TRUE(s.ok()) << s.ToString();
      if (!proof->empty()) {
        auto bad = *proof;
        bad[rng() % bad.size()][rng() % 32] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        EXPECT_EQ(VerifyInclusion(alg, index, size, leaves[index], bad, root).code(),
                  core::StatusCode::kCorruption);
      }

      const std::uint64_t old_size = rng() % (size + 1);
      const Hash old_root = RootFromLeafHashes(alg, all.first(old_size));
      auto cproof = ConsistencyProof(alg, old_size, size, nodes);
      ASSERT_TRUE(cproof.ok());
      if (old_size > 0) {
        ASSERT_EQ(*cproof, ReferenceSubproof(alg, old_size, all.first(size), true))
            << old_size << " -> " << size;
      }
      s = VerifyConsistency(alg, old_size, size, old_root, root, *cproof);
      ASSERT_TRUE(s.ok()) << s.ToString();
      if (!cproof->empty()) {
        auto bad = *cproof;
        bad[rng() % bad.size()][rng() % 32] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        EXPECT_EQ(VerifyConsistency(alg, old_size, size, old_root, root, bad).code(),
                  core::StatusCode::kCorruption);
      }
    }
    // Exhaustive tamper probes on a few proofs of this tree.
    const std::uint64_t size = 1 + rng() % n, index = rng() % size;
    const Hash root = RootFromLeafHashes(alg, all.first(size));
    ExpectInclusionTamperRejected(alg, index, size, leaves[index],
                                  *InclusionProof(alg, index, size, nodes), root);
    const std::uint64_t old_size = 1 + rng() % size;
    ExpectConsistencyTamperRejected(alg, old_size, size,
                                    RootFromLeafHashes(alg, all.first(old_size)), root,
                                    *ConsistencyProof(alg, old_size, size, nodes));
  }
}

TEST_P(MerklePropertyTest, ResumeContinuesIdentically) {
  const HashAlg alg = GetParam();
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    const std::uint64_t n = 1 + rng() % 700;
    const std::uint64_t cut = rng() % (n + 1);
    TreeAppender straight(alg);
    MemoryNodes all;
    std::vector<Hash> leaves;
    for (std::uint64_t i = 0; i < n; ++i) {
      leaves.push_back(HashLeaf(alg, "entry " + std::to_string(i)));
      straight.Append(leaves.back(), &all.data);
    }
    MemoryNodes prefix;
    prefix.data = all.data.substr(0, StoredNodeCount(cut) * 32);
    auto resumed = TreeAppender::Resume(alg, cut, prefix);
    ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
    EXPECT_EQ(resumed->size(), cut);
    EXPECT_EQ(resumed->alg(), alg);
    EXPECT_EQ(resumed->Root(), RootFromLeafHashes(alg, std::span<const Hash>(leaves).first(cut)));
    for (std::uint64_t i = cut; i < n; ++i) resumed->Append(leaves[i], &prefix.data);
    EXPECT_EQ(prefix.data, all.data) << "cut " << cut << " of " << n;
    EXPECT_EQ(resumed->Root(), straight.Root());
  }
  // Missing right-edge nodes are reported, not invented.
  MemoryNodes few;
  TreeAppender t(alg);
  for (int i = 0; i < 5; ++i) t.Append(HashLeaf(alg, std::to_string(i)), &few.data);
  EXPECT_EQ(TreeAppender::Resume(alg, 6, few).error().code(), core::StatusCode::kNotFound);
}

TEST_P(MerklePropertyTest, AppendSubtreeJoinsIndependentlyHashedBlocks) {
  const HashAlg alg = GetParam();
  std::mt19937_64 rng(11);
  for (int round = 0; round < 30; ++round) {
    const std::uint64_t start = rng() % 300, count = 1 + rng() % 300;
    std::vector<Hash> leaves;
    for (std::uint64_t i = 0; i < start + count; ++i) {
      leaves.push_back(HashLeaf(alg, "leaf " + std::to_string(i)));
    }
    TreeAppender straight(alg), joined(alg);
    std::string want, got;
    for (std::uint64_t i = 0; i < start; ++i) {
      straight.Append(leaves[i], nullptr);
      joined.Append(leaves[i], nullptr);
    }
    for (std::uint64_t i = start; i < start + count; ++i) straight.Append(leaves[i], &want);
    // Split [start, start+count) into aligned perfect blocks, hash each on its own.
    std::uint64_t at = start;
    while (at < start + count) {
      int level = at == 0 ? 63 : std::countr_zero(at);
      while ((std::uint64_t{1} << level) > start + count - at) --level;
      TreeAppender block(alg);
      for (std::uint64_t i = at; i < at + (std::uint64_t{1} << level); ++i) {
        block.Append(leaves[i], &got);
      }
      joined.AppendSubtree(static_cast<std::uint8_t>(level), block.Root(), &got);
      at += std::uint64_t{1} << level;
    }
    EXPECT_EQ(got, want) << start << " + " << count;
    EXPECT_EQ(joined.Root(), straight.Root());
    EXPECT_EQ(joined.size(), straight.size());
  }
}

INSTANTIATE_TEST_SUITE_P(BothHashes, MerklePropertyTest,
                         ::testing::Values(HashAlg::kSm3, HashAlg::kSha256),
                         [](const ::testing::TestParamInfo<HashAlg>& p) {
                           return std::string(HashAlgName(p.param));
                         });

}  // namespace
}  // namespace wg::ledger

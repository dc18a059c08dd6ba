#pragma once
// Merkle tree in the RFC 9162 (Certificate Transparency v2) shape, hash selectable:
// SM3 (GB/T 32905, the default) or SHA-256 (then identical to RFC 6962/9162).
//
//   leaf hash   = H(0x00 || entry)
//   node hash   = H(0x01 || left || right)
//   empty tree  = H("")
//   0-based leaf indexes; a tree of size n splits at the largest power of two < n.
//
// Storage model: only *perfect* subtrees are ever stored. NodeId{level, index} names the
// perfect subtree of 2^level leaves starting at leaf index << level. Appending leaves
// completes nodes in post-order, so they are kept in one append-only array ("tree.nodes",
// docs/formats/evidence-log.md) at PostOrderPosition(id); any root or proof for any size
// is computed from O(log n) stored nodes without reading leaves.
//
// Everything here is pure: hashing, proof generation over a NodeReader, and verification.
// Verification reports what it wanted and what it found (kCorruption with both roots in
// hex), never a bare bool. Thread-safe: free functions, immutable values.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"
#include "wg/crypto/crypto.h"

namespace wg::ledger {

using Hash = crypto::Digest32;

enum class HashAlg : std::uint8_t { kSm3 = 1, kSha256 = 2 };
std::string_view HashAlgName(HashAlg a);  // "sm3", "sha256"
core::Result<HashAlg> ParseHashAlg(std::string_view s, std::string_view field = "hash");

Hash HashLeaf(HashAlg alg, std::string_view entry);
Hash HashChildren(HashAlg alg, const Hash& left, const Hash& right);
Hash EmptyRoot(HashAlg alg);

struct NodeId {
  std::uint8_t level = 0;
  std::uint64_t index = 0;
  friend bool operator==(const NodeId&, const NodeId&) = default;
};
// Position of a perfect node in the post-order array: with m = (index+1) << level,
// 2(m-1) - popcount(m-1) + level.
std::uint64_t PostOrderPosition(NodeId id);
// Number of stored nodes for a tree of n leaves: 2n - popcount(n).
std::uint64_t StoredNodeCount(std::uint64_t leaves);

// Source of stored perfect-node hashes (a file, memory, a test fixture).
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  virtual core::Result<Hash> Node(NodeId id) const = 0;
};

// Keeps the right edge of a growing tree (its perfect subtrees, largest first) so each
// append costs one leaf hash plus amortised one node hash, and reports the nodes it
// completes in post-order for storage.
class TreeAppender {
 public:
  explicit TreeAppender(HashAlg alg) : alg_(alg) {}
  // Resumes at `size` leaves, reading the right-edge nodes from `nodes`.
  static core::Result<TreeAppender> Resume(HashAlg alg, std::uint64_t size,
                                           const NodeReader& nodes);
  // Appends one leaf hash; appends every node it completes (leaf first, then parents) to
  // `completed` as 32-byte records in post-order.
  void Append(const Hash& leaf_hash, std::string* completed);
  // Appends a whole perfect subtree of 2^level leaves with root `subtree_root`, whose own
  // nodes the caller has already emitted (a TreeAppender started empty over those leaves
  // emits exactly them, in post-order). size() must be a multiple of 2^level. Appends to
  // `completed` only the parents this completes. Lets the nodes inside disjoint subtrees be
  // hashed on several threads and joined in order.
  void AppendSubtree(std::uint8_t level, const Hash& subtree_root, std::string* completed);
  Hash Root() const;  // root of the current size (EmptyRoot when 0)
  std::uint64_t size() const { return size_; }
  HashAlg alg() const { return alg_; }

 private:
  HashAlg alg_;
  std::uint64_t size_ = 0;
  std::vector<Hash> edge_;  // perfect subtrees on the right edge, largest (leftmost) first
};

// Root of the first `size` leaves.
core::Result<Hash> RootAt(HashAlg alg, std::uint64_t size, const NodeReader& nodes);
// RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves.
core::Result<std::vector<Hash>> InclusionProof(HashAlg alg, std::uint64_t index,
                                               std::uint64_t size, const NodeReader& nodes);
// RFC 9162 §2.1.4.1 consistency proof between sizes `old_size` <= `new_size`.
core::Result<std::vector<Hash>> ConsistencyProof(HashAlg alg, std::uint64_t old_size,
                                                 std::uint64_t new_size,
                                                 const NodeReader& nodes);

// RFC 9162 §2.1.3.2. OK, or kCorruption "inclusion proof of leaf I in tree of size N:
// computed root <hex>, want <hex>" / kInvalidArgument for index >= size or a proof of the
// wrong length ("want K hashes, got J").
core::Status VerifyInclusion(HashAlg alg, std::uint64_t index, std::uint64_t size,
                             const Hash& leaf_hash, std::span<const Hash> proof,
                             const Hash& root);
// RFC 9162 §2.1.4.2, same reporting.
core::Status VerifyConsistency(HashAlg alg, std::uint64_t old_size, std::uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               std::span<const Hash> proof);

// Reference implementation from the RFC's recursive definition over all leaf hashes
// (tests and `ledger verify` cross-checks).
Hash RootFromLeafHashes(HashAlg alg, std::span<const Hash> leaves);

}  // namespace wg::ledger

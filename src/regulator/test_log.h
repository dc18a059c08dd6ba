#pragma once
// Test helper: an in-memory enterprise log (leaf hashes and perfect nodes, as the real
// EvidenceLog keeps them) with an SM2 note key, producing signed checkpoints, consistency
// proofs and leaf batches for Supervision tests.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "wg/crypto/sm.h"
#include "wg/ledger/checkpoint.h"
#include "wg/ledger/merkle.h"
#include "wg/regulator/supervision.h"

namespace wg::regulator::testing {

inline ledger::NoteKey NewKey(const std::string& name) {
  auto priv = crypto::Sm2PrivateKey::Generate();
  EXPECT_TRUE(priv.has_value());
  auto key = ledger::NoteKey::ForSigning(name, *priv);
  EXPECT_TRUE(key.has_value()) << key.error().ToString();
  return std::move(key).value();
}

class TestLog final : public ledger::NodeReader {
 public:
  TestLog(std::string origin, ledger::HashAlg alg = ledger::HashAlg::kSm3)
      : origin_(std::move(origin)), alg_(alg), app_(alg) {}

  void Add(const std::string& entry) {
    ledger::Hash h = ledger::HashLeaf(alg_, entry);
    leaves_.push_back(h);
    app_.Append(h, &nodes_);
  }
  void AddN(int n, const std::string& tag) {
    for (int i = 0; i < n; ++i) Add(tag + " fact " + std::to_string(leaves_.size()));
  }
  std::uint64_t size() const { return leaves_.size(); }
  const std::vector<ledger::Hash>& leaves() const { return leaves_; }

  core::Result<ledger::Hash> Node(ledger::NodeId id) const override {
    const std::uint64_t pos = ledger::PostOrderPosition(id);
    if ((pos + 1) * 32 > nodes_.size()) return core::Status::NotFound("node");
    ledger::Hash h{};
    std::memcpy(h.data(), nodes_.data() + pos * 32, 32);
    return h;
  }
  ledger::Hash Root(std::uint64_t size) const {
    return ledger::RootFromLeafHashes(alg_, std::span(leaves_).first(size));
  }
  std::vector<ledger::Hash> Proof(std::uint64_t from, std::uint64_t to) const {
    auto p = ledger::ConsistencyProof(alg_, from, to, *this);
    EXPECT_TRUE(p.has_value()) << p.error().ToString();
    return p.value_or({});
  }
  // A checkpoint of the first `size` leaves signed by `key`.
  std::string Note(const ledger::NoteKey& key, std::uint64_t size) const {
    ledger::Checkpoint c{.origin = origin_, .size = size, .root = Root(size), .extensions = {}};
    ledger::SignedNote n{.text = ledger::CheckpointBody(c), .signatures = {}};
    EXPECT_TRUE(key.Sign(&n).ok());
    return ledger::FormatNote(n);
  }
  LeafBatch Leaves(std::uint64_t from, std::uint64_t to) const {
    LeafBatch b;
    b.from = from;
    b.hashes.assign(leaves_.begin() + static_cast<std::ptrdiff_t>(from),
                    leaves_.begin() + static_cast<std::ptrdiff_t>(to));
    return b;
  }
  // Submission growing from `from` to `to` with the leaves in between.
  Submission Grow(const ledger::NoteKey& key, std::uint64_t from, std::uint64_t to,
                  bool with_leaves = true) const {
    Submission s;
    s.note = Note(key, to);
    s.old_size = from;
    if (from > 0 && from < to) s.consistency = Proof(from, to);
    if (with_leaves) s.leaves = Leaves(from, to);
    return s;
  }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  ledger::HashAlg alg_;
  ledger::TreeAppender app_;
  std::vector<ledger::Hash> leaves_;
  std::string nodes_;
};

}  // namespace wg::regulator::testing

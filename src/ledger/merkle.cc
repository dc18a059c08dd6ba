// RFC 9162 Merkle tree hashing, post-order node storage, proofs and their verification.

#include "wg/ledger/merkle.h"

#include <openssl/core_dispatch.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "wg/core/strings.h"

namespace wg::ledger {
namespace {

struct MdFree {
  void operator()(EVP_MD* p) const { EVP_MD_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdPtr = std::unique_ptr<EVP_MD, MdFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Hashing is the hot path of appends and proofs (one leaf and about one node hash per
// entry), so nothing is looked up or allocated per hash:
//  * the EVP_MD is fetched once per process;
//  * each thread keeps one hashing state per algorithm and re-initialises it. With
//    OpenSSL 3.0, EVP_DigestInit_ex2 on a reused EVP_MD_CTX still frees and re-allocates
//    the provider's digest context every time (measured: one malloc per hash, about 14%
//    of a 65-byte SM3 node hash). So the thread keeps the provider-side context itself
//    and calls the digest functions the provider published for the fetched EVP_MD
//    (OSSL_PROVIDER_query_operation, provider-digest(7)): init, update, final on the same
//    context, no allocation. If the provider does not publish them, a thread_local
//    EVP_MD_CTX is used instead.
struct DigestImpl {
  MdPtr md;
  OSSL_FUNC_digest_newctx_fn* newctx = nullptr;
  OSSL_FUNC_digest_freectx_fn* freectx = nullptr;
  OSSL_FUNC_digest_init_fn* init = nullptr;
  OSSL_FUNC_digest_update_fn* update = nullptr;
  OSSL_FUNC_digest_final_fn* final = nullptr;
  void* provctx = nullptr;
  bool direct() const {
    return newctx != nullptr && freectx != nullptr && init != nullptr && update != nullptr &&
           final != nullptr;
  }
};

DigestImpl LoadDigest(const char* name) {
  DigestImpl impl;
  impl.md.reset(EVP_MD_fetch(nullptr, name, nullptr));
  if (!impl.md) return impl;
  const OSSL_PROVIDER* prov = EVP_MD_get0_provider(impl.md.get());
  int no_cache = 0;
  const OSSL_ALGORITHM* algs =
      prov == nullptr ? nullptr : OSSL_PROVIDER_query_operation(prov, OSSL_OP_DIGEST, &no_cache);
  for (const OSSL_ALGORITHM* a = algs; a != nullptr && a->algorithm_names != nullptr; ++a) {
    // The implementation of the fetched algorithm: its first name identifies it.
    const std::string_view names(a->algorithm_names);
    if (!EVP_MD_is_a(impl.md.get(), std::string(names.substr(0, names.find(':'))).c_str())) {
      continue;
    }
    for (const OSSL_DISPATCH* d = a->implementation; d->function_id != 0; ++d) {
      switch (d->function_id) {
        case OSSL_FUNC_DIGEST_NEWCTX:
          impl.newctx = OSSL_FUNC_digest_newctx(d);
          break;
        case OSSL_FUNC_DIGEST_FREECTX:
          impl.freectx = OSSL_FUNC_digest_freectx(d);
          break;
        case OSSL_FUNC_DIGEST_INIT:
          impl.init = OSSL_FUNC_digest_init(d);
          break;
        case OSSL_FUNC_DIGEST_UPDATE:
          impl.update = OSSL_FUNC_digest_update(d);
          break;
        case OSSL_FUNC_DIGEST_FINAL:
          impl.final = OSSL_FUNC_digest_final(d);
          break;
        default:
          break;
      }
    }
    impl.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
    break;
  }
  if (algs != nullptr) OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_DIGEST, algs);
  return impl;
}

const DigestImpl& Impl(HashAlg alg) {
  static const DigestImpl sm3 = LoadDigest("SM3");
  static const DigestImpl sha256 = LoadDigest("SHA256");
  return alg == HashAlg::kSm3 ? sm3 : sha256;
}

// One thread's hashing state for one algorithm.
class ThreadHasher {
 public:
  explicit ThreadHasher(const DigestImpl& impl) : impl_(impl) {
    if (impl_.direct()) provider_ctx_ = impl_.newctx(impl_.provctx);
    if (provider_ctx_ == nullptr) evp_ctx_.reset(EVP_MD_CTX_new());
  }
  ~ThreadHasher() {
    if (provider_ctx_ != nullptr) impl_.freectx(provider_ctx_);
  }
  ThreadHasher(const ThreadHasher&) = delete;
  ThreadHasher& operator=(const ThreadHasher&) = delete;

  bool Compute(const void* a, std::size_t a_len, const void* b, std::size_t b_len, Hash* out) {
    const auto* pa = static_cast<const unsigned char*>(a);
    const auto* pb = static_cast<const unsigned char*>(b);
    if (provider_ctx_ != nullptr) {
      std::size_t len = 0;
      return impl_.init(provider_ctx_, nullptr) == 1 &&
             impl_.update(provider_ctx_, pa, a_len) == 1 &&
             (b_len == 0 || impl_.update(provider_ctx_, pb, b_len) == 1) &&
             impl_.final(provider_ctx_, out->data(), &len, out->size()) == 1 && len == out->size();
    }
    unsigned int len = 0;
    return impl_.md && evp_ctx_ &&
           EVP_DigestInit_ex2(evp_ctx_.get(), impl_.md.get(), nullptr) == 1 &&
           EVP_DigestUpdate(evp_ctx_.get(), pa, a_len) == 1 &&
           (b_len == 0 || EVP_DigestUpdate(evp_ctx_.get(), pb, b_len) == 1) &&
           EVP_DigestFinal_ex(evp_ctx_.get(), out->data(), &len) == 1 && len == out->size();
  }

 private:
  const DigestImpl& impl_;
  void* provider_ctx_ = nullptr;
  MdCtxPtr evp_ctx_;
};

ThreadHasher& ThreadState(HashAlg alg) {
  thread_local ThreadHasher sm3(Impl(HashAlg::kSm3));
  thread_local ThreadHasher sha256(Impl(HashAlg::kSha256));
  return alg == HashAlg::kSm3 ? sm3 : sha256;
}

// Hashing bytes in memory cannot fail on a working OpenSSL; a failure means a broken
// installation (e.g. no SM3 provider), the "cannot happen" case in which the process
// stops rather than return a wrong hash. crypto::CheckCryptoAvailable() lets binaries
// report that cleanly at start-up.
[[noreturn]] void DieHashing(HashAlg alg) {
  char buf[256] = "no OpenSSL error queued";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, buf, sizeof(buf));
  std::fprintf(stderr, "wg::ledger: %s hashing failed: %s\n", std::string(HashAlgName(alg)).c_str(),
               buf);
  std::abort();
}

Hash Digest(HashAlg alg, const void* a, std::size_t a_len, const void* b, std::size_t b_len) {
  Hash out;
  if (!ThreadState(alg).Compute(a, a_len, b, b_len, &out)) DieHashing(alg);
  return out;
}

std::string Hex(const Hash& h) { return core::ToHex(std::span<const std::uint8_t>(h)); }

// Largest power of two strictly below n (n >= 2).
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[begin : begin+count]) for a range whose start is aligned to the largest power of
// two not above count, i.e. any subtree on the right edge of a tree that starts at
// `begin`. Such a range decomposes into perfect subtrees (one per set bit of count,
// largest first); their stored hashes are folded right to left. O(log count) reads.
core::Result<Hash> RangeHash(HashAlg alg, std::uint64_t begin, std::uint64_t count,
                             const NodeReader& nodes) {
  if (count == 0) return EmptyRoot(alg);
  Hash parts[64];
  int n = 0;
  std::uint64_t at = begin;
  for (int level = 63; level >= 0; --level) {
    const std::uint64_t width = std::uint64_t{1} << level;
    if ((count & width) == 0) continue;
    WG_ASSIGN_OR_RETURN(parts[n],
                        nodes.Node(NodeId{static_cast<std::uint8_t>(level), at >> level}));
    ++n;
    at += width;
  }
  Hash acc = parts[n - 1];
  for (int i = n - 2; i >= 0; --i) acc = HashChildren(alg, parts[i], acc);
  return acc;
}

// Expected inclusion proof length (RFC 9162 §2.1.3): the path below the point where the
// paths to `index` and to `size-1` diverge (`inner`), plus one left sibling for each set
// bit above it (`border`).
struct ProofShape {
  int inner = 0;
  int border = 0;
};
ProofShape InclusionShape(std::uint64_t index, std::uint64_t size) {
  ProofShape s;
  s.inner = static_cast<int>(std::bit_width(index ^ (size - 1)));
  s.border = std::popcount(s.inner >= 64 ? 0 : index >> s.inner);
  return s;
}

std::size_t ExpectedConsistencyLength(std::uint64_t old_size, std::uint64_t new_size) {
  ProofShape s = InclusionShape(old_size - 1, new_size);
  const int shift = std::countr_zero(old_size);
  const std::size_t seed = std::has_single_bit(old_size) ? 0 : 1;
  return seed + static_cast<std::size_t>(s.inner - shift + s.border);
}

}  // namespace

std::string_view HashAlgName(HashAlg a) {
  switch (a) {
    case HashAlg::kSm3:
      return "sm3";
    case HashAlg::kSha256:
      return "sha256";
  }
  return "unknown";
}

core::Result<HashAlg> ParseHashAlg(std::string_view s, std::string_view field) {
  if (s == "sm3") return HashAlg::kSm3;
  if (s == "sha256") return HashAlg::kSha256;
  return core::Status::InvalidArgument(
      "unknown hash algorithm \"" + std::string(s) + "\" (want sm3 or sha256)", std::string(field));
}

Hash HashLeaf(HashAlg alg, std::string_view entry) {
  static constexpr std::uint8_t kLeafPrefix = 0x00;
  return Digest(alg, &kLeafPrefix, 1, entry.data(), entry.size());
}

Hash HashChildren(HashAlg alg, const Hash& left, const Hash& right) {
  std::uint8_t buf[1 + 2 * sizeof(Hash)];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), left.size());
  std::memcpy(buf + 1 + left.size(), right.data(), right.size());
  return Digest(alg, buf, sizeof(buf), nullptr, 0);
}

Hash EmptyRoot(HashAlg alg) {
  static const Hash sm3 = Digest(HashAlg::kSm3, "", 0, nullptr, 0);
  static const Hash sha256 = Digest(HashAlg::kSha256, "", 0, nullptr, 0);
  return alg == HashAlg::kSm3 ? sm3 : sha256;
}

std::uint64_t PostOrderPosition(NodeId id) {
  // The node completes when leaf m-1 is appended, m = (index+1) << level. At that point
  // StoredNodeCount(m) = 2m - popcount(m) nodes exist; the last ctz(m) - level of them
  // are the node's ancestors completed by the same leaf (post-order puts them after it).
  // 2m - popcount(m) - 1 - (ctz(m) - level) simplifies to the expression below because
  // popcount(m-1) = popcount(m) - 1 + ctz(m).
  const std::uint64_t m = (id.index + 1) << id.level;
  return 2 * (m - 1) - static_cast<std::uint64_t>(std::popcount(m - 1)) + id.level;
}

std::uint64_t StoredNodeCount(std::uint64_t leaves) {
  return 2 * leaves - static_cast<std::uint64_t>(std::popcount(leaves));
}

core::Result<TreeAppender> TreeAppender::Resume(HashAlg alg, std::uint64_t size,
                                                const NodeReader& nodes) {
  TreeAppender t(alg);
  std::uint64_t at = 0;
  for (int level = 63; level >= 0; --level) {
    const std::uint64_t width = std::uint64_t{1} << level;
    if ((size & width) == 0) continue;
    WG_ASSIGN_OR_RETURN(Hash h, nodes.Node(NodeId{static_cast<std::uint8_t>(level), at >> level}));
    t.edge_.push_back(h);
    at += width;
  }
  t.size_ = size;
  return t;
}

void TreeAppender::Append(const Hash& leaf_hash, std::string* completed) {
  if (completed != nullptr) {
    completed->append(reinterpret_cast<const char*>(leaf_hash.data()), leaf_hash.size());
  }
  AppendSubtree(0, leaf_hash, completed);
}

void TreeAppender::AppendSubtree(std::uint8_t level, const Hash& subtree_root,
                                 std::string* completed) {
  edge_.push_back(subtree_root);
  // Each trailing one bit of the old size (in units of 2^level leaves) is a perfect
  // subtree as wide as the one just added, so they merge, smallest first (post-order:
  // children before parent).
  for (std::uint64_t s = size_ >> level; (s & 1) != 0; s >>= 1) {
    Hash parent = HashChildren(alg_, edge_[edge_.size() - 2], edge_.back());
    edge_.pop_back();
    edge_.back() = parent;
    if (completed != nullptr) {
      completed->append(reinterpret_cast<const char*>(parent.data()), parent.size());
    }
  }
  size_ += std::uint64_t{1} << level;
}

Hash TreeAppender::Root() const {
  if (edge_.empty()) return EmptyRoot(alg_);
  Hash acc = edge_.back();
  for (std::size_t i = edge_.size() - 1; i-- > 0;) acc = HashChildren(alg_, edge_[i], acc);
  return acc;
}

core::Result<Hash> RootAt(HashAlg alg, std::uint64_t size, const NodeReader& nodes) {
  return RangeHash(alg, 0, size, nodes);
}

core::Result<std::vector<Hash>> InclusionProof(HashAlg alg, std::uint64_t index, std::uint64_t size,
                                               const NodeReader& nodes) {
  if (index >= size) {
    return core::Status::InvalidArgument(
        "leaf index " + std::to_string(index) + " is not below tree size " + std::to_string(size),
        "index");
  }
  // PATH(m, D[begin:begin+n]) from RFC 9162 §2.1.3.1, unrolled top-down; the result is
  // reversed at the end because the proof lists siblings from the leaf upwards.
  std::vector<Hash> proof;
  std::uint64_t begin = 0, n = size, m = index;
  while (n > 1) {
    const std::uint64_t k = SplitPoint(n);
    if (m < k) {
      WG_ASSIGN_OR_RETURN(Hash right, RangeHash(alg, begin + k, n - k, nodes));
      proof.push_back(right);
      n = k;
    } else {
      WG_ASSIGN_OR_RETURN(Hash left, RangeHash(alg, begin, k, nodes));
      proof.push_back(left);
      begin += k;
      m -= k;
      n -= k;
    }
  }
  return std::vector<Hash>(proof.rbegin(), proof.rend());
}

core::Result<std::vector<Hash>> ConsistencyProof(HashAlg alg, std::uint64_t old_size,
                                                 std::uint64_t new_size, const NodeReader& nodes) {
  if (old_size > new_size) {
    return core::Status::InvalidArgument("old size " + std::to_string(old_size) +
                                             " is larger than new size " + std::to_string(new_size),
                                         "old_size");
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  // SUBPROOF(m, D[begin:begin+n], b) from RFC 9162 §2.1.4.1, unrolled top-down.
  std::uint64_t begin = 0, n = new_size, m = old_size;
  bool whole_old_tree = true;  // b: the subtree is the complete old tree
  while (m != n) {
    const std::uint64_t k = SplitPoint(n);
    if (m <= k) {
      WG_ASSIGN_OR_RETURN(Hash right, RangeHash(alg, begin + k, n - k, nodes));
      proof.push_back(right);
      n = k;
    } else {
      WG_ASSIGN_OR_RETURN(Hash left, RangeHash(alg, begin, k, nodes));
      proof.push_back(left);
      begin += k;
      m -= k;
      n -= k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) {
    WG_ASSIGN_OR_RETURN(Hash sub, RangeHash(alg, begin, m, nodes));
    proof.push_back(sub);
  }
  return std::vector<Hash>(proof.rbegin(), proof.rend());
}

core::Status VerifyInclusion(HashAlg alg, std::uint64_t index, std::uint64_t size,
                             const Hash& leaf_hash, std::span<const Hash> proof, const Hash& root) {
  const std::string what = "inclusion proof of leaf " + std::to_string(index) +
                           " in tree of size " + std::to_string(size);
  // Step 1.
  if (index >= size) {
    return core::Status::InvalidArgument(what + ": leaf index is not below the tree size", "index");
  }
  const ProofShape shape = InclusionShape(index, size);
  const std::size_t want = static_cast<std::size_t>(shape.inner + shape.border);
  if (proof.size() != want) {
    return core::Status::InvalidArgument(
        what + ": want " + std::to_string(want) + " hashes, got " + std::to_string(proof.size()),
        "proof");
  }
  // Steps 2-5 of RFC 9162 §2.1.3.2, verbatim.
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return core::Status::Corruption(what + ": proof is longer than the path");
    if ((fn & 1) != 0 || fn == sn) {
      r = HashChildren(alg, p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(alg, r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return core::Status::Corruption(what + ": proof is shorter than the path");
  if (r != root) {
    return core::Status::Corruption(what + ": computed root " + Hex(r) + ", want " + Hex(root));
  }
  return core::Status::Ok();
}

core::Status VerifyConsistency(HashAlg alg, std::uint64_t old_size, std::uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               std::span<const Hash> proof) {
  const std::string what = "consistency proof from size " + std::to_string(old_size) + " to size " +
                           std::to_string(new_size);
  if (old_size > new_size) {
    return core::Status::InvalidArgument(what + ": old size is larger than new size", "old_size");
  }
  if (old_size == new_size) {
    if (!proof.empty()) {
      return core::Status::InvalidArgument(
          what + ": want 0 hashes, got " + std::to_string(proof.size()), "proof");
    }
    if (old_root != new_root) {
      return core::Status::Corruption(what + ": equal sizes but old root " + Hex(old_root) +
                                      " differs from new root " + Hex(new_root));
    }
    return core::Status::Ok();
  }
  if (old_size == 0) {
    // The empty tree is a prefix of every tree; the only thing to check is that the
    // claimed old root really is the empty-tree root.
    if (!proof.empty()) {
      return core::Status::InvalidArgument(
          what + ": want 0 hashes, got " + std::to_string(proof.size()), "proof");
    }
    if (old_root != EmptyRoot(alg)) {
      return core::Status::Corruption(what + ": old root " + Hex(old_root) +
                                      ", want the empty-tree root " + Hex(EmptyRoot(alg)));
    }
    return core::Status::Ok();
  }
  const std::size_t want = ExpectedConsistencyLength(old_size, new_size);
  if (proof.size() != want) {
    return core::Status::InvalidArgument(
        what + ": want " + std::to_string(want) + " hashes, got " + std::to_string(proof.size()),
        "proof");
  }
  // RFC 9162 §2.1.4.2, verbatim. Step 1 (empty proof) cannot happen here: want >= 1.
  // Step 2: a power-of-two old size is itself the first node; it is not in the proof.
  std::size_t next = 0;
  Hash fr, sr;
  if (std::has_single_bit(old_size)) {
    fr = sr = old_root;
  } else {
    fr = sr = proof[0];  // step 5
    next = 1;
  }
  // Steps 3-4.
  std::uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  // Step 6.
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return core::Status::Corruption(what + ": proof is longer than the path");
    if ((fn & 1) != 0 || fn == sn) {
      fr = HashChildren(alg, c, fr);
      sr = HashChildren(alg, c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(alg, sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) return core::Status::Corruption(what + ": proof is shorter than the path");
  if (fr != old_root) {
    return core::Status::Corruption(what + ": computed old root " + Hex(fr) + ", want " +
                                    Hex(old_root));
  }
  if (sr != new_root) {
    return core::Status::Corruption(what + ": computed new root " + Hex(sr) + ", want " +
                                    Hex(new_root));
  }
  return core::Status::Ok();
}

Hash RootFromLeafHashes(HashAlg alg, std::span<const Hash> leaves) {
  // MTH(D[n]) exactly as defined in RFC 9162 §2.1.1.
  if (leaves.empty()) return EmptyRoot(alg);
  if (leaves.size() == 1) return leaves[0];
  const std::size_t k = static_cast<std::size_t>(SplitPoint(leaves.size()));
  return HashChildren(alg, RootFromLeafHashes(alg, leaves.first(k)),
                      RootFromLeafHashes(alg, leaves.subspan(k)));
}

}  // namespace wg::ledger

#pragma once
// EvidenceLog: one append-only, tamper-evident log of opaque entries on disk (the
// facts of one organization), with group commit, crash recovery and proofs.
// File format: docs/formats/evidence-log.md. Directory layout:
//
//   DIR/log.meta      magic, format version, hash algorithm, created-at (written once)
//   DIR/entries.dat   records: u32be length | u32be CRC-32C(payload) | payload
//   DIR/entries.idx   u64be offset of each record in entries.dat
//   DIR/tree.nodes    32-byte perfect-node hashes in post-order (merkle.h)
//   DIR/LOCK          flock()ed by the one writer process
//
// Durability: Append() returns only after every file holding the batch is fdatasync()ed
// (entries.dat first, then tree.nodes, then entries.idx, which is what lets Open() tell a
// torn tail from damage to acknowledged records);
// concurrent Append() calls are coalesced into one write + one sync each (group commit)
// by a single writer thread. A crash can leave a torn tail (partial record, index or
// node records past the durable size); Open() detects it, reports it in recovery(), and
// truncates all three files to the longest prefix that is complete and consistent
// (entries.dat is the truth; idx and nodes are rebuilt for complete records they lack).
// Nothing acknowledged is lost, because it was synced before being acknowledged.
//
// Thread-safety: every method may be called concurrently. Readers see only the durable
// prefix (size()); Entry() checks the CRC of what it reads. A read_only log serves the
// files as they were when it was opened (it may run beside a writer process).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/ledger/merkle.h"

namespace wg::ledger {

struct LogOptions {
  std::string dir;
  HashAlg alg = HashAlg::kSm3;  // used when creating; an existing log keeps its own
  bool read_only = false;       // no LOCK, no recovery writes, no appends
  bool sync = true;             // fdatasync before acknowledging (tests/bench may disable)
  std::size_t max_entry_bytes = 1 << 20;   // larger or empty entries: kInvalidArgument "entry"
  std::size_t max_batch_bytes = 64 << 20;  // one group commit writes at most this much; one
                                           // Append() group above it is kInvalidArgument
  const core::Clock* clock = nullptr;      // stamps created-at in log.meta; SystemClock if null
};

struct RecoveryReport {
  std::uint64_t size = 0;               // entries after recovery
  std::uint64_t truncated_bytes = 0;    // torn bytes cut from entries.dat
  std::uint64_t rebuilt_index = 0;      // idx records rewritten from entries.dat
  std::uint64_t rebuilt_nodes = 0;      // node records recomputed
  std::string detail;                   // human-readable, empty when clean
};

class EvidenceLog {
 public:
  // Creates the directory and files when absent. Fails with kUnavailable when another
  // process holds the writer lock, kCorruption when the files contradict each other in a
  // way a torn tail cannot explain (e.g. a record's CRC fails before the tail).
  static core::Result<std::unique_ptr<EvidenceLog>> Open(const LogOptions& options);
  virtual ~EvidenceLog() = default;

  virtual HashAlg alg() const = 0;
  virtual const RecoveryReport& recovery() const = 0;
  virtual std::uint64_t size() const = 0;  // durable entries

  // Appends entries as one group; blocks until they are durable; returns the index of the
  // first. With `expected_first`, fails kFailedPrecondition (nothing written) unless the
  // log size is exactly that when the group is written (an outbox drain racing another).
  // Empty or oversize entries, or a group over max_batch_bytes, are kInvalidArgument with
  // nothing written. After a failed write or fdatasync every later Append() is kIoError
  // until the log is reopened (and recovered); kFailedPrecondition on a read-only log.
  virtual core::Result<std::uint64_t> Append(std::vector<std::string> entries,
                                             std::optional<std::uint64_t> expected_first =
                                                 std::nullopt) = 0;

  virtual core::Result<std::string> Entry(std::uint64_t index) const = 0;
  virtual core::Result<Hash> LeafHash(std::uint64_t index) const = 0;
  virtual core::Result<Hash> Root(std::uint64_t size) const = 0;
  virtual core::Result<std::vector<Hash>> InclusionProof(std::uint64_t index,
                                                         std::uint64_t size) const = 0;
  virtual core::Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size,
                                                           std::uint64_t new_size) const = 0;
  virtual const NodeReader& nodes() const = 0;
};

// Full offline check of a log directory: every record's CRC, every leaf hash recomputed
// from its entry, every stored node recomputed from its children, index offsets. Returns
// OK or kCorruption naming the first bad index / node and why; a torn tail that Open()
// would cut is reported too. Takes no lock and writes nothing. `progress(done, total)` is
// called about every 1%, in bytes of entries.dat.
struct VerifyReport {
  std::uint64_t entries = 0;
  Hash root{};
};
core::Result<VerifyReport> VerifyLogFiles(
    const std::string& dir,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress = nullptr);

}  // namespace wg::ledger

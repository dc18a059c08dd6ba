#pragma once
// CertIndex: the in-memory image of every worker and certificate that Verify reads.
//
// Layout (docs/adr/0005-in-memory-certificate-index.md): worker records live directly in
// an open-addressing hash table keyed by worker id (linear probing, load <= 1/2, id 0 marks
// an empty slot); each worker heads a singly linked chain of compact 48-byte certificate
// records in a second vector (a worker's certificates are adjacent after a load, which
// scans them in worker order); category and item codes are interned to 16-bit numbers;
// certificate numbers live in one character arena. At 20 M workers and 30 M certificates
// this is about 2.6 GB, and a lookup costs about three cache misses (slot, certificate,
// number).
//
// Thread-safety: none inside. Registry guards it with a shared_mutex (readers share,
// writers exclusive). CertFacts returned by Gather point into the arena and are valid only
// while the caller holds the shared lock.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wg/domain/types.h"
#include "wg/registry/verifier.h"

namespace wg::registry {

class CertIndex {
 public:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;

  void Reserve(std::size_t workers, std::size_t certs);
  void UpsertWorker(const domain::Worker& w);
  // Inserts or replaces the certificate with the same id under its worker. Returns false
  // when the worker is not indexed.
  bool UpsertCertificate(const domain::Certificate& c);

  struct WorkerView {
    std::int64_t id = 0;
    std::int64_t org_id = 0;
    domain::WorkerStatus status = domain::WorkerStatus::kActive;
  };

  // Looks up the worker in `org`; fills `certs` (cleared first). False when the worker
  // is not indexed or belongs to another organization.
  bool Gather(std::int64_t org, std::int64_t worker, WorkerView* view,
              std::vector<CertFacts>* certs) const;

  // Visits every (worker, certificate) pair, optionally only one organization's.
  void ForEach(std::int64_t org_or_zero,
               const std::function<void(const WorkerView&, const CertFacts&)>& fn) const;

  std::size_t workers() const { return worker_count_; }
  std::size_t certificates() const { return live_certs_; }

 private:
  struct WorkerRec {
    std::int64_t id;
    std::int64_t org_id;
    std::uint32_t first_cert;
    std::uint8_t status;
  };
  struct CertRec {
    std::int64_t id;
    std::uint32_t next;
    std::uint32_t number_off;
    std::int32_t issue, expiry, last_review, practice_since;  // days; INT32_MIN = none
    std::uint16_t number_len;
    std::uint16_t category;
    std::uint16_t item;
    std::uint8_t kind;
    std::uint8_t status;
    std::uint8_t flags;  // bit 0: review extension granted
    std::uint8_t violations;
  };
  static_assert(sizeof(CertRec) <= 48);

  WorkerRec* Find(std::int64_t worker);
  const WorkerRec* Find(std::int64_t worker) const;
  WorkerRec* InsertNew(std::int64_t worker);  // caller checked it is absent
  void Rehash(std::size_t capacity);
  std::uint16_t Intern(std::string_view s);
  CertFacts Facts(const CertRec& r) const;
  void Fill(CertRec* r, const domain::Certificate& c);

  std::vector<WorkerRec> table_;  // open addressing; id 0 = empty slot
  std::uint64_t mask_ = 0;
  std::size_t worker_count_ = 0;
  std::vector<CertRec> certs_;
  std::string arena_;
  std::vector<std::string> strings_{""};
  std::unordered_map<std::string, std::uint16_t> string_ids_;
  std::size_t live_certs_ = 0;
};

}  // namespace wg::registry

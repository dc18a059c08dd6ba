#pragma once
// Storage: the files of a regulator directory (docs/formats/regulator.md) — the journal
// of records, the per-enterprise leaf-hash files and the directory lock. It knows framing
// and durability, not what records mean (book.h does).
//
//   journal.wgr   records: u32be length | first 4 bytes of SHA-256(payload) | payload
//   enterprises/<id>/leaves.bin   32-byte leaf hashes, hash i at byte 32·i
//   LOCK          flock()ed exclusively for the duration of each operation
//
// Not thread-safe: Supervision serialises calls, and takes Lock() around each operation.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"
#include "wg/ledger/merkle.h"

namespace wg::regulator::internal {

inline constexpr std::size_t kMaxJournalRecord = 1u << 20;

class Storage {
 public:
  static core::Result<std::unique_ptr<Storage>> Open(const std::string& dir, bool sync);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Holds DIR/LOCK (flock, exclusive) while alive.
  class Lock {
   public:
    Lock(Lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Lock& operator=(Lock&&) = delete;
    ~Lock();

   private:
    friend class Storage;
    explicit Lock(int fd) : fd_(fd) {}
    int fd_;
  };
  core::Result<Lock> Acquire();

  struct Scan {
    std::vector<std::string> records;  // payloads
    std::uint64_t end = 0;             // offset after the last complete record
    std::uint64_t truncated = 0;       // torn bytes cut at the tail
    std::string detail;                // why, when truncated
  };
  // Reads the records from `offset` to the end. A torn tail (an incomplete record, or a
  // last record whose check fails) is cut off; a bad record before the tail is
  // kCorruption naming its offset. Hold the lock.
  core::Result<Scan> ReadJournal(std::uint64_t offset);
  // Appends one record at `end` (the end ReadJournal returned) and syncs.
  core::Status AppendJournal(std::uint64_t end, std::string_view payload);

  // Leaf hashes of enterprise `id`.
  core::Result<std::uint64_t> LeafBytes(std::uint64_t id);  // file size; 0 when absent
  core::Result<std::vector<ledger::Hash>> ReadLeaves(std::uint64_t id, std::uint64_t from,
                                                     std::uint64_t count);
  // Cuts the file to `from` hashes, writes `hashes` there and syncs.
  core::Status WriteLeaves(std::uint64_t id, std::uint64_t from,
                           std::span<const ledger::Hash> hashes);
  core::Status TruncateLeaves(std::uint64_t id, std::uint64_t count);

  const std::string& dir() const { return dir_; }
  std::string LeavesPath(std::uint64_t id) const;

 private:
  Storage(std::string dir, bool sync, int lock_fd, int journal_fd)
      : dir_(std::move(dir)), sync_(sync), lock_fd_(lock_fd), journal_fd_(journal_fd) {}
  std::string dir_;
  bool sync_;
  int lock_fd_;
  int journal_fd_;
};

}  // namespace wg::regulator::internal

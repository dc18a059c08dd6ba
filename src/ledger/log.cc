// EvidenceLog on disk: group commit by one writer thread, recovery on Open(), pread
// readers, and the offline VerifyLogFiles. Byte layout: docs/formats/evidence-log.md.

#include "wg/ledger/log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <span>
#include <system_error>
#include <thread>
#include <utility>

#include "crc32c.h"
#include "wg/core/strings.h"

namespace wg::ledger {
namespace {

using core::Result;
using core::Status;

constexpr char kMagic[6] = {'W', 'G', 'L', 'O', 'G', '1'};
constexpr std::uint8_t kFormatVersion = 1;
constexpr std::size_t kMetaSize = 20;     // magic 6 | version 1 | alg 1 | created i64 | crc u32
constexpr std::size_t kRecordHeader = 8;  // u32be length | u32be CRC-32C(payload)
constexpr std::size_t kIdxRecord = 8;
constexpr std::size_t kNodeRecord = 32;
// Format limit on a record's length field; anything longer is not a record.
constexpr std::uint32_t kMaxRecordPayload = 1u << 30;
constexpr std::size_t kReadChunk = 1 << 20;

// --- Big-endian integers ----------------------------------------------------------------

void PutU32(char* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}
void PutU64(char* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}
std::uint32_t GetU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::uint64_t GetU64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string HexOf(const Hash& h) { return core::ToHex(std::span<const std::uint8_t>(h)); }
std::string Hex32(std::uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// --- POSIX files --------------------------------------------------------------------------

std::string ErrnoText(int e) { return std::error_code(e, std::generic_category()).message(); }

Status IoFailure(std::string_view what, const std::string& path, int e) {
  return Status::IoError(std::string(what) + " " + path + ": " + ErrnoText(e));
}

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

Result<Fd> OpenFile(const std::string& path, int flags, bool must_exist) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == ENOENT && !must_exist) return Fd();
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return IoFailure("open", path, errno);
  }
  return Fd(fd);
}

Result<std::uint64_t> FileSize(const Fd& fd, const std::string& path) {
  if (!fd.valid()) return std::uint64_t{0};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoFailure("fstat", path, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

// Reads exactly n bytes at `off`; a short read means the file is shorter than the
// caller's bookkeeping says, which only damage can cause.
Status PreadFull(const Fd& fd, void* buf, std::size_t n, std::uint64_t off,
                 const std::string& path) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t got = ::pread(fd.get(), p, n, static_cast<off_t>(off));
    if (got < 0) {
      if (errno == EINTR) continue;
      return IoFailure("read", path, errno);
    }
    if (got == 0) {
      return Status::Corruption(path + " ends at offset " + std::to_string(off) +
                                ", before data the log accounts for");
    }
    p += got;
    n -= static_cast<std::size_t>(got);
    off += static_cast<std::uint64_t>(got);
  }
  return Status::Ok();
}

Status PwriteFull(const Fd& fd, const void* buf, std::size_t n, std::uint64_t off,
                  const std::string& path) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t put = ::pwrite(fd.get(), p, n, static_cast<off_t>(off));
    if (put < 0) {
      if (errno == EINTR) continue;
      return IoFailure("write", path, errno);
    }
    p += put;
    n -= static_cast<std::size_t>(put);
    off += static_cast<std::uint64_t>(put);
  }
  return Status::Ok();
}

Status SyncData(const Fd& fd, const std::string& path) {
  while (::fdatasync(fd.get()) != 0) {
    if (errno != EINTR) return IoFailure("fdatasync", path, errno);
  }
  return Status::Ok();
}

Status Truncate(const Fd& fd, std::uint64_t size, const std::string& path) {
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return IoFailure("ftruncate", path, errno);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid()) return IoFailure("open", dir, errno);
  if (::fsync(d.get()) != 0) return IoFailure("fsync", dir, errno);
  return Status::Ok();
}

// Sequential buffered reader (recovery and verification scan whole files).
class SeqReader {
 public:
  SeqReader(const Fd& fd, std::string path, std::uint64_t start, std::uint64_t end)
      : fd_(fd), path_(std::move(path)), pos_(start), end_(end) {}

  std::uint64_t pos() const { return pos_; }
  std::uint64_t remaining() const { return end_ - pos_; }

  // The next n bytes (n <= remaining()), valid until the next call.
  Result<std::string_view> Read(std::size_t n) {
    if (buf_off_ + n > buf_.size()) {
      // Keep the unread bytes, then fill up to a chunk (or the request if larger).
      buf_.erase(0, buf_off_);
      buf_off_ = 0;
      const std::uint64_t file_pos = pos_ + buf_.size();
      const std::size_t want = std::max(n, kReadChunk);
      const std::size_t have = buf_.size();
      const std::size_t extra = static_cast<std::size_t>(
          std::min<std::uint64_t>(want - std::min(want, have), end_ - file_pos));
      if (extra > 0) {
        buf_.resize(have + extra);
        WG_RETURN_IF_ERROR(PreadFull(fd_, buf_.data() + have, extra, file_pos, path_));
      }
      if (n > buf_.size()) {
        return Status::Internal("read past the end of " + path_);
      }
    }
    std::string_view out(buf_.data() + buf_off_, n);
    buf_off_ += n;
    pos_ += n;
    return out;
  }

 private:
  const Fd& fd_;
  std::string path_;
  std::uint64_t pos_;
  std::uint64_t end_;
  std::string buf_;
  std::size_t buf_off_ = 0;
};

// Parses records of entries.dat one after another.
struct ScannedRecord {
  enum class Kind { kRecord, kEnd, kIncomplete, kInvalid } kind = Kind::kEnd;
  std::uint64_t offset = 0;
  std::string_view payload;  // kRecord only; valid until the next Next()
  std::string why;           // kIncomplete / kInvalid
};

class RecordScanner {
 public:
  RecordScanner(const Fd& fd, const std::string& path, std::uint64_t start, std::uint64_t end)
      : in_(fd, path, start, end) {}

  Result<ScannedRecord> Next() {
    ScannedRecord r;
    r.offset = in_.pos();
    if (in_.remaining() == 0) return r;
    if (in_.remaining() < kRecordHeader) {
      r.kind = ScannedRecord::Kind::kIncomplete;
      r.why = "partial record header (" + std::to_string(in_.remaining()) + " of 8 bytes)";
      return r;
    }
    WG_ASSIGN_OR_RETURN(std::string_view header, in_.Read(kRecordHeader));
    const std::uint32_t length = GetU32(header.data());
    const std::uint32_t stored_crc = GetU32(header.data() + 4);
    if (length == 0 || length > kMaxRecordPayload) {
      r.kind = ScannedRecord::Kind::kInvalid;
      r.why = "impossible record length " + std::to_string(length);
      return r;
    }
    if (in_.remaining() < length) {
      r.kind = ScannedRecord::Kind::kIncomplete;
      r.why = "partial record payload (" + std::to_string(in_.remaining()) + " of " +
              std::to_string(length) + " bytes)";
      return r;
    }
    WG_ASSIGN_OR_RETURN(r.payload, in_.Read(length));
    const std::uint32_t crc = internal::Crc32c(r.payload);
    if (crc != stored_crc) {
      r.kind = ScannedRecord::Kind::kInvalid;
      r.why = "CRC-32C mismatch (stored " + Hex32(stored_crc) + ", computed " + Hex32(crc) + ")";
      return r;
    }
    r.kind = ScannedRecord::Kind::kRecord;
    return r;
  }

 private:
  SeqReader in_;
};

// --- log.meta -----------------------------------------------------------------------------

std::string EncodeMeta(HashAlg alg, std::int64_t created_micros) {
  std::string m(kMetaSize, '\0');
  std::memcpy(m.data(), kMagic, sizeof(kMagic));
  m[6] = static_cast<char>(kFormatVersion);
  m[7] = static_cast<char>(alg);
  PutU64(m.data() + 8, static_cast<std::uint64_t>(created_micros));
  PutU32(m.data() + 16, internal::Crc32c(std::string_view(m.data(), 16)));
  return m;
}

Result<HashAlg> DecodeMeta(std::string_view m, const std::string& path) {
  if (m.size() != kMetaSize) {
    return Status::Corruption(path + ": " + std::to_string(m.size()) + " bytes, want " +
                              std::to_string(kMetaSize));
  }
  if (std::memcmp(m.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption(path + ": magic is not WGLOG1");
  }
  const std::uint32_t crc = internal::Crc32c(m.substr(0, 16));
  if (crc != GetU32(m.data() + 16)) {
    return Status::Corruption(path + ": CRC-32C mismatch (stored " + Hex32(GetU32(m.data() + 16)) +
                              ", computed " + Hex32(crc) + ")");
  }
  if (static_cast<std::uint8_t>(m[6]) != kFormatVersion) {
    return Status::FailedPrecondition(path + ": format version " +
                                      std::to_string(static_cast<std::uint8_t>(m[6])) +
                                      " is not supported (want 1)");
  }
  const auto alg = static_cast<std::uint8_t>(m[7]);
  if (alg != static_cast<std::uint8_t>(HashAlg::kSm3) &&
      alg != static_cast<std::uint8_t>(HashAlg::kSha256)) {
    return Status::Corruption(path + ": unknown hash algorithm " + std::to_string(alg));
  }
  return static_cast<HashAlg>(alg);
}

Result<HashAlg> ReadMeta(const std::string& path) {
  WG_ASSIGN_OR_RETURN(Fd fd, OpenFile(path, O_RDONLY, /*must_exist=*/true));
  WG_ASSIGN_OR_RETURN(std::uint64_t size, FileSize(fd, path));
  if (size != kMetaSize) {
    return Status::Corruption(path + ": " + std::to_string(size) + " bytes, want " +
                              std::to_string(kMetaSize));
  }
  std::string m(kMetaSize, '\0');
  WG_RETURN_IF_ERROR(PreadFull(fd, m.data(), m.size(), 0, path));
  return DecodeMeta(m, path);
}

// Written once, atomically: temp file, fsync, rename, fsync of the directory.
Status CreateMeta(const std::string& dir, HashAlg alg, std::int64_t created_micros) {
  const std::string tmp = dir + "/log.meta.tmp", path = dir + "/log.meta";
  {
    WG_ASSIGN_OR_RETURN(Fd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, true));
    const std::string m = EncodeMeta(alg, created_micros);
    WG_RETURN_IF_ERROR(PwriteFull(fd, m.data(), m.size(), 0, tmp));
    if (::fsync(fd.get()) != 0) return IoFailure("fsync", tmp, errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoFailure("rename", tmp, errno);
  return SyncDir(dir);
}

// A NodeReader over a function (recovery reads the file before the log object exists).
class FnNodeReader final : public NodeReader {
 public:
  explicit FnNodeReader(std::function<Result<Hash>(NodeId)> fn) : fn_(std::move(fn)) {}
  Result<Hash> Node(NodeId id) const override { return fn_(id); }

 private:
  std::function<Result<Hash>(NodeId)> fn_;
};

// Leaf count whose stored-node count fits in `nodes` records.
std::uint64_t LeavesCoveredByNodes(std::uint64_t nodes) {
  // StoredNodeCount is increasing; 2n - popcount(n) <= nodes implies n <= (nodes+64)/2.
  std::uint64_t lo = 0, hi = nodes / 2 + 33;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (StoredNodeCount(mid) <= nodes) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Splits leaves [first, first + leaves.size()) into aligned perfect subtrees, largest
// possible first, and hashes each from empty: its nodes in post-order go to `nodes`, its
// (level, root) to `blocks`. TreeAppender::AppendSubtree joins them in order later; the
// work is independent of every other request, so callers do it on their own threads.
void HashBlocks(HashAlg alg, std::uint64_t first, std::span<const Hash> leaves, std::string* nodes,
                std::vector<std::pair<std::uint8_t, Hash>>* blocks) {
  nodes->clear();
  nodes->reserve(2 * leaves.size() * kNodeRecord);
  blocks->clear();
  std::uint64_t at = first;
  std::size_t next = 0;
  while (next < leaves.size()) {
    int level = at == 0 ? 63 : std::countr_zero(at);
    while ((std::uint64_t{1} << level) > leaves.size() - next) --level;
    const std::size_t width = std::size_t{1} << level;
    TreeAppender block(alg);
    for (std::size_t i = next; i < next + width; ++i) block.Append(leaves[i], nodes);
    blocks->emplace_back(static_cast<std::uint8_t>(level), block.Root());
    next += width;
    at += width;
  }
}

// --- The log ------------------------------------------------------------------------------

class DiskLog final : public EvidenceLog {
 public:
  explicit DiskLog(const LogOptions& o) : options_(o), nodes_reader_(*this) {}

  ~DiskLog() override {
    if (writer_.joinable()) {
      {
        std::lock_guard lk(mu_);
        stopping_ = true;
      }
      work_cv_.notify_all();
      writer_.join();
    }
  }

  Status Init();

  HashAlg alg() const override { return alg_; }
  const RecoveryReport& recovery() const override { return report_; }
  std::uint64_t size() const override { return durable_size_.load(std::memory_order_acquire); }

  Result<std::uint64_t> Append(std::vector<std::string> entries,
                               std::optional<std::uint64_t> expected_first) override;
  Result<std::string> Entry(std::uint64_t index) const override;
  Result<Hash> LeafHash(std::uint64_t index) const override;
  Result<Hash> Root(std::uint64_t size) const override;
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size) const override;
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size,
                                             std::uint64_t new_size) const override;
  const NodeReader& nodes() const override { return nodes_reader_; }

 private:
  // Reads stored nodes of the durable tree.
  class DurableNodes final : public NodeReader {
   public:
    explicit DurableNodes(const DiskLog& log) : log_(log) {}
    Result<Hash> Node(NodeId id) const override {
      const std::uint64_t size = log_.size();
      if (id.level >= 64 || (id.index + 1) > (size >> id.level)) {
        return Status::NotFound("node " + std::to_string(id.level) + "/" +
                                std::to_string(id.index) + " is not in the log of " +
                                std::to_string(size) + " entries");
      }
      return log_.ReadNode(PostOrderPosition(id));
    }

   private:
    const DiskLog& log_;
  };

  // One Append() call, on its caller's stack until `done`.
  struct Request {
    std::vector<std::string> entries;
    std::vector<Hash> leaves;  // hashed by the caller before queueing
    std::optional<std::uint64_t> expected_first;
    std::size_t bytes = 0;
    Status status;
    std::uint64_t first = 0;
    // The nodes inside the aligned perfect subtrees ("blocks") that [first, first+n)
    // splits into, in post-order, and each block's level and root (HashBlocks).
    std::string block_nodes;
    std::vector<std::pair<std::uint8_t, Hash>> blocks;
    bool assigned = false;     // guarded by mu_: `first` is set, the caller hashes the blocks
    bool nodes_ready = false;  // guarded by mu_: the caller has hashed them
    bool done = false;         // guarded by mu_: `status` and `first` are final
  };
  // Requests this small have their blocks hashed by the writer: waking the caller would
  // cost more than the hashing.
  static constexpr std::size_t kCallerHashMin = 32;

  std::string PathOf(const char* name) const { return options_.dir + "/" + name; }
  Result<Hash> ReadNode(std::uint64_t position) const;
  Result<std::uint64_t> ReadOffset(std::uint64_t index) const;
  Status Recover(std::uint64_t entries_size, std::uint64_t idx_size, std::uint64_t nodes_size);
  void WriterLoop();
  void WriteBatch(std::vector<Request*>& batch);

  const LogOptions options_;
  HashAlg alg_ = HashAlg::kSm3;
  RecoveryReport report_;
  std::string entries_path_, idx_path_, nodes_path_;
  Fd lock_, entries_, idx_, nodes_;
  DurableNodes nodes_reader_;
  std::atomic<std::uint64_t> durable_size_{0};
  std::atomic<std::uint64_t> durable_end_{0};  // entries.dat bytes; stored before the size

  // Read-only opens cannot repair files, so what recovery would have rewritten is kept
  // here instead (empty for writable logs, whose files are repaired in Open()).
  std::map<std::uint64_t, std::uint64_t> offset_patch_;
  std::map<std::uint64_t, Hash> node_patch_;

  // Writer-thread state.
  TreeAppender appender_{HashAlg::kSm3};
  std::uint64_t next_index_ = 0;
  std::uint64_t entries_end_ = 0;
  std::string entries_buf_, idx_buf_, nodes_buf_;

  // Queue shared by callers and the writer.
  std::mutex mu_;
  std::condition_variable work_cv_;   // writer waits for requests
  std::condition_variable done_cv_;   // callers wait for `assigned` / `done`
  std::condition_variable nodes_cv_;  // writer waits for `nodes_ready`
  std::deque<Request*> queue_;
  bool stopping_ = false;
  Status failed_;  // sticky: set when a write or sync failed
  std::thread writer_;
};

Status DiskLog::Init() {
  const std::string& dir = options_.dir;
  if (dir.empty()) return Status::InvalidArgument("log directory is empty", "dir");
  if (options_.max_entry_bytes == 0 || options_.max_entry_bytes > kMaxRecordPayload) {
    return Status::InvalidArgument(
        "max_entry_bytes must be in 1.." + std::to_string(kMaxRecordPayload), "max_entry_bytes");
  }
  entries_path_ = PathOf("entries.dat");
  idx_path_ = PathOf("entries.idx");
  nodes_path_ = PathOf("tree.nodes");
  const bool ro = options_.read_only;

  if (!ro) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IoError("create " + dir + ": " + ec.message());
    WG_ASSIGN_OR_RETURN(lock_, OpenFile(PathOf("LOCK"), O_RDWR | O_CREAT, true));
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status::Unavailable("log " + dir + " is locked by another writer (LOCK held)");
      }
      return IoFailure("flock", PathOf("LOCK"), errno);
    }
  }

  // log.meta: created with the requested algorithm on first open; an existing log keeps
  // its own. A missing meta next to existing entries is damage, not a new log.
  const std::string meta_path = PathOf("log.meta");
  if (::access(meta_path.c_str(), F_OK) != 0) {
    if (ro) return Status::NotFound("no evidence log in " + dir + " (log.meta missing)");
    struct stat st {};
    if (::stat(entries_path_.c_str(), &st) == 0 && st.st_size > 0) {
      return Status::Corruption(meta_path + " is missing but entries.dat holds data");
    }
    const core::SystemClock system_clock;
    const core::Clock& clock = options_.clock != nullptr ? *options_.clock : system_clock;
    WG_RETURN_IF_ERROR(CreateMeta(dir, options_.alg, clock.Now().micros));
  }
  WG_ASSIGN_OR_RETURN(alg_, ReadMeta(meta_path));

  const int flags = ro ? O_RDONLY : (O_RDWR | O_CREAT);
  WG_ASSIGN_OR_RETURN(entries_, OpenFile(entries_path_, flags, false));
  WG_ASSIGN_OR_RETURN(idx_, OpenFile(idx_path_, flags, false));
  WG_ASSIGN_OR_RETURN(nodes_, OpenFile(nodes_path_, flags, false));
  if (!ro) WG_RETURN_IF_ERROR(SyncDir(dir));

  WG_ASSIGN_OR_RETURN(std::uint64_t entries_size, FileSize(entries_, entries_path_));
  WG_ASSIGN_OR_RETURN(std::uint64_t idx_size, FileSize(idx_, idx_path_));
  WG_ASSIGN_OR_RETURN(std::uint64_t nodes_size, FileSize(nodes_, nodes_path_));
  WG_RETURN_IF_ERROR(Recover(entries_size, idx_size, nodes_size));

  if (!ro) {
    WG_ASSIGN_OR_RETURN(appender_, TreeAppender::Resume(alg_, report_.size, nodes_reader_));
    next_index_ = report_.size;
    writer_ = std::thread([this] { WriterLoop(); });
  }
  return Status::Ok();
}

// Recovery (docs/formats/evidence-log.md, "Recovery"). Each batch is written and synced
// file by file, entries.dat first, then tree.nodes, then entries.idx, and the next batch
// starts only after all three are durable. Hence:
//  * if entries.idx or tree.nodes reaches past an invalid record, that record was durable
//    before they were written: it is damage (kCorruption), not a torn tail;
//  * a correct, non-zero index entry for record i proves the nodes of every leaf up to i
//    durable; the nodes of later leaves are recomputed from their records;
//  * an index entry that reads as zero was never written (or was wiped) and is rebuilt;
//    a non-zero entry that disagrees with the records is damage.
// entries.dat is the truth: idx and nodes are cut to its complete records and rebuilt
// where they lack them. Repairs are applied in the same order as writes (entries, nodes,
// index, each synced), so a crash during recovery leaves a state the next Open() repairs.
Status DiskLog::Recover(std::uint64_t entries_size, std::uint64_t idx_size,
                        std::uint64_t nodes_size) {
  const bool ro = options_.read_only;
  const std::uint64_t idx_count = idx_size / kIdxRecord;
  const std::uint64_t nodes_count = nodes_size / kNodeRecord;
  std::vector<std::string> notes;

  // Pass 1: every record's CRC; the index against the record offsets.
  RecordScanner scan(entries_, entries_path_, 0, entries_size);
  SeqReader idx_in(idx_, idx_path_, 0, idx_count * kIdxRecord);
  std::uint64_t n = 0;                 // complete, valid records
  std::uint64_t end = 0;               // offset just after record n-1
  std::uint64_t trusted_by_index = 0;  // leaves whose nodes the index proves durable
  std::vector<std::pair<std::uint64_t, std::uint64_t>> zeroed;  // (record, offset)
  std::vector<std::uint64_t> unindexed;                         // offsets of records n >= idx_count
  std::vector<std::uint64_t> every_1024;  // offset of record 1024k, to find records again
  ScannedRecord stop;
  while (true) {
    WG_ASSIGN_OR_RETURN(ScannedRecord r, scan.Next());
    if (r.kind != ScannedRecord::Kind::kRecord) {
      stop = std::move(r);
      break;
    }
    if (n % 1024 == 0) every_1024.push_back(r.offset);
    if (n < idx_count) {
      WG_ASSIGN_OR_RETURN(std::string_view e, idx_in.Read(kIdxRecord));
      const std::uint64_t stored = GetU64(e.data());
      if (stored == r.offset) {
        if (n > 0) trusted_by_index = n + 1;
      } else if (stored == 0) {
        zeroed.emplace_back(n, r.offset);
      } else {
        return Status::Corruption("entries.idx entry " + std::to_string(n) + " holds offset " +
                                  std::to_string(stored) + ", but record " + std::to_string(n) +
                                  " starts at offset " + std::to_string(r.offset));
      }
    } else {
      unindexed.push_back(r.offset);
    }
    end = r.offset + kRecordHeader + r.payload.size();
    ++n;
  }
  if (stop.kind == ScannedRecord::Kind::kInvalid &&
      (idx_count > n || nodes_count > StoredNodeCount(n))) {
    return Status::Corruption("entries.dat record " + std::to_string(n) + " at offset " +
                              std::to_string(stop.offset) + ": " + stop.why +
                              "; entries.idx or tree.nodes already cover it, so it had been "
                              "made durable: damage, not a torn tail");
  }
  if (stop.kind != ScannedRecord::Kind::kEnd) {
    report_.truncated_bytes = entries_size - end;
    notes.push_back("entries.dat: cut " + std::to_string(report_.truncated_bytes) +
                    " torn bytes at offset " + std::to_string(end) + " (" + stop.why + ")");
    if (!ro) {
      WG_RETURN_IF_ERROR(Truncate(entries_, end, entries_path_));
      WG_RETURN_IF_ERROR(SyncData(entries_, entries_path_));
    }
  }

  // Pass 2: recompute the nodes of the leaves not proven durable, compare, repair.
  const std::uint64_t trusted = std::min({trusted_by_index, LeavesCoveredByNodes(nodes_count), n});
  const std::uint64_t want_nodes = StoredNodeCount(n);
  if (trusted < n) {
    const FnNodeReader stored_nodes([this, nodes_count](NodeId id) -> Result<Hash> {
      const std::uint64_t pos = PostOrderPosition(id);
      if (pos >= nodes_count) return Status::Internal("recovery read past tree.nodes");
      Hash h;
      WG_RETURN_IF_ERROR(PreadFull(nodes_, h.data(), h.size(), pos * kNodeRecord, nodes_path_));
      return h;
    });
    WG_ASSIGN_OR_RETURN(TreeAppender rebuild, TreeAppender::Resume(alg_, trusted, stored_nodes));
    RecordScanner again(entries_, entries_path_, every_1024[trusted / 1024], end);
    for (std::uint64_t i = trusted / 1024 * 1024; i < trusted; ++i) {
      WG_ASSIGN_OR_RETURN(ScannedRecord skip, again.Next());
      (void)skip;
    }
    std::string computed, stored;
    std::uint64_t first_pos = StoredNodeCount(trusted);
    auto flush = [&]() -> Status {
      const std::uint64_t count = computed.size() / kNodeRecord;
      const std::uint64_t have =
          first_pos < nodes_count ? std::min(count, nodes_count - first_pos) : 0;
      stored.resize(have * kNodeRecord);
      if (have > 0) {
        WG_RETURN_IF_ERROR(
            PreadFull(nodes_, stored.data(), stored.size(), first_pos * kNodeRecord, nodes_path_));
      }
      std::uint64_t differing = count - have;
      for (std::uint64_t k = 0; k < have; ++k) {
        if (std::memcmp(stored.data() + k * kNodeRecord, computed.data() + k * kNodeRecord,
                        kNodeRecord) != 0) {
          ++differing;
          if (ro) {
            Hash h;
            std::memcpy(h.data(), computed.data() + k * kNodeRecord, kNodeRecord);
            node_patch_[first_pos + k] = h;
          }
        }
      }
      if (ro) {
        for (std::uint64_t k = have; k < count; ++k) {
          Hash h;
          std::memcpy(h.data(), computed.data() + k * kNodeRecord, kNodeRecord);
          node_patch_[first_pos + k] = h;
        }
      } else if (differing > 0) {
        WG_RETURN_IF_ERROR(PwriteFull(nodes_, computed.data(), computed.size(),
                                      first_pos * kNodeRecord, nodes_path_));
      }
      report_.rebuilt_nodes += differing;
      first_pos += count;
      computed.clear();
      return Status::Ok();
    };
    for (std::uint64_t i = trusted; i < n; ++i) {
      WG_ASSIGN_OR_RETURN(ScannedRecord r, again.Next());
      if (r.kind != ScannedRecord::Kind::kRecord) {
        return Status::Internal("entries.dat changed during recovery at record " +
                                std::to_string(i));
      }
      rebuild.Append(HashLeaf(alg_, r.payload), &computed);
      if (computed.size() >= kReadChunk) WG_RETURN_IF_ERROR(flush());
    }
    WG_RETURN_IF_ERROR(flush());
  }
  if (report_.rebuilt_nodes > 0) {
    notes.push_back("tree.nodes: rebuilt " + std::to_string(report_.rebuilt_nodes) +
                    " node records from entries.dat");
  }
  if (nodes_size > want_nodes * kNodeRecord) {
    notes.push_back("tree.nodes: cut " + std::to_string(nodes_size - want_nodes * kNodeRecord) +
                    " bytes past the last record's nodes");
  }
  if (!ro && (report_.rebuilt_nodes > 0 || nodes_size != want_nodes * kNodeRecord)) {
    if (nodes_size > want_nodes * kNodeRecord) {
      WG_RETURN_IF_ERROR(Truncate(nodes_, want_nodes * kNodeRecord, nodes_path_));
    }
    WG_RETURN_IF_ERROR(SyncData(nodes_, nodes_path_));
  }

  // The index, last: its entries vouch for the nodes written above.
  report_.rebuilt_index = zeroed.size() + unindexed.size();
  if (report_.rebuilt_index > 0) {
    notes.push_back("entries.idx: rebuilt " + std::to_string(report_.rebuilt_index) +
                    " offsets from entries.dat");
  }
  if (idx_size > n * kIdxRecord) {
    notes.push_back("entries.idx: cut " + std::to_string(idx_size - n * kIdxRecord) +
                    " bytes past the last record");
  }
  if (ro) {
    for (auto [record, offset] : zeroed) offset_patch_[record] = offset;
    for (std::size_t k = 0; k < unindexed.size(); ++k) offset_patch_[idx_count + k] = unindexed[k];
  } else if (report_.rebuilt_index > 0 || idx_size != n * kIdxRecord) {
    char e[kIdxRecord];
    for (auto [record, offset] : zeroed) {
      PutU64(e, offset);
      WG_RETURN_IF_ERROR(PwriteFull(idx_, e, sizeof(e), record * kIdxRecord, idx_path_));
    }
    std::string tail(unindexed.size() * kIdxRecord, '\0');
    for (std::size_t k = 0; k < unindexed.size(); ++k) {
      PutU64(tail.data() + k * kIdxRecord, unindexed[k]);
    }
    if (!tail.empty()) {
      WG_RETURN_IF_ERROR(
          PwriteFull(idx_, tail.data(), tail.size(), idx_count * kIdxRecord, idx_path_));
    }
    if (idx_size > n * kIdxRecord) WG_RETURN_IF_ERROR(Truncate(idx_, n * kIdxRecord, idx_path_));
    WG_RETURN_IF_ERROR(SyncData(idx_, idx_path_));
  }

  report_.size = n;
  entries_end_ = end;
  for (std::size_t k = 0; k < notes.size(); ++k) {
    if (k > 0) report_.detail += "; ";
    report_.detail += notes[k];
  }
  durable_end_.store(end, std::memory_order_release);
  durable_size_.store(n, std::memory_order_release);
  return Status::Ok();
}

Result<Hash> DiskLog::ReadNode(std::uint64_t position) const {
  if (!node_patch_.empty()) {
    if (auto it = node_patch_.find(position); it != node_patch_.end()) return it->second;
  }
  Hash h;
  WG_RETURN_IF_ERROR(PreadFull(nodes_, h.data(), h.size(), position * kNodeRecord, nodes_path_));
  return h;
}

Result<std::uint64_t> DiskLog::ReadOffset(std::uint64_t index) const {
  if (!offset_patch_.empty()) {
    if (auto it = offset_patch_.find(index); it != offset_patch_.end()) return it->second;
  }
  char e[kIdxRecord];
  WG_RETURN_IF_ERROR(PreadFull(idx_, e, sizeof(e), index * kIdxRecord, idx_path_));
  return GetU64(e);
}

Result<std::string> DiskLog::Entry(std::uint64_t index) const {
  const std::uint64_t n = size();
  if (index >= n) {
    return Status::NotFound(
        "entry " + std::to_string(index) + " is beyond the log size " + std::to_string(n), "index");
  }
  // The record must end where the next one starts (or, for the last, within the durable
  // bytes), so a damaged length is reported instead of trusted.
  const std::uint64_t durable_end = durable_end_.load(std::memory_order_acquire);
  WG_ASSIGN_OR_RETURN(std::uint64_t offset, ReadOffset(index));
  std::uint64_t next = durable_end;
  if (index + 1 < n) {
    WG_ASSIGN_OR_RETURN(next, ReadOffset(index + 1));
  }
  const std::string where =
      "entries.dat record " + std::to_string(index) + " at offset " + std::to_string(offset);
  if (next < offset + kRecordHeader + 1 || next > durable_end) {
    return Status::Corruption(where + ": entries.idx places the next record at " +
                              std::to_string(next));
  }
  char header[kRecordHeader];
  WG_RETURN_IF_ERROR(PreadFull(entries_, header, sizeof(header), offset, entries_path_));
  const std::uint32_t length = GetU32(header);
  const std::uint64_t room = next - offset - kRecordHeader;
  if (length == 0 || length > room || (index + 1 < n && length != room)) {
    return Status::Corruption(where + ": record length " + std::to_string(length) +
                              " does not fit the " + std::to_string(room) +
                              " bytes before the next record");
  }
  std::string payload(length, '\0');
  WG_RETURN_IF_ERROR(
      PreadFull(entries_, payload.data(), length, offset + kRecordHeader, entries_path_));
  const std::uint32_t crc = internal::Crc32c(payload);
  if (crc != GetU32(header + 4)) {
    return Status::Corruption(where + ": CRC-32C mismatch (stored " + Hex32(GetU32(header + 4)) +
                              ", computed " + Hex32(crc) + ")");
  }
  return payload;
}

Result<Hash> DiskLog::LeafHash(std::uint64_t index) const {
  const std::uint64_t n = size();
  if (index >= n) {
    return Status::NotFound(
        "entry " + std::to_string(index) + " is beyond the log size " + std::to_string(n), "index");
  }
  return ReadNode(PostOrderPosition(NodeId{0, index}));
}

Status CheckSize(std::uint64_t size, std::uint64_t log_size, const char* field) {
  if (size > log_size) {
    return Status::InvalidArgument(
        "tree size " + std::to_string(size) + " is beyond the log size " + std::to_string(log_size),
        field);
  }
  return Status::Ok();
}

Result<Hash> DiskLog::Root(std::uint64_t tree_size) const {
  WG_RETURN_IF_ERROR(CheckSize(tree_size, size(), "size"));
  return RootAt(alg_, tree_size, nodes_reader_);
}

Result<std::vector<Hash>> DiskLog::InclusionProof(std::uint64_t index,
                                                  std::uint64_t tree_size) const {
  WG_RETURN_IF_ERROR(CheckSize(tree_size, size(), "size"));
  return ledger::InclusionProof(alg_, index, tree_size, nodes_reader_);
}

Result<std::vector<Hash>> DiskLog::ConsistencyProof(std::uint64_t old_size,
                                                    std::uint64_t new_size) const {
  WG_RETURN_IF_ERROR(CheckSize(new_size, size(), "new_size"));
  return ledger::ConsistencyProof(alg_, old_size, new_size, nodes_reader_);
}

Result<std::uint64_t> DiskLog::Append(std::vector<std::string> entries,
                                      std::optional<std::uint64_t> expected_first) {
  if (options_.read_only) return Status::FailedPrecondition("log opened read-only");
  if (entries.empty()) return Status::InvalidArgument("no entries to append", "entries");
  Request req;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::size_t len = entries[i].size();
    if (len == 0 || len > options_.max_entry_bytes) {
      return Status::InvalidArgument("entry " + std::to_string(i) + " is " + std::to_string(len) +
                                         " bytes; entries must be 1.." +
                                         std::to_string(options_.max_entry_bytes) + " bytes",
                                     "entry");
    }
    req.bytes += kRecordHeader + len + kIdxRecord + 2 * kNodeRecord;
  }
  if (req.bytes > options_.max_batch_bytes) {
    return Status::InvalidArgument("a group of " + std::to_string(req.bytes) +
                                       " bytes exceeds max_batch_bytes " +
                                       std::to_string(options_.max_batch_bytes),
                                   "entries");
  }
  // Leaf hashes on the caller's thread: appenders hash in parallel, and the writer only
  // does what depends on the order (CRC, node hashes, I/O).
  req.leaves.reserve(entries.size());
  for (const std::string& e : entries) req.leaves.push_back(HashLeaf(alg_, e));
  req.entries = std::move(entries);
  req.expected_first = expected_first;

  std::unique_lock lk(mu_);
  if (!failed_.ok()) return failed_;
  if (stopping_) return Status::Unavailable("log is closing");
  queue_.push_back(&req);
  work_cv_.notify_one();
  done_cv_.wait(lk, [&] { return req.assigned || req.done; });
  if (req.assigned) {
    // The writer has placed the group at `first` and is writing entries.dat; meanwhile
    // this thread hashes the group's share of the tree.
    lk.unlock();
    HashBlocks(alg_, req.first, req.leaves, &req.block_nodes, &req.blocks);
    lk.lock();
    req.nodes_ready = true;
    nodes_cv_.notify_one();
    done_cv_.wait(lk, [&] { return req.done; });
  }
  if (!req.status.ok()) return req.status;
  return req.first;
}

void DiskLog::WriterLoop() {
  std::vector<Request*> batch;
  while (true) {
    {
      std::unique_lock lk(mu_);
      work_cv_.wait(lk, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued was written
      std::size_t bytes = 0;
      while (!queue_.empty()) {
        Request* r = queue_.front();
        if (!batch.empty() && bytes + r->bytes > options_.max_batch_bytes) break;
        bytes += r->bytes;
        batch.push_back(r);
        queue_.pop_front();
      }
    }
    WriteBatch(batch);
    {
      std::lock_guard lk(mu_);
      for (Request* r : batch) r->done = true;
    }
    // The condition variable belongs to the log, so notifying after the unlock is safe
    // even though each request dies as soon as its caller sees `done`.
    done_cv_.notify_all();
    batch.clear();
  }
}

void DiskLog::WriteBatch(std::vector<Request*>& batch) {
  Status failed;
  {
    std::lock_guard lk(mu_);
    failed = failed_;
  }
  if (!failed.ok()) {
    for (Request* r : batch) r->status = failed;
    return;
  }
  // Place each group; a group whose expected_first no longer holds is not written.
  std::uint64_t next = next_index_;
  std::vector<Request*> written;
  for (Request* r : batch) {
    if (r->expected_first.has_value() && *r->expected_first != next) {
      r->status =
          Status::FailedPrecondition("log size is " + std::to_string(next) + ", not the expected " +
                                         std::to_string(*r->expected_first),
                                     "expected_first");
      continue;
    }
    r->first = next;
    next += r->entries.size();
    written.push_back(r);
  }
  if (written.empty()) return;
  bool callers_hash = false;
  {
    std::lock_guard lk(mu_);
    for (Request* r : written) {
      if (r->entries.size() >= kCallerHashMin) r->assigned = callers_hash = true;
    }
  }
  if (callers_hash) done_cv_.notify_all();

  // While the callers hash their blocks: records and index entries, then entries.dat.
  entries_buf_.clear();
  idx_buf_.clear();
  nodes_buf_.clear();
  std::uint64_t offset = entries_end_;
  for (Request* r : written) {
    for (const std::string& e : r->entries) {
      char header[kRecordHeader];
      PutU32(header, static_cast<std::uint32_t>(e.size()));
      PutU32(header + 4, internal::Crc32c(e));
      entries_buf_.append(header, sizeof(header));
      entries_buf_.append(e);
      char idx[kIdxRecord];
      PutU64(idx, offset);
      idx_buf_.append(idx, sizeof(idx));
      offset += kRecordHeader + e.size();
    }
    if (!r->assigned) HashBlocks(alg_, r->first, r->leaves, &r->block_nodes, &r->blocks);
  }
  // entries.dat, then tree.nodes, then entries.idx, each durable before the next is
  // written: the order recovery relies on (see Recover()).
  Status s =
      PwriteFull(entries_, entries_buf_.data(), entries_buf_.size(), entries_end_, entries_path_);
  if (s.ok() && options_.sync) s = SyncData(entries_, entries_path_);
  {
    // Wait even after a failure: the callers are still using their requests.
    std::unique_lock lk(mu_);
    nodes_cv_.wait(lk, [&] {
      return std::all_of(written.begin(), written.end(),
                         [](const Request* r) { return !r->assigned || r->nodes_ready; });
    });
  }
  if (s.ok()) {
    for (Request* r : written) {
      std::size_t at = 0;
      for (const auto& [level, root] : r->blocks) {
        const std::size_t len = ((std::size_t{2} << level) - 1) * kNodeRecord;
        nodes_buf_.append(r->block_nodes, at, len);
        at += len;
        appender_.AppendSubtree(level, root, &nodes_buf_);
      }
    }
    const std::uint64_t nodes_at = StoredNodeCount(next_index_) * kNodeRecord;
    s = PwriteFull(nodes_, nodes_buf_.data(), nodes_buf_.size(), nodes_at, nodes_path_);
  }
  if (s.ok() && options_.sync) s = SyncData(nodes_, nodes_path_);
  if (s.ok()) {
    s = PwriteFull(idx_, idx_buf_.data(), idx_buf_.size(), next_index_ * kIdxRecord, idx_path_);
  }
  if (s.ok() && options_.sync) s = SyncData(idx_, idx_path_);
  if (!s.ok()) {
    // After a failed write or fdatasync the kernel may have dropped the dirty pages, so
    // what is on disk is unknown: stop accepting appends until a reopen recovers.
    Status sticky =
        Status::IoError(s.message() + "; the log accepts no more appends until it is reopened");
    {
      std::lock_guard lk(mu_);
      failed_ = sticky;
    }
    for (Request* r : written) r->status = sticky;
    return;
  }
  next_index_ = next;
  entries_end_ = offset;
  durable_end_.store(offset, std::memory_order_release);
  durable_size_.store(next, std::memory_order_release);
}

}  // namespace

core::Result<std::unique_ptr<EvidenceLog>> EvidenceLog::Open(const LogOptions& options) {
  auto log = std::make_unique<DiskLog>(options);
  WG_RETURN_IF_ERROR(log->Init());
  return std::unique_ptr<EvidenceLog>(std::move(log));
}

// --- Offline verification ---------------------------------------------------------------

core::Result<VerifyReport> VerifyLogFiles(
    const std::string& dir, const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const std::string meta_path = dir + "/log.meta", entries_path = dir + "/entries.dat",
                    idx_path = dir + "/entries.idx", nodes_path = dir + "/tree.nodes";
  if (::access(meta_path.c_str(), F_OK) != 0) {
    return Status::NotFound("no evidence log in " + dir + " (log.meta missing)");
  }
  WG_ASSIGN_OR_RETURN(HashAlg alg, ReadMeta(meta_path));
  WG_ASSIGN_OR_RETURN(Fd entries, OpenFile(entries_path, O_RDONLY, false));
  WG_ASSIGN_OR_RETURN(Fd idx, OpenFile(idx_path, O_RDONLY, false));
  WG_ASSIGN_OR_RETURN(Fd nodes, OpenFile(nodes_path, O_RDONLY, false));
  WG_ASSIGN_OR_RETURN(std::uint64_t entries_size, FileSize(entries, entries_path));
  WG_ASSIGN_OR_RETURN(std::uint64_t idx_size, FileSize(idx, idx_path));
  WG_ASSIGN_OR_RETURN(std::uint64_t nodes_size, FileSize(nodes, nodes_path));
  if (idx_size % kIdxRecord != 0) {
    return Status::Corruption("entries.idx: size " + std::to_string(idx_size) +
                              " is not a multiple of 8");
  }
  if (nodes_size % kNodeRecord != 0) {
    return Status::Corruption("tree.nodes: size " + std::to_string(nodes_size) +
                              " is not a multiple of 32");
  }
  const std::uint64_t idx_count = idx_size / kIdxRecord;
  const std::uint64_t nodes_count = nodes_size / kNodeRecord;

  RecordScanner scan(entries, entries_path, 0, entries_size);
  SeqReader idx_in(idx, idx_path, 0, idx_size);
  SeqReader nodes_in(nodes, nodes_path, 0, nodes_size);
  TreeAppender tree(alg);
  std::string computed;
  std::uint64_t n = 0;
  std::uint64_t next_progress = 0;
  const std::uint64_t step = std::max<std::uint64_t>(entries_size / 100, 1);
  while (true) {
    WG_ASSIGN_OR_RETURN(ScannedRecord r, scan.Next());
    if (r.kind == ScannedRecord::Kind::kEnd) break;
    const std::string where =
        "entries.dat record " + std::to_string(n) + " at offset " + std::to_string(r.offset);
    if (r.kind != ScannedRecord::Kind::kRecord) {
      return Status::Corruption(where + ": " + r.why +
                                (r.kind == ScannedRecord::Kind::kIncomplete
                                     ? " (a torn tail; Open() would cut it)"
                                     : ""));
    }
    if (n >= idx_count) {
      return Status::Corruption("entries.idx: no offset for record " + std::to_string(n) +
                                " (it holds " + std::to_string(idx_count) + ")");
    }
    WG_ASSIGN_OR_RETURN(std::string_view e, idx_in.Read(kIdxRecord));
    if (GetU64(e.data()) != r.offset) {
      return Status::Corruption("entries.idx entry " + std::to_string(n) + ": offset " +
                                std::to_string(GetU64(e.data())) + ", want " +
                                std::to_string(r.offset));
    }
    computed.clear();
    tree.Append(HashLeaf(alg, r.payload), &computed);
    // The records just completed: the leaf, then one parent per trailing one bit of n.
    const std::uint64_t first_pos = StoredNodeCount(n);
    const std::uint64_t count = computed.size() / kNodeRecord;
    if (first_pos + count > nodes_count) {
      return Status::Corruption("tree.nodes: holds " + std::to_string(nodes_count) +
                                " nodes, but entry " + std::to_string(n) + " needs " +
                                std::to_string(first_pos + count));
    }
    WG_ASSIGN_OR_RETURN(std::string_view stored, nodes_in.Read(count * kNodeRecord));
    for (std::uint64_t k = 0; k < count; ++k) {
      if (std::memcmp(stored.data() + k * kNodeRecord, computed.data() + k * kNodeRecord,
                      kNodeRecord) == 0) {
        continue;
      }
      Hash got, want;
      std::memcpy(got.data(), stored.data() + k * kNodeRecord, kNodeRecord);
      std::memcpy(want.data(), computed.data() + k * kNodeRecord, kNodeRecord);
      const std::string what = k == 0 ? "leaf hash of entry " + std::to_string(n)
                                      : "node level " + std::to_string(k) + " index " +
                                            std::to_string(n >> k) + " (completed by entry " +
                                            std::to_string(n) + ")";
      return Status::Corruption("tree.nodes: " + what + " at position " +
                                std::to_string(first_pos + k) + ": stored " + HexOf(got) +
                                ", computed " + HexOf(want));
    }
    ++n;
    const std::uint64_t done = r.offset + kRecordHeader + r.payload.size();
    if (progress && done >= next_progress) {
      progress(done, entries_size);
      next_progress = done + step;
    }
  }
  if (idx_count != n) {
    return Status::Corruption("entries.idx: holds " + std::to_string(idx_count) + " offsets for " +
                              std::to_string(n) + " records");
  }
  if (nodes_count != StoredNodeCount(n)) {
    return Status::Corruption("tree.nodes: holds " + std::to_string(nodes_count) + " nodes, want " +
                              std::to_string(StoredNodeCount(n)) + " for " + std::to_string(n) +
                              " records");
  }
  if (progress) progress(entries_size, entries_size);
  return VerifyReport{n, tree.Root()};
}

}  // namespace wg::ledger

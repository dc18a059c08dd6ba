#include "storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "wg/core/file.h"
#include "wg/crypto/crypto.h"

namespace wg::regulator::internal {

using core::Result;
using core::Status;
namespace fs = std::filesystem;

namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

void PutU32(std::string* out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

std::uint32_t GetU32(std::string_view b) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(b[i]);
  return v;
}

std::string Check(std::string_view payload) {
  crypto::Digest32 d = crypto::Sha256(payload);
  return std::string(reinterpret_cast<const char*>(d.data()), 4);
}

Status PreadAll(int fd, char* buf, std::size_t n, std::uint64_t offset, const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno("cannot read", path));
    }
    if (r == 0) return Status::IoError(path + ": unexpected end of file");
    done += static_cast<std::size_t>(r);
  }
  return Status::Ok();
}

Status PwriteAll(int fd, std::string_view data, std::uint64_t offset, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t w =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno("cannot write", path));
    }
    done += static_cast<std::size_t>(w);
  }
  return Status::Ok();
}

Result<std::uint64_t> FileSize(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::IoError(Errno("cannot stat", path));
  return static_cast<std::uint64_t>(st.st_size);
}

// Opens (creating) a file; a new file's directory entry is synced.
Result<int> OpenFile(const std::string& path, int flags, bool sync) {
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(Errno("cannot open", path));
  if (!existed && sync) {
    Status s = core::SyncDir(fs::path(path).parent_path().string());
    if (!s.ok()) {
      ::close(fd);
      return s;
    }
  }
  return fd;
}

}  // namespace

Storage::Lock::~Lock() {
  if (fd_ >= 0) ::flock(fd_, LOCK_UN);
}

Storage::~Storage() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<Storage>> Storage::Open(const std::string& dir, bool sync) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "enterprises", ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  WG_ASSIGN_OR_RETURN(int lock_fd, OpenFile(dir + "/LOCK", O_RDWR | O_CREAT, sync));
  auto journal = OpenFile(dir + "/journal.wgr", O_RDWR | O_CREAT, sync);
  if (!journal.has_value()) {
    ::close(lock_fd);
    return journal.error();
  }
  return std::unique_ptr<Storage>(new Storage(dir, sync, lock_fd, *journal));
}

Result<Storage::Lock> Storage::Acquire() {
  while (::flock(lock_fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return Status::IoError(Errno("cannot lock", dir_ + "/LOCK"));
  }
  return Lock(lock_fd_);
}

Result<Storage::Scan> Storage::ReadJournal(std::uint64_t offset) {
  const std::string path = dir_ + "/journal.wgr";
  WG_ASSIGN_OR_RETURN(std::uint64_t size, FileSize(journal_fd_, path));
  Scan scan;
  scan.end = offset;
  if (size < offset) {
    return Status::Corruption(path + " shrank to " + std::to_string(size) + " bytes below " +
                              std::to_string(offset) + " already read");
  }
  std::string data(static_cast<std::size_t>(size - offset), '\0');
  if (!data.empty())
    WG_RETURN_IF_ERROR(PreadAll(journal_fd_, data.data(), data.size(), offset, path));
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t left = data.size() - pos;
    const std::uint64_t at = offset + pos;
    if (left < 8) {
      scan.detail = "incomplete record header at byte " + std::to_string(at);
      break;
    }
    // Pages a crash left allocated but unwritten read as zeros; records are never empty,
    // so zeros are no record.
    if (data.find_first_not_of('\0', pos) == std::string::npos) {
      scan.detail = std::to_string(left) + " zero bytes at byte " + std::to_string(at);
      break;
    }
    const std::uint32_t n = GetU32(std::string_view(data).substr(pos, 4));
    if (n == 0) {
      return Status::Corruption(path + ": empty record at byte " + std::to_string(at));
    }
    if (left - 8 < n) {
      scan.detail = "record at byte " + std::to_string(at) + " claims " + std::to_string(n) +
                    " bytes; " + std::to_string(left - 8) + " follow";
      break;
    }
    if (n > kMaxJournalRecord) {
      return Status::Corruption(path + ": record at byte " + std::to_string(at) + " claims " +
                                std::to_string(n) + " bytes");
    }
    std::string_view payload = std::string_view(data).substr(pos + 8, n);
    if (Check(payload) != std::string_view(data).substr(pos + 4, 4)) {
      if (pos + 8 + n == data.size()) {
        scan.detail = "last record at byte " + std::to_string(at) + " fails its check";
        break;
      }
      return Status::Corruption(path + ": record at byte " + std::to_string(at) +
                                " fails its check (not the last record: damage, not a torn write)");
    }
    scan.records.emplace_back(payload);
    pos += 8 + n;
  }
  scan.end = offset + pos;
  if (scan.end < size) {
    scan.truncated = size - scan.end;
    if (::ftruncate(journal_fd_, static_cast<off_t>(scan.end)) != 0) {
      return Status::IoError(Errno("cannot truncate", path));
    }
    if (sync_ && ::fdatasync(journal_fd_) != 0) return Status::IoError(Errno("cannot sync", path));
  }
  return scan;
}

Status Storage::AppendJournal(std::uint64_t end, std::string_view payload) {
  const std::string path = dir_ + "/journal.wgr";
  if (payload.size() > kMaxJournalRecord) {
    return Status::Internal("journal record of " + std::to_string(payload.size()) +
                            " bytes exceeds the limit");
  }
  std::string rec;
  rec.reserve(8 + payload.size());
  PutU32(&rec, static_cast<std::uint32_t>(payload.size()));
  rec += Check(payload);
  rec += payload;
  WG_RETURN_IF_ERROR(PwriteAll(journal_fd_, rec, end, path));
  if (sync_ && ::fdatasync(journal_fd_) != 0) return Status::IoError(Errno("cannot sync", path));
  return Status::Ok();
}

std::string Storage::LeavesPath(std::uint64_t id) const {
  return dir_ + "/enterprises/" + std::to_string(id) + "/leaves.bin";
}

Result<std::uint64_t> Storage::LeafBytes(std::uint64_t id) {
  struct stat st {};
  const std::string path = LeavesPath(id);
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::uint64_t{0};
    return Status::IoError(Errno("cannot stat", path));
  }
  return static_cast<std::uint64_t>(st.st_size);
}

Result<std::vector<ledger::Hash>> Storage::ReadLeaves(std::uint64_t id, std::uint64_t from,
                                                      std::uint64_t count) {
  const std::string path = LeavesPath(id);
  std::vector<ledger::Hash> out;
  if (count == 0) return out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(Errno("cannot open", path));
  out.resize(static_cast<std::size_t>(count));
  Status s = PreadAll(fd, reinterpret_cast<char*>(out.data()), static_cast<std::size_t>(count) * 32,
                      from * 32, path);
  ::close(fd);
  if (!s.ok()) return s;
  return out;
}

Status Storage::WriteLeaves(std::uint64_t id, std::uint64_t from,
                            std::span<const ledger::Hash> hashes) {
  std::error_code ec;
  const fs::path dir = fs::path(LeavesPath(id)).parent_path();
  if (!fs::exists(dir)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
    if (sync_) WG_RETURN_IF_ERROR(core::SyncDir(dir.parent_path().string()));
  }
  const std::string path = LeavesPath(id);
  WG_ASSIGN_OR_RETURN(int fd, OpenFile(path, O_WRONLY | O_CREAT, sync_));
  Status s;
  // Leaf hashes past `from` were never acknowledged (a crash before their acceptance).
  if (::ftruncate(fd, static_cast<off_t>(from * 32)) != 0)
    s = Status::IoError(Errno("cannot truncate", path));
  if (s.ok()) {
    s = PwriteAll(
        fd, std::string_view(reinterpret_cast<const char*>(hashes.data()), hashes.size() * 32),
        from * 32, path);
  }
  if (s.ok() && sync_ && ::fdatasync(fd) != 0) s = Status::IoError(Errno("cannot sync", path));
  ::close(fd);
  return s;
}

Status Storage::TruncateLeaves(std::uint64_t id, std::uint64_t count) {
  const std::string path = LeavesPath(id);
  if (::truncate(path.c_str(), static_cast<off_t>(count * 32)) != 0) {
    return Status::IoError(Errno("cannot truncate", path));
  }
  return Status::Ok();
}

}  // namespace wg::regulator::internal

#include "wg/vault/vault.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "names.h"
#include "wg/core/file.h"
#include "wg/core/json.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/crypto/sm.h"

namespace wg::vault {
namespace {

namespace fs = std::filesystem;
using core::Json;
using core::Result;
using core::Status;
using core::Timestamp;

constexpr std::string_view kVaultFormat = "workguard.vault/1";
constexpr std::string_view kObjectFormat = "workguard.vault-object/1";
constexpr std::size_t kHeaderBytes = 5 + 16;  // "WGAE1" || iv
constexpr std::size_t kTagBytes = 32;
static_assert(kHeaderBytes + kTagBytes == crypto::kSealOverhead);
constexpr std::size_t kMaxMetadataBytes = 64 << 10;
constexpr std::size_t kMaxReasonChars = 500;

std::string ErrnoText(int err) { return std::strerror(err); }

// Zeroes a secret held in a std::string when it goes out of scope.
class SecretWiper {
 public:
  explicit SecretWiper(std::string& s) : s_(s) {}
  ~SecretWiper() {
    if (!s_.empty()) OPENSSL_cleanse(s_.data(), s_.size());
  }
  SecretWiper(const SecretWiper&) = delete;
  SecretWiper& operator=(const SecretWiper&) = delete;

 private:
  std::string& s_;
};

// An owned POSIX file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes and reports the error close() gives (a deferred write error on some systems).
  Status Close(const std::string& path) {
    int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0)
      return Status::IoError("close " + path + ": " + ErrnoText(errno));
    return Status::Ok();
  }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

Result<Fd> OpenFile(const std::string& path, int flags, mode_t mode = 0600) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError("open " + path + ": " + ErrnoText(err));
  }
  return Fd(fd);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("write " + path + ": " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// Reads exactly `n` bytes at `offset` (fewer only at end of file).
Result<std::size_t> ReadAt(int fd, char* buf, std::size_t n, std::uint64_t offset,
                           const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + path + ": " + ErrnoText(errno));
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

Status Fsync(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return Status::IoError("fsync " + path + ": " + ErrnoText(errno));
  return Status::Ok();
}

// Creates `dir` (mode 0700) unless it exists; true when it was created.
Result<bool> MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return true;
  int err = errno;
  if (err == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return false;
    return Status::FailedPrecondition(dir + " exists and is not a directory");
  }
  return Status::IoError("mkdir " + dir + ": " + ErrnoText(err));
}

Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IoError("unlink " + path + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

// Overwrites the file with zeros, fsyncs and unlinks it; OK when it does not exist.
Status WipeAndUnlink(const std::string& path) {
  auto fd = OpenFile(path, O_WRONLY);
  if (!fd) return fd.error().code() == core::StatusCode::kNotFound ? Status::Ok() : fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0)
    return Status::IoError("fstat " + path + ": " + ErrnoText(errno));
  const std::string zeros(4096, '\0');
  auto remaining = static_cast<std::uint64_t>(st.st_size);
  while (remaining > 0) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, zeros.size()));
    WG_RETURN_IF_ERROR(WriteAll(fd->get(), std::string_view(zeros).substr(0, n), path));
    remaining -= n;
  }
  WG_RETURN_IF_ERROR(Fsync(fd->get(), path));
  WG_RETURN_IF_ERROR(fd->Close(path));
  return Unlink(path);
}

// The whole of a small file; kNotFound when it does not exist, kCorruption when it is
// larger than any file the vault writes there.
Result<std::string> ReadSmallFile(const std::string& path, std::size_t max_bytes) {
  auto data = core::ReadFile(path, max_bytes);
  if (!data && data.error().code() == core::StatusCode::kResourceExhausted) {
    return Status::Corruption(data.error().message());
  }
  return data;
}

// Incremental SM3 over OpenSSL EVP, for objects too large to hash in one call.
class Sm3Stream {
 public:
  static Result<Sm3Stream> Begin() {
    MdPtr md(EVP_MD_fetch(nullptr, "SM3", nullptr));
    if (!md) return Status::Internal("SM3 is not available from OpenSSL");
    CtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md.get(), nullptr) != 1) {
      return Status::Internal("EVP_DigestInit_ex(SM3) failed");
    }
    return Sm3Stream(std::move(md), std::move(ctx));
  }
  Status Update(std::string_view data) {
    if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
      return Status::Internal("EVP_DigestUpdate(SM3) failed");
    }
    return Status::Ok();
  }
  Result<std::string> FinishHex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1 || len != 32) {
      return Status::Internal("EVP_DigestFinal_ex(SM3) failed");
    }
    return core::ToHex(std::string_view(reinterpret_cast<const char*>(out), len));
  }

 private:
  struct MdFree {
    void operator()(EVP_MD* p) const { EVP_MD_free(p); }
  };
  struct CtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  };
  using MdPtr = std::unique_ptr<EVP_MD, MdFree>;
  using CtxPtr = std::unique_ptr<EVP_MD_CTX, CtxFree>;
  Sm3Stream(MdPtr md, CtxPtr ctx) : md_(std::move(md)), ctx_(std::move(ctx)) {}
  MdPtr md_;
  CtxPtr ctx_;
};

std::string DigestHex(const crypto::Digest32& d) {
  return core::ToHex(std::span<const std::uint8_t>(d));
}

std::string DigestBytes(const crypto::Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// Associated data: a label per file kind (a key file can never pass for a box), then the
// organization and the id, so a file copied to another object or organization fails.
std::string BoxAad(std::string_view org, std::string_view id) {
  return "workguard.vault.box/1\n" + std::string(org) + "\n" + std::string(id);
}
std::string KeyAad(std::string_view org, std::string_view id) {
  return "workguard.vault.key/1\n" + std::string(org) + "\n" + std::string(id);
}

Status CheckOrg(std::string_view org) {
  if (!internal::IsOrgCode(org)) {
    return Status::InvalidArgument("must be an organization code ([a-z0-9-]{2,32})", "org");
  }
  return Status::Ok();
}

Status CheckId(std::string_view id) {
  if (!internal::IsObjectId(id)) {
    return Status::InvalidArgument("must be an object id (32 lower-case hex digits)", "id");
  }
  return Status::Ok();
}

Status CheckFileName(std::string_view name) {
  if (name.size() > 255) {
    return Status::InvalidArgument("is longer than 255 bytes", "file_name");
  }
  WG_RETURN_IF_ERROR(core::CheckText(name, "file_name", 255));
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return Status::InvalidArgument("must not contain a path separator ('/' or '\\')", "file_name");
  }
  if (name == "." || name == "..")
    return Status::InvalidArgument("must not be . or ..", "file_name");
  return Status::Ok();
}

std::string ShortId(std::string_view org, std::string_view id) {
  return std::string(org) + "/" + std::string(id);
}

std::string FormatOptTime(const std::optional<Timestamp>& t) {
  return t ? core::FormatTimestamp(*t) : std::string();
}

// Reads a metadata member; errors become kCorruption naming the object and member.
class MetaReader {
 public:
  MetaReader(const Json& j, std::string what) : j_(j), what_(std::move(what)) {}

  std::string Str(std::string_view key, bool nullable = false) {
    auto it = j_.find(key);
    if (it == j_.end() || (it->is_null() && !nullable) || (!it->is_null() && !it->is_string())) {
      Fail(key, "expected a string");
      return {};
    }
    return it->is_null() ? std::string() : it->get<std::string>();
  }
  std::optional<Timestamp> Time(std::string_view key, bool nullable) {
    auto it = j_.find(key);
    if (it != j_.end() && it->is_null() && nullable) return std::nullopt;
    auto s = Str(key);
    if (!status_.ok()) return std::nullopt;
    auto t = core::ParseTimestamp(s, key);
    if (!t) {
      Fail(key, t.error().message());
      return std::nullopt;
    }
    return *t;
  }
  std::optional<std::uint64_t> UInt(std::string_view key, bool nullable) {
    auto it = j_.find(key);
    if (it != j_.end() && it->is_null() && nullable) return std::nullopt;
    if (it == j_.end() || !it->is_number_unsigned()) {
      Fail(key, "expected a non-negative integer");
      return std::nullopt;
    }
    return it->get<std::uint64_t>();
  }
  void Fail(std::string_view key, const std::string& msg) {
    if (status_.ok()) {
      status_ = Status::Corruption("metadata of " + what_ + ": " + std::string(key) + ": " + msg);
    }
  }
  const Status& status() const { return status_; }

 private:
  const Json& j_;
  std::string what_;
  Status status_;
};

}  // namespace

// --- Open ----------------------------------------------------------------------------

Vault::Vault(std::string dir, const core::Clock& clock, std::string master_key,
             std::string meta_mac_key, RetentionBook retention, VaultOptions options)
    : dir_(std::move(dir)),
      clock_(clock),
      master_key_(std::move(master_key)),
      meta_mac_key_(std::move(meta_mac_key)),
      retention_(std::move(retention)),
      options_(options) {}

Vault::~Vault() {
  OPENSSL_cleanse(master_key_.data(), master_key_.size());
  OPENSSL_cleanse(meta_mac_key_.data(), meta_mac_key_.size());
}

Result<std::unique_ptr<Vault>> Vault::Open(std::string dir, const core::Clock& clock,
                                           std::string master_key32, RetentionBook retention,
                                           VaultOptions options) {
  SecretWiper wipe_input(master_key32);
  if (master_key32.size() != 32) {
    return Status::InvalidArgument("must be 32 bytes, got " + std::to_string(master_key32.size()),
                                   "master_key");
  }
  if (dir.empty()) return Status::InvalidArgument("is required", "dir");
  if (options.max_object_bytes == 0) {
    return Status::InvalidArgument("must be positive", "max_object_bytes");
  }
  if (options.chunk_bytes < 4096 || options.chunk_bytes > (std::size_t{64} << 20)) {
    return Status::InvalidArgument("must be between 4 KiB and 64 MiB", "chunk_bytes");
  }
  WG_ASSIGN_OR_RETURN(auto check, crypto::HmacSm3(master_key32, "workguard.vault.key-check/1"));
  WG_ASSIGN_OR_RETURN(auto mac_key, crypto::HmacSm3(master_key32, "workguard.vault.metadata/1"));

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  WG_RETURN_IF_ERROR(MakeDir(dir + "/objects").status());

  // vault.json records which master key this directory belongs to. It is created with
  // link() so two processes opening a new vault at once cannot both write one.
  const std::string marker = dir + "/vault.json";
  auto existing = ReadSmallFile(marker, kMaxMetadataBytes);
  if (!existing && existing.error().code() == core::StatusCode::kNotFound) {
    Json j = {{"format", std::string(kVaultFormat)},
              {"key_check", DigestHex(check)},
              {"created_at", core::FormatTimestamp(clock.Now())}};
    std::string tmp = dir + "/.vault.json." + std::to_string(::getpid()) + ".tmp";
    {
      WG_ASSIGN_OR_RETURN(Fd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC));
      Status st = WriteAll(fd.get(), core::DumpJson(j, 2) + "\n", tmp);
      if (st.ok()) st = Fsync(fd.get(), tmp);
      if (st.ok()) st = fd.Close(tmp);
      if (!st.ok()) {
        (void)Unlink(tmp);
        return st;
      }
    }
    int rc = ::link(tmp.c_str(), marker.c_str());
    int err = errno;
    (void)Unlink(tmp);
    if (rc != 0 && err != EEXIST) return Status::IoError("link " + marker + ": " + ErrnoText(err));
    WG_RETURN_IF_ERROR(core::SyncDir(dir));
    existing = ReadSmallFile(marker, kMaxMetadataBytes);
  }
  if (!existing) return existing.error();
  auto j = core::ParseJson(*existing, {.max_bytes = kMaxMetadataBytes, .max_depth = 4}, marker);
  const Json* format = j && j->is_object() && j->contains("format") ? &j->at("format") : nullptr;
  const Json* key_check =
      j && j->is_object() && j->contains("key_check") ? &j->at("key_check") : nullptr;
  if (!format || !format->is_string() || format->get<std::string>() != kVaultFormat || !key_check ||
      !key_check->is_string()) {
    return Status::Corruption(marker + " is not a workguard vault marker");
  }
  if (!crypto::ConstantTimeEqual(key_check->get<std::string>(), DigestHex(check))) {
    return Status::FailedPrecondition("the master key does not match the vault in " + dir);
  }
  return std::unique_ptr<Vault>(new Vault(std::move(dir), clock, std::string(master_key32),
                                          DigestBytes(mac_key), std::move(retention), options));
}

std::string Vault::OrgDir(std::string_view org) const {
  return dir_ + "/objects/" + std::string(org);
}

// --- Metadata ------------------------------------------------------------------------

Status Vault::WriteInfo(const ObjectInfo& info) const {
  Json j = {
      {"format", std::string(kObjectFormat)},
      {"id", info.id},
      {"org", info.org},
      {"media_type", info.media_type},
      {"file_name", info.file_name},
      {"size", info.size},
      {"plaintext_sm3", info.plaintext_sm3},
      {"ciphertext_sm3", info.ciphertext_sm3},
      {"retention_class", info.retention_class},
      {"stored_at", core::FormatTimestamp(info.stored_at)},
      {"expires_at", info.expires_at ? Json(FormatOptTime(info.expires_at)) : Json(nullptr)},
      {"destroyed_at", info.destroyed_at ? Json(FormatOptTime(info.destroyed_at)) : Json(nullptr)},
      {"destroy_reason", info.destroyed_at ? Json(info.destroy_reason) : Json(nullptr)}};
  // nlohmann::json keeps object members sorted, so the compact dump is canonical.
  WG_ASSIGN_OR_RETURN(auto mac, crypto::HmacSm3(meta_mac_key_, core::DumpJson(j)));
  j["mac"] = DigestHex(mac);
  // Atomic (temporary file, fsync, rename, fsync of the directory).
  return core::WriteFileAtomic(OrgDir(info.org) + "/" + info.id + ".json",
                               core::DumpJson(j, 2) + "\n", 0600);
}

Result<ObjectInfo> Vault::ReadInfo(std::string_view org, std::string_view id) const {
  WG_RETURN_IF_ERROR(CheckOrg(org));
  WG_RETURN_IF_ERROR(CheckId(id));
  const std::string what = "object " + ShortId(org, id);
  const std::string path = OrgDir(org) + "/" + std::string(id) + ".json";
  auto text = ReadSmallFile(path, kMaxMetadataBytes);
  if (!text) {
    if (text.error().code() == core::StatusCode::kNotFound) {
      return Status::NotFound(
          "no object " + std::string(id) + " in organization " + std::string(org), "id");
    }
    return text.error();
  }
  auto parsed = core::ParseJson(*text, {.max_bytes = kMaxMetadataBytes, .max_depth = 4}, path);
  if (!parsed || !parsed->is_object())
    return Status::Corruption("metadata of " + what + " is not a JSON object");
  Json j = std::move(parsed).value();
  auto mac_it = j.find("mac");
  if (mac_it == j.end() || !mac_it->is_string()) {
    return Status::Corruption("metadata of " + what + " has no mac");
  }
  std::string got_mac = mac_it->get<std::string>();
  j.erase("mac");
  WG_ASSIGN_OR_RETURN(auto want_mac, crypto::HmacSm3(meta_mac_key_, core::DumpJson(j)));
  if (!crypto::ConstantTimeEqual(got_mac, DigestHex(want_mac))) {
    return Status::Corruption("metadata of " + what +
                              " does not authenticate (altered, or written under another key)");
  }

  MetaReader r(j, what);
  ObjectInfo info;
  if (r.Str("format") != kObjectFormat) r.Fail("format", "unknown format");
  info.id = r.Str("id");
  info.org = r.Str("org");
  info.media_type = r.Str("media_type");
  info.file_name = r.Str("file_name");
  info.size = r.UInt("size", false).value_or(0);
  info.plaintext_sm3 = r.Str("plaintext_sm3");
  info.ciphertext_sm3 = r.Str("ciphertext_sm3");
  info.retention_class = r.Str("retention_class");
  info.stored_at = r.Time("stored_at", false).value_or(Timestamp{});
  info.expires_at = r.Time("expires_at", true);
  info.destroyed_at = r.Time("destroyed_at", true);
  info.destroy_reason = r.Str("destroy_reason", true);
  WG_RETURN_IF_ERROR(r.status());
  // The mac covers the content, not the file's place: a metadata file copied under another
  // name or organization authenticates but names its true owner.
  if (info.id != id || info.org != org) {
    return Status::Corruption("metadata file " + path + " belongs to object " +
                              ShortId(info.org, info.id) + ", not " + ShortId(org, id));
  }
  return info;
}

// --- Put -----------------------------------------------------------------------------

namespace {

// Files a Put has created, removed again unless the Put commits.
class PutCleanup {
 public:
  void Add(std::string path, bool secret) { paths_.push_back({std::move(path), secret}); }
  void Commit() { paths_.clear(); }
  // Newest first: the metadata (commit point) goes before the files it points to.
  ~PutCleanup() {
    for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) {
      const auto& [path, secret] = *it;
      if (secret) {
        (void)WipeAndUnlink(path);
      } else {
        (void)Unlink(path);
      }
    }
  }

 private:
  std::vector<std::pair<std::string, bool>> paths_;
};

// Reads up to `n` bytes into `buf`; 0 at the end of the input.
using Source = std::function<Result<std::size_t>(char* buf, std::size_t n)>;

}  // namespace

namespace {

Result<ObjectInfo> PutFrom(const NewObject& object, const Source& read, const std::string& dir,
                           const core::Clock& clock, const std::string& master_key,
                           const RetentionBook& book, const VaultOptions& options,
                           const std::function<Status(const ObjectInfo&)>& write_info) {
  WG_RETURN_IF_ERROR(CheckOrg(object.org));
  if (!internal::IsMediaType(object.media_type)) {
    return Status::InvalidArgument(
        "must be a lower-case media type such as \"video/mp4\" (no parameters)", "media_type");
  }
  WG_RETURN_IF_ERROR(CheckFileName(object.file_name));
  const RetentionClass* cls = book.Find(object.retention_class);
  if (cls == nullptr) {
    return Status::InvalidArgument(
        "'" + object.retention_class.substr(0, 64) + "' is not a retention class",
        "retention_class");
  }
  if (!cls->AllowsMediaType(object.media_type)) {
    std::string allowed;
    for (const auto& m : cls->media_types) allowed += (allowed.empty() ? "" : ", ") + m;
    return Status::InvalidArgument("'" + object.media_type +
                                       "' is not allowed for retention class '" + cls->code +
                                       "' (allowed: " + allowed + ")",
                                   "media_type");
  }

  WG_ASSIGN_OR_RETURN(std::string id, crypto::RandomHex(16));
  WG_ASSIGN_OR_RETURN(std::string key, crypto::RandomBytes(32));
  SecretWiper wipe_key(key);

  const std::string objects = dir + "/objects";
  const std::string org_dir = objects + "/" + object.org;
  WG_ASSIGN_OR_RETURN(bool created, MakeDir(org_dir));
  if (created) WG_RETURN_IF_ERROR(core::SyncDir(objects));

  const std::string base = org_dir + "/" + id;
  const std::string box_path = base + ".box", key_path = base + ".key";
  const std::string box_tmp = box_path + ".tmp." + std::to_string(::getpid());
  struct stat st {};
  if (::stat((base + ".json").c_str(), &st) == 0 || ::stat(box_path.c_str(), &st) == 0) {
    return Status::Internal("object id collision: " + id);  // 2^-128; never expected
  }

  PutCleanup cleanup;
  // O_EXCL: a concurrent Put that drew the same id fails instead of sharing the file.
  WG_ASSIGN_OR_RETURN(Fd box, OpenFile(box_tmp, O_WRONLY | O_CREAT | O_EXCL));
  cleanup.Add(box_tmp, false);

  std::string header;
  WG_ASSIGN_OR_RETURN(auto sealer,
                      crypto::StreamSealer::Begin(key, BoxAad(object.org, id), &header));
  if (header.size() != kHeaderBytes) return Status::Internal("unexpected WGAE1 header size");
  WG_ASSIGN_OR_RETURN(auto pt_hash, Sm3Stream::Begin());
  WG_ASSIGN_OR_RETURN(auto ct_hash, Sm3Stream::Begin());
  WG_RETURN_IF_ERROR(WriteAll(box.get(), header, box_tmp));
  WG_RETURN_IF_ERROR(ct_hash.Update(header));

  std::string buf(options.chunk_bytes, '\0');
  std::uint64_t size = 0;
  while (true) {
    WG_ASSIGN_OR_RETURN(std::size_t n, read(buf.data(), buf.size()));
    if (n == 0) break;
    size += n;
    if (size > options.max_object_bytes) {
      return Status::ResourceExhausted(
          "is larger than the limit of " + std::to_string(options.max_object_bytes) + " bytes",
          "content");
    }
    std::string_view chunk(buf.data(), n);
    WG_RETURN_IF_ERROR(pt_hash.Update(chunk));
    WG_ASSIGN_OR_RETURN(std::string ct, sealer.Update(chunk));
    WG_RETURN_IF_ERROR(WriteAll(box.get(), ct, box_tmp));
    WG_RETURN_IF_ERROR(ct_hash.Update(ct));
  }
  OPENSSL_cleanse(buf.data(), buf.size());
  if (size == 0) return Status::InvalidArgument("is empty", "content");
  WG_ASSIGN_OR_RETURN(std::string tag, sealer.Finish());
  WG_RETURN_IF_ERROR(WriteAll(box.get(), tag, box_tmp));
  WG_RETURN_IF_ERROR(ct_hash.Update(tag));
  WG_RETURN_IF_ERROR(Fsync(box.get(), box_tmp));
  WG_RETURN_IF_ERROR(box.Close(box_tmp));
  if (::rename(box_tmp.c_str(), box_path.c_str()) != 0) {
    return Status::IoError("rename " + box_tmp + ": " + ErrnoText(errno));
  }
  cleanup.Add(box_path, false);

  WG_ASSIGN_OR_RETURN(std::string sealed_key,
                      crypto::Seal(master_key, key, KeyAad(object.org, id)));
  cleanup.Add(key_path, true);
  WG_RETURN_IF_ERROR(core::WriteFileAtomic(key_path, sealed_key, 0600));

  ObjectInfo info;
  info.id = id;
  info.org = object.org;
  info.media_type = object.media_type;
  info.file_name = object.file_name;
  info.size = size;
  WG_ASSIGN_OR_RETURN(info.plaintext_sm3, pt_hash.FinishHex());
  WG_ASSIGN_OR_RETURN(info.ciphertext_sm3, ct_hash.FinishHex());
  info.retention_class = cls->code;
  info.stored_at = clock.Now();
  info.expires_at = cls->ExpiryFor(info.stored_at);
  cleanup.Add(base + ".json", false);
  // The metadata file is the commit point (WriteInfo fsyncs the directory, which also
  // makes the box rename durable).
  WG_RETURN_IF_ERROR(write_info(info));
  cleanup.Commit();
  return info;
}

}  // namespace

Result<ObjectInfo> Vault::Put(const NewObject& object, std::istream& content) {
  Source read = [&content](char* buf, std::size_t n) -> Result<std::size_t> {
    // A stream with exceptions enabled may throw; nothing crosses this library's boundary.
    try {
      if (content.fail() && !content.eof()) return Status::IoError("the content stream has failed");
      if (content.eof()) return std::size_t{0};
      content.read(buf, static_cast<std::streamsize>(n));
      if (content.bad() || (content.fail() && !content.eof())) {
        return Status::IoError("reading the content stream failed");
      }
      return static_cast<std::size_t>(content.gcount());
    } catch (const std::exception& e) {
      return Status::IoError(std::string("reading the content stream failed: ") + e.what());
    }
  };
  auto info = PutFrom(object, read, dir_, clock_, master_key_, retention_, options_,
                      [this](const ObjectInfo& i) { return WriteInfo(i); });
  return info;  // at Put the recorded expiry is the effective one
}

Result<ObjectInfo> Vault::PutFile(const NewObject& object, const std::string& path) {
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd) {
    if (fd.error().code() == core::StatusCode::kNotFound) {
      return Status::NotFound(path + ": no such file", "path");
    }
    return fd.error();
  }
  std::uint64_t offset = 0;
  Source read = [&](char* buf, std::size_t n) -> Result<std::size_t> {
    WG_ASSIGN_OR_RETURN(std::size_t got, ReadAt(fd->get(), buf, n, offset, path));
    offset += got;
    return got;
  };
  return PutFrom(object, read, dir_, clock_, master_key_, retention_, options_,
                 [this](const ObjectInfo& i) { return WriteInfo(i); });
}

// --- Get / Stat / List ----------------------------------------------------------------

namespace {

std::optional<Timestamp> EffectiveExpiry(const ObjectInfo& raw, const RetentionBook& book) {
  if (!raw.expires_at) return std::nullopt;  // permanent when stored: stays permanent
  const RetentionClass* cls = book.Find(raw.retention_class);
  if (cls == nullptr) return raw.expires_at;
  auto now_rule = cls->ExpiryFor(raw.stored_at);
  if (!now_rule) return std::nullopt;
  return std::max(*raw.expires_at, *now_rule);
}

}  // namespace

Result<ObjectInfo> Vault::Stat(std::string_view org, std::string_view id) const {
  WG_ASSIGN_OR_RETURN(ObjectInfo info, ReadInfo(org, id));
  info.expires_at = EffectiveExpiry(info, retention_);
  return info;
}

Status Vault::Get(std::string_view org, std::string_view id, std::ostream& out) const {
  WG_ASSIGN_OR_RETURN(ObjectInfo info, ReadInfo(org, id));
  const std::string what = "object " + ShortId(org, id);
  auto destroyed = [&what](const ObjectInfo& i) {
    return Status::FailedPrecondition(what + " was destroyed on " +
                                      core::FormatShanghai(*i.destroyed_at) + ": " +
                                      i.destroy_reason);
  };
  if (info.destroyed_at) return destroyed(info);
  // A file missing under live metadata is corruption, unless a Destroy finished meanwhile.
  auto missing = [&](std::string_view file) {
    auto now = ReadInfo(org, id);
    if (now && now->destroyed_at) return destroyed(*now);
    return Status::Corruption("the " + std::string(file) + " of " + what + " is missing");
  };
  const std::string base = OrgDir(org) + "/" + std::string(id);

  auto sealed_key = ReadSmallFile(base + ".key", 1024);
  if (!sealed_key) {
    if (sealed_key.error().code() == core::StatusCode::kNotFound) return missing("key file");
    return sealed_key.error();
  }
  auto opened = crypto::Open(master_key_, *sealed_key, KeyAad(org, id));
  if (!opened || opened->size() != 32) {
    return Status::Corruption("the key file of " + what +
                              " does not authenticate (altered, or belongs to another object)");
  }
  std::string key = std::move(opened).value();
  SecretWiper wipe_key(key);

  const std::string box_path = base + ".box";
  auto box = OpenFile(box_path, O_RDONLY);
  if (!box) {
    if (box.error().code() == core::StatusCode::kNotFound) return missing("box");
    return box.error();
  }
  struct stat st {};
  if (::fstat(box->get(), &st) != 0)
    return Status::IoError("fstat " + box_path + ": " + ErrnoText(errno));
  const std::uint64_t want_size = info.size + crypto::kSealOverhead;
  if (static_cast<std::uint64_t>(st.st_size) != want_size) {
    return Status::Corruption("the box of " + what + " is " + std::to_string(st.st_size) +
                              " bytes; want " + std::to_string(want_size));
  }

  // Pass 1: authenticate the whole box (and check its recorded digest) before any
  // plaintext leaves this function.
  std::string header(kHeaderBytes, '\0');
  WG_ASSIGN_OR_RETURN(std::size_t hn,
                      ReadAt(box->get(), header.data(), header.size(), 0, box_path));
  if (hn != header.size()) return Status::Corruption("the box of " + what + " is truncated");
  auto verifier = crypto::StreamVerifier::Begin(key, BoxAad(org, id), header);
  if (!verifier)
    return Status::Corruption("the box of " + what +
                              " has a bad header: " + verifier.error().message());
  WG_ASSIGN_OR_RETURN(auto ct_hash, Sm3Stream::Begin());
  WG_RETURN_IF_ERROR(ct_hash.Update(header));
  std::string buf(options_.chunk_bytes, '\0');
  std::uint64_t offset = kHeaderBytes;
  const std::uint64_t ct_end = kHeaderBytes + info.size;
  while (offset < ct_end) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), ct_end - offset));
    WG_ASSIGN_OR_RETURN(std::size_t got, ReadAt(box->get(), buf.data(), n, offset, box_path));
    if (got != n) return Status::Corruption("the box of " + what + " is truncated");
    std::string_view chunk(buf.data(), n);
    WG_RETURN_IF_ERROR(verifier->Update(chunk));
    WG_RETURN_IF_ERROR(ct_hash.Update(chunk));
    offset += n;
  }
  std::string tag(kTagBytes, '\0');
  WG_ASSIGN_OR_RETURN(std::size_t tn, ReadAt(box->get(), tag.data(), tag.size(), ct_end, box_path));
  if (tn != tag.size()) return Status::Corruption("the box of " + what + " is truncated");
  WG_RETURN_IF_ERROR(ct_hash.Update(tag));
  Status auth = verifier->Finish(tag);
  if (!auth.ok()) {
    return Status::Corruption("the box of " + what + " does not authenticate: " + auth.message());
  }
  WG_ASSIGN_OR_RETURN(std::string ct_sm3, ct_hash.FinishHex());
  if (ct_sm3 != info.ciphertext_sm3) {
    return Status::Corruption("the box of " + what + " has SM3 " + ct_sm3 + "; recorded " +
                              info.ciphertext_sm3);
  }

  // Pass 2: decrypt and stream out, checking the plaintext digest recorded at Put.
  WG_ASSIGN_OR_RETURN(auto decryptor, crypto::StreamDecryptor::Begin(key, header));
  WG_ASSIGN_OR_RETURN(auto pt_hash, Sm3Stream::Begin());
  offset = kHeaderBytes;
  while (offset < ct_end) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), ct_end - offset));
    WG_ASSIGN_OR_RETURN(std::size_t got, ReadAt(box->get(), buf.data(), n, offset, box_path));
    if (got != n) return Status::Corruption("the box of " + what + " changed while it was read");
    WG_ASSIGN_OR_RETURN(std::string pt, decryptor.Update(std::string_view(buf.data(), n)));
    WG_RETURN_IF_ERROR(pt_hash.Update(pt));
    try {
      out.write(pt.data(), static_cast<std::streamsize>(pt.size()));
    } catch (const std::exception& e) {
      return Status::IoError("writing " + what + " failed: " + e.what());
    }
    OPENSSL_cleanse(pt.data(), pt.size());
    if (!out) return Status::IoError("writing " + what + " to the output stream failed");
    offset += n;
  }
  WG_ASSIGN_OR_RETURN(std::string pt_sm3, pt_hash.FinishHex());
  if (pt_sm3 != info.plaintext_sm3) {
    return Status::Corruption("the content of " + what + " has SM3 " + pt_sm3 + "; recorded " +
                              info.plaintext_sm3 + " (discard what was written)");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Vault::Orgs() const {
  std::vector<std::string> orgs;
  std::error_code ec;
  for (fs::directory_iterator it(dir_ + "/objects", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (internal::IsOrgCode(name) && it->is_directory(ec)) orgs.push_back(std::move(name));
  }
  if (ec) return Status::IoError("cannot list " + dir_ + "/objects: " + ec.message());
  std::sort(orgs.begin(), orgs.end());
  return orgs;
}

namespace {

// Ids of the metadata files in one organization's directory.
Result<std::vector<std::string>> MetadataIds(const std::string& org_dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  fs::directory_iterator it(org_dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return ids;
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() == 32 + 5 && name.ends_with(".json") &&
        internal::IsObjectId(std::string_view(name).substr(0, 32))) {
      ids.push_back(name.substr(0, 32));
    }
  }
  if (ec) return Status::IoError("cannot list " + org_dir + ": " + ec.message());
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

Result<std::vector<ObjectInfo>> Vault::List(std::string_view org) const {
  WG_RETURN_IF_ERROR(CheckOrg(org));
  WG_ASSIGN_OR_RETURN(auto ids, MetadataIds(OrgDir(org)));
  std::vector<ObjectInfo> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    WG_ASSIGN_OR_RETURN(ObjectInfo info, Stat(org, id));
    out.push_back(std::move(info));
  }
  std::stable_sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) {
    return a.stored_at < b.stored_at;
  });
  return out;
}

// --- Retention and destruction ---------------------------------------------------------

Result<ObjectInfo> Vault::DestroyLocked(const ObjectInfo& raw, std::string_view reason) {
  const std::string dir = OrgDir(raw.org);
  const std::string base = dir + "/" + raw.id;
  // The key goes first: once it is unreadable the box is noise, whatever happens next.
  WG_RETURN_IF_ERROR(WipeAndUnlink(base + ".key"));
  WG_RETURN_IF_ERROR(Unlink(base + ".box"));
  WG_RETURN_IF_ERROR(core::SyncDir(dir));
  ObjectInfo info = raw;
  info.destroyed_at = clock_.Now();
  info.destroy_reason = std::string(reason);
  WG_RETURN_IF_ERROR(WriteInfo(info));
  info.expires_at = EffectiveExpiry(info, retention_);
  return info;
}

Result<ObjectInfo> Vault::Destroy(std::string_view org, std::string_view id,
                                  std::string_view reason) {
  WG_RETURN_IF_ERROR(core::CheckText(reason, "reason", kMaxReasonChars));
  std::lock_guard lock(destroy_mu_);
  WG_ASSIGN_OR_RETURN(ObjectInfo raw, ReadInfo(org, id));
  if (raw.destroyed_at) {
    return Status::FailedPrecondition("object " + ShortId(org, id) + " was already destroyed on " +
                                      core::FormatShanghai(*raw.destroyed_at) + ": " +
                                      raw.destroy_reason);
  }
  return DestroyLocked(raw, reason);
}

Result<std::vector<ObjectInfo>> Vault::Expired(Timestamp now) const {
  std::vector<ObjectInfo> out;
  WG_ASSIGN_OR_RETURN(auto orgs, Orgs());
  for (const auto& org : orgs) {
    WG_ASSIGN_OR_RETURN(auto infos, List(org));
    for (auto& info : infos) {
      if (!info.destroyed_at && info.expires_at && *info.expires_at <= now) {
        out.push_back(std::move(info));
      }
    }
  }
  return out;
}

Result<ExpiryRun> Vault::DestroyExpired(Timestamp now) {
  std::lock_guard lock(destroy_mu_);
  ExpiryRun run;
  WG_ASSIGN_OR_RETURN(auto orgs, Orgs());
  for (const auto& org : orgs) {
    auto ids = MetadataIds(OrgDir(org));
    if (!ids) {
      run.failures.push_back(ids.error());
      continue;
    }
    for (const auto& id : *ids) {
      auto raw = ReadInfo(org, id);
      if (!raw) {
        run.failures.push_back(raw.error());
        continue;
      }
      auto expiry = EffectiveExpiry(*raw, retention_);
      if (raw->destroyed_at || !expiry || *expiry > now) continue;
      std::string reason = "retention ended: class '" + raw->retention_class + "' expired on " +
                           core::FormatShanghai(*expiry);
      auto done = DestroyLocked(*raw, reason);
      if (done) {
        run.destroyed.push_back(std::move(done).value());
      } else {
        run.failures.push_back(done.error().WithContext("object " + ShortId(org, id)));
      }
    }
  }
  return run;
}

Result<std::vector<std::string>> Vault::SweepIncomplete() {
  std::lock_guard lock(destroy_mu_);
  std::vector<std::string> removed;
  WG_ASSIGN_OR_RETURN(auto orgs, Orgs());
  for (const auto& org : orgs) {
    const std::string dir = OrgDir(org);
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
    for (const auto& name : names) {
      const std::string path = dir + "/" + name;
      bool secret = name.find(".key") != std::string::npos;
      bool remove = false;
      if (name.find(".tmp") != std::string::npos) {
        remove = true;  // "<id>.box.tmp.<pid>", "<id>.key.tmp.<pid>", "<id>.json.tmp.<pid>"
      } else if (name.size() == 32 + 4 && (name.ends_with(".box") || name.ends_with(".key")) &&
                 internal::IsObjectId(std::string_view(name).substr(0, 32))) {
        std::string id = name.substr(0, 32);
        auto raw = ReadInfo(org, id);
        if (!raw && raw.error().code() == core::StatusCode::kNotFound) {
          remove = true;  // a Put that never reached its commit point
        } else if (raw && raw->destroyed_at) {
          remove = true;  // an interrupted or undone destruction
        }
      }
      if (!remove) continue;
      WG_RETURN_IF_ERROR(secret ? WipeAndUnlink(path) : Unlink(path));
      removed.push_back(path);
    }
    if (!removed.empty()) WG_RETURN_IF_ERROR(core::SyncDir(dir));
  }
  return removed;
}

core::Json ToJson(const ObjectInfo& o) {
  core::Json j = {{"id", o.id},
                  {"org", o.org},
                  {"media_type", o.media_type},
                  {"file_name", o.file_name},
                  {"size", o.size},
                  {"plaintext_sm3", o.plaintext_sm3},
                  {"ciphertext_sm3", o.ciphertext_sm3},
                  {"retention_class", o.retention_class},
                  {"stored_at", core::FormatTimestamp(o.stored_at)}};
  j["expires_at"] = o.expires_at ? core::Json(core::FormatTimestamp(*o.expires_at)) : core::Json(nullptr);
  j["destroyed_at"] =
      o.destroyed_at ? core::Json(core::FormatTimestamp(*o.destroyed_at)) : core::Json(nullptr);
  if (o.destroyed_at) j["destroy_reason"] = o.destroy_reason;
  return j;
}

}  // namespace wg::vault

#pragma once
// Vault: the encrypted store of evidence attachments (certificate scans, reports, signed
// permits, photos, audio, video) in a local directory, one folder per organization. The
// files are specified in docs/formats/vault.md.
//
// Guarantees:
//  * Confidentiality and integrity. Each object is encrypted under its own random 32-byte
//    key (SM4-CTR + HMAC-SM3, wg::crypto::StreamSealer) with associated data binding the
//    organization and the object id; the object key is sealed under the master key. Get
//    authenticates the whole box before it writes a single byte, then checks the plaintext
//    SM3 against the digest recorded at Put. Any change to a box, a key file or a metadata
//    file, or a file moved to another object or organization, is kCorruption.
//  * All or nothing. An object becomes visible only complete: box and key are written to
//    temporary files, fsynced and renamed, and the metadata file, written last the same
//    way, is the commit point. A Put that fails (bad input, read error, size limit, full
//    disk) removes what it wrote.
//  * Isolation. An id stored for organization A is kNotFound when asked for under B.
//  * Retention. Each object has a retention class of the RetentionBook; its expiry is
//    recorded at Put. A later book may lengthen it (the later of the two applies) but
//    never shorten it. Destroy overwrites the key file with zeros, fsyncs and unlinks it,
//    unlinks the box, and keeps the metadata (digests, class, destruction time and reason),
//    so the evidence log that holds the digests still verifies. vault.md says what
//    destruction cannot reach (backups, snapshots, flash remapping).
//
// Thread-safety: every method may be called from many threads at once (Destroy is
// serialized internally). Several processes may share a directory for Put/Get/Stat/List;
// run DestroyExpired and SweepIncomplete from one process only. The Clock passed to Open
// must outlive the Vault.

#include <cstdint>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/vault/retention.h"

namespace wg::vault {

struct VaultOptions {
  // Largest plaintext accepted by Put (kResourceExhausted, field "content", above it).
  std::uint64_t max_object_bytes = std::uint64_t{4} << 30;  // 4 GiB
  // Read/encrypt/write unit; bounds the memory a Put or Get uses.
  std::size_t chunk_bytes = std::size_t{1} << 20;
};

// What the caller says about a new object. Checked by Put; errors name the field.
struct NewObject {
  std::string org;              // organization code, [a-z0-9-]{2,32}
  std::string media_type;       // lower-case "type/subtype", e.g. "video/mp4"
  std::string file_name;        // the original name: UTF-8, no '/' or '\\', <= 255 bytes
  std::string retention_class;  // a code of the RetentionBook, e.g. "process_video"
};

struct ObjectInfo {
  std::string id;  // 32 lower-case hex digits (128 random bits)
  std::string org;
  std::string media_type;
  std::string file_name;
  std::uint64_t size = 0;      // plaintext bytes
  std::string plaintext_sm3;   // 64 hex digits, SM3 of the content
  std::string ciphertext_sm3;  // 64 hex digits, SM3 of the whole .box file
  std::string retention_class;
  core::Timestamp stored_at;
  // When the object may be destroyed: the later of the expiry recorded at Put and the one
  // the current RetentionBook gives; nullopt: permanent.
  std::optional<core::Timestamp> expires_at;
  std::optional<core::Timestamp> destroyed_at;
  std::string destroy_reason;  // set when destroyed

  bool destroyed() const { return destroyed_at.has_value(); }
};

// The outcome of DestroyExpired: what was destroyed (record each as a fact) and what could
// not be (one non-OK Status per object or unreadable metadata file, naming it).
struct ExpiryRun {
  std::vector<ObjectInfo> destroyed;
  std::vector<core::Status> failures;
};

class Vault {
 public:
  // Opens (creating when missing) the vault in `dir`. The master key is 32 bytes; the
  // first Open records a check value of it in `dir`/vault.json, and a later Open with
  // another key is kFailedPrecondition (instead of every Get failing).
  static core::Result<std::unique_ptr<Vault>> Open(std::string dir, const core::Clock& clock,
                                                   std::string master_key32,
                                                   RetentionBook retention,
                                                   VaultOptions options = {});
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  // Encrypts and stores everything `content` yields. Empty content is kInvalidArgument
  // ("content"); a stream read error is kIoError; both leave nothing behind.
  core::Result<ObjectInfo> Put(const NewObject& object, std::istream& content);
  // The same, reading the file at `path` (kNotFound / kIoError naming "path").
  core::Result<ObjectInfo> PutFile(const NewObject& object, const std::string& path);

  // Writes the object's plaintext to `out`. Nothing is written unless the whole box
  // authenticates; if the plaintext digest check at the end fails (the box changed during
  // the call) the status is kCorruption and what was written must be discarded.
  // kNotFound for an unknown id in `org`; kFailedPrecondition ("destroyed on ...: reason")
  // for a destroyed object; kIoError when `out` fails.
  core::Status Get(std::string_view org, std::string_view id, std::ostream& out) const;
  // The metadata, also of destroyed objects. kCorruption when the metadata file was
  // altered or does not belong to (org, id).
  core::Result<ObjectInfo> Stat(std::string_view org, std::string_view id) const;
  // Every object of `org`, destroyed ones included, by stored_at then id.
  core::Result<std::vector<ObjectInfo>> List(std::string_view org) const;

  // Destroys one object now (reason: 1..500 characters, recorded). kFailedPrecondition
  // when it is already destroyed. Completes a destruction that was interrupted (a missing
  // key or box file is not an error).
  core::Result<ObjectInfo> Destroy(std::string_view org, std::string_view id,
                                   std::string_view reason);
  // Objects of every organization whose expires_at <= now and that are not destroyed.
  core::Result<std::vector<ObjectInfo>> Expired(core::Timestamp now) const;
  // Destroys Expired(now), each with the reason "retention ended: ...". A failure on one
  // object does not stop the others.
  core::Result<ExpiryRun> DestroyExpired(core::Timestamp now);

  // Removes what interrupted operations left: temporary files, boxes and key files with
  // no metadata (a Put that crashed before its commit point) and key/box files of objects
  // recorded as destroyed (key files are zeroed first). Returns the removed paths. Call it
  // only while no Put is running against the directory (e.g. at start-up).
  core::Result<std::vector<std::string>> SweepIncomplete();

  const RetentionBook& retention() const { return retention_; }
  const std::string& dir() const { return dir_; }

 private:
  Vault(std::string dir, const core::Clock& clock, std::string master_key, std::string meta_mac_key,
        RetentionBook retention, VaultOptions options);

  core::Result<ObjectInfo> ReadInfo(std::string_view org, std::string_view id) const;
  core::Result<ObjectInfo> DestroyLocked(const ObjectInfo& info, std::string_view reason);
  core::Status WriteInfo(const ObjectInfo& info) const;
  core::Result<std::vector<std::string>> Orgs() const;
  std::string OrgDir(std::string_view org) const;

  std::string dir_;
  const core::Clock& clock_;
  std::string master_key_;    // 32 bytes; wiped by the destructor
  std::string meta_mac_key_;  // HMAC-SM3 key for metadata files, derived from the master key
  RetentionBook retention_;
  VaultOptions options_;
  std::mutex destroy_mu_;  // serializes Destroy, DestroyExpired and SweepIncomplete
};

// {id, org, media_type, file_name, size, plaintext_sm3, ciphertext_sm3, retention_class,
//  stored_at, expires_at|null, destroyed_at|null[, destroy_reason]} (times RFC 3339 UTC):
// the form of API replies, CLI output and the payload of vault facts.
core::Json ToJson(const ObjectInfo& o);

}  // namespace wg::vault

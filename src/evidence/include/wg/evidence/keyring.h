#pragma once
// KeyRing: each organization's SM2 signing keys (checkpoints and certificate QR codes),
// generated on first use, rotated on request, stored encrypted at rest
// (docs/formats/data-directory.md, docs/adr/0008-org-signing-keys.md):
//
//   KEYS/master.key                       32 random bytes (mode 0600): the key-encryption key
//   KEYS/org/<code>/sign-<n>.sealed       Seal(master, PKCS#8 PEM, aad "wg-org-key|<code>|<n>")
//   KEYS/org/<code>/sign-<n>.pub          public key PEM (not secret)
//
// Version n = 1, 2, ... ; the highest is current. Older private keys are kept so a key
// can be shown to have existed, but only the current key signs. The key name used in
// signed notes is "<origin>/k<n>" (origin: see Evidence).
//
// Thread-safety: all methods may be called concurrently.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/status.h"
#include "wg/crypto/crypto.h"
#include "wg/crypto/sm.h"
#include "wg/ledger/checkpoint.h"

namespace wg::evidence {

struct OrgKey {
  std::string org;
  int version = 0;
  std::string key_name;               // "<origin>/k<n>"
  std::optional<crypto::Sm2PrivateKey> private_key;  // absent for public-only loads
  crypto::Sm2PublicKey public_key;
  std::string vkey;                   // NoteKey::VerifierKey()
};

class KeyRing {
 public:
  // `keys_dir` is DATA/keys; master.key is created there when absent.
  static core::Result<std::unique_ptr<KeyRing>> Open(std::string keys_dir,
                                                     std::string origin_prefix);

  // The current key of `org`, creating version 1 when the organization has none.
  // `created` (optional) is set when this call created it.
  core::Result<OrgKey> Current(const std::string& org, bool* created = nullptr);
  // Every key of `org`, oldest first (private keys included).
  core::Result<std::vector<OrgKey>> All(const std::string& org);
  // Version `version` of `org`'s key; kNotFound when it does not exist.
  core::Result<OrgKey> Version(const std::string& org, int version);
  // Creates version n+1 and makes it current.
  core::Result<OrgKey> Rotate(const std::string& org);

  std::string Origin(const std::string& org) const { return origin_prefix_ + "/" + org; }

 private:
  KeyRing(std::string dir, std::string master, std::string origin_prefix);
  core::Result<OrgKey> Load(const std::string& org, int version);
  core::Result<OrgKey> Create(const std::string& org, int version);
  core::Result<int> LatestVersion(const std::string& org);

  std::string dir_;
  std::string master_;
  std::string origin_prefix_;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, OrgKey> cache_;
};

// QR PayloadSigner (SM2) for a key; key id "<org>/k<n>".
core::Result<std::unique_ptr<crypto::PayloadSigner>> QrSigner(const OrgKey& key);

}  // namespace wg::evidence

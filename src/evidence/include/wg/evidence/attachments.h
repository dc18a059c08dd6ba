#pragma once
// Attachments: the vault (wg/vault) with its evidence. Each object stored or destroyed is a
// fact ("vault.stored" / "vault.destroyed", subject "attachment:<id>") holding its plaintext
// and ciphertext SM3 digests, so the log still proves what existed after retention
// destroyed the key and the ciphertext (docs/formats/vault.md, docs/formats/fact.md).
//
// Thread-safety: all methods may be called concurrently; Expire and Recover belong to the
// serving process only (see vault::Vault).

#include <istream>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/evidence/evidence.h"
#include "wg/store/store.h"
#include "wg/vault/vault.h"

namespace wg::evidence {

class Attachments {
 public:
  Attachments(store::Store& store, Evidence& evidence, vault::Vault& vault,
              const core::Clock& clock)
      : store_(store), evidence_(evidence), vault_(vault), clock_(clock) {}

  // Encrypts and stores `content` for `org`, records "vault.stored" and syncs it.
  core::Result<vault::ObjectInfo> Store(core::OrgId org, const vault::NewObject& object,
                                        std::istream& content, const std::string& actor);
  // Destroys every attachment whose retention ended and records each destruction.
  core::Result<std::vector<vault::ObjectInfo>> Expire(const std::string& actor);
  // Start-up recovery: removes what interrupted vault operations left and records the
  // facts a crash cut off (an object stored or destroyed without its fact).
  core::Status Recover();

  vault::Vault& vault() { return vault_; }

 private:
  store::Store& store_;
  Evidence& evidence_;
  vault::Vault& vault_;
  const core::Clock& clock_;
};

}  // namespace wg::evidence

#pragma once
// Installation: everything that lives in one data directory, opened together.
//
//   DATA/workguard.db         SQLite store (WAL)
//   DATA/rules/*.json         rulebook, editable; defaults installed on first start
//   DATA/keys/id-digest.key   32 random bytes keying national-ID digests (mode 0600)
//   DATA/keys/qr-hmac.key     32 random bytes keying certificate QR signatures (mode 0600)
//   DATA/tmp/                 spooled uploads
//
// See docs/formats/data-directory.md. Opening creates what is missing; it never
// overwrites an existing key or rule file. Losing id-digest.key makes stored ID digests
// unverifiable, so it is created once and must be backed up with the database.

#include <memory>
#include <string>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/registry/registry.h"
#include "wg/registry/rulebook.h"
#include "wg/store/store.h"

namespace wg::server {

struct InstallationOptions {
  std::string data_dir;
  std::string rules_dir;  // empty: DATA/rules
  bool load_index = true;
};

class Installation {
 public:
  static core::Result<std::unique_ptr<Installation>> Open(const InstallationOptions& options,
                                                          const core::Clock& clock);

  store::Store& store() { return *store_; }
  registry::Registry& registry() { return *registry_; }
  const registry::Rulebook& rulebook() const { return *rulebook_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string tmp_dir() const { return data_dir_ + "/tmp"; }

  // Resolves an organization by code; kNotFound names the field "org".
  core::Result<domain::Organization> OrgByCode(const std::string& code);

 private:
  Installation() = default;
  std::string data_dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<registry::Rulebook> rulebook_;
  std::unique_ptr<registry::Registry> registry_;
};

// Reads DATA/keys/NAME, creating it with 32 random bytes (mode 0600) when absent.
core::Result<std::string> LoadOrCreateKey(const std::string& data_dir, const std::string& name);

// Fills an empty installation with the demo organization (示范石化), its sites, users,
// workers and certificates dated relative to `clock`'s today, so some certificates are
// valid, some expiring, some due for review, one overdue, one expired and one revoked.
// Returns the printed summary (user names and passwords for the demo).
core::Result<std::string> SeedDemo(Installation& inst, const core::Clock& clock);

}  // namespace wg::server

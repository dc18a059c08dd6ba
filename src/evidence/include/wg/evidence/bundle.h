#pragma once
// Evidence bundle: everything recorded about one subject (a certificate, later a
// permit) as a self-contained JSON document that anyone can check offline
// (docs/formats/evidence-bundle.md): the facts' canonical entries, an inclusion proof of
// each against one signed checkpoint, and the verifier keys.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/evidence/evidence.h"
#include "wg/evidence/fact.h"

namespace wg::evidence {

struct Bundle {
  std::string origin;
  ledger::HashAlg alg = ledger::HashAlg::kSm3;
  std::string subject;
  std::string checkpoint;                 // signed note
  std::vector<std::string> verifier_keys; // vkeys of the organization's keys
  struct Item {
    std::uint64_t seq = 0;
    std::string entry;                    // canonical fact bytes
    std::vector<ledger::Hash> proof;
  };
  std::vector<Item> items;
};

// All facts about `subject` in `org`, proven against a fresh checkpoint.
core::Result<Bundle> ExportSubject(Evidence& ev, core::OrgId org, const std::string& subject);

core::Json BundleToJson(const Bundle& b);
core::Result<Bundle> ParseBundle(std::string_view json_text);

struct BundleReport {
  std::string origin;
  std::string subject;
  std::uint64_t tree_size = 0;
  std::string signed_by;                  // key name that verified the checkpoint
  std::vector<Fact> facts;
};

// Checks the checkpoint signature (by `trusted_vkey` when given, else by a bundled key
// whose name starts with the origin), that every entry decodes, is about the subject,
// and is included in the checkpoint's tree. kCorruption naming the first failure.
core::Result<BundleReport> VerifyBundle(const Bundle& b,
                                        const std::optional<std::string>& trusted_vkey);

}  // namespace wg::evidence

#pragma once
// Fact: the envelope of one safety-relevant event in an organization's evidence log, and
// its canonical byte encoding, which is the Merkle leaf entry (docs/formats/fact.md):
//
//   "WGF1" | u64be seq | i64be time (µs since the Unix epoch, UTC)
//          | for org, site, kind, actor, subject, payload: u32be length | bytes
//
// The same fact always encodes to the same bytes: payloads are canonical JSON (object
// keys sorted, no insignificant whitespace, integers only, UTF-8 unescaped), produced by
// CanonicalJson. DecodeFact is strict (exact length, limits, UTF-8) and names the field
// that is wrong.

#include <cstdint>
#include <string>
#include <string_view>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/store/store.h"

namespace wg::evidence {

struct Fact {
  std::uint64_t seq = 0;   // leaf index in the organization's log
  core::Timestamp time;
  std::string org;         // organization code
  std::string site;        // site code, empty when none
  std::string kind;        // "cert.issued", "key.rotated", ...
  std::string actor;       // "user:alice", "cli:root", "system"
  std::string subject;     // "cert:special_operation/T3201...", "worker:W001"
  std::string payload;     // canonical JSON
  friend bool operator==(const Fact&, const Fact&) = default;
};

std::string EncodeFact(const Fact& f);
core::Result<Fact> DecodeFact(std::string_view bytes);
Fact FromStored(const store::StoredFact& f, std::string_view org_code);

// {"seq":..,"time":"2026-..Z","org":..,"site":..,"kind":..,"actor":..,"subject":..,
//  "payload":{...}} — the payload parsed back to JSON for people and APIs.
core::Json FactToJson(const Fact& f);

// Canonical JSON text (sorted keys, compact). Floats are not allowed in fact payloads:
// kInvalidArgument naming the path of the first one.
core::Result<std::string> CanonicalJson(const core::Json& j);

// Subjects (stable, installation-independent names).
std::string CertificateSubject(std::string_view cert_kind, std::string_view number);
std::string WorkerSubject(std::string_view worker_code);

// Facts of administrative writes: "org.created" (subject "org:<code>"), "site.created"
// ("site:<code>"), "user.created" ("user:<username>"; role and names, never the password
// hash).
core::Result<store::FactDraft> OrgCreatedFact(const store::NewOrganization& o,
                                              const std::string& actor);
core::Result<store::FactDraft> SiteCreatedFact(const store::NewSite& s, const std::string& actor);
core::Result<store::FactDraft> UserCreatedFact(const domain::User& u, const std::string& actor);

}  // namespace wg::evidence

// Fact drafts for registry writes.

#include "registry_internal.h"
#include "wg/evidence/fact.h"

namespace wg::registry::internal {

core::Result<store::FactDraft> WorkerFact(std::string_view kind, const domain::Worker& w,
                                          const std::string& actor) {
  core::Json p = {{"code", w.code},
                  {"name", w.name},
                  {"employer", w.employer},
                  {"id_salt", w.id_salt},
                  {"id_digest", w.id_digest},
                  {"id_last4", w.id_last4},
                  {"status", domain::WorkerStatusName(w.status)}};
  WG_ASSIGN_OR_RETURN(std::string payload, evidence::CanonicalJson(p));
  return store::FactDraft{.kind = std::string(kind), .actor = actor,
                          .subject = evidence::WorkerSubject(w.code), .site = "",
                          .payload = std::move(payload)};
}

core::Result<store::FactDraft> CertificateFact(std::string_view kind,
                                               const domain::Certificate& c,
                                               std::string_view worker_code,
                                               const std::string& actor) {
  core::Json p = {{"kind", domain::CertKindName(c.kind)},
                  {"category", c.category},
                  {"item", c.item},
                  {"number", c.number},
                  {"authority", c.authority},
                  {"worker", worker_code},
                  {"issue_date", core::FormatDate(c.issue_date)},
                  {"expiry_date", core::FormatDate(c.expiry_date)},
                  {"review_extension_granted", c.review_extension_granted},
                  {"violations", c.violations},
                  {"status", domain::CertStatusName(c.status)},
                  {"status_reason", c.status_reason}};
  p["last_review_date"] =
      c.last_review_date ? core::Json(core::FormatDate(*c.last_review_date)) : core::Json(nullptr);
  p["practice_since"] =
      c.practice_since ? core::Json(core::FormatDate(*c.practice_since)) : core::Json(nullptr);
  WG_ASSIGN_OR_RETURN(std::string payload, evidence::CanonicalJson(p));
  return store::FactDraft{.kind = std::string(kind), .actor = actor,
                          .subject = evidence::CertificateSubject(domain::CertKindName(c.kind),
                                                                  c.number),
                          .site = "", .payload = std::move(payload)};
}

}  // namespace wg::registry::internal

#pragma once
// Input validation shared by the single-record API paths and the CSV importer, so a
// field is judged by the same rule wherever it arrives.

#include "wg/core/status.h"
#include "wg/domain/types.h"
#include "wg/registry/id_number.h"
#include "wg/registry/registry.h"
#include "wg/registry/rulebook.h"

namespace wg::registry::internal {

// Worker code: 1..64 of [A-Za-z0-9_.-].
core::Status CheckWorkerCode(std::string_view code, std::string_view field = "code");
core::Status CheckPhone(std::string_view phone, std::string_view field = "phone");
// Certificate number: 1..64 printable characters, no '|' (QR payload separator).
core::Status CheckCertNumber(std::string_view number, std::string_view field = "number");

// Validates and digests a new worker (fresh random salt). The result has no id/org.
core::Result<domain::Worker> ValidateWorker(const NewWorker& in, const IdDigester& digester);
// Same checks with a caller-supplied salt (the importer reuses one salt per worker).
core::Result<domain::Worker> ValidateWorkerWithSalt(const NewWorker& in,
                                                    const IdDigester& digester,
                                                    const std::string& salt_hex);

// Validates a certificate against the catalog and the rule set in force on its issue date;
// fills the default expiry. `today` is the Shanghai date now.
core::Result<domain::Certificate> ValidateCertificate(const Rulebook& book,
                                                      const NewCertificate& in,
                                                      core::Date today);

}  // namespace wg::registry::internal

namespace wg::registry::internal {

// Fact drafts for the registry's writes (docs/formats/fact.md lists the kinds):
// worker.registered / worker.imported / worker.status_changed and cert.issued /
// cert.imported / cert.revoked / cert.reviewed. Payloads hold the record as written
// (never a national ID: only its salted digest and last four characters).
core::Result<store::FactDraft> WorkerFact(std::string_view kind, const domain::Worker& w,
                                          const std::string& actor);
core::Result<store::FactDraft> CertificateFact(std::string_view kind,
                                               const domain::Certificate& c,
                                               std::string_view worker_code,
                                               const std::string& actor);

}  // namespace wg::registry::internal

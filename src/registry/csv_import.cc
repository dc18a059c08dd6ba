// Registry::ImportCsv — the certificate CSV importer (docs/formats/certificate-csv.md).
//
// Two passes over the file. Pass 1 parses and validates every row (fields, catalog,
// rule-set validity, duplicates inside the file, one identity per worker code, and, for
// workers already registered, that the national ID matches) without writing anything.
// Pass 2 streams the valid rows into one store ImportSession, so the file commits whole
// or not at all, and memory stays bounded by the per-key maps, not by the file.

#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "registry_internal.h"
#include "wg/core/csv.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/registry/registry.h"

namespace wg::registry {

using core::Result;
using core::Status;

namespace {

enum Col {
  kWorkerCode,
  kWorkerName,
  kNationalId,
  kEmployer,
  kPhone,
  kCertKind,
  kCategory,
  kItem,
  kCertNumber,
  kAuthority,
  kIssueDate,
  kExpiryDate,
  kLastReviewDate,
  kPracticeSince,
  kReviewExtension,
  kViolations,
  kStatus,
  kStatusReason,
  kColCount
};

struct ColumnSpec {
  const char* name;
  bool required;
};

constexpr ColumnSpec kColumns[kColCount] = {
    {"worker_code", true},  {"worker_name", true},      {"national_id", true},
    {"employer", true},     {"phone", false},           {"cert_kind", true},
    {"category", true},     {"item", true},             {"cert_number", true},
    {"authority", true},    {"issue_date", true},       {"expiry_date", false},
    {"last_review_date", false}, {"practice_since", false}, {"review_extension_granted", false},
    {"violations", false},  {"status", false},          {"status_reason", false},
};

// FNV-1a, 64-bit: keys for the duplicate maps (collisions at 30 M keys ~ 2.4e-5 and
// would only report a false duplicate, never hide one).
std::uint64_t Hash64(std::string_view a, std::string_view b = {}) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : a) h = (h ^ c) * 1099511628211ULL;
  h = (h ^ 0x1F) * 1099511628211ULL;
  for (unsigned char c : b) h = (h ^ c) * 1099511628211ULL;
  return h;
}

struct ParsedRow {
  NewWorker worker;
  domain::Certificate cert;  // validated, without ids
};

struct Layout {
  int index[kColCount];
  std::size_t width = 0;
};

Result<Layout> ReadHeader(const std::vector<std::string>& header) {
  Layout l;
  for (int& i : l.index) i = -1;
  l.width = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    std::string_view h = core::Trim(header[i]);
    int found = -1;
    for (int c = 0; c < kColCount; ++c) {
      if (h == kColumns[c].name) found = c;
    }
    if (found < 0) {
      return Status::InvalidArgument("unknown column '" + std::string(h.substr(0, 64)) + "'",
                                     std::string(h.substr(0, 64)));
    }
    if (l.index[found] >= 0) {
      return Status::InvalidArgument("column appears twice", std::string(h));
    }
    l.index[found] = static_cast<int>(i);
  }
  for (int c = 0; c < kColCount; ++c) {
    if (kColumns[c].required && l.index[c] < 0) {
      return Status::InvalidArgument("required column is missing", kColumns[c].name);
    }
  }
  return l;
}

std::string_view Cell(const Layout& l, const std::vector<std::string>& f, Col c) {
  int i = l.index[c];
  if (i < 0 || static_cast<std::size_t>(i) >= f.size()) return {};
  return core::Trim(f[static_cast<std::size_t>(i)]);
}

Result<std::optional<core::Date>> OptDate(std::string_view s, const char* field) {
  if (s.empty()) return std::optional<core::Date>();
  WG_ASSIGN_OR_RETURN(core::Date d, core::ParseDate(s, field));
  return std::optional<core::Date>(d);
}

Result<bool> ParseBool(std::string_view s, const char* field) {
  if (s.empty() || s == "false" || s == "0" || s == "no" || s == "否") return false;
  if (s == "true" || s == "1" || s == "yes" || s == "是") return true;
  return Status::InvalidArgument("expected true/false, 1/0, yes/no or 是/否", field);
}

// Parses and validates one record. Errors carry the column as `field`.
Result<ParsedRow> ParseRow(const Rulebook& book, const Layout& l,
                           const std::vector<std::string>& f, core::Date today) {
  if (f.size() != l.width) {
    return Status::InvalidArgument("has " + std::to_string(f.size()) + " fields; the header has " +
                                       std::to_string(l.width),
                                   "(row)");
  }
  ParsedRow row;
  NewWorker& w = row.worker;
  w.code = std::string(Cell(l, f, kWorkerCode));
  w.name = std::string(Cell(l, f, kWorkerName));
  w.employer = std::string(Cell(l, f, kEmployer));
  w.phone = std::string(Cell(l, f, kPhone));
  WG_RETURN_IF_ERROR(internal::CheckWorkerCode(w.code, "worker_code"));
  WG_RETURN_IF_ERROR(core::CheckText(w.name, "worker_name", 64));
  WG_RETURN_IF_ERROR(core::CheckText(w.employer, "employer", 128));
  WG_RETURN_IF_ERROR(internal::CheckPhone(w.phone, "phone"));
  WG_ASSIGN_OR_RETURN(w.national_id, NormalizeResidentId(Cell(l, f, kNationalId), "national_id"));

  NewCertificate nc;
  WG_ASSIGN_OR_RETURN(nc.kind, domain::ParseCertKind(Cell(l, f, kCertKind), "cert_kind"));
  nc.category = std::string(Cell(l, f, kCategory));
  nc.item = std::string(Cell(l, f, kItem));
  nc.number = std::string(Cell(l, f, kCertNumber));
  nc.authority = std::string(Cell(l, f, kAuthority));
  WG_ASSIGN_OR_RETURN(nc.issue_date, core::ParseDate(Cell(l, f, kIssueDate), "issue_date"));
  WG_ASSIGN_OR_RETURN(nc.expiry_date, OptDate(Cell(l, f, kExpiryDate), "expiry_date"));
  WG_ASSIGN_OR_RETURN(nc.last_review_date,
                      OptDate(Cell(l, f, kLastReviewDate), "last_review_date"));
  WG_ASSIGN_OR_RETURN(nc.practice_since, OptDate(Cell(l, f, kPracticeSince), "practice_since"));
  WG_ASSIGN_OR_RETURN(nc.review_extension_granted,
                      ParseBool(Cell(l, f, kReviewExtension), "review_extension_granted"));
  if (auto v = Cell(l, f, kViolations); !v.empty()) {
    WG_ASSIGN_OR_RETURN(auto n, core::ParseInt(v, 0, 100, "violations"));
    nc.violations = static_cast<int>(n);
  }
  auto validated = internal::ValidateCertificate(book, nc, today);
  if (!validated) {
    Status e = validated.error();
    // Map the API field names onto the CSV column names.
    std::string field = e.field();
    if (field == "number") field = "cert_number";
    return Status::InvalidArgument(e.message(), field);
  }
  row.cert = std::move(validated).value();
  if (auto s = Cell(l, f, kStatus); !s.empty()) {
    WG_ASSIGN_OR_RETURN(row.cert.status, domain::ParseCertStatus(s, "status"));
  }
  std::string_view reason = Cell(l, f, kStatusReason);
  if (row.cert.status != domain::CertStatus::kActive) {
    const RevocationReason* r = book.FindReason(reason);
    if (!r) {
      return Status::InvalidArgument("a revoked or cancelled certificate needs a known reason code",
                                     "status_reason");
    }
    if (r->status != row.cert.status) {
      return Status::InvalidArgument("reason '" + r->code + "' is a " +
                                         std::string(domain::CertStatusName(r->status)) +
                                         " reason, not " +
                                         std::string(domain::CertStatusName(row.cert.status)),
                                     "status_reason");
    }
    row.cert.status_reason = r->code;
  } else if (!reason.empty()) {
    return Status::InvalidArgument("only allowed when status is revoked or cancelled",
                                   "status_reason");
  }
  return row;
}

}  // namespace

Result<ImportReport> Registry::ImportCsv(core::OrgId org, const std::string& path,
                                         const ImportOptions& options) {
  std::error_code ec;
  auto file_size = static_cast<std::size_t>(std::filesystem::file_size(path, ec));
  if (ec) return Status::IoError("cannot read " + path + ": " + ec.message());
  core::Date today = core::ShanghaiDate(clock_.Now());
  ImportReport report;

  auto add_error = [&](std::size_t row, std::string column, std::string reason) {
    if (report.errors.size() < options.max_errors_reported) {
      report.errors.push_back({row, std::move(column), std::move(reason)});
    }
  };

  // ---- Pass 1: validate everything, write nothing.
  std::vector<bool> invalid;  // by data row - 1
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IoError("cannot open " + path);
    core::CsvReader reader(in);
    std::vector<std::string> fields;
    auto first = reader.Next(&fields);
    if (!first) {
      add_error(0, first.error().field(), first.error().message());
      report.invalid_rows = 1;
      return report;
    }
    if (!*first) {
      add_error(0, "", "the file is empty; a header row is required");
      report.invalid_rows = 1;
      return report;
    }
    auto layout = ReadHeader(fields);
    if (!layout) {
      add_error(0, layout.error().field(), layout.error().message());
      report.invalid_rows = 1;
      return report;
    }
    struct WorkerSeen {
      std::size_t row;
      std::uint64_t id_hash;
      std::uint64_t name_hash;
    };
    std::unordered_map<std::uint64_t, WorkerSeen> workers_seen;
    // national ID -> (worker code, first row): one person, one worker code.
    std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::size_t>> people_seen;
    std::unordered_map<std::uint64_t, std::size_t> numbers_seen;
    WG_ASSIGN_OR_RETURN(std::int64_t existing_workers, store_.CountWorkers());

    std::size_t row = 0;
    while (true) {
      auto more = reader.Next(&fields);
      if (!more) {
        // A framing error makes the rest of the file unreadable: report and stop.
        add_error(row + 1, "", more.error().message() + " (" + more.error().field() + ")");
        ++report.invalid_rows;
        ++report.rows;
        invalid.push_back(true);
        report.valid_rows = report.rows - report.invalid_rows;
        return report;
      }
      if (!*more) break;
      ++row;
      ++report.rows;
      auto parsed = ParseRow(book_, *layout, fields, today);
      bool bad = !parsed.has_value();
      if (bad) {
        add_error(row, parsed.error().field(), parsed.error().message());
      } else {
        const ParsedRow& p = *parsed;
        auto key = Hash64(domain::CertKindName(p.cert.kind), p.cert.number);
        auto [nit, fresh_number] = numbers_seen.emplace(key, row);
        if (!fresh_number) {
          add_error(row, "cert_number",
                    "duplicate certificate number '" + p.cert.number + "' (also in row " +
                        std::to_string(nit->second) + ")");
          bad = true;
        }
        auto wkey = Hash64(p.worker.code);
        WorkerSeen seen{row, Hash64(p.worker.national_id), Hash64(p.worker.name)};
        auto [wit, fresh_worker] = workers_seen.emplace(wkey, seen);
        if (!fresh_worker) {
          if (wit->second.id_hash != seen.id_hash) {
            add_error(row, "national_id",
                      "worker " + p.worker.code + " has a different national ID in row " +
                          std::to_string(wit->second.row));
            bad = true;
          } else if (wit->second.name_hash != seen.name_hash) {
            add_error(row, "worker_name",
                      "worker " + p.worker.code + " has a different name in row " +
                          std::to_string(wit->second.row));
            bad = true;
          }
        } else if (auto [pit, fresh_person] = people_seen.emplace(
                       seen.id_hash, std::make_pair(wkey, row));
                   !fresh_person && pit->second.first != wkey) {
          add_error(row, "national_id",
                    "the same national ID belongs to another worker code in row " +
                        std::to_string(pit->second.second));
          bad = true;
        } else if (existing_workers > 0) {
          // A worker already registered must be the same person, and a person already
          // registered must not come back under another code.
          auto existing = store_.FindWorkerByCode(org, p.worker.code);
          if (!existing.has_value() && existing.error().code() == core::StatusCode::kNotFound) {
            WG_ASSIGN_OR_RETURN(std::string lookup, digester_.Lookup(p.worker.national_id));
            auto same_person = store_.FindWorkerByIdLookup(org, lookup);
            if (same_person.has_value()) {
              add_error(row, "national_id",
                        "this national ID is already registered as worker " + same_person->code);
              bad = true;
            } else if (same_person.error().code() != core::StatusCode::kNotFound) {
              return same_person.error();
            }
          } else if (existing.has_value()) {
            WG_ASSIGN_OR_RETURN(bool same, digester_.Matches(p.worker.national_id,
                                                             existing->id_salt,
                                                             existing->id_digest));
            if (!same) {
              add_error(row, "national_id",
                        "does not match the national ID registered for worker " +
                            p.worker.code);
              bad = true;
            }
          } else if (existing.error().code() != core::StatusCode::kNotFound) {
            return existing.error();
          }
        }
      }
      invalid.push_back(bad);
      if (bad) ++report.invalid_rows;
      if (options.progress && row % 100000 == 0) {
        options.progress(row, reader.bytes_read(), file_size * 2);
      }
    }
  }
  report.valid_rows = report.rows - report.invalid_rows;
  if (report.invalid_rows > 0 && !options.skip_invalid) return report;
  if (report.valid_rows == 0) {
    if (report.rows == 0) add_error(0, "", "the file has a header but no data rows");
    return report;
  }

  // ---- Pass 2: write the valid rows in one transaction.
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IoError("cannot reopen " + path);
    core::CsvReader reader(in);
    std::vector<std::string> fields;
    WG_ASSIGN_OR_RETURN(bool has_header, reader.Next(&fields));
    if (!has_header) return Status::Internal("file changed during import: " + path);
    WG_ASSIGN_OR_RETURN(Layout layout, ReadHeader(fields));
    WG_ASSIGN_OR_RETURN(auto session, store_.BeginImport(org));
    std::unordered_set<std::uint64_t> workers_sent;
    std::vector<store::ImportWorker> workers;
    std::vector<store::ImportCertificate> certs;
    store::FactDrafts facts;
    const std::size_t chunk = options.batch_rows > 0 ? options.batch_rows : 50000;
    core::Timestamp now = clock_.Now();
    std::size_t row = 0;
    while (true) {
      WG_ASSIGN_OR_RETURN(bool more, reader.Next(&fields));
      if (!more) break;
      ++row;
      if (row > invalid.size()) return Status::Internal("file changed during import: " + path);
      if (invalid[row - 1]) continue;
      WG_ASSIGN_OR_RETURN(ParsedRow p, ParseRow(book_, layout, fields, today));
      if (workers_sent.insert(Hash64(p.worker.code)).second) {
        WG_ASSIGN_OR_RETURN(domain::Worker w, internal::ValidateWorker(p.worker, digester_));
        w.org_id = org;
        w.created_at = w.updated_at = now;
        WG_ASSIGN_OR_RETURN(store::FactDraft f,
                            internal::WorkerFact("worker.imported", w, options.actor));
        facts.push_back(std::move(f));
        workers.push_back({std::move(w)});
      }
      p.cert.org_id = org;
      p.cert.created_at = p.cert.updated_at = now;
      WG_ASSIGN_OR_RETURN(store::FactDraft f, internal::CertificateFact("cert.imported", p.cert,
                                                                        p.worker.code, options.actor));
      facts.push_back(std::move(f));
      certs.push_back({p.worker.code, std::move(p.cert)});
      if (certs.size() >= chunk) {
        WG_RETURN_IF_ERROR(session->Add(workers, certs, facts)
                               .WithContext("rows up to " + std::to_string(row)));
        workers.clear();
        certs.clear();
        facts.clear();
      }
      if (options.progress && row % 100000 == 0) {
        options.progress(row, file_size + reader.bytes_read(), file_size * 2);
      }
    }
    if (!certs.empty() || !workers.empty()) {
      WG_RETURN_IF_ERROR(session->Add(workers, certs, facts));
    }
    WG_ASSIGN_OR_RETURN(report.summary, session->Commit());
    if (options.progress) options.progress(row, file_size * 2, file_size * 2);
  }
  report.imported = true;
  WG_RETURN_IF_ERROR(CatchUp());
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  return report;
}

core::Json ToJson(const ImportReport& r) {
  core::Json errors = core::Json::array();
  for (const auto& e : r.errors) {
    errors.push_back({{"row", e.row}, {"column", e.column}, {"reason", e.reason}});
  }
  return core::Json{
      {"imported", r.imported},
      {"rows", r.rows},
      {"valid_rows", r.valid_rows},
      {"invalid_rows", r.invalid_rows},
      {"workers_created", r.summary.workers_created},
      {"workers_updated", r.summary.workers_updated},
      {"certificates_created", r.summary.certificates_created},
      {"certificates_updated", r.summary.certificates_updated},
      {"errors", std::move(errors)},
      {"errors_truncated", r.errors.size() < r.invalid_rows},
  };
}

}  // namespace wg::registry

#include "wg/registry/registry.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "cert_index.h"
#include "registry_internal.h"
#include "wg/core/strings.h"

namespace wg::registry {

using core::Result;
using core::Status;

Registry::Registry(store::Store& store, const core::Clock& clock, const Rulebook& book,
                   IdDigester digester, evidence::Evidence& evidence)
    : store_(store),
      clock_(clock),
      book_(book),
      digester_(std::move(digester)),
      evidence_(evidence),
      index_(std::make_unique<CertIndex>()) {}

Registry::~Registry() = default;


Status Registry::LoadIndex() {
  WG_ASSIGN_OR_RETURN(std::int64_t workers, store_.CountWorkers());
  WG_ASSIGN_OR_RETURN(std::int64_t certs, store_.CountCertificates());
  auto fresh = std::make_unique<CertIndex>();
  fresh->Reserve(static_cast<std::size_t>(workers), static_cast<std::size_t>(certs));
  std::size_t orphans = 0;
  WG_ASSIGN_OR_RETURN(
      std::int64_t rev,
      store_.ScanAll(
          [&](const domain::Worker& w) {
            fresh->UpsertWorker(w);
            return true;
          },
          [&](const domain::Certificate& c) {
            if (!fresh->UpsertCertificate(c)) ++orphans;
            return true;
          }));
  if (orphans > 0) {
    return Status::Corruption(std::to_string(orphans) +
                              " certificates reference workers that are not in the store");
  }
  std::unique_lock lock(mu_);
  index_ = std::move(fresh);
  revision_ = rev;
  index_loaded_ = true;
  return Status::Ok();
}

Status Registry::CatchUp() {
  while (true) {
    std::int64_t since;
    {
      std::shared_lock lock(mu_);
      if (!index_loaded_) return Status::Ok();
      since = revision_;
    }
    WG_ASSIGN_OR_RETURN(auto changes, store_.ChangesSince(since, 10000));
    if (changes.empty()) return Status::Ok();
    std::unique_lock lock(mu_);
    for (const auto& ch : changes) {
      if (ch.worker) index_->UpsertWorker(*ch.worker);
      if (ch.certificate) index_->UpsertCertificate(*ch.certificate);
      revision_ = std::max(revision_, ch.revision);
    }
  }
}

std::size_t Registry::indexed_workers() const {
  std::shared_lock lock(mu_);
  return index_->workers();
}

std::size_t Registry::indexed_certificates() const {
  std::shared_lock lock(mu_);
  return index_->certificates();
}

Result<Verification> Registry::Verify(core::OrgId org, core::WorkerId worker,
                                      std::string_view operation,
                                      std::optional<core::Timestamp> at,
                                      std::optional<std::string> presented_id) {
  const OperationRule* op = book_.FindOperation(operation);
  if (!op) {
    return Status::InvalidArgument(
        "unknown operation '" + std::string(operation.substr(0, 64)) +
            "'; see GET /api/v1/operations for the list",
        "operation");
  }
  std::optional<bool> id_matches;
  if (presented_id) {
    auto w = store_.GetWorker(org, worker);
    if (w.has_value()) {
      WG_ASSIGN_OR_RETURN(bool m,
                          digester_.Matches(*presented_id, w->id_salt, w->id_digest));
      id_matches = m;
    } else if (w.error().code() != core::StatusCode::kNotFound) {
      return w.error();
    } else {
      // Still validate the input so a malformed ID is reported as such.
      WG_RETURN_IF_ERROR(NormalizeResidentId(*presented_id).error());
    }
  }
  core::Timestamp when = at.value_or(clock_.Now());
  thread_local std::vector<CertFacts> certs;
  std::shared_lock lock(mu_);
  if (!index_loaded_) return Status::FailedPrecondition("the certificate index is not loaded");
  CertIndex::WorkerView view;
  bool found = index_->Gather(org.value, worker.value, &view, &certs);
  std::optional<WorkerFacts> facts;
  if (found) facts = WorkerFacts{view.id, view.status};
  return registry::Verify(book_, facts, certs, *op, when, id_matches);
}

Result<domain::Worker> Registry::CreateWorker(core::OrgId org, const NewWorker& in,
                                              const std::string& actor) {
  WG_ASSIGN_OR_RETURN(domain::Worker w, internal::ValidateWorker(in, digester_));
  // One person, one worker record (the unique index backs this check up).
  auto same_person = store_.FindWorkerByIdLookup(org, w.id_lookup);
  if (same_person.has_value()) {
    return Status::AlreadyExists(
        "this national ID is already registered as worker " + same_person->code, "national_id");
  }
  if (same_person.error().code() != core::StatusCode::kNotFound) return same_person.error();
  w.org_id = org;
  w.status = domain::WorkerStatus::kActive;
  w.created_at = w.updated_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(store::FactDraft fact, internal::WorkerFact("worker.registered", w, actor));
  WG_ASSIGN_OR_RETURN(domain::Worker saved, store_.CreateWorker(w, {fact}));
  {
    std::unique_lock lock(mu_);
    index_->UpsertWorker(saved);
  }
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  return saved;
}

Result<domain::Certificate> Registry::AddCertificate(core::OrgId org, const NewCertificate& in,
                                                     const std::string& actor) {
  core::Date today = core::ShanghaiDate(clock_.Now());
  WG_ASSIGN_OR_RETURN(domain::Certificate c, internal::ValidateCertificate(book_, in, today));
  auto worker = store_.GetWorker(org, in.worker_id);
  if (!worker) {
    if (worker.error().code() == core::StatusCode::kNotFound) {
      return Status::NotFound("worker " + std::to_string(in.worker_id.value) + " not found",
                              "worker_id");
    }
    return worker.error();
  }
  c.org_id = org;
  c.worker_id = in.worker_id;
  c.created_at = c.updated_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(store::FactDraft fact,
                      internal::CertificateFact("cert.issued", c, worker->code, actor));
  WG_ASSIGN_OR_RETURN(domain::Certificate saved, store_.CreateCertificate(c, {fact}));
  {
    std::unique_lock lock(mu_);
    index_->UpsertCertificate(saved);
  }
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  return saved;
}

Result<domain::Certificate> Registry::RevokeCertificate(core::OrgId org, core::CertificateId id,
                                                        std::string_view reason_code,
                                                        const std::string& actor) {
  const RevocationReason* reason = book_.FindReason(reason_code);
  if (!reason) {
    std::string allowed;
    for (const auto& r : book_.revocation_reasons()) {
      if (!allowed.empty()) allowed += ", ";
      allowed += r.code;
    }
    return Status::InvalidArgument("unknown reason '" + std::string(reason_code.substr(0, 64)) +
                                       "' (one of: " + allowed + ")",
                                   "reason");
  }
  WG_ASSIGN_OR_RETURN(domain::Certificate c, store_.GetCertificate(org, id));
  if (c.status != domain::CertStatus::kActive) {
    return Status::FailedPrecondition("certificate " + c.number + " is already " +
                                      std::string(domain::CertStatusName(c.status)));
  }
  c.status = reason->status;
  c.status_reason = reason->code;
  return SaveCertificateChange(org, std::move(c), "cert.revoked", actor);
}

Result<domain::Certificate> Registry::RecordReview(core::OrgId org, core::CertificateId id,
                                                   core::Date review_date,
                                                   const std::string& actor) {
  WG_ASSIGN_OR_RETURN(domain::Certificate c, store_.GetCertificate(org, id));
  core::Date today = core::ShanghaiDate(clock_.Now());
  if (c.status != domain::CertStatus::kActive) {
    return Status::FailedPrecondition("certificate " + c.number + " is " +
                                      std::string(domain::CertStatusName(c.status)) +
                                      "; a review cannot be recorded");
  }
  if (review_date < c.issue_date || review_date > today) {
    return Status::InvalidArgument("must be between the issue date " +
                                       core::FormatDate(c.issue_date) + " and today " +
                                       core::FormatDate(today),
                                   "review_date");
  }
  if (review_date >= c.expiry_date) {
    return Status::InvalidArgument("must be before the expiry date " +
                                       core::FormatDate(c.expiry_date),
                                   "review_date");
  }
  if (c.last_review_date && review_date <= *c.last_review_date) {
    return Status::InvalidArgument("must be after the last recorded review " +
                                       core::FormatDate(*c.last_review_date),
                                   "review_date");
  }
  c.last_review_date = review_date;
  return SaveCertificateChange(org, std::move(c), "cert.reviewed", actor);
}

Result<domain::Certificate> Registry::SaveCertificateChange(core::OrgId org, domain::Certificate c,
                                                            std::string_view fact_kind,
                                                            const std::string& actor) {
  c.updated_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(domain::Worker w, store_.GetWorker(org, c.worker_id));
  WG_ASSIGN_OR_RETURN(store::FactDraft fact,
                      internal::CertificateFact(fact_kind, c, w.code, actor));
  WG_ASSIGN_OR_RETURN(domain::Certificate saved, store_.UpdateCertificate(c, {fact}));
  {
    std::unique_lock lock(mu_);
    index_->UpsertCertificate(saved);
  }
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  return saved;
}

Status Registry::SetWorkerStatus(core::OrgId org, core::WorkerId id, domain::WorkerStatus s,
                                 const std::string& actor) {
  WG_ASSIGN_OR_RETURN(domain::Worker before, store_.GetWorker(org, id));
  before.status = s;
  WG_ASSIGN_OR_RETURN(store::FactDraft fact,
                      internal::WorkerFact("worker.status_changed", before, actor));
  WG_RETURN_IF_ERROR(store_.UpdateWorkerStatus(org, id, s, {fact}));
  WG_ASSIGN_OR_RETURN(domain::Worker w, store_.GetWorker(org, id));
  {
    std::unique_lock lock(mu_);
    index_->UpsertWorker(w);
  }
  return evidence_.SyncAfterWrite(org);
}

Result<std::vector<Reminder>> Registry::Expiring(std::optional<core::OrgId> org, int days,
                                                 std::optional<core::Timestamp> at,
                                                 std::size_t limit) {
  if (days < 0 || days > 3660) {
    return Status::InvalidArgument("must be between 0 and 3660", "days");
  }
  core::Date today = core::ShanghaiDate(at.value_or(clock_.Now()));
  core::Date horizon = today.AddDays(days);
  struct Hit {
    std::int64_t org, worker, cert;
    core::Date due;
    std::string kind;
    Verdict verdict;
  };
  std::vector<Hit> hits;
  {
    std::shared_lock lock(mu_);
    if (!index_loaded_) return Status::FailedPrecondition("the certificate index is not loaded");
    index_->ForEach(org ? org->value : 0, [&](const CertIndex::WorkerView& w,
                                              const CertFacts& c) {
      if (c.status != domain::CertStatus::kActive) return;
      CertStanding s = EvaluateCertificate(book_, c, today);
      if (s.verdict == Verdict::kExpired) {
        // Recently expired certificates stay on the list for one window.
        if (s.expiry_date >= today.AddDays(-days)) {
          hits.push_back({w.org_id, w.id, c.id, s.expiry_date, "expiry", s.verdict});
        }
        return;
      }
      if (s.verdict == Verdict::kRevoked || s.verdict == Verdict::kNotYetValid) return;
      core::Date due = s.expiry_date;
      std::string kind = "expiry";
      if (s.review_due && *s.review_due < s.expiry_date) {
        due = *s.review_due;
        kind = "review";
      } else if (s.review_due) {
        kind = "renewal";
      }
      if (due <= horizon) hits.push_back({w.org_id, w.id, c.id, due, kind, s.verdict});
    });
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.due != b.due ? a.due < b.due : a.cert < b.cert;
  });
  if (hits.size() > limit) hits.resize(limit);
  std::vector<Reminder> out;
  out.reserve(hits.size());
  for (const auto& h : hits) {
    Reminder r;
    WG_ASSIGN_OR_RETURN(r.certificate,
                        store_.GetCertificate(core::OrgId{h.org}, core::CertificateId{h.cert}));
    WG_ASSIGN_OR_RETURN(domain::Worker w,
                        store_.GetWorker(core::OrgId{h.org}, core::WorkerId{h.worker}));
    r.worker_name = w.name;
    r.worker_code = w.code;
    r.due_kind = h.kind;
    r.due_date = h.due;
    r.days_left = core::DaysBetween(today, h.due);
    r.verdict = h.verdict;
    out.push_back(std::move(r));
  }
  return out;
}

core::Json ToJson(const Reminder& r) {
  return core::Json{
      {"certificate_id", r.certificate.id.value},
      {"number", r.certificate.number},
      {"kind", domain::CertKindName(r.certificate.kind)},
      {"category", r.certificate.category},
      {"item", r.certificate.item},
      {"worker_id", r.certificate.worker_id.value},
      {"worker_code", r.worker_code},
      {"worker_name", r.worker_name},
      {"due_kind", r.due_kind},
      {"due_date", core::FormatDate(r.due_date)},
      {"days_left", r.days_left},
      {"expiry_date", core::FormatDate(r.certificate.expiry_date)},
      {"verdict", VerdictName(r.verdict)},
  };
}

Result<Registry::ProjectionReport> Registry::VerifyProjection(core::OrgId org) {
  ProjectionReport rep;
  store::Page page{.after_id = 0, .limit = 1000};
  while (true) {
    WG_ASSIGN_OR_RETURN(auto workers, store_.ListWorkers(org, page));
    if (workers.empty()) break;
    for (const auto& w : workers) {
      WG_ASSIGN_OR_RETURN(auto certs, store_.ListCertificatesOfWorker(org, w.id));
      for (const auto& c : certs) {
        ++rep.certificates;
        const std::string subject =
            evidence::CertificateSubject(domain::CertKindName(c.kind), c.number);
        // The latest fact about the certificate (facts are few per subject).
        std::optional<store::StoredFact> latest;
        for (std::int64_t from = 0;;) {
          WG_ASSIGN_OR_RETURN(auto facts, store_.FactsAbout(org, subject, from, 1000));
          if (facts.empty()) break;
          latest = facts.back();
          from = facts.back().seq + 1;
        }
        if (!latest) {
          ++rep.unrecorded;
          continue;
        }
        WG_ASSIGN_OR_RETURN(store::FactDraft expected,
                            internal::CertificateFact(latest->kind, c, w.code, latest->actor));
        if (expected.payload != latest->payload) {
          return Status::Corruption("certificate " + c.number + " (id " +
                                    std::to_string(c.id.value) +
                                    ") differs from its latest fact " +
                                    std::to_string(latest->seq) + " (" + latest->kind +
                                    "): the row was changed without a fact; row " +
                                    expected.payload + ", fact " + latest->payload);
        }
      }
    }
    page.after_id = workers.back().id.value;
  }
  return rep;
}

}  // namespace wg::registry

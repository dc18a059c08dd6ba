// PermitService (service.h): the permit lifecycle over store, registry, evidence and keys.
#include "wg/permit/service.h"

#include <algorithm>
#include <deque>
#include <set>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/crypto/sm.h"
#include "wg/domain/types.h"
#include "wg/evidence/fact.h"

namespace wg::permit {

using core::Json;
using core::Result;
using core::Status;

namespace {

constexpr int kSuspensionWindowDays = 90;

std::string Subject(const std::string& number) { return "permit:" + number; }

std::string Hex(std::string_view raw) { return core::ToHex(raw); }

std::string KeyAad(const std::string& org, std::int64_t user, int version) {
  return "wg-user-key|" + org + "|" + std::to_string(user) + "|" + std::to_string(version);
}

Result<Json> ParseStringList(const Json& j, std::string_view field, std::size_t max) {
  if (!j.is_array()) return Status::InvalidArgument("must be an array of strings", std::string(field));
  if (j.size() > max) return Status::InvalidArgument("too many entries", std::string(field));
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string() || j[i].get<std::string>().empty() ||
        j[i].get<std::string>().size() > 64) {
      return Status::InvalidArgument("must be a non-empty string of at most 64 characters",
                                     std::string(field) + "[" + std::to_string(i) + "]");
    }
  }
  return j;
}

}  // namespace

// --- authorizations ----------------------------------------------------------------------

Result<std::vector<AuthorityScope>> ParseScopes(const PermitRulebook& book, const Json& doc) {
  WG_RETURN_IF_ERROR(core::RequireObject(doc, ""));
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(doc, {"scopes"}, ""));
  auto it = doc.find("scopes");
  if (it == doc.end() || !it->is_array()) {
    return Status::InvalidArgument("is required and must be an array", "scopes");
  }
  if (it->size() > 64) return Status::InvalidArgument("at most 64 scopes", "scopes");
  std::vector<AuthorityScope> out;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& s = (*it)[i];
    const std::string f = "scopes[" + std::to_string(i) + "]";
    WG_RETURN_IF_ERROR(core::RequireObject(s, f));
    WG_RETURN_IF_ERROR(core::RejectUnknownMembers(
        s, {"level", "types", "grades", "sites", "delegated_by", "reference", "valid_until"}, f));
    AuthorityScope scope;
    WG_ASSIGN_OR_RETURN(scope.level, core::GetString(s, "level", 64));
    if (book.AuthorityRank(scope.level) < 0) {
      return Status::InvalidArgument("unknown authority level; GET /api/v1/permits/rulebook lists them",
                                     f + ".level");
    }
    if (auto t = s.find("types"); t != s.end()) {
      WG_ASSIGN_OR_RETURN(Json list, ParseStringList(*t, f + ".types", 8));
      for (std::size_t k = 0; k < list.size(); ++k) {
        WG_ASSIGN_OR_RETURN(PermitType type,
                            ParsePermitType(list[k].get<std::string>(),
                                            f + ".types[" + std::to_string(k) + "]"));
        scope.types.push_back(type);
      }
    }
    if (auto g = s.find("grades"); g != s.end()) {
      WG_ASSIGN_OR_RETURN(Json list, ParseStringList(*g, f + ".grades", 16));
      for (const auto& v : list) scope.grades.push_back(v.get<std::string>());
    }
    if (auto st = s.find("sites"); st != s.end()) {
      WG_ASSIGN_OR_RETURN(Json list, ParseStringList(*st, f + ".sites", 256));
      for (const auto& v : list) scope.sites.push_back(v.get<std::string>());
    }
    WG_ASSIGN_OR_RETURN(auto by, core::GetOptionalString(s, "delegated_by", 128));
    WG_ASSIGN_OR_RETURN(auto ref, core::GetOptionalString(s, "reference", 256));
    scope.delegated_by = by.value_or("");
    scope.reference = ref.value_or("");
    if (scope.delegated_by.empty() != scope.reference.empty()) {
      return Status::InvalidArgument(
          "a delegation names both who delegated (delegated_by) and the enterprise document "
          "that allows it (reference)",
          f + (scope.delegated_by.empty() ? ".delegated_by" : ".reference"));
    }
    WG_ASSIGN_OR_RETURN(auto until, core::GetOptionalString(s, "valid_until", 10));
    if (until) {
      WG_ASSIGN_OR_RETURN(core::Date d, core::ParseDate(*until, f + ".valid_until"));
      scope.valid_until = d;
    }
    out.push_back(std::move(scope));
  }
  return out;
}

Json ScopesToJson(const std::vector<AuthorityScope>& scopes) {
  Json arr = Json::array();
  for (const auto& s : scopes) {
    Json j = {{"level", s.level}};
    Json types = Json::array();
    for (auto t : s.types) types.push_back(PermitTypeCode(t));
    j["types"] = types;
    j["grades"] = s.grades;
    j["sites"] = s.sites;
    if (!s.delegated_by.empty()) j["delegated_by"] = s.delegated_by;
    if (!s.reference.empty()) j["reference"] = s.reference;
    if (s.valid_until) j["valid_until"] = core::FormatDate(*s.valid_until);
    arr.push_back(std::move(j));
  }
  return Json{{"scopes", arr}};
}

Json ToJson(const HistoryEvent& e) {
  return Json{{"seq", e.seq},
              {"time", core::FormatTimestamp(e.time)},
              {"kind", e.kind},
              {"actor", e.actor},
              {"payload", e.payload}};
}

Json ToJson(const PermitVerification& v) {
  Json j = {{"found", v.found}};
  if (!v.found) return j;
  j["number"] = v.permit.number;
  j["type"] = PermitTypeCode(v.permit.type);
  j["grade"] = v.permit.grade;
  j["state"] = StateCode(v.permit.state);
  j["site"] = v.permit.site;
  j["title"] = v.permit.title;
  j["planned_start"] = core::FormatTimestamp(v.permit.planned_start);
  j["planned_end"] = core::FormatTimestamp(v.permit.planned_end);
  j["content_digest"] = v.content_digest;
  j["digest_matches"] = v.digest_matches;
  j["signatures_valid"] = v.signatures_valid;
  Json sigs = Json::array();
  for (std::size_t i = 0; i < v.permit.signatures.size(); ++i) {
    const auto& s = v.permit.signatures[i];
    sigs.push_back({{"role", s.role},
                    {"username", s.username},
                    {"signed_at", core::FormatTimestamp(s.signed_at)},
                    {"key_id", s.key_id},
                    {"valid", i < v.signature_valid.size() && v.signature_valid[i]}});
  }
  j["signatures"] = sigs;
  return j;
}

// --- track records --------------------------------------------------------------------------

struct PermitService::Record {
  int approvals = 0;
  int incidents = 0;
  std::deque<core::Timestamp> suspensions;
};

// --- the Directory over store + registry ---------------------------------------------------

class PermitService::DirectoryImpl final : public Directory {
 public:
  // The caller holds svc.mu_ (shared) while the directory is used.
  DirectoryImpl(PermitService& svc, core::OrgId org, std::string org_code, std::int64_t self_id,
                const std::optional<std::pair<std::string, Point>>& position, core::Timestamp at,
                std::string site = {})
      : svc_(svc), org_(org), org_code_(std::move(org_code)), self_id_(self_id),
        position_(position), at_(at), site_(std::move(site)) {}

  WorkerCheck VerifyWorker(std::string_view worker_code, std::string_view operation,
                           core::Timestamp at) const override {
    WorkerCheck out;
    auto w = svc_.store_.FindWorkerByCode(org_, std::string(worker_code));
    if (!w.ok()) {
      out.found = false;
      out.verdict = "unknown_worker";
      out.detail = w.error().code() == core::StatusCode::kNotFound
                       ? "no worker with this code in the organization"
                       : w.error().ToString();
      return out;
    }
    out.found = true;
    out.name = w->name;
    auto v = svc_.registry_.Verify(org_, w->id, operation, at);
    if (!v.ok()) {
      out.verdict = "error";
      out.detail = v.error().ToString();
      return out;
    }
    out.may_work = v->may_work;
    out.verdict = std::string(registry::VerdictName(v->verdict));
    out.certificate_number = v->certificate_number;
    if (!v->reasons.empty()) {
      out.rule = std::string(v->reasons.front().rule);
      out.clause = std::string(v->reasons.front().clause);
      out.detail = v->reasons.front().message;
    }
    return out;
  }

  std::optional<UserFacts> FindUser(std::string_view username) const override {
    auto u = svc_.store_.FindUserByUsername(std::string(username));
    if (!u.ok() || u->org_id != org_) return std::nullopt;
    UserFacts f;
    f.username = u->username;
    f.display_name = u->display_name;
    f.role = std::string(domain::RoleName(u->role));
    f.active = u->active;
    if (auto keys = svc_.store_.ListUserKeys(org_, u->id); keys.ok()) {
      f.has_signing_key = !keys->empty();
    }
    if (auto a = svc_.store_.GetAuthorization(org_, u->id); a.ok() && a->has_value()) {
      auto doc = core::ParseJson(**a);
      if (doc.ok()) {
        auto scopes = ParseScopes(svc_.book_, *doc);
        if (scopes.ok()) f.scopes = std::move(*scopes);
      }
    }
    f.open_approved = svc_.index_.OpenApprovedBy(org_code_, f.username);
    f.open_guarding = svc_.index_.OpenGuardedBy(org_code_, f.username, self_id_);
    auto it = svc_.records_.find({org_.value, f.username});
    if (it != svc_.records_.end()) {
      const Record& r = *it->second;
      f.approvals = r.approvals;
      f.incidents = r.incidents;
      const core::Timestamp since = at_ - core::Duration::Days(kSuspensionWindowDays);
      f.suspensions = static_cast<int>(std::count_if(
          r.suspensions.begin(), r.suspensions.end(), [&](core::Timestamp t) { return t >= since; }));
    }
    if (position_ && position_->first == f.username) {
      f.position = position_->second;
      f.position_time = at_;
    }
    if (svc_.position_source_ && !site_.empty()) {
      if (auto tracked = svc_.position_source_(org_, site_, f.username)) {
        f.tracked_position = tracked->first;
        f.tracked_time = tracked->second;
      }
    }
    return f;
  }

  bool VerifySignature(const Signature& sig, std::string_view digest) const override {
    auto key = svc_.PublicKeyFor(org_, sig.key_id);
    if (!key.ok() || !key->has_value()) return false;
    // The key id names its owner: a signature under another user's key is not theirs.
    if (sig.key_id.rfind(sig.username + "/k", 0) != 0) return false;
    auto raw = core::Base64UrlDecode(sig.signature, "signature");
    if (!raw.ok()) return false;
    auto der = crypto::Sm2SignatureFromRaw(*raw);
    if (!der.ok()) return false;
    return (*key)->Verify(digest, *der).ok();
  }

  std::optional<PermitBrief> FindPermit(std::string_view number) const override {
    auto row = svc_.store_.FindPermitByNumber(org_, std::string(number));
    if (!row.ok()) return std::nullopt;
    PermitBrief b;
    b.id = row->id;
    b.number = row->number;
    b.site = row->site;
    auto t = ParsePermitType(row->type);
    if (!t.ok()) return std::nullopt;
    b.type = *t;
    b.grade = row->grade;
    auto st = ParseState(row->state);
    if (!st.ok()) return std::nullopt;
    b.state = *st;
    b.planned_start = row->planned_start;
    b.planned_end = row->planned_end;
    return b;
  }

 private:
  PermitService& svc_;
  core::OrgId org_;
  std::string org_code_;
  std::int64_t self_id_;
  std::optional<std::pair<std::string, Point>> position_;
  core::Timestamp at_;
  std::string site_;
};

// --- service ------------------------------------------------------------------------------

PermitService::PermitService(store::Store& store, registry::Registry& registry,
                             evidence::Evidence& evidence, const PermitRulebook& book,
                             const core::Clock& clock, std::string master_key)
    : store_(store), registry_(registry), evidence_(evidence), book_(book), clock_(clock),
      master_key_(std::move(master_key)) {}

PermitService::~PermitService() = default;

std::size_t PermitService::open_permits() const {
  std::shared_lock lock(mu_);
  return index_.size();
}

Result<std::string> PermitService::OrgCode(core::OrgId org) { return evidence_.OrgCode(org); }

Result<Permit> PermitService::FromRow(const store::PermitRow& row) {
  auto p = ParsePermitText(row.document, /*service_fields=*/true);
  if (!p.ok()) {
    return Status::Corruption("stored permit " + row.number + " does not parse: " +
                              p.error().ToString());
  }
  p->id = row.id;
  p->number = row.number;
  p->version = row.version;
  WG_ASSIGN_OR_RETURN(p->state, ParseState(row.state));
  return p;
}

store::PermitRow PermitService::ToRow(core::OrgId org, const Permit& p) {
  store::PermitRow row;
  row.org_id = org;
  row.id = p.id;
  row.number = p.number;
  row.site = p.site;
  row.type = std::string(PermitTypeCode(p.type));
  row.grade = p.grade;
  row.state = std::string(StateCode(p.state));
  row.planned_start = p.planned_start;
  row.planned_end = p.planned_end;
  row.version = p.version;
  row.document = core::DumpJson(ToJson(p));
  row.created_at = p.created_at;
  row.updated_at = p.updated_at;
  return row;
}

Result<Permit> PermitService::Load(core::OrgId org, std::int64_t id, std::int64_t* version) {
  WG_ASSIGN_OR_RETURN(store::PermitRow row, store_.GetPermit(org, id));
  WG_ASSIGN_OR_RETURN(Permit p, FromRow(row));
  if (version != nullptr) *version = row.version;
  return p;
}

bool PermitService::GasNeeded(const Permit& p) const {
  // The type's gas rules decide: a gas_required rule that applies to this permit and
  // reports it missing on a copy without readings means the permit needs gas analysis.
  Permit probe = p;
  probe.gas.clear();
  CheckOptions o;
  o.at = p.planned_start;
  o.stage = Stage::kGas;
  Decision d = Check(book_, probe, o);
  for (const auto& v : d.violations) {
    const Rule* r = book_.FindRule(v.rule);
    if (r != nullptr && r->check == "gas_required") return true;
  }
  return false;
}

Decision PermitService::RunCheck(core::OrgId org, const Permit& p, core::Timestamp at,
                                 std::optional<Stage> stage,
                                 std::optional<core::Duration> break_length,
                                 const std::optional<std::pair<std::string, Point>>& position) {
  auto code = OrgCode(org);
  std::shared_lock lock(mu_);
  DirectoryImpl dir(*this, org, code.ok() ? *code : std::string(), p.id, position, at, p.site);
  CheckOptions o;
  o.at = at;
  o.stage = stage;
  o.directory = &dir;
  o.open = &index_;
  o.break_length = break_length;
  return Check(book_, p, o);
}

Json PermitService::FactPayload(const Permit& p, Json extra) const {
  Json j = {{"number", p.number},
            {"type", PermitTypeCode(p.type)},
            {"grade", p.grade},
            {"site", p.site},
            {"state", StateCode(p.state)},
            {"version", p.version},
            {"content_digest", Hex(ContentDigest(p))},
            {"rulebook", book_.version()}};
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return WithoutFloats(j);
}

void PermitService::IndexUpsert(const Permit& p) {
  std::unique_lock lock(mu_);
  if (IsOpen(p.state)) {
    index_.Upsert(OpenPermit::From(p));
  } else {
    index_.Remove(p.org, p.id);
  }
}

void PermitService::ApplyFact(const store::StoredFact& f) {
  // Caller holds mu_ exclusively.
  if (f.kind != "permit.approved" && f.kind != "permit.suspended" && f.kind != "permit.incident") {
    return;
  }
  auto payload = core::ParseJson(f.payload);
  if (!payload.ok() || !payload->is_object()) return;
  const std::string approver = payload->value("approver", "");
  if (approver.empty()) return;
  auto& rec = records_[{f.org_id.value, approver}];
  if (!rec) rec = std::make_unique<Record>();
  if (f.kind == "permit.approved") {
    ++rec->approvals;
  } else if (f.kind == "permit.suspended") {
    rec->suspensions.push_back(f.time);
    while (rec->suspensions.size() > 10000) rec->suspensions.pop_front();
  } else {
    ++rec->incidents;
  }
}

Status PermitService::LoadIndex() {
  {
    std::unique_lock lock(mu_);
    index_ = OpenPermitIndex();
    records_.clear();
    fact_seq_.clear();
  }
  WG_ASSIGN_OR_RETURN(std::int64_t rev, store_.CurrentRevision());
  std::vector<Permit> open;
  Status bad;
  WG_RETURN_IF_ERROR(store_.ScanPermits({"approved", "active", "suspended"},
                                        [&](const store::PermitRow& row) {
                                          auto p = FromRow(row);
                                          if (!p.ok()) {
                                            bad = p.error();
                                            return false;
                                          }
                                          open.push_back(std::move(*p));
                                          return true;
                                        }));
  WG_RETURN_IF_ERROR(bad);
  {
    std::unique_lock lock(mu_);
    for (const auto& p : open) index_.Upsert(OpenPermit::From(p));
    revision_ = rev;
  }
  return CatchUp();
}

Status PermitService::CatchUp() {
  // Permits written by other processes.
  std::int64_t rev;
  {
    std::shared_lock lock(mu_);
    rev = revision_;
  }
  for (;;) {
    WG_ASSIGN_OR_RETURN(auto changes, store_.PermitChangesSince(rev, 1000));
    if (changes.empty()) break;
    for (const auto& c : changes) {
      auto p = FromRow(c.row);
      if (p.ok()) IndexUpsert(*p);
      rev = std::max(rev, c.revision);
    }
    if (changes.size() < 1000) break;
  }
  {
    std::unique_lock lock(mu_);
    revision_ = std::max(revision_, rev);
  }
  // Facts that make the approvers' track records, of every organization.
  WG_ASSIGN_OR_RETURN(auto orgs, store_.ListOrganizations());
  for (const auto& o : orgs) WG_RETURN_IF_ERROR(ApplyRecordFacts(o.id));
  return Status::Ok();
}

Status PermitService::ApplyRecordFacts(core::OrgId org) {
  // Only the kinds track records count are read: an installation with millions of
  // certificate facts starts, and writes, as fast.
  static const std::vector<std::string> kRecordKinds = {"permit.approved", "permit.suspended",
                                                        "permit.incident"};
  for (;;) {
    std::int64_t from;
    {
      std::shared_lock lock(mu_);
      auto it = fact_seq_.find(org.value);
      from = it == fact_seq_.end() ? 0 : it->second;
    }
    WG_ASSIGN_OR_RETURN(auto facts, store_.FactsOfKinds(org, kRecordKinds, from, 10000));
    if (facts.empty()) return Status::Ok();
    std::unique_lock lock(mu_);
    auto& next = fact_seq_[org.value];
    for (const auto& f : facts) {
      if (f.seq < next) continue;  // applied meanwhile by another caller
      ApplyFact(f);
      next = f.seq + 1;
    }
    if (facts.size() < 10000) return Status::Ok();
  }
}

Result<Decision> PermitService::CheckDocument(core::OrgId org, const Permit& doc,
                                              std::optional<core::Timestamp> at,
                                              std::optional<Stage> stage) {
  WG_ASSIGN_OR_RETURN(std::string code, OrgCode(org));
  Permit p = doc;
  p.org = code;
  return RunCheck(org, p, at.value_or(clock_.Now()), stage, std::nullopt);
}

Result<Permit> PermitService::Save(core::OrgId org, Permit p, std::int64_t version,
                                   const std::string& kind, Json payload, const Actor& actor) {
  p.version = version + 1;
  p.updated_at = clock_.Now();
  store::PermitRow row = ToRow(org, p);
  WG_ASSIGN_OR_RETURN(std::string body, evidence::CanonicalJson(FactPayload(p, std::move(payload))));
  store::FactDrafts facts = {store::FactDraft{.kind = kind, .actor = actor.name,
                                              .subject = Subject(p.number), .site = p.site,
                                              .payload = std::move(body)}};
  WG_ASSIGN_OR_RETURN(store::PermitRow saved, store_.UpdatePermit(row, version, facts));
  p.version = saved.version;
  IndexUpsert(p);
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  WG_RETURN_IF_ERROR(ApplyRecordFacts(org));
  return p;
}

Status PermitService::RecordRefusal(core::OrgId org, const Permit& p, Action action,
                                    const Decision& d, const Actor& actor) {
  Json rules = Json::array();
  for (const auto& v : d.violations) {
    if (v.severity == Severity::kBlock) {
      Json r = {{"rule", v.rule}, {"clause", v.clause}, {"field", v.field}};
      if (!v.related.empty()) r["related"] = v.related;
      rules.push_back(std::move(r));
    }
  }
  Json payload = FactPayload(p, Json{{"action", ActionCode(action)},
                                     {"verdict", VerdictCode(d.verdict)},
                                     {"violations", rules}});
  WG_ASSIGN_OR_RETURN(std::string body, evidence::CanonicalJson(payload));
  WG_RETURN_IF_ERROR(store_.AppendFacts(
      org, {store::FactDraft{.kind = "permit.refused", .actor = actor.name,
                             .subject = Subject(p.number), .site = p.site,
                             .payload = std::move(body)}}));
  return evidence_.SyncAfterWrite(org);
}

namespace {

// A document from a client becomes a draft: service fields are the service's.
void ResetServiceFields(Permit& p) {
  p.state = State::kDraft;
  p.signatures.clear();
  p.approved_at.reset();
  p.started_at.reset();
  p.last_suspended_at.reset();
  p.ended_at.reset();
}

Outcome Refused(const Permit& p, Decision d) {
  Outcome o;
  o.applied = false;
  o.permit = p;
  o.decision = std::move(d);
  o.fact_kind = "permit.refused";
  return o;
}

Outcome Applied(Permit p, std::optional<Decision> d, std::string kind) {
  Outcome o;
  o.applied = true;
  o.permit = std::move(p);
  o.decision = std::move(d);
  o.fact_kind = std::move(kind);
  return o;
}

std::string DayStamp(core::Timestamp t) {
  std::string d = core::FormatDate(core::ShanghaiDate(t));  // "2026-11-29"
  std::erase(d, '-');
  return d;
}

}  // namespace

Result<Outcome> PermitService::Create(core::OrgId org, const Permit& doc, const Actor& actor) {
  WG_ASSIGN_OR_RETURN(std::string code, OrgCode(org));
  // The site must exist in this organization.
  WG_ASSIGN_OR_RETURN(auto sites, store_.ListSites(org));
  if (std::none_of(sites.begin(), sites.end(),
                   [&](const domain::Site& s) { return s.code == doc.site; })) {
    return Status::InvalidArgument("unknown site of this organization", "site");
  }
  Permit p = doc;
  ResetServiceFields(p);
  p.org = code;
  p.version = 1;
  p.created_by = actor.name;
  p.created_at = p.updated_at = clock_.Now();
  if (!p.supersedes.empty()) {
    auto old = store_.FindPermitByNumber(org, p.supersedes);
    if (!old.ok()) {
      return Status::InvalidArgument("no permit with this number in the organization",
                                     "supersedes");
    }
  }
  const std::string prefix =
      book_.type(p.type).prefix + "-" + DayStamp(p.created_at) + "-";
  store::PermitRow row = ToRow(org, p);
  Json extra = {{"document", ToJson(p)}};
  Status payload_error;
  WG_ASSIGN_OR_RETURN(
      store::PermitRow saved,
      store_.CreatePermitWith(row, prefix,
                          [&](store::PermitRow& assigned, store::FactDrafts& facts) -> Status {
                            Permit q = p;
                            q.id = assigned.id;
                            q.number = assigned.number;
                            assigned.document = core::DumpJson(ToJson(q));
                            Json body = FactPayload(q, {{"document", ToJson(q)}});
                            WG_ASSIGN_OR_RETURN(std::string text, evidence::CanonicalJson(body));
                            facts.push_back(store::FactDraft{.kind = "permit.created",
                                                             .actor = actor.name,
                                                             .subject = Subject(q.number),
                                                             .site = q.site,
                                                             .payload = std::move(text)});
                            return Status::Ok();
                          }));
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  WG_ASSIGN_OR_RETURN(Permit created, FromRow(saved));
  // Advisory check of the draft, so the author sees what is missing at once.
  Decision d = RunCheck(org, created, clock_.Now(), Stage::kPlan, std::nullopt);
  return Applied(std::move(created), std::move(d), "permit.created");
}

Result<Outcome> PermitService::Edit(core::OrgId org, std::int64_t id, const Permit& doc,
                                    std::int64_t expected_version, const Actor& actor) {
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit cur, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(cur.state, Action::kEdit));
  if (expected_version != version) {
    return Status::FailedPrecondition("the permit changed meanwhile (version " +
                                          std::to_string(version) + "); reload and edit again",
                                      "version");
  }
  if (doc.site != cur.site || doc.type != cur.type) {
    return Status::InvalidArgument(
        "a permit's site and type are fixed; create a new permit instead",
        doc.site != cur.site ? "site" : "type");
  }
  Permit p = doc;
  ResetServiceFields(p);
  p.id = cur.id;
  p.number = cur.number;
  p.org = cur.org;
  p.created_by = cur.created_by;
  p.created_at = cur.created_at;
  const bool had_signatures = !cur.signatures.empty();
  WG_ASSIGN_OR_RETURN(Permit saved,
                      Save(org, p, version, "permit.edited",
                           {{"document", ToJson(p)}, {"signatures_cleared", had_signatures},
                            {"previous_state", StateCode(cur.state)}},
                           actor));
  Decision d = RunCheck(org, saved, clock_.Now(), Stage::kPlan, std::nullopt);
  return Applied(std::move(saved), std::move(d), "permit.edited");
}

Result<Outcome> PermitService::Submit(core::OrgId org, std::int64_t id, const Actor& actor) {
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kSubmit));
  const core::Timestamp now = clock_.Now();
  if (p.planned_end <= now) {
    return Status::FailedPrecondition("the planned window has already ended", "planned_end");
  }
  Decision d = RunCheck(org, p, now, Stage::kPlan, std::nullopt);
  if (d.blocked()) {
    WG_RETURN_IF_ERROR(RecordRefusal(org, p, Action::kSubmit, d, actor));
    return Refused(p, std::move(d));
  }
  const bool needed = GasNeeded(p);
  bool passed = false;
  if (needed && !p.gas.empty()) {
    Decision g = RunCheck(org, p, now, Stage::kGas, std::nullopt);
    passed = !g.blocked();
  }
  WG_ASSIGN_OR_RETURN(p.state, Next(p.state, Action::kSubmit, needed, passed, false));
  WG_ASSIGN_OR_RETURN(Permit saved, Save(org, p, version, "permit.submitted",
                                         {{"gas_needed", needed}}, actor));
  return Applied(std::move(saved), std::move(d), "permit.submitted");
}

Result<Outcome> PermitService::ConfirmMeasure(core::OrgId org, std::int64_t id,
                                              const std::string& code, const Actor& actor) {
  if (!actor.user_id) {
    return Status::PermissionDenied("a measure is confirmed by a person, through their account");
  }
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  if (p.state != State::kDraft && p.state != State::kPendingGasTest &&
      p.state != State::kPendingSignatures) {
    return Status::FailedPrecondition("measures are confirmed before approval; the permit is " +
                                          std::string(StateCode(p.state)),
                                      "state");
  }
  if (!p.signatures.empty()) {
    return Status::FailedPrecondition(
        "the permit is being signed: the signatures cover the measures, so confirming one "
        "now would alter signed content (GB 30871-2022 §4.18); edit the permit instead",
        "measure");
  }
  auto it = std::find_if(p.measures.begin(), p.measures.end(),
                         [&](const Measure& m) { return m.code == code; });
  if (it == p.measures.end()) {
    return Status::NotFound("the permit lists no measure with this code", "measure");
  }
  if (!it->involved) {
    return Status::InvalidArgument("the measure is marked not involved (不涉及)", "measure");
  }
  if (it->confirmed_at) {
    return Status::FailedPrecondition("already confirmed by " + it->confirmer, "measure");
  }
  it->confirmer = actor.username;
  it->confirmed_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(Permit saved,
                      Save(org, p, version, "permit.measure_confirmed",
                           {{"measure", code}, {"text", it->text}, {"confirmer", actor.username}},
                           actor));
  return Applied(std::move(saved), std::nullopt, "permit.measure_confirmed");
}

Result<Outcome> PermitService::RecordGas(core::OrgId org, std::int64_t id,
                                         const std::vector<GasReading>& readings,
                                         const Actor& actor) {
  if (readings.empty()) return Status::InvalidArgument("at least one reading", "readings");
  if (readings.size() > 100) return Status::InvalidArgument("at most 100 readings per call", "readings");
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kRecordGas));
  const core::Timestamp now = clock_.Now();
  for (std::size_t i = 0; i < readings.size(); ++i) {
    const auto& r = readings[i];
    const std::string f = "readings[" + std::to_string(i) + "]";
    if (r.time > now + core::Duration::Minutes(2)) {
      return Status::InvalidArgument("a reading cannot be taken in the future", f + ".time");
    }
    if (book_.FindGas(r.gas) == nullptr) {
      return Status::InvalidArgument("unknown gas; the rulebook's gas table lists them", f + ".gas");
    }
    // Once signed, a reading may not be back-dated into the signed past.
    for (const auto& s : p.signatures) {
      if (r.time <= s.signed_at) {
        return Status::InvalidArgument(
            "a reading older than a signature cannot be added: it would alter signed content "
            "(GB 30871-2022 §4.18)",
            f + ".time");
      }
    }
  }
  if (p.gas.size() + readings.size() > PermitLimits{}.max_gas) {
    return Status::ResourceExhausted("the permit holds the maximum number of gas readings", "readings");
  }
  for (const auto& r : readings) p.gas.push_back(r);
  Decision d = RunCheck(org, p, now, Stage::kGas, std::nullopt);
  // Criteria of the new readings only decide pass/fail for the state change.
  bool failing = false;
  for (const auto& v : d.violations) {
    const Rule* rule = book_.FindRule(v.rule);
    if (v.severity == Severity::kBlock && rule != nullptr && rule->check.rfind("gas_", 0) == 0 &&
        rule->check != "gas_required") {
      failing = true;
    }
  }
  const State before = p.state;
  WG_ASSIGN_OR_RETURN(p.state, Next(p.state, Action::kRecordGas, true, !failing, false));
  Json readings_json = Json::array();
  for (const auto& r : readings) {
    readings_json.push_back({{"time", core::FormatTimestamp(r.time)},
                             {"point", r.point},
                             {"gas", r.gas},
                             {"value", r.value},
                             {"unit", r.unit},
                             {"analyst", r.analyst},
                             {"instrument", r.instrument}});
  }
  std::string kind = "permit.gas_recorded";
  Json extra = {{"readings", readings_json}, {"passed", !failing},
                {"previous_state", StateCode(before)}};
  // A failing reading while the work runs stops it (GB 30871-2022 §6.5, §5.2.6).
  if (failing && before == State::kActive) {
    p.state = State::kSuspended;
    p.last_suspended_at = now;
    extra["suspended"] = true;
    extra["reason"] = "gas analysis failed";
    std::shared_lock lock(mu_);
    const OpenPermit* op = index_.Find(p.org, p.id);
    if (op != nullptr && !op->approvers.empty()) extra["approver"] = op->approvers.front();
  }
  WG_ASSIGN_OR_RETURN(Permit saved, Save(org, p, version, kind, extra, actor));
  return Applied(std::move(saved), std::move(d), kind);
}

Result<PermitService::UserKeyInfo> PermitService::EnsureUserKey(core::OrgId org,
                                                                const std::string& username,
                                                                const Actor& actor) {
  WG_ASSIGN_OR_RETURN(std::string code, OrgCode(org));
  auto user = store_.FindUserByUsername(username);
  if (!user.ok() || user->org_id != org) {
    return Status::NotFound("no such user in the organization", "username");
  }
  std::lock_guard lock(key_mu_);
  WG_ASSIGN_OR_RETURN(auto keys, store_.ListUserKeys(org, user->id));
  if (!keys.empty()) {
    const auto& k = keys.back();
    return UserKeyInfo{username + "/k" + std::to_string(k.version), k.public_pem, false};
  }
  WG_ASSIGN_OR_RETURN(crypto::Sm2PrivateKey priv, crypto::Sm2PrivateKey::Generate());
  WG_ASSIGN_OR_RETURN(std::string pem, priv.Pem());
  store::UserKeyRow row;
  row.org_id = org;
  row.user_id = user->id;
  row.version = 1;
  row.public_pem = priv.PublicKey().Pem();
  WG_ASSIGN_OR_RETURN(row.sealed_private,
                      crypto::Seal(master_key_, pem, KeyAad(code, user->id.value, 1)));
  row.created_at = clock_.Now();
  const std::string key_id = username + "/k1";
  const crypto::Digest32 fp = crypto::Sm3(priv.PublicKey().Raw());
  WG_ASSIGN_OR_RETURN(std::string body,
                      evidence::CanonicalJson(Json{{"key_id", key_id},
                                                   {"public_key", row.public_pem},
                                                   {"fingerprint_sm3", core::ToHex(fp)}}));
  WG_RETURN_IF_ERROR(store_.AddUserKey(
      row, {store::FactDraft{.kind = "user_key.created", .actor = actor.name,
                             .subject = "user:" + username, .site = "",
                             .payload = std::move(body)}}));
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  return UserKeyInfo{key_id, row.public_pem, true};
}

Result<std::optional<crypto::Sm2PublicKey>> PermitService::PublicKeyFor(core::OrgId org,
                                                                        const std::string& key_id) {
  const std::string cache_key = std::to_string(org.value) + "|" + key_id;
  {
    std::lock_guard lock(key_mu_);
    auto it = key_cache_.find(cache_key);
    if (it != key_cache_.end()) return std::optional<crypto::Sm2PublicKey>(it->second);
  }
  const auto slash = key_id.rfind("/k");
  if (slash == std::string::npos || slash == 0) return std::optional<crypto::Sm2PublicKey>();
  const std::string username = key_id.substr(0, slash);
  auto version = core::ParseInt(key_id.substr(slash + 2), 1, 1'000'000, "key_id");
  if (!version.ok()) return std::optional<crypto::Sm2PublicKey>();
  auto user = store_.FindUserByUsername(username);
  if (!user.ok() || user->org_id != org) return std::optional<crypto::Sm2PublicKey>();
  WG_ASSIGN_OR_RETURN(auto keys, store_.ListUserKeys(org, user->id));
  for (const auto& k : keys) {
    if (k.version != *version) continue;
    WG_ASSIGN_OR_RETURN(crypto::Sm2PublicKey pub, crypto::Sm2PublicKey::FromPem(k.public_pem));
    std::lock_guard lock(key_mu_);
    key_cache_.emplace(cache_key, pub);
    return std::optional<crypto::Sm2PublicKey>(pub);
  }
  return std::optional<crypto::Sm2PublicKey>();
}

Result<Outcome> PermitService::Sign(core::OrgId org, std::int64_t id, const SignRequest& request,
                                    const Actor& actor) {
  if (!actor.user_id) {
    return Status::PermissionDenied("only a person signs a permit, through their own account");
  }
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kSign));
  WG_ASSIGN_OR_RETURN(domain::User user, store_.GetUser(org, *actor.user_id));
  if (!user.active) return Status::PermissionDenied("the account is disabled");
  // Step-up: the password again.
  if (!crypto::VerifyPassword(request.password, user.password_hash).ok()) {
    return Status::PermissionDenied(
        "password does not match: a signature needs the signer's own password");
  }
  const TypeSpec& spec = book_.type(p.type);
  // The next unsigned step of the chain.
  std::set<std::string> signed_roles;
  for (const auto& s : p.signatures) signed_roles.insert(s.role);
  const SignatureStep* next = nullptr;
  std::size_t next_index = 0;
  for (std::size_t i = 0; i < spec.signature_chain.size(); ++i) {
    if (!signed_roles.count(spec.signature_chain[i].role)) {
      next = &spec.signature_chain[i];
      next_index = i;
      break;
    }
  }
  if (next == nullptr) return Status::FailedPrecondition("every step is signed already", "role");
  if (request.role != next->role) {
    return Status::FailedPrecondition(
        "the signature chain (" + spec.signature_clause + ") is signed in order; next is \"" +
            next->role + "\" (" + next->name_zh + ")",
        "role");
  }
  const std::string role_name(domain::RoleName(user.role));
  if (std::find(next->user_roles.begin(), next->user_roles.end(), role_name) ==
      next->user_roles.end()) {
    return Status::PermissionDenied("an account with role " + role_name + " cannot sign step \"" +
                                    next->role + "\" (" + next->name_zh + ")");
  }
  for (const auto& s : p.signatures) {
    if (s.username == user.username) {
      return Status::FailedPrecondition(
          "one person signs one step: " + user.username + " already signed \"" + s.role + "\"",
          "role");
    }
  }
  WG_ASSIGN_OR_RETURN(UserKeyInfo key, EnsureUserKey(org, user.username, actor));
  WG_ASSIGN_OR_RETURN(std::string code, OrgCode(org));
  WG_ASSIGN_OR_RETURN(auto keys, store_.ListUserKeys(org, user.id));
  if (keys.empty()) return Status::Internal("the signing key vanished");
  const auto& kr = keys.back();
  WG_ASSIGN_OR_RETURN(std::string pem,
                      crypto::Open(master_key_, kr.sealed_private,
                                   KeyAad(code, user.id.value, kr.version)));
  WG_ASSIGN_OR_RETURN(crypto::Sm2PrivateKey priv, crypto::Sm2PrivateKey::FromPem(pem));

  const core::Timestamp now = clock_.Now();
  Signature sig;
  sig.role = next->role;
  sig.username = user.username;
  sig.signed_at = now;
  sig.key_id = key.key_id;
  const std::string digest = ContentDigestAt(p, now);
  sig.digest = Hex(digest);
  WG_ASSIGN_OR_RETURN(std::string der, priv.Sign(digest));
  WG_ASSIGN_OR_RETURN(std::string raw, crypto::Sm2SignatureToRaw(der));
  sig.signature = core::Base64UrlEncode(raw);
  sig.opinion = request.opinion;
  sig.position = request.position;

  Permit candidate = p;
  candidate.signatures.push_back(sig);
  const bool complete = next_index + 1 == spec.signature_chain.size();
  std::optional<std::pair<std::string, Point>> pos;
  if (request.position) pos = std::make_pair(user.username, *request.position);
  Decision d = RunCheck(org, candidate, now, Stage::kApprove, std::nullopt, pos);
  if (!complete) {
    // Steps not signed yet are not violations while the chain is being signed.
    std::erase_if(d.violations, [&](const Violation& v) {
      const Rule* r = book_.FindRule(v.rule);
      if (r == nullptr) return false;
      if (r->check == "signature_chain" || r->check == "measures_confirmed") return true;
      // The approver's checks wait for the approval step.
      const bool approver_rule = r->check.rfind("approver_", 0) == 0;
      return approver_rule && !next->approval &&
             std::none_of(candidate.signatures.begin(), candidate.signatures.end(),
                          [&](const Signature& s) {
                            for (const auto& st : spec.signature_chain) {
                              if (st.approval && st.role == s.role) return true;
                            }
                            return false;
                          });
    });
    d.verdict = Verdict::kCompliant;
    for (const auto& v : d.violations) {
      if (v.severity == Severity::kBlock) {
        d.verdict = Verdict::kBlocked;
        break;
      }
      d.verdict = Verdict::kWarnings;
    }
  }
  if (d.blocked()) {
    WG_RETURN_IF_ERROR(RecordRefusal(org, p, Action::kSign, d, actor));
    return Refused(p, std::move(d));
  }
  WG_ASSIGN_OR_RETURN(candidate.state, Next(p.state, Action::kSign, true, true, complete));
  Json extra = {{"role", sig.role},          {"username", sig.username},
                {"key_id", sig.key_id},      {"digest", sig.digest},
                {"signature", sig.signature}, {"signed_at", core::FormatTimestamp(now)},
                {"opinion", sig.opinion}};
  if (sig.position) extra["position"] = {{"x", sig.position->x}, {"y", sig.position->y}};
  WG_ASSIGN_OR_RETURN(Permit saved, Save(org, candidate, version, "permit.signed", extra, actor));
  if (complete) {
    // The approval itself: a separate fact naming the approver (track records).
    std::string approver;
    for (const auto& s : saved.signatures) {
      for (const auto& st : spec.signature_chain) {
        if (st.approval && st.role == s.role) approver = s.username;
      }
    }
    saved.approved_at = now;
    WG_ASSIGN_OR_RETURN(saved, Save(org, saved, saved.version, "permit.approved",
                                    {{"approver", approver}}, actor));
    return Applied(std::move(saved), std::move(d), "permit.approved");
  }
  return Applied(std::move(saved), std::move(d), "permit.signed");
}

Result<Outcome> PermitService::Activate(core::OrgId org, std::int64_t id, const Actor& actor) {
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kActivate));
  const core::Timestamp now = clock_.Now();
  if (now < p.planned_start) {
    return Status::FailedPrecondition("the planned start " + core::FormatShanghai(p.planned_start) +
                                          " has not come yet",
                                      "planned_start");
  }
  if (now >= p.planned_end) {
    return Status::FailedPrecondition("the permit's validity has ended; it expires", "planned_end");
  }
  Decision d = RunCheck(org, p, now, Stage::kStart, std::nullopt);
  if (d.blocked()) {
    WG_RETURN_IF_ERROR(RecordRefusal(org, p, Action::kActivate, d, actor));
    return Refused(p, std::move(d));
  }
  WG_ASSIGN_OR_RETURN(p.state, Next(p.state, Action::kActivate, true, true, true));
  p.started_at = now;
  WG_ASSIGN_OR_RETURN(Permit saved, Save(org, p, version, "permit.activated", Json::object(), actor));
  return Applied(std::move(saved), std::move(d), "permit.activated");
}

namespace {
std::string ApproverOf(const PermitRulebook& book, const Permit& p) {
  for (const auto& s : p.signatures) {
    for (const auto& st : book.type(p.type).signature_chain) {
      if (st.approval && st.role == s.role) return s.username;
    }
  }
  return {};
}
}  // namespace

Result<Outcome> PermitService::Suspend(core::OrgId org, std::int64_t id, const std::string& reason,
                                       const Actor& actor) {
  if (reason.empty() || reason.size() > 2000) {
    return Status::InvalidArgument("a reason of 1 to 2000 characters is required", "reason");
  }
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kSuspend));
  WG_ASSIGN_OR_RETURN(p.state, Next(p.state, Action::kSuspend, true, true, true));
  p.last_suspended_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(Permit saved,
                      Save(org, p, version, "permit.suspended",
                           {{"reason", reason}, {"approver", ApproverOf(book_, p)}}, actor));
  return Applied(std::move(saved), std::nullopt, "permit.suspended");
}

Result<Outcome> PermitService::Resume(core::OrgId org, std::int64_t id, const Actor& actor) {
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kResume));
  const core::Timestamp now = clock_.Now();
  if (now >= p.planned_end) {
    return Status::FailedPrecondition("the permit's validity has ended; it expires", "planned_end");
  }
  std::optional<core::Duration> brk;
  if (p.last_suspended_at) brk = now - *p.last_suspended_at;
  Decision d = RunCheck(org, p, now, Stage::kStart, brk);
  if (resume_guard_) {
    if (std::optional<std::string> why = resume_guard_(org, p)) {
      Violation v;
      v.rule = "monitor.resume_guard";
      v.clause = "GB 30871-2022 §5.2.6, §6.5";
      v.severity = Severity::kBlock;
      v.message = *why;
      v.message_zh = "实时监测未允许复工：" + *why;
      d.violations.push_back(std::move(v));
      d.verdict = Verdict::kBlocked;
    }
  }
  if (d.blocked()) {
    WG_RETURN_IF_ERROR(RecordRefusal(org, p, Action::kResume, d, actor));
    return Refused(p, std::move(d));
  }
  WG_ASSIGN_OR_RETURN(p.state, Next(p.state, Action::kResume, true, true, true));
  Json extra = Json::object();
  if (brk) extra["break_minutes"] = brk->micros / 60'000'000;
  WG_ASSIGN_OR_RETURN(Permit saved, Save(org, p, version, "permit.resumed", extra, actor));
  return Applied(std::move(saved), std::move(d), "permit.resumed");
}

Result<Outcome> PermitService::Complete(core::OrgId org, std::int64_t id, const std::string& note,
                                        const Actor& actor) {
  if (note.size() > 2000) return Status::InvalidArgument("at most 2000 characters", "note");
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kComplete));
  if (complete_guard_) {
    if (std::optional<Violation> v = complete_guard_(org, p)) {
      Decision d;
      d.verdict = Verdict::kBlocked;
      d.rulebook = book_.version();
      d.stage = Stage::kStart;
      d.at = clock_.Now();
      d.violations.push_back(std::move(*v));
      WG_RETURN_IF_ERROR(RecordRefusal(org, p, Action::kComplete, d, actor));
      return Refused(p, std::move(d));
    }
  }
  WG_ASSIGN_OR_RETURN(p.state, Next(p.state, Action::kComplete, true, true, true));
  p.ended_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(Permit saved,
                      Save(org, p, version, "permit.completed", {{"note", note}}, actor));
  return Applied(std::move(saved), std::nullopt, "permit.completed");
}

Result<Outcome> PermitService::Cancel(core::OrgId org, std::int64_t id, const std::string& reason,
                                      const Actor& actor) {
  if (reason.empty() || reason.size() > 2000) {
    return Status::InvalidArgument("a reason of 1 to 2000 characters is required", "reason");
  }
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kCancel));
  WG_ASSIGN_OR_RETURN(p.state, Next(p.state, Action::kCancel, true, true, true));
  p.ended_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(Permit saved,
                      Save(org, p, version, "permit.cancelled", {{"reason", reason}}, actor));
  return Applied(std::move(saved), std::nullopt, "permit.cancelled");
}

Result<Outcome> PermitService::RecordIncident(core::OrgId org, std::int64_t id,
                                              const std::string& description, const Actor& actor) {
  if (description.empty() || description.size() > 4000) {
    return Status::InvalidArgument("a description of 1 to 4000 characters is required",
                                   "description");
  }
  std::int64_t version = 0;
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, &version));
  WG_RETURN_IF_ERROR(CheckAllowed(p.state, Action::kIncident));
  WG_ASSIGN_OR_RETURN(std::string body,
                      evidence::CanonicalJson(FactPayload(
                          p, {{"description", description}, {"approver", ApproverOf(book_, p)}})));
  WG_RETURN_IF_ERROR(store_.AppendFacts(
      org, {store::FactDraft{.kind = "permit.incident", .actor = actor.name,
                             .subject = Subject(p.number), .site = p.site,
                             .payload = std::move(body)}}));
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  WG_RETURN_IF_ERROR(ApplyRecordFacts(org));
  return Applied(std::move(p), std::nullopt, "permit.incident");
}

Result<int> PermitService::ExpireDue() {
  const core::Timestamp now = clock_.Now();
  WG_ASSIGN_OR_RETURN(auto orgs, store_.ListOrganizations());
  int expired = 0;
  const Actor system{.name = "system:expiry"};
  for (const auto& o : orgs) {
    store::PermitFilter f;
    f.states = {"pending_gas_test", "pending_signatures", "approved", "active", "suspended"};
    f.to = now;  // windows starting before now
    std::int64_t before = 0;
    for (;;) {
      WG_ASSIGN_OR_RETURN(auto rows, store_.ListPermits(o.id, f, before, 500));
      if (rows.empty()) break;
      for (const auto& row : rows) {
        before = row.id;
        if (row.planned_end > now) continue;
        auto p = FromRow(row);
        if (!p.ok()) continue;
        if (!CheckAllowed(p->state, Action::kExpire).ok()) continue;
        Permit q = *p;
        q.state = State::kExpired;
        q.ended_at = q.planned_end;
        auto saved = Save(o.id, q, row.version, "permit.expired",
                          {{"previous_state", StateCode(p->state)}}, system);
        if (saved.ok()) {
          ++expired;
        } else if (saved.error().code() != core::StatusCode::kFailedPrecondition) {
          return saved.error();  // a concurrent change is retried on the next tick
        }
      }
      if (rows.size() < 500) break;
    }
  }
  return expired;
}

Result<Permit> PermitService::Get(core::OrgId org, std::int64_t id) { return Load(org, id, nullptr); }

Result<Permit> PermitService::GetByNumber(core::OrgId org, const std::string& number) {
  WG_ASSIGN_OR_RETURN(store::PermitRow row, store_.FindPermitByNumber(org, number));
  return FromRow(row);
}

Result<std::vector<Permit>> PermitService::List(core::OrgId org, const ListQuery& query) {
  WG_ASSIGN_OR_RETURN(auto rows, store_.ListPermits(org, query.filter, query.before_id, query.limit));
  std::vector<Permit> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    WG_ASSIGN_OR_RETURN(Permit p, FromRow(r));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<HistoryEvent>> PermitService::History(core::OrgId org, std::int64_t id) {
  WG_ASSIGN_OR_RETURN(Permit p, Load(org, id, nullptr));
  std::vector<HistoryEvent> out;
  std::int64_t from = 0;
  for (;;) {
    WG_ASSIGN_OR_RETURN(auto facts, store_.FactsAbout(org, Subject(p.number), from, 1000));
    for (const auto& f : facts) {
      HistoryEvent e;
      e.seq = f.seq;
      e.time = f.time;
      e.kind = f.kind;
      e.actor = f.actor;
      auto j = core::ParseJson(f.payload);
      e.payload = j.ok() ? *j : Json(f.payload);
      out.push_back(std::move(e));
      from = f.seq + 1;
    }
    if (facts.size() < 1000) break;
  }
  return out;
}

Result<PermitVerification> PermitService::Verify(core::OrgId org, const std::string& number,
                                                 const std::string& digest_prefix) {
  PermitVerification v;
  auto p = GetByNumber(org, number);
  if (!p.ok()) {
    if (p.error().code() == core::StatusCode::kNotFound) return v;
    return p.error();
  }
  v.found = true;
  v.permit = *p;
  v.content_digest = Hex(ContentDigest(*p));
  v.digest_matches = !digest_prefix.empty() && digest_prefix.size() <= v.content_digest.size() &&
                     v.content_digest.compare(0, digest_prefix.size(), digest_prefix) == 0;
  WG_ASSIGN_OR_RETURN(std::string code, OrgCode(org));
  std::shared_lock lock(mu_);
  DirectoryImpl dir(*this, org, code, p->id, std::nullopt, clock_.Now());
  v.signatures_valid = true;
  for (const auto& s : p->signatures) {
    const std::string digest = ContentDigestAt(*p, s.signed_at);
    const bool ok = Hex(digest) == s.digest && dir.VerifySignature(s, digest);
    v.signature_valid.push_back(ok);
    v.signatures_valid = v.signatures_valid && ok;
  }
  return v;
}

Result<std::vector<AuthorityScope>> PermitService::GetAuthorization(core::OrgId org,
                                                                    const std::string& username) {
  auto user = store_.FindUserByUsername(username);
  if (!user.ok() || user->org_id != org) {
    return Status::NotFound("no such user in the organization", "username");
  }
  WG_ASSIGN_OR_RETURN(auto doc, store_.GetAuthorization(org, user->id));
  if (!doc) return std::vector<AuthorityScope>();
  WG_ASSIGN_OR_RETURN(Json j, core::ParseJson(*doc));
  return ParseScopes(book_, j);
}

Status PermitService::PutAuthorization(core::OrgId org, const std::string& username,
                                       const std::vector<AuthorityScope>& scopes,
                                       const Actor& actor) {
  auto user = store_.FindUserByUsername(username);
  if (!user.ok() || user->org_id != org) {
    return Status::NotFound("no such user in the organization", "username");
  }
  const Json doc = ScopesToJson(scopes);
  WG_ASSIGN_OR_RETURN(std::string text, evidence::CanonicalJson(doc));
  WG_ASSIGN_OR_RETURN(std::string body,
                      evidence::CanonicalJson(Json{{"username", username}, {"authorization", doc}}));
  WG_RETURN_IF_ERROR(store_.PutAuthorization(
      org, user->id, scopes.empty() ? std::string() : text,
      {store::FactDraft{.kind = "authorization.changed", .actor = actor.name,
                        .subject = "user:" + username, .site = "", .payload = std::move(body)}}));
  return evidence_.SyncAfterWrite(org);
}

}  // namespace wg::permit

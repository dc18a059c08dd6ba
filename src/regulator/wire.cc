#include "wg/regulator/wire.h"

#include <algorithm>
#include <limits>

#include "book.h"
#include "wg/core/strings.h"
#include "wg/core/time.h"

namespace wg::regulator {

using core::Json;
using core::Result;
using core::Status;

namespace {

constexpr std::size_t kMaxNoteBytes = 64 * 1024;
constexpr std::int64_t kMaxSize = std::numeric_limits<std::int64_t>::max();

Result<ledger::Hash> ParseHash(const Json& v, const std::string& field) {
  if (!v.is_string()) return Status::InvalidArgument("expected a hex string", field);
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() != 64) {
    return Status::InvalidArgument(
        "want 64 hex digits, got " + std::to_string(s.size()) + " characters", field);
  }
  WG_ASSIGN_OR_RETURN(std::string raw, core::FromHex(s, field));
  ledger::Hash h{};
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(h.data()));
  return h;
}

Result<std::vector<ledger::Hash>> ParseHashes(const Json& v, const std::string& field,
                                              std::size_t max) {
  if (!v.is_array()) return Status::InvalidArgument("expected an array of hex strings", field);
  if (v.size() > max) {
    return Status::InvalidArgument("at most " + std::to_string(max) + " hashes", field);
  }
  std::vector<ledger::Hash> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    WG_ASSIGN_OR_RETURN(ledger::Hash h, ParseHash(v[i], field + "[" + std::to_string(i) + "]"));
    out.push_back(h);
  }
  return out;
}

Json Hashes(const std::vector<ledger::Hash>& hs) {
  Json a = Json::array();
  for (const auto& h : hs) a.push_back(core::ToHex(h));
  return a;
}

Result<std::string> NoteMember(const Json& obj, const char* key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Status::InvalidArgument("is required", key);
    return std::string();
  }
  // Not core::GetString: a note is multi-line text, which CheckText refuses; ParseNote
  // checks it strictly instead.
  if (!it->is_string()) return Status::InvalidArgument("expected a string (a signed note)", key);
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxNoteBytes) {
    return Status::InvalidArgument("longer than " + std::to_string(kMaxNoteBytes) + " bytes", key);
  }
  return s;
}

}  // namespace

Json SubmissionToJson(const Submission& s) {
  Json j = {{"checkpoint", s.note}, {"consistency", Hashes(s.consistency)}};
  if (s.old_size.has_value()) j["old_size"] = *s.old_size;
  if (s.leaves.has_value()) {
    j["leaves"] = {{"from", s.leaves->from}, {"hashes", Hashes(s.leaves->hashes)}};
  }
  return j;
}

Result<Submission> ParseSubmission(std::string_view body, std::size_t max_bytes) {
  WG_ASSIGN_OR_RETURN(Json j, core::ParseJson(body, {max_bytes, 8}, "body"));
  WG_RETURN_IF_ERROR(core::RequireObject(j, "body"));
  WG_RETURN_IF_ERROR(
      core::RejectUnknownMembers(j, {"checkpoint", "old_size", "consistency", "leaves"}));
  Submission s;
  WG_ASSIGN_OR_RETURN(s.note, NoteMember(j, "checkpoint", true));
  WG_ASSIGN_OR_RETURN(auto old_size, core::GetOptionalInt(j, "old_size", 0, kMaxSize));
  if (old_size.has_value()) s.old_size = static_cast<std::uint64_t>(*old_size);
  if (auto it = j.find("consistency"); it != j.end() && !it->is_null()) {
    WG_ASSIGN_OR_RETURN(s.consistency, ParseHashes(*it, "consistency", internal::kMaxProofHashes));
  }
  if (auto it = j.find("leaves"); it != j.end() && !it->is_null()) {
    WG_RETURN_IF_ERROR(core::RequireObject(*it, "leaves"));
    WG_RETURN_IF_ERROR(core::RejectUnknownMembers(*it, {"from", "hashes"}, "leaves."));
    LeafBatch b;
    auto from = core::GetInt(*it, "from", 0, kMaxSize);
    if (!from.has_value()) {
      return Status::InvalidArgument(from.error().message(), "leaves.from");
    }
    b.from = static_cast<std::uint64_t>(*from);
    auto hs = it->find("hashes");
    if (hs == it->end()) return Status::InvalidArgument("is required", "leaves.hashes");
    WG_ASSIGN_OR_RETURN(b.hashes,
                        ParseHashes(*hs, "leaves.hashes", internal::kMaxLeavesPerSubmission));
    s.leaves = std::move(b);
  }
  return s;
}

core::StatusCode StatusCodeFor(Reason r) {
  switch (r) {
    case Reason::kAccepted:
    case Reason::kUnchanged:
      return core::StatusCode::kOk;
    case Reason::kMalformed:
      return core::StatusCode::kInvalidArgument;
    case Reason::kNotEnrolled:
      return core::StatusCode::kNotFound;
    case Reason::kOriginMismatch:
    case Reason::kUnknownKey:
    case Reason::kBadSignature:
      return core::StatusCode::kPermissionDenied;
    case Reason::kStaleBase:
    case Reason::kLeafGap:
    case Reason::kRollback:
    case Reason::kFork:
    case Reason::kDigestMismatch:
      return core::StatusCode::kFailedPrecondition;
  }
  return core::StatusCode::kInternal;
}

Json DecisionToJson(const Decision& d) {
  Json j = {{"decision", std::string(ReasonName(d.reason))},
            {"detail", d.detail},
            {"accepted_size", d.accepted_size},
            {"leaves_held", d.leaves_held}};
  if (d.accepted()) j["checkpoint"] = d.cosigned_note;
  if (d.alert_id.has_value()) j["alert_id"] = *d.alert_id;
  return j;
}

Result<Reason> ParseReason(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(Reason::kDigestMismatch); ++i) {
    const auto r = static_cast<Reason>(i);
    if (ReasonName(r) == s) return r;
  }
  return Status::InvalidArgument("unknown decision \"" + std::string(s) + "\"", "decision");
}

Result<Decision> ParseDecision(std::string_view body) {
  WG_ASSIGN_OR_RETURN(Json j, core::ParseJson(body, {1u << 20, 8}, "body"));
  WG_RETURN_IF_ERROR(core::RequireObject(j, "body"));
  Decision d;
  WG_ASSIGN_OR_RETURN(std::string reason, core::GetString(j, "decision", 64));
  WG_ASSIGN_OR_RETURN(d.reason, ParseReason(reason));
  if (auto it = j.find("detail"); it != j.end() && it->is_string())
    d.detail = it->get<std::string>();
  if (auto err = j.find("error"); err != j.end() && err->is_object()) {
    auto msg = err->find("message");
    if (d.detail.empty() && msg != err->end() && msg->is_string())
      d.detail = msg->get<std::string>();
    auto field = err->find("field");
    if (field != err->end() && field->is_string()) d.field = field->get<std::string>();
  }
  WG_ASSIGN_OR_RETURN(auto size, core::GetOptionalInt(j, "accepted_size", 0, kMaxSize));
  d.accepted_size = static_cast<std::uint64_t>(size.value_or(0));
  WG_ASSIGN_OR_RETURN(auto held, core::GetOptionalInt(j, "leaves_held", 0, kMaxSize));
  d.leaves_held = static_cast<std::uint64_t>(held.value_or(0));
  WG_ASSIGN_OR_RETURN(auto alert, core::GetOptionalInt(j, "alert_id", 1, kMaxSize));
  if (alert.has_value()) d.alert_id = static_cast<std::uint64_t>(*alert);
  if (d.accepted()) {
    WG_ASSIGN_OR_RETURN(d.cosigned_note, NoteMember(j, "checkpoint", true));
  }
  return d;
}

Json AlertToJson(const Alert& a) {
  return Json{{"id", a.id},
              {"kind", std::string(AlertKindName(a.kind))},
              {"origin", a.origin},
              {"time", core::FormatTimestamp(a.time)},
              {"detail", a.detail},
              {"held_checkpoint", a.held_checkpoint},
              {"submitted_checkpoint", a.submitted_checkpoint}};
}

Json EnterpriseToJson(const EnterpriseView& e) {
  Json keys = Json::array();
  for (const auto& k : e.keys) {
    keys.push_back({{"name", k.name}, {"vkey", k.vkey}, {"added", core::FormatTimestamp(k.added)}});
  }
  Json j = {{"origin", e.origin},
            {"hash", std::string(ledger::HashAlgName(e.alg))},
            {"enrolled", core::FormatTimestamp(e.enrolled)},
            {"keys", keys},
            {"leaves_held", e.leaves_held},
            {"alerts", e.alerts}};
  if (e.checkpoint.empty()) {
    j["checkpoint"] = nullptr;
  } else {
    j["checkpoint"] = {{"size", e.size},
                       {"root", core::ToHex(e.root)},
                       {"accepted", core::FormatTimestamp(e.accepted)},
                       {"note", e.checkpoint}};
  }
  return j;
}

std::string EncodePathSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace wg::regulator

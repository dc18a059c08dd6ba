#include "wg/regulator/spot_check.h"

#include <algorithm>

#include "http_client.h"
#include "wg/core/json.h"
#include "wg/core/strings.h"
#include "wg/core/time.h"

namespace wg::regulator {

using core::Json;
using core::Result;
using core::Status;

namespace {

SpotCheckReport Fail(SpotCheckReport r, std::string why) {
  r.verified = false;
  r.reason = std::move(why);
  return r;
}

}  // namespace

SpotCheckReport VerifyProofAnswer(const EnterpriseView& held,
                                  const std::optional<ledger::Hash>& held_leaf, std::uint64_t seq,
                                  std::string_view body) {
  SpotCheckReport r;
  r.origin = held.origin;
  r.seq = seq;
  r.tree_size = held.size;
  auto j = core::ParseJson(body, {4u << 20, 16}, "body");
  if (!j.has_value() || !j->is_object()) return Fail(r, "the answer is not a JSON object");
  auto entry_it = j->find("entry");
  auto proof_it = j->find("proof");
  auto size_it = j->find("tree_size");
  if (entry_it == j->end() || !entry_it->is_string()) return Fail(r, "the answer has no \"entry\"");
  if (proof_it == j->end() || !proof_it->is_array()) return Fail(r, "the answer has no \"proof\"");
  if (size_it == j->end() || !size_it->is_number_integer() ||
      (!size_it->is_number_unsigned() && size_it->get<std::int64_t>() < 0) ||
      size_it->get<std::uint64_t>() != held.size) {
    return Fail(
        r, "the proof is not against the held checkpoint of size " + std::to_string(held.size));
  }
  if (auto cp = j->find("checkpoint"); cp != j->end() && cp->is_string()) {
    auto theirs = ledger::ParseNote(cp->get<std::string>());
    auto ours = ledger::ParseNote(held.checkpoint);
    if (!theirs.has_value() || !ours.has_value() || theirs->text != ours->text) {
      return Fail(r, "the enterprise's checkpoint of size " + std::to_string(held.size) +
                         " is not the one the regulator co-signed");
    }
  }
  auto entry = core::Base64UrlDecode(entry_it->get<std::string>(), "entry");
  if (!entry.has_value()) return Fail(r, "entry: " + entry.error().message());
  auto fact = evidence::DecodeFact(*entry);
  if (!fact.has_value()) return Fail(r, "the entry is not a fact: " + fact.error().ToString());
  r.fact = *fact;
  if (fact->seq != seq) {
    return Fail(r,
                "the entry is fact " + std::to_string(fact->seq) + ", not " + std::to_string(seq));
  }
  std::vector<ledger::Hash> proof;
  for (std::size_t i = 0; i < proof_it->size(); ++i) {
    const Json& h = (*proof_it)[i];
    auto raw = h.is_string() ? core::FromHex(h.get<std::string>(), "proof")
                             : Result<std::string>(Status::InvalidArgument("not a string"));
    if (!raw.has_value() || raw->size() != 32) {
      return Fail(r, "proof[" + std::to_string(i) + "] is not 64 hex digits");
    }
    ledger::Hash v{};
    std::copy(raw->begin(), raw->end(), reinterpret_cast<char*>(v.data()));
    proof.push_back(v);
  }
  const ledger::Hash leaf = ledger::HashLeaf(held.alg, *entry);
  if (held_leaf.has_value()) {
    r.leaf_held = true;
    if (*held_leaf != leaf) {
      return Fail(r, "the entry hashes to " + core::ToHex(leaf) + " but the enterprise reported " +
                         core::ToHex(*held_leaf) + " for fact " + std::to_string(seq));
    }
  }
  if (Status s = ledger::VerifyInclusion(held.alg, seq, held.size, leaf, proof, held.root);
      !s.ok()) {
    return Fail(r, s.message());
  }
  r.verified = true;
  return r;
}

Result<SpotCheckReport> SpotCheck(Supervision& supervision, const std::string& enterprise_url,
                                  const std::string& bearer_token, const std::string& origin,
                                  std::uint64_t seq, int timeout_seconds) {
  WG_ASSIGN_OR_RETURN(EnterpriseView held, supervision.Enterprise(origin));
  if (held.checkpoint.empty()) {
    return Status::FailedPrecondition("no checkpoint of " + origin + " is held yet", "origin");
  }
  if (seq >= held.size) {
    return Status::InvalidArgument(
        "the held checkpoint of " + origin + " has " + std::to_string(held.size) + " facts", "seq");
  }
  WG_ASSIGN_OR_RETURN(std::optional<ledger::Hash> leaf, supervision.HeldLeaf(origin, seq));
  WG_ASSIGN_OR_RETURN(internal::HttpTarget http,
                      internal::Connect(enterprise_url, timeout_seconds, "url"));
  const std::string path = http.prefix + "/api/v1/ledger/proof?seq=" + std::to_string(seq) +
                           "&size=" + std::to_string(held.size);
  auto res = http.client->Get(path.c_str(), {{"Authorization", "Bearer " + bearer_token}});
  if (!res) return internal::Unreachable(enterprise_url, res);
  SpotCheckReport report;
  if (res->status == 200) {
    report = VerifyProofAnswer(held, leaf, seq, res->body);
  } else if (res->status == 404) {
    // The enterprise has no proof for a checkpoint it signed and the regulator co-signed.
    report.origin = origin;
    report.seq = seq;
    report.tree_size = held.size;
    report.reason = "the enterprise has no proof of fact " + std::to_string(seq) +
                    " against its checkpoint of size " + std::to_string(held.size) + ": " +
                    res->body.substr(0, 300);
  } else if (res->status == 401) {
    return Status::Unauthenticated("the enterprise refused the token (HTTP 401)");
  } else if (res->status == 403) {
    return Status::PermissionDenied(
        "the enterprise refused the token (HTTP 403); a regulator-role user is needed");
  } else {
    return Status::Unavailable("the enterprise answered HTTP " + std::to_string(res->status) +
                               ": " + res->body.substr(0, 300));
  }
  if (!report.verified) {
    WG_ASSIGN_OR_RETURN(
        Alert a, supervision.RaiseAlert(
                     origin, AlertKind::kSpotCheckFailed,
                     "spot check of fact " + std::to_string(seq) + ": " + report.reason, ""));
    report.alert_id = a.id;
  }
  return report;
}

Json SpotCheckToJson(const SpotCheckReport& r) {
  Json j = {{"origin", r.origin},
            {"seq", r.seq},
            {"tree_size", r.tree_size},
            {"verified", r.verified},
            {"leaf_held", r.leaf_held}};
  if (!r.verified) j["reason"] = r.reason;
  if (r.alert_id.has_value()) j["alert_id"] = *r.alert_id;
  if (r.fact.has_value()) {
    j["fact"] = {{"seq", r.fact->seq},         {"kind", r.fact->kind},
                 {"subject", r.fact->subject}, {"time", core::FormatTimestamp(r.fact->time)},
                 {"actor", r.fact->actor},     {"org", r.fact->org}};
  }
  return j;
}

}  // namespace wg::regulator

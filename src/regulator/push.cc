#include "wg/regulator/push.h"

#include <algorithm>

#include "book.h"
#include "http_client.h"
#include "wg/core/file.h"
#include "wg/core/json.h"
#include "wg/regulator/wire.h"

namespace wg::regulator {

using core::Json;
using core::Result;
using core::Status;

namespace {

// Restarts from the regulator's numbers at most this often in one push.
constexpr int kMaxResyncs = 2;

Status Refused(const Decision& d, std::uint64_t size) {
  std::string msg = "the regulator refused the checkpoint of size " + std::to_string(size) + ": " +
                    std::string(ReasonName(d.reason)) + ": " + d.detail;
  if (d.alert_id.has_value()) msg += " (alert " + std::to_string(*d.alert_id) + ")";
  return Status::FailedPrecondition(msg, d.field);
}

}  // namespace

Result<PushReport> PushCheckpoint(evidence::Evidence& ev, core::OrgId org,
                                  const RegulatorEndpoint& endpoint, PushState& state) {
  if (endpoint.token.empty()) return Status::InvalidArgument("is required", "token");
  if (state.url != endpoint.url) state = PushState{.url = endpoint.url};
  std::optional<ledger::NoteKey> pinned;
  if (!endpoint.regulator_vkey.empty()) {
    WG_ASSIGN_OR_RETURN(pinned, ledger::NoteKey::FromVerifierKey(endpoint.regulator_vkey));
  }

  WG_ASSIGN_OR_RETURN(std::string note, ev.Checkpoint(org));
  WG_ASSIGN_OR_RETURN(ledger::SignedNote parsed, ledger::ParseNote(note));
  WG_ASSIGN_OR_RETURN(ledger::Checkpoint cp, ledger::ParseCheckpointBody(parsed.text));
  PushReport report;
  report.size = cp.size;
  if (state.accepted_size == cp.size && state.leaves_held == cp.size &&
      state.cosigned_size == cp.size) {
    report.up_to_date = true;
    return report;
  }

  WG_ASSIGN_OR_RETURN(internal::HttpTarget http,
                      internal::Connect(endpoint.url, endpoint.timeout_seconds, "url"));
  const std::string path = http.prefix + "/regulator/v1/submissions";
  const httplib::Headers headers = {{"Authorization", "Bearer " + endpoint.token}};

  std::string cosigned;
  int resyncs = 0;
  // Each round sends one page of leaf hashes; a resync costs a round.
  const std::uint64_t max_rounds = cp.size / internal::kMaxLeavesPerSubmission + 2 + kMaxResyncs;
  for (std::uint64_t round = 0; round < max_rounds; ++round) {
    Submission sub;
    sub.note = note;
    sub.old_size = state.accepted_size;
    if (state.accepted_size > 0 && state.accepted_size < cp.size) {
      WG_ASSIGN_OR_RETURN(sub.consistency, ev.Consistency(org, state.accepted_size, cp.size));
    }
    std::uint64_t count = 0;
    if (state.leaves_held < cp.size) {
      count =
          std::min<std::uint64_t>(internal::kMaxLeavesPerSubmission, cp.size - state.leaves_held);
      LeafBatch batch;
      batch.from = state.leaves_held;
      WG_ASSIGN_OR_RETURN(batch.hashes, ev.LeafHashes(org, state.leaves_held, count));
      count = batch.hashes.size();
      sub.leaves = std::move(batch);
    }
    const std::string body = core::DumpJson(SubmissionToJson(sub));
    auto res = http.client->Post(path.c_str(), headers, body, "application/json");
    ++report.requests;
    if (!res) return internal::Unreachable(endpoint.url, res);
    auto decision = ParseDecision(res->body);
    if (!decision.has_value()) {
      // Not a decision: authentication, limits or a server failure.
      std::string msg = "the regulator answered HTTP " + std::to_string(res->status);
      auto j = core::ParseJson(res->body, {1u << 20, 8}, "body");
      if (j.has_value() && j->is_object()) {
        auto err = j->find("error");
        if (err != j->end() && err->is_object()) {
          auto m = err->find("message");
          if (m != err->end() && m->is_string()) msg += ": " + m->get<std::string>();
        }
      }
      if (res->status == 401) return Status::Unauthenticated(msg);
      if (res->status == 413) return Status::ResourceExhausted(msg);
      return Status::Unavailable(msg);
    }
    report.detail = decision->detail;
    if (decision->accepted()) {
      state.accepted_size = decision->accepted_size;
      state.leaves_held = decision->leaves_held;
      report.leaves_sent += count;
      cosigned = decision->cosigned_note;
      if (state.leaves_held >= cp.size) break;
      continue;
    }
    if ((decision->reason == Reason::kStaleBase || decision->reason == Reason::kLeafGap) &&
        resyncs < kMaxResyncs) {
      ++resyncs;
      state.accepted_size = decision->accepted_size;
      state.leaves_held = decision->leaves_held;
      continue;
    }
    return Refused(*decision, cp.size);
  }
  if (cosigned.empty() || state.leaves_held < cp.size) {
    return Status::Unavailable(
        "the regulator did not take all leaf hashes of the checkpoint of size " +
        std::to_string(cp.size) + " (" + std::to_string(state.leaves_held) +
        " held); the next push continues");
  }

  // The co-signed note must be our note, and (when pinned) carry a valid regulator line.
  WG_ASSIGN_OR_RETURN(ledger::SignedNote back, ledger::ParseNote(cosigned));
  if (back.text != parsed.text) {
    return Status::Corruption("the regulator returned a co-signed note of another checkpoint");
  }
  if (pinned.has_value()) {
    if (Status s = pinned->Verify(back); !s.ok()) {
      return Status::Corruption(
          "the regulator's co-signature does not verify with the pinned key: " + s.message());
    }
  }
  WG_RETURN_IF_ERROR(ev.AddCosignatures(org, cosigned));
  state.cosigned_size = cp.size;
  report.cosigned_note = std::move(cosigned);
  return report;
}

Result<std::string> PushStatePath(evidence::Evidence& ev, core::OrgId org) {
  WG_ASSIGN_OR_RETURN(std::string code, ev.OrgCode(org));
  return ev.LogDir(code) + "/regulator.json";
}

Result<PushState> LoadPushState(const std::string& path) {
  auto text = core::ReadFile(path, 64 * 1024);
  if (!text.has_value()) {
    if (text.error().code() == core::StatusCode::kNotFound) return PushState{};
    return text.error();
  }
  auto j = core::ParseJson(*text, {64 * 1024, 4}, path);
  if (!j.has_value() || !j->is_object()) return Status::Corruption(path + " is not a JSON object");
  PushState s;
  auto url = j->find("url");
  auto num = [&](const char* key) -> Result<std::uint64_t> {
    auto it = j->find(key);
    if (it == j->end() || !it->is_number_integer() ||
        (!it->is_number_unsigned() && it->get<std::int64_t>() < 0)) {
      return Status::Corruption(path + ": \"" + key + "\" is not an unsigned integer");
    }
    return it->get<std::uint64_t>();
  };
  if (url == j->end() || !url->is_string()) return Status::Corruption(path + ": no \"url\"");
  s.url = url->get<std::string>();
  WG_ASSIGN_OR_RETURN(s.accepted_size, num("accepted_size"));
  WG_ASSIGN_OR_RETURN(s.leaves_held, num("leaves_held"));
  WG_ASSIGN_OR_RETURN(s.cosigned_size, num("cosigned_size"));
  return s;
}

Status SavePushState(const std::string& path, const PushState& s) {
  Json j = {{"url", s.url},
            {"accepted_size", s.accepted_size},
            {"leaves_held", s.leaves_held},
            {"cosigned_size", s.cosigned_size}};
  return core::WriteFileAtomic(path, core::DumpJson(j, 2) + "\n", 0644);
}

Result<PushReport> PushCheckpointRemembered(evidence::Evidence& ev, core::OrgId org,
                                            const RegulatorEndpoint& endpoint) {
  WG_ASSIGN_OR_RETURN(std::string path, PushStatePath(ev, org));
  auto loaded = LoadPushState(path);
  // A damaged state file is only an optimisation lost: start afresh, the regulator's
  // answers put it right.
  PushState state = loaded.has_value() ? *loaded : PushState{};
  const PushState before = state;
  auto report = PushCheckpoint(ev, org, endpoint, state);
  if (state.url != before.url || state.accepted_size != before.accepted_size ||
      state.leaves_held != before.leaves_held || state.cosigned_size != before.cosigned_size) {
    WG_RETURN_IF_ERROR(SavePushState(path, state));
  }
  return report;
}

}  // namespace wg::regulator

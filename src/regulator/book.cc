#include "book.h"

#include <algorithm>

#include "wg/core/strings.h"
#include "wg/core/time.h"

namespace wg::regulator::internal {

using core::Json;
using core::Result;
using core::Status;

namespace {

constexpr std::uint64_t kAppenderChunk = 65536;

std::string Hex(const ledger::Hash& h) { return core::ToHex(h); }

Result<ledger::Hash> HashFromHex(std::string_view hex, std::string_view field) {
  WG_ASSIGN_OR_RETURN(std::string raw, core::FromHex(hex, field));
  if (raw.size() != 32) {
    return Status::InvalidArgument(
        "want 32 bytes (64 hex digits), got " + std::to_string(raw.size()), std::string(field));
  }
  ledger::Hash h{};
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(h.data()));
  return h;
}

// Members of a journal record; any problem is kCorruption (the journal is ours).
Result<std::string> Str(const Json& r, const char* key) {
  auto it = r.find(key);
  if (it == r.end() || !it->is_string()) {
    return Status::Corruption(std::string("journal record lacks string \"") + key + "\"");
  }
  return it->get<std::string>();
}

Result<std::uint64_t> U64(const Json& r, const char* key) {
  auto it = r.find(key);
  if (it == r.end() || !it->is_number_integer() ||
      (!it->is_number_unsigned() && it->get<std::int64_t>() < 0)) {
    return Status::Corruption(std::string("journal record lacks unsigned \"") + key + "\"");
  }
  return it->get<std::uint64_t>();
}

Result<core::Timestamp> Time(const Json& r) {
  WG_ASSIGN_OR_RETURN(std::string t, Str(r, "time"));
  auto parsed = core::ParseTimestamp(t, "time");
  if (!parsed.has_value()) return Status::Corruption("journal record: " + parsed.error().message());
  return *parsed;
}

Result<ledger::Hash> HashMember(const Json& r, const char* key) {
  WG_ASSIGN_OR_RETURN(std::string hex, Str(r, key));
  auto h = HashFromHex(hex, key);
  if (!h.has_value()) return Status::Corruption("journal record: " + h.error().ToString());
  return *h;
}

Decision Refuse(Reason reason, std::string detail, std::string field, const EnterpriseState* e) {
  Decision d;
  d.reason = reason;
  d.detail = std::move(detail);
  d.field = std::move(field);
  if (e != nullptr) {
    d.accepted_size = e->note.empty() ? 0 : e->checkpoint.size;
    d.leaves_held = e->leaves_held;
  }
  return d;
}

std::string SizeRoot(const ledger::Checkpoint& c) {
  return "size " + std::to_string(c.size) + " root " + Hex(c.root);
}

}  // namespace

// --- records ---------------------------------------------------------------------------

Json Book::InitRecord(const std::string& key_name, const std::string& vkey, core::Timestamp now) {
  return Json{{"type", "init"},
              {"format", 1},
              {"key_name", key_name},
              {"vkey", vkey},
              {"time", core::FormatTimestamp(now)}};
}

Json Book::EnrollRecord(std::uint64_t id, const std::string& origin, ledger::HashAlg alg,
                        const std::vector<std::string>& vkeys, const std::string& token_sha256,
                        core::Timestamp now) {
  return Json{{"type", "enroll"},
              {"id", id},
              {"origin", origin},
              {"hash", std::string(ledger::HashAlgName(alg))},
              {"vkeys", vkeys},
              {"token_sha256", token_sha256},
              {"time", core::FormatTimestamp(now)}};
}

Json Book::TokenRecord(const std::string& origin, const std::string& token_sha256,
                       core::Timestamp now) {
  return Json{{"type", "token"},
              {"origin", origin},
              {"token_sha256", token_sha256},
              {"time", core::FormatTimestamp(now)}};
}

Json Book::KeyRecord(const std::string& origin, const std::string& vkey, core::Timestamp now) {
  return Json{
      {"type", "key"}, {"origin", origin}, {"vkey", vkey}, {"time", core::FormatTimestamp(now)}};
}

Json Book::AcceptRecord(const std::string& origin, const Evaluation::Acceptance& a,
                        core::Timestamp now) {
  return Json{{"type", "accept"},
              {"origin", origin},
              {"checkpoint", a.note},
              {"leaves", a.leaves_held},
              {"leaves_root", Hex(a.leaves_root)},
              {"time", core::FormatTimestamp(now)}};
}

Json Book::AlertRecord(const Alert& a) {
  return Json{{"type", "alert"},
              {"id", a.id},
              {"kind", std::string(AlertKindName(a.kind))},
              {"origin", a.origin},
              {"detail", a.detail},
              {"held", a.held_checkpoint},
              {"submitted", a.submitted_checkpoint},
              {"time", core::FormatTimestamp(a.time)}};
}

Status Book::Apply(const Json& record) {
  if (!record.is_object()) return Status::Corruption("journal record is not a JSON object");
  WG_ASSIGN_OR_RETURN(std::string type, Str(record, "type"));
  if (type != "init" && !initialised()) {
    return Status::Corruption("journal does not start with an \"init\" record");
  }
  if (type == "init") return ApplyInit(record);
  if (type == "enroll") return ApplyEnroll(record);
  if (type == "key") return ApplyKey(record);
  if (type == "token") return ApplyToken(record);
  if (type == "accept") return ApplyAccept(record);
  if (type == "alert") return ApplyAlert(record);
  return Status::Corruption("journal record of unknown type \"" + type + "\"");
}

Status Book::ApplyInit(const Json& r) {
  if (initialised()) return Status::Corruption("a second \"init\" record in the journal");
  WG_ASSIGN_OR_RETURN(std::uint64_t format, U64(r, "format"));
  if (format != 1) {
    return Status::Corruption("journal format " + std::to_string(format) + "; this build reads 1");
  }
  WG_ASSIGN_OR_RETURN(key_name_, Str(r, "key_name"));
  WG_ASSIGN_OR_RETURN(vkey_, Str(r, "vkey"));
  return Status::Ok();
}

Status Book::ApplyEnroll(const Json& r) {
  EnterpriseState e;
  WG_ASSIGN_OR_RETURN(e.id, U64(r, "id"));
  WG_ASSIGN_OR_RETURN(e.origin, Str(r, "origin"));
  WG_ASSIGN_OR_RETURN(std::string hash, Str(r, "hash"));
  auto alg = ledger::ParseHashAlg(hash);
  if (!alg.has_value()) return Status::Corruption("enroll record: " + alg.error().message());
  e.alg = *alg;
  WG_ASSIGN_OR_RETURN(e.token_sha256, Str(r, "token_sha256"));
  WG_ASSIGN_OR_RETURN(e.enrolled, Time(r));
  if (e.id != next_enterprise_id()) {
    return Status::Corruption("enroll record of " + e.origin + " has id " + std::to_string(e.id) +
                              ", want " + std::to_string(next_enterprise_id()));
  }
  if (Find(e.origin) != nullptr) {
    return Status::Corruption("enroll record: " + e.origin + " is enrolled twice");
  }
  e.leaves_root = ledger::EmptyRoot(e.alg);
  auto vkeys = r.find("vkeys");
  if (vkeys == r.end() || !vkeys->is_array() || vkeys->empty()) {
    return Status::Corruption("enroll record of " + e.origin + " lacks \"vkeys\"");
  }
  for (const auto& v : *vkeys) {
    if (!v.is_string())
      return Status::Corruption("enroll record of " + e.origin + ": a vkey is not a string");
    WG_RETURN_IF_ERROR(AddVerifier(e, v.get<std::string>(), e.enrolled));
  }
  std::string origin = e.origin;
  enterprises_.emplace(std::move(origin), std::move(e));
  return Status::Ok();
}

Status Book::ApplyKey(const Json& r) {
  WG_ASSIGN_OR_RETURN(std::string origin, Str(r, "origin"));
  WG_ASSIGN_OR_RETURN(std::string vkey, Str(r, "vkey"));
  WG_ASSIGN_OR_RETURN(core::Timestamp t, Time(r));
  EnterpriseState* e = Find(origin);
  if (e == nullptr) return Status::Corruption("key record for unenrolled " + origin);
  return AddVerifier(*e, vkey, t);
}

Status Book::AddVerifier(EnterpriseState& e, const std::string& vkey, core::Timestamp t) {
  auto key = ledger::NoteKey::FromVerifierKey(vkey);
  if (!key.has_value()) {
    return Status::Corruption("key of " + e.origin + " in the journal: " + key.error().message());
  }
  e.keys.push_back({.vkey = vkey, .name = key->name(), .added = t});
  e.verifiers.push_back(std::move(key).value());
  return Status::Ok();
}

Status Book::ApplyToken(const Json& r) {
  WG_ASSIGN_OR_RETURN(std::string origin, Str(r, "origin"));
  WG_ASSIGN_OR_RETURN(std::string digest, Str(r, "token_sha256"));
  EnterpriseState* e = Find(origin);
  if (e == nullptr) return Status::Corruption("token record for unenrolled " + origin);
  e->token_sha256 = std::move(digest);
  return Status::Ok();
}

Status Book::ApplyAccept(const Json& r) {
  WG_ASSIGN_OR_RETURN(std::string origin, Str(r, "origin"));
  Evaluation::Acceptance a;
  WG_ASSIGN_OR_RETURN(a.note, Str(r, "checkpoint"));
  WG_ASSIGN_OR_RETURN(a.leaves_held, U64(r, "leaves"));
  WG_ASSIGN_OR_RETURN(a.leaves_root, HashMember(r, "leaves_root"));
  WG_ASSIGN_OR_RETURN(core::Timestamp t, Time(r));
  return ApplyAcceptance(origin, std::move(a), t);
}

Status Book::ApplyAcceptance(const std::string& origin, Evaluation::Acceptance a,
                             core::Timestamp now) {
  EnterpriseState* e = Find(origin);
  if (e == nullptr) return Status::Corruption("accept record for unenrolled " + origin);
  auto note = ledger::ParseNote(a.note);
  if (!note.has_value())
    return Status::Corruption("accept record of " + origin + ": " + note.error().message());
  auto cp = ledger::ParseCheckpointBody(note->text);
  if (!cp.has_value())
    return Status::Corruption("accept record of " + origin + ": " + cp.error().message());
  if (a.leaves_held > cp->size || a.leaves_held < e->leaves_held) {
    return Status::Corruption("accept record of " + origin + ": " + std::to_string(a.leaves_held) +
                              " leaves held with a checkpoint of size " + std::to_string(cp->size) +
                              " after " + std::to_string(e->leaves_held));
  }
  e->note = std::move(a.note);
  e->note_text = note->text;
  e->checkpoint = std::move(cp).value();
  e->accepted = now;
  e->accepted_roots[e->checkpoint.size] = e->checkpoint.root;
  e->leaves_held = a.leaves_held;
  e->leaves_root = a.leaves_root;
  if (a.appender.has_value()) e->appender = std::move(a.appender);
  return Status::Ok();
}

Status Book::ApplyAlert(const Json& r) {
  Alert a;
  WG_ASSIGN_OR_RETURN(a.id, U64(r, "id"));
  WG_ASSIGN_OR_RETURN(std::string kind, Str(r, "kind"));
  auto k = ParseAlertKind(kind);
  if (!k.has_value()) return Status::Corruption("alert record: " + k.error().message());
  a.kind = *k;
  WG_ASSIGN_OR_RETURN(a.origin, Str(r, "origin"));
  WG_ASSIGN_OR_RETURN(a.detail, Str(r, "detail"));
  WG_ASSIGN_OR_RETURN(a.held_checkpoint, Str(r, "held"));
  WG_ASSIGN_OR_RETURN(a.submitted_checkpoint, Str(r, "submitted"));
  WG_ASSIGN_OR_RETURN(a.time, Time(r));
  if (a.id != next_alert_id()) {
    return Status::Corruption("alert record has id " + std::to_string(a.id) + ", want " +
                              std::to_string(next_alert_id()));
  }
  EnterpriseState* e = Find(a.origin);
  if (e == nullptr) return Status::Corruption("alert record for unenrolled " + a.origin);
  ++e->alerts;
  alerts_.push_back(std::move(a));
  return Status::Ok();
}

EnterpriseState* Book::Find(std::string_view origin) {
  auto it = enterprises_.find(origin);
  return it == enterprises_.end() ? nullptr : &it->second;
}

// --- decisions -------------------------------------------------------------------------

Status Book::EnsureAppender(EnterpriseState& e, LeafReader& leaves) {
  if (e.appender.has_value() && e.appender->size() > e.leaves_held) e.appender.reset();
  if (!e.appender.has_value()) e.appender.emplace(e.alg);
  while (e.appender->size() < e.leaves_held) {
    const std::uint64_t from = e.appender->size();
    const std::uint64_t n = std::min(kAppenderChunk, e.leaves_held - from);
    WG_ASSIGN_OR_RETURN(auto hashes, leaves.Read(e.id, from, n));
    if (hashes.size() != n) {
      e.appender.reset();
      return Status::Corruption("leaf hashes of " + e.origin + ": wanted " + std::to_string(n) +
                                " from " + std::to_string(from) + ", read " +
                                std::to_string(hashes.size()));
    }
    for (const auto& h : hashes) e.appender->Append(h, nullptr);
  }
  if (e.appender->Root() != e.leaves_root) {
    const std::string got = Hex(e.appender->Root());
    e.appender.reset();
    return Status::Corruption("leaf hashes held for " + e.origin + " give root " + got + " over " +
                              std::to_string(e.leaves_held) + " leaves; the journal recorded " +
                              Hex(e.leaves_root));
  }
  return Status::Ok();
}

Result<Evaluation> Book::Evaluate(std::string_view pusher_origin, const Submission& s,
                                  const ledger::NoteKey& regulator, core::Timestamp now,
                                  LeafReader& leaves) {
  Evaluation out;
  EnterpriseState* e = Find(pusher_origin);

  auto note = ledger::ParseNote(s.note);
  if (!note.has_value()) {
    out.decision = Refuse(Reason::kMalformed, note.error().message(), "checkpoint", e);
    return out;
  }
  auto cp = ledger::ParseCheckpointBody(note->text);
  if (!cp.has_value()) {
    out.decision = Refuse(Reason::kMalformed, cp.error().message(), "checkpoint", e);
    return out;
  }
  if (cp->origin != pusher_origin) {
    out.decision =
        Refuse(Reason::kOriginMismatch,
               "the checkpoint is of origin \"" + cp->origin +
                   "\" but the push token is enrolled for \"" + std::string(pusher_origin) + "\"",
               "checkpoint", e);
    return out;
  }
  if (e == nullptr) {
    out.decision = Refuse(Reason::kNotEnrolled, "origin \"" + cp->origin + "\" is not enrolled",
                          "checkpoint", e);
    return out;
  }

  // Signed by an enrolled key of this origin. A line of an enrolled key that fails is a
  // refusal even when another enrolled key verifies (the note was altered or forged).
  std::string signer;
  for (const auto& v : e->verifiers) {
    Status st = v.Verify(*note);
    if (st.code() == core::StatusCode::kNotFound) continue;
    if (!st.ok()) {
      out.decision = Refuse(Reason::kBadSignature, st.message(), "checkpoint", e);
      return out;
    }
    if (signer.empty()) signer = v.name();
  }
  if (signer.empty()) {
    out.decision = Refuse(Reason::kUnknownKey,
                          "the checkpoint carries no signature by a key enrolled for " + e->origin +
                              " (" + std::to_string(e->keys.size()) + " enrolled)",
                          "checkpoint", e);
    return out;
  }

  // Shapes of the proof and the leaves.
  if (s.consistency.size() > kMaxProofHashes) {
    out.decision =
        Refuse(Reason::kMalformed,
               "a consistency proof has at most " + std::to_string(kMaxProofHashes) + " hashes",
               "consistency", e);
    return out;
  }
  std::uint64_t leaves_from = 0, leaves_end = 0;
  if (s.leaves.has_value()) {
    leaves_from = s.leaves->from;
    if (s.leaves->hashes.size() > kMaxLeavesPerSubmission) {
      out.decision = Refuse(
          Reason::kMalformed,
          "at most " + std::to_string(kMaxLeavesPerSubmission) + " leaf hashes per submission",
          "leaves.hashes", e);
      return out;
    }
    if (leaves_from > cp->size || s.leaves->hashes.size() > cp->size - leaves_from) {
      out.decision = Refuse(Reason::kMalformed,
                            "leaves " + std::to_string(leaves_from) + "+" +
                                std::to_string(s.leaves->hashes.size()) +
                                " reach past the checkpoint size " + std::to_string(cp->size),
                            "leaves", e);
      return out;
    }
    leaves_end = leaves_from + s.leaves->hashes.size();
  }

  const bool has_held = !e->note.empty();
  const ledger::Checkpoint& held = e->checkpoint;
  const std::uint64_t held_size = has_held ? held.size : 0;
  auto raise = [&](AlertKind kind, Reason reason, std::string detail) {
    // The same finding against an unchanged accepted checkpoint (a forked branch pushed
    // again every period) refers to the alert already raised instead of adding one.
    for (auto it = alerts_.rbegin(); it != alerts_.rend(); ++it) {
      if (it->origin != e->origin) continue;
      if (it->kind == kind && it->held_checkpoint == e->note) {
        out.decision = Refuse(reason, detail + " (already alert " + std::to_string(it->id) + ")",
                              "checkpoint", e);
        out.decision.alert_id = it->id;
        return;
      }
      break;
    }
    Alert a;
    a.id = next_alert_id();
    a.kind = kind;
    a.origin = e->origin;
    a.time = now;
    a.detail = detail;
    a.held_checkpoint = e->note;
    a.submitted_checkpoint = s.note;
    out.decision = Refuse(reason, std::move(detail), "checkpoint", e);
    out.decision.alert_id = a.id;
    out.alert = std::move(a);
  };

  bool unchanged = false;
  if (has_held && cp->size < held.size) {
    raise(AlertKind::kRollback, Reason::kRollback,
          "rollback: the enterprise signed " + SizeRoot(*cp) + " after the regulator accepted " +
              SizeRoot(held));
    return out;
  }
  if (has_held && cp->size == held.size) {
    if (cp->root != held.root) {
      raise(AlertKind::kFork, Reason::kFork,
            "fork: two checkpoints of size " + std::to_string(cp->size) +
                " signed by the enterprise with different roots: accepted " + Hex(held.root) +
                ", submitted " + Hex(cp->root));
      return out;
    }
    unchanged = true;
  }
  if (s.old_size.has_value() && *s.old_size != held_size) {
    out.decision = Refuse(Reason::kStaleBase,
                          "the consistency proof starts from size " + std::to_string(*s.old_size) +
                              " but the regulator accepted size " + std::to_string(held_size),
                          "old_size", e);
    return out;
  }
  if (!has_held || unchanged) {
    if (!s.consistency.empty()) {
      out.decision = Refuse(Reason::kMalformed,
                            "no consistency proof is needed from size " +
                                std::to_string(held_size) + " to size " + std::to_string(cp->size),
                            "consistency", e);
      return out;
    }
  } else {
    Status st =
        ledger::VerifyConsistency(e->alg, held.size, cp->size, held.root, cp->root, s.consistency);
    if (!st.ok()) {
      raise(AlertKind::kFork, Reason::kFork,
            "fork: the enterprise could not show " + SizeRoot(*cp) +
                " consistent with the accepted " + SizeRoot(held) + ": " + st.message());
      return out;
    }
  }

  // Leaf hashes: contiguous with the held ones; overlapping ones must be the same.
  Evaluation::Acceptance acc;
  acc.leaves_from = e->leaves_held;
  acc.leaves_held = e->leaves_held;
  acc.leaves_root = e->leaves_root;
  if (s.leaves.has_value() && leaves_end > leaves_from) {
    if (leaves_from > e->leaves_held) {
      out.decision =
          Refuse(Reason::kLeafGap,
                 "leaf hashes from " + std::to_string(leaves_from) +
                     " leave a gap: the regulator holds 0.." + std::to_string(e->leaves_held),
                 "leaves.from", e);
      return out;
    }
    const auto& given = s.leaves->hashes;
    const std::uint64_t overlap_end = std::min(leaves_end, e->leaves_held);
    if (leaves_from < overlap_end) {
      WG_ASSIGN_OR_RETURN(auto held_hashes,
                          leaves.Read(e->id, leaves_from, overlap_end - leaves_from));
      if (held_hashes.size() != overlap_end - leaves_from) {
        return Status::Corruption("leaf hashes of " + e->origin + " could not be read back");
      }
      for (std::uint64_t i = leaves_from; i < overlap_end; ++i) {
        if (held_hashes[i - leaves_from] != given[i - leaves_from]) {
          raise(AlertKind::kDigestMismatch, Reason::kDigestMismatch,
                "digest mismatch: leaf " + std::to_string(i) + " is now " +
                    Hex(given[i - leaves_from]) + " but the regulator holds " +
                    Hex(held_hashes[i - leaves_from]) + " for it");
          return out;
        }
      }
    }
    if (leaves_end > e->leaves_held) {
      WG_RETURN_IF_ERROR(EnsureAppender(*e, leaves));
      ledger::TreeAppender app = *e->appender;
      std::map<std::uint64_t, ledger::Hash> roots = e->accepted_roots;
      roots[cp->size] = cp->root;
      for (std::uint64_t i = e->leaves_held; i < leaves_end; ++i) {
        const ledger::Hash& h = given[i - leaves_from];
        app.Append(h, nullptr);
        acc.new_leaves.push_back(h);
        auto it = roots.find(app.size());
        if (it != roots.end() && app.Root() != it->second) {
          raise(AlertKind::kDigestMismatch, Reason::kDigestMismatch,
                "digest mismatch: the leaf hashes 0.." + std::to_string(app.size()) +
                    " give root " + Hex(app.Root()) + " but the signed checkpoint of size " +
                    std::to_string(app.size()) + " has root " + Hex(it->second));
          return out;
        }
      }
      acc.leaves_held = app.size();
      acc.leaves_root = app.Root();
      acc.appender = std::move(app);
    }
  }

  // Accepted: co-sign.
  ledger::SignedNote cosigned = *note;
  if (Status st = regulator.Sign(&cosigned); !st.ok()) {
    if (st.code() != core::StatusCode::kFailedPrecondition) return st;
    out.decision = Refuse(Reason::kMalformed, st.message(), "checkpoint", e);  // no room left
    return out;
  }
  acc.note = ledger::FormatNote(cosigned);
  Decision& d = out.decision;
  d.reason = unchanged ? Reason::kUnchanged : Reason::kAccepted;
  d.accepted_size = cp->size;
  d.leaves_held = acc.leaves_held;
  const std::string leaves_text =
      acc.leaves_held == cp->size
          ? "all " + std::to_string(cp->size) + " leaf hashes held give its root"
          : "leaf hashes 0.." + std::to_string(acc.leaves_held) + " held of " +
                std::to_string(cp->size);
  if (unchanged) {
    d.detail =
        "the accepted checkpoint (" + SizeRoot(*cp) + "), signed by " + signer + "; " + leaves_text;
    // A retry of the held note with nothing new changes nothing: answer with the held
    // co-signed note and record nothing.
    if (acc.new_leaves.empty() && note->text == e->note_text) {
      d.cosigned_note = e->note;
      return out;
    }
  } else {
    d.detail =
        has_held
            ? SizeRoot(*cp) + ", signed by " + signer + ", is consistent with the accepted " +
                  SizeRoot(held) + "; " + leaves_text
            : "first checkpoint " + SizeRoot(*cp) + ", signed by " + signer + "; " + leaves_text;
  }
  d.cosigned_note = acc.note;
  out.acceptance = std::move(acc);
  return out;
}

}  // namespace wg::regulator::internal

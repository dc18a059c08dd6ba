#include "wg/evidence/bundle.h"

#include "wg/core/strings.h"

namespace wg::evidence {

using core::Result;
using core::Status;

namespace {

constexpr std::string_view kFormat = "workguard-evidence-bundle/1";
constexpr std::size_t kMaxBundleBytes = 256u << 20;
constexpr std::size_t kMaxItems = 1'000'000;

std::string B64(std::string_view bytes) { return core::Base64UrlEncode(bytes); }

Result<ledger::Hash> HashFromHex(const std::string& hex, const std::string& field) {
  WG_ASSIGN_OR_RETURN(std::string raw, core::FromHex(hex, field));
  if (raw.size() != 32) return Status::InvalidArgument("must be 32 bytes", field);
  ledger::Hash h{};
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(h.data()));
  return h;
}

}  // namespace

Result<Bundle> ExportSubject(Evidence& ev, core::OrgId org, const std::string& subject) {
  WG_ASSIGN_OR_RETURN(std::string code, ev.OrgCode(org));
  // A fresh checkpoint when this process may sign; else (the server owns the log, or a
  // read-only tool) the latest stored one.
  auto fresh = ev.Checkpoint(org);
  if (!fresh.has_value() && fresh.error().code() != core::StatusCode::kUnavailable &&
      fresh.error().code() != core::StatusCode::kFailedPrecondition) {
    return fresh.error();
  }
  std::string note;
  if (fresh.has_value()) {
    note = std::move(fresh).value();
  } else {
    WG_ASSIGN_OR_RETURN(note, ev.LatestCheckpoint(org));
  }
  WG_ASSIGN_OR_RETURN(ledger::SignedNote parsed, ledger::ParseNote(note));
  WG_ASSIGN_OR_RETURN(ledger::Checkpoint c, ledger::ParseCheckpointBody(parsed.text));
  Bundle b;
  b.origin = c.origin;
  b.alg = ev.alg();
  b.subject = subject;
  b.checkpoint = note;
  WG_ASSIGN_OR_RETURN(auto keys, ev.keys().All(code));
  for (const auto& k : keys) b.verifier_keys.push_back(k.vkey);
  // FactsAbout reads the store's subject index; entries and proofs come from the log.
  std::int64_t from = 0;
  while (true) {
    WG_ASSIGN_OR_RETURN(auto rows, ev.store().FactsAbout(org, subject, from, 10000));
    if (rows.empty()) break;
    for (const auto& r : rows) {
      if (static_cast<std::uint64_t>(r.seq) >= c.size) break;
      WG_ASSIGN_OR_RETURN(FactProof p, ev.Prove(org, static_cast<std::uint64_t>(r.seq), c.size));
      b.items.push_back({p.fact.seq, std::move(p.entry), std::move(p.proof)});
    }
    from = rows.back().seq + 1;
  }
  if (b.items.empty()) return Status::NotFound("no facts about " + subject, "subject");
  return b;
}

core::Json BundleToJson(const Bundle& b) {
  core::Json items = core::Json::array();
  for (const auto& it : b.items) {
    core::Json proof = core::Json::array();
    for (const auto& h : it.proof) proof.push_back(core::ToHex(h));
    auto fact = DecodeFact(it.entry);
    core::Json item = {{"seq", it.seq}, {"entry", B64(it.entry)}, {"proof", proof}};
    if (fact.has_value()) item["fact"] = FactToJson(*fact);  // readable copy; not trusted
    items.push_back(std::move(item));
  }
  return {{"format", kFormat},           {"origin", b.origin},
          {"hash", ledger::HashAlgName(b.alg)}, {"subject", b.subject},
          {"checkpoint", b.checkpoint},  {"verifier_keys", b.verifier_keys},
          {"facts", items}};
}

Result<Bundle> ParseBundle(std::string_view text) {
  WG_ASSIGN_OR_RETURN(core::Json j,
                      core::ParseJson(text, {.max_bytes = kMaxBundleBytes, .max_depth = 80}, "bundle"));
  WG_RETURN_IF_ERROR(core::RequireObject(j, "bundle"));
  WG_ASSIGN_OR_RETURN(std::string format, core::GetString(j, "format", 64));
  if (format != kFormat) {
    return Status::InvalidArgument("is \"" + format + "\"; expected \"" + std::string(kFormat) + "\"",
                                   "format");
  }
  Bundle b;
  WG_ASSIGN_OR_RETURN(b.origin, core::GetString(j, "origin", 256));
  WG_ASSIGN_OR_RETURN(std::string alg, core::GetString(j, "hash", 16));
  WG_ASSIGN_OR_RETURN(b.alg, ledger::ParseHashAlg(alg, "hash"));
  WG_ASSIGN_OR_RETURN(b.subject, core::GetString(j, "subject", 256));
  // A signed note spans lines: read it raw; ParseNote checks it strictly.
  if (!j.contains("checkpoint") || !j["checkpoint"].is_string()) {
    return Status::InvalidArgument("expected a string", "checkpoint");
  }
  b.checkpoint = j["checkpoint"].get<std::string>();
  if (b.checkpoint.size() > 65536) return Status::InvalidArgument("is over 64 KiB", "checkpoint");
  if (!j.contains("verifier_keys") || !j["verifier_keys"].is_array()) {
    return Status::InvalidArgument("expected an array", "verifier_keys");
  }
  for (const auto& k : j["verifier_keys"]) {
    if (!k.is_string()) return Status::InvalidArgument("expected strings", "verifier_keys");
    b.verifier_keys.push_back(k.get<std::string>());
  }
  if (!j.contains("facts") || !j["facts"].is_array()) {
    return Status::InvalidArgument("expected an array", "facts");
  }
  if (j["facts"].size() > kMaxItems) return Status::InvalidArgument("too many facts", "facts");
  std::size_t i = 0;
  for (const auto& it : j["facts"]) {
    const std::string p = "facts[" + std::to_string(i++) + "]";
    WG_RETURN_IF_ERROR(core::RequireObject(it, p));
    Bundle::Item item;
    WG_ASSIGN_OR_RETURN(std::int64_t seq, core::GetInt(it, "seq", 0, INT64_MAX));
    item.seq = static_cast<std::uint64_t>(seq);
    WG_ASSIGN_OR_RETURN(std::string entry_b64, core::GetString(it, "entry", 4u << 20));
    WG_ASSIGN_OR_RETURN(item.entry, core::Base64UrlDecode(entry_b64, p + ".entry"));
    if (!it.contains("proof") || !it["proof"].is_array() || it["proof"].size() > 64) {
      return Status::InvalidArgument("expected an array of at most 64 hashes", p + ".proof");
    }
    for (const auto& h : it["proof"]) {
      if (!h.is_string()) return Status::InvalidArgument("expected hex strings", p + ".proof");
      WG_ASSIGN_OR_RETURN(ledger::Hash hash, HashFromHex(h.get<std::string>(), p + ".proof"));
      item.proof.push_back(hash);
    }
    b.items.push_back(std::move(item));
  }
  return b;
}

Result<BundleReport> VerifyBundle(const Bundle& b, const std::optional<std::string>& trusted_vkey) {
  WG_ASSIGN_OR_RETURN(ledger::SignedNote note, ledger::ParseNote(b.checkpoint));
  WG_ASSIGN_OR_RETURN(ledger::Checkpoint c, ledger::ParseCheckpointBody(note.text));
  if (c.origin != b.origin) {
    return Status::Corruption("checkpoint origin \"" + c.origin + "\" differs from the bundle's \"" +
                              b.origin + "\"");
  }
  BundleReport rep;
  rep.origin = c.origin;
  rep.subject = b.subject;
  rep.tree_size = c.size;
  std::vector<std::string> candidates;
  if (trusted_vkey.has_value()) {
    candidates.push_back(*trusted_vkey);
  } else {
    candidates = b.verifier_keys;
  }
  for (const auto& vk : candidates) {
    auto key = ledger::NoteKey::FromVerifierKey(vk);
    if (!key.has_value()) {
      if (trusted_vkey.has_value()) return key.error();
      continue;
    }
    // A bundled key only counts when it is named for this log.
    if (!trusted_vkey.has_value() && key->name().rfind(c.origin + "/", 0) != 0) continue;
    if (key->Verify(note).ok()) {
      rep.signed_by = key->name();
      break;
    }
  }
  if (rep.signed_by.empty()) {
    return Status::Corruption(trusted_vkey.has_value()
                                  ? "the checkpoint carries no valid signature by the trusted key"
                                  : "the checkpoint carries no valid signature by a bundled key of " +
                                        c.origin);
  }
  if (b.items.empty()) return Status::Corruption("the bundle holds no facts");
  std::uint64_t last_seq = 0;
  for (std::size_t i = 0; i < b.items.size(); ++i) {
    const auto& it = b.items[i];
    const std::string where = "fact " + std::to_string(it.seq);
    if (i > 0 && it.seq <= last_seq) {
      return Status::Corruption(where + ": facts are not in increasing seq order");
    }
    last_seq = it.seq;
    auto fact = DecodeFact(it.entry);
    if (!fact.has_value()) return Status::Corruption(where + ": " + fact.error().message());
    if (fact->seq != it.seq) {
      return Status::Corruption(where + ": the entry says seq " + std::to_string(fact->seq));
    }
    if (fact->subject != b.subject) {
      return Status::Corruption(where + ": about \"" + fact->subject + "\", not \"" + b.subject + "\"");
    }
    if (it.seq >= c.size) {
      return Status::Corruption(where + ": beyond the checkpoint size " + std::to_string(c.size));
    }
    Status s = ledger::VerifyInclusion(b.alg, it.seq, c.size, ledger::HashLeaf(b.alg, it.entry),
                                       it.proof, c.root);
    if (!s.ok()) return Status::Corruption(where + ": " + s.message());
    rep.facts.push_back(std::move(*fact));
  }
  return rep;
}

}  // namespace wg::evidence

#include "wg/evidence/evidence.h"

#include <filesystem>
#include <unordered_map>

#include "wg/core/file.h"
#include "wg/core/log.h"
#include "wg/core/strings.h"

namespace wg::evidence {

using core::Result;
using core::Status;
namespace fs = std::filesystem;

namespace {

constexpr int kSyncChunk = 20000;
constexpr std::size_t kMaxNote = 64 * 1024;

void PutU32(std::string* out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

}  // namespace

struct Evidence::OrgLog {
  std::string code;
  std::string dir;
  std::unique_ptr<ledger::EvidenceLog> log;
  std::mutex mu;          // serialises Sync, checkpoints and their file
  bool checked = false;   // the log's tail was compared with the outbox once
  bool read_only = false; // opened without the writer lock
  // checkpoints.log, loaded once and kept in step by this process (the only writer):
  // notes in first-signed order, each the latest version of its text.
  bool checkpoints_loaded = false;
  std::vector<std::string> checkpoints;
  std::unordered_map<std::string, std::size_t> checkpoint_by_text;
};

Evidence::Evidence(EvidenceOptions options, store::Store& store, KeyRing& keys,
                   const core::Clock& clock)
    : options_(std::move(options)), store_(store), keys_(keys), clock_(clock) {}

Evidence::~Evidence() = default;

Result<std::unique_ptr<Evidence>> Evidence::Open(const EvidenceOptions& options,
                                                 store::Store& store, KeyRing& keys,
                                                 const core::Clock& clock) {
  if (!options.read_only) {
    std::error_code ec;
    fs::create_directories(options.ledger_dir, ec);
    if (ec) return Status::IoError("cannot create " + options.ledger_dir + ": " + ec.message());
  }
  return std::unique_ptr<Evidence>(new Evidence(options, store, keys, clock));
}

std::string Evidence::LogDir(const std::string& org_code) const {
  return options_.ledger_dir + "/" + org_code;
}

Result<std::string> Evidence::OrgCode(core::OrgId org) {
  WG_ASSIGN_OR_RETURN(domain::Organization o, store_.GetOrganization(org));
  return o.code;
}

Result<Evidence::OrgLog*> Evidence::LogOf(core::OrgId org) {
  std::lock_guard lock(mu_);
  auto it = logs_.find(org.value);
  if (it != logs_.end()) return it->second.get();
  WG_ASSIGN_OR_RETURN(domain::Organization o, store_.GetOrganization(org));
  auto ol = std::make_unique<OrgLog>();
  ol->code = o.code;
  ol->dir = LogDir(o.code);
  if (options_.read_only && !fs::exists(ol->dir + "/log.meta")) {
    return Status::NotFound("organization " + o.code + " has no evidence log yet (" + ol->dir +
                            ")");
  }
  ol->read_only = options_.read_only;
  auto opened = ledger::EvidenceLog::Open(
      {.dir = ol->dir, .alg = options_.alg, .read_only = ol->read_only, .sync = options_.sync});
  if (!opened.has_value() && opened.error().code() == core::StatusCode::kUnavailable &&
      !ol->read_only) {
    // Another process (the server) owns the log: read it, leave appends to the owner.
    ol->read_only = true;
    opened = ledger::EvidenceLog::Open(
        {.dir = ol->dir, .alg = options_.alg, .read_only = true, .sync = options_.sync});
  }
  if (!opened.has_value()) return opened.error();
  ol->log = std::move(opened).value();
  const auto& rec = ol->log->recovery();
  if (!rec.detail.empty()) {
    spdlog::warn("evidence log of {} recovered: {}", o.code, rec.detail);
  }
  OrgLog* raw = ol.get();
  logs_.emplace(org.value, std::move(ol));
  return raw;
}

Result<std::uint64_t> Evidence::Sync(core::OrgId org) {
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  std::lock_guard lock(ol->mu);
  std::uint64_t n = ol->log->size();
  WG_ASSIGN_OR_RETURN(std::int64_t outbox, store_.FactCount(org));
  if (n > static_cast<std::uint64_t>(outbox)) {
    return Status::Corruption("evidence log of " + ol->code + " holds " + std::to_string(n) +
                              " facts but the store's outbox only " + std::to_string(outbox) +
                              ": was the database restored from an older copy?");
  }
  if (!ol->checked && n > 0) {
    // The last logged fact must be the outbox's fact of that seq, or history forked.
    WG_ASSIGN_OR_RETURN(auto rows, store_.FactsFrom(org, static_cast<std::int64_t>(n - 1), 1));
    WG_ASSIGN_OR_RETURN(std::string entry, ol->log->Entry(n - 1));
    if (rows.empty() || EncodeFact(FromStored(rows[0], ol->code)) != entry) {
      return Status::Corruption("evidence log of " + ol->code + ": fact " +
                                std::to_string(n - 1) + " differs from the store's outbox");
    }
  }
  ol->checked = true;
  if (ol->read_only && n < static_cast<std::uint64_t>(outbox)) {
    return Status::Unavailable("the evidence log of " + ol->code +
                               " is held by another process (the server); " +
                               std::to_string(static_cast<std::uint64_t>(outbox) - n) +
                               " facts stay queued for it");
  }
  if (ol->read_only) return n;
  while (n < static_cast<std::uint64_t>(outbox)) {
    WG_ASSIGN_OR_RETURN(auto rows,
                        store_.FactsFrom(org, static_cast<std::int64_t>(n), kSyncChunk));
    if (rows.empty()) break;
    std::vector<std::string> entries;
    entries.reserve(rows.size());
    for (const auto& r : rows) {
      if (static_cast<std::uint64_t>(r.seq) != n + entries.size()) {
        return Status::Corruption("outbox of " + ol->code + " has a gap at seq " +
                                  std::to_string(n + entries.size()));
      }
      entries.push_back(EncodeFact(FromStored(r, ol->code)));
    }
    const std::size_t count = entries.size();
    WG_ASSIGN_OR_RETURN(std::uint64_t first, ol->log->Append(std::move(entries), n));
    n = first + count;
  }
  return n;
}

Status Evidence::SyncAfterWrite(core::OrgId org) {
  auto r = Sync(org);
  if (r.has_value() || r.error().code() == core::StatusCode::kUnavailable) return Status::Ok();
  return r.error().WithContext("the write is committed but not yet in the evidence log");
}

Status Evidence::SyncAll() {
  WG_ASSIGN_OR_RETURN(auto orgs, store_.ListOrganizations());
  Status first;
  for (const auto& o : orgs) {
    auto r = Sync(o.id);
    if (!r.has_value() && first.ok()) first = r.error();
  }
  return first;
}

Result<OrgKey> Evidence::EnsureKey(core::OrgId org, const std::string& actor) {
  WG_ASSIGN_OR_RETURN(std::string code, OrgCode(org));
  bool created = false;
  WG_ASSIGN_OR_RETURN(OrgKey key, keys_.Current(code, &created));
  if (created) {
    core::Json p = {{"key_name", key.key_name}, {"version", key.version}, {"vkey", key.vkey},
                    {"algorithm", "SM2"}};
    WG_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(p));
    WG_RETURN_IF_ERROR(store_.AppendFacts(
        org, {{.kind = "key.created", .actor = actor, .subject = "key:" + code,
               .site = "", .payload = payload}}));
  }
  return key;
}

Result<OrgKey> Evidence::RotateKey(core::OrgId org, const std::string& actor) {
  WG_ASSIGN_OR_RETURN(OrgKey old_key, EnsureKey(org, actor));
  WG_ASSIGN_OR_RETURN(OrgKey key, keys_.Rotate(old_key.org));
  core::Json p = {{"old_key_name", old_key.key_name}, {"old_vkey", old_key.vkey},
                  {"key_name", key.key_name},         {"vkey", key.vkey},
                  {"version", key.version},           {"algorithm", "SM2"}};
  WG_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(p));
  WG_RETURN_IF_ERROR(store_.AppendFacts(
      org, {{.kind = "key.rotated", .actor = actor, .subject = "key:" + key.org, .site = "",
             .payload = payload}}));
  WG_RETURN_IF_ERROR(Sync(org).status());
  return key;
}

// checkpoints.log: records "u32be length | signed note"; a later record with the same
// note text supersedes the earlier one in place (it carries more co-signatures). A torn
// last record (crash while appending) is ignored. Loaded once per OrgLog; `ol.mu` held.
Result<const std::vector<std::string>*> Evidence::ReadCheckpoints(OrgLog& ol) {
  if (ol.checkpoints_loaded) return &ol.checkpoints;
  auto data = core::ReadFile(ol.dir + "/checkpoints.log", 1u << 30);
  if (!data.has_value() && data.error().code() != core::StatusCode::kNotFound) {
    return data.error();
  }
  const std::string bytes = data.has_value() ? std::move(data).value() : std::string();
  std::size_t pos = 0;
  while (bytes.size() - pos >= 4) {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(bytes[pos + i]);
    if (n > kMaxNote) {
      return Status::Corruption(ol.dir + "/checkpoints.log: record at byte " +
                                std::to_string(pos) + " claims " + std::to_string(n) + " bytes");
    }
    if (bytes.size() - pos - 4 < n) break;  // torn tail
    std::string note = bytes.substr(pos + 4, n);
    pos += 4 + n;
    WG_ASSIGN_OR_RETURN(ledger::SignedNote parsed, ledger::ParseNote(note));
    RememberCheckpoint(ol, parsed.text, std::move(note));
  }
  ol.checkpoints_loaded = true;
  return &ol.checkpoints;
}

void Evidence::RememberCheckpoint(OrgLog& ol, const std::string& text, std::string note) {
  auto [it, fresh] = ol.checkpoint_by_text.emplace(text, ol.checkpoints.size());
  if (fresh) {
    ol.checkpoints.push_back(std::move(note));
  } else {
    ol.checkpoints[it->second] = std::move(note);
  }
}

Status Evidence::StoreCheckpoint(OrgLog& ol, const ledger::SignedNote& note) {
  std::string formatted = ledger::FormatNote(note);
  std::string rec;
  PutU32(&rec, static_cast<std::uint32_t>(formatted.size()));
  rec += formatted;
  WG_RETURN_IF_ERROR(core::AppendFileSync(ol.dir + "/checkpoints.log", rec));
  RememberCheckpoint(ol, note.text, std::move(formatted));
  return Status::Ok();
}

Result<std::string> Evidence::Checkpoint(core::OrgId org) {
  if (options_.read_only) return Status::FailedPrecondition("evidence opened read-only");
  WG_ASSIGN_OR_RETURN(OrgKey key, EnsureKey(org));
  WG_ASSIGN_OR_RETURN(std::uint64_t size, Sync(org));
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  if (ol->read_only) {
    return Status::Unavailable("the evidence log of " + ol->code +
                               " is held by another process (the server); it signs checkpoints");
  }
  std::lock_guard lock(ol->mu);
  WG_ASSIGN_OR_RETURN(const std::vector<std::string>* notes, ReadCheckpoints(*ol));
  if (!notes->empty()) {
    WG_ASSIGN_OR_RETURN(ledger::SignedNote last, ledger::ParseNote(notes->back()));
    WG_ASSIGN_OR_RETURN(ledger::Checkpoint c, ledger::ParseCheckpointBody(last.text));
    if (c.size == size) return notes->back();
  }
  WG_ASSIGN_OR_RETURN(ledger::Hash root, ol->log->Root(size));
  ledger::Checkpoint c{.origin = keys_.Origin(ol->code), .size = size, .root = root,
                       .extensions = {}};
  ledger::SignedNote note{.text = ledger::CheckpointBody(c), .signatures = {}};
  WG_ASSIGN_OR_RETURN(ledger::NoteKey signer, ledger::NoteKey::ForSigning(key.key_name, *key.private_key));
  WG_RETURN_IF_ERROR(signer.Sign(&note));
  WG_RETURN_IF_ERROR(StoreCheckpoint(*ol, note));
  return ol->checkpoints.back();
}

Result<std::string> Evidence::LatestCheckpoint(core::OrgId org) {
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  std::lock_guard lock(ol->mu);
  WG_ASSIGN_OR_RETURN(const std::vector<std::string>* notes, ReadCheckpoints(*ol));
  if (notes->empty()) return Status::NotFound("no checkpoint yet for " + ol->code);
  return notes->back();
}

Result<std::string> Evidence::CheckpointAt(core::OrgId org, std::uint64_t size) {
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  std::lock_guard lock(ol->mu);
  WG_ASSIGN_OR_RETURN(const std::vector<std::string>* notes, ReadCheckpoints(*ol));
  for (auto it = notes->rbegin(); it != notes->rend(); ++it) {
    WG_ASSIGN_OR_RETURN(ledger::SignedNote n, ledger::ParseNote(*it));
    WG_ASSIGN_OR_RETURN(ledger::Checkpoint c, ledger::ParseCheckpointBody(n.text));
    if (c.size == size) return *it;
  }
  return Status::NotFound("no checkpoint of size " + std::to_string(size) + " for " + ol->code,
                          "size");
}

Status Evidence::AddCosignatures(core::OrgId org, const std::string& cosigned_note) {
  if (options_.read_only) return Status::FailedPrecondition("evidence opened read-only");
  WG_ASSIGN_OR_RETURN(ledger::SignedNote incoming, ledger::ParseNote(cosigned_note));
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  if (ol->read_only) {
    return Status::Unavailable("the evidence log of " + ol->code + " is held by another process");
  }
  std::lock_guard lock(ol->mu);
  WG_RETURN_IF_ERROR(ReadCheckpoints(*ol).status());
  auto found = ol->checkpoint_by_text.find(incoming.text);
  if (found == ol->checkpoint_by_text.end()) {
    return Status::NotFound("no stored checkpoint has this text", "checkpoint");
  }
  WG_ASSIGN_OR_RETURN(ledger::SignedNote stored, ledger::ParseNote(ol->checkpoints[found->second]));
  // Only co-signatures are merged: lines named for this organization's own keys are kept
  // as stored, so a co-signer can add but never replace the enterprise's signature.
  const std::string own = keys_.Origin(ol->code) + "/k";
  for (const auto& sig : incoming.signatures) {
    if (sig.key_name.rfind(own, 0) == 0) continue;
    bool have = false;
    for (auto& st : stored.signatures) {
      if (st.key_name == sig.key_name && st.key_hash == sig.key_hash) {
        st = sig;
        have = true;
      }
    }
    if (!have) stored.signatures.push_back(sig);
  }
  return StoreCheckpoint(*ol, stored);
}

Result<FactProof> Evidence::Prove(core::OrgId org, std::uint64_t seq,
                                  std::optional<std::uint64_t> tree_size) {
  std::string note;
  if (tree_size.has_value()) {
    WG_ASSIGN_OR_RETURN(note, CheckpointAt(org, *tree_size));
  } else {
    auto fresh = Checkpoint(org);
    if (fresh.has_value()) {
      note = std::move(fresh).value();
    } else if (fresh.error().code() == core::StatusCode::kUnavailable ||
               fresh.error().code() == core::StatusCode::kFailedPrecondition) {
      WG_ASSIGN_OR_RETURN(note, LatestCheckpoint(org));
    } else {
      return fresh.error();
    }
  }
  WG_ASSIGN_OR_RETURN(ledger::SignedNote parsed, ledger::ParseNote(note));
  WG_ASSIGN_OR_RETURN(ledger::Checkpoint c, ledger::ParseCheckpointBody(parsed.text));
  if (seq >= c.size) {
    return Status::NotFound("fact " + std::to_string(seq) + " is not in the checkpoint of size " +
                                std::to_string(c.size),
                            "seq");
  }
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  FactProof p;
  WG_ASSIGN_OR_RETURN(p.entry, ol->log->Entry(seq));
  WG_ASSIGN_OR_RETURN(p.fact, DecodeFact(p.entry));
  WG_ASSIGN_OR_RETURN(p.proof, ol->log->InclusionProof(seq, c.size));
  p.tree_size = c.size;
  p.checkpoint = std::move(note);
  return p;
}

Result<std::vector<ledger::Hash>> Evidence::Consistency(core::OrgId org, std::uint64_t old_size,
                                                        std::uint64_t new_size) {
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  if (new_size > ol->log->size()) {
    return Status::InvalidArgument("exceeds the log size " + std::to_string(ol->log->size()),
                                   "new_size");
  }
  return ol->log->ConsistencyProof(old_size, new_size);
}

Result<std::vector<ledger::Hash>> Evidence::LeafHashes(core::OrgId org, std::uint64_t from,
                                                       std::uint64_t count) {
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  const std::uint64_t size = ol->log->size();
  if (from > size) return Status::InvalidArgument("exceeds the log size", "from");
  count = std::min(count, size - from);
  std::vector<ledger::Hash> out;
  out.reserve(count);
  for (std::uint64_t i = from; i < from + count; ++i) {
    WG_ASSIGN_OR_RETURN(ledger::Hash h, ol->log->LeafHash(i));
    out.push_back(h);
  }
  return out;
}

Result<OrgVerifyReport> Evidence::Verify(
    core::OrgId org, const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  WG_ASSIGN_OR_RETURN(OrgLog * ol, LogOf(org));
  OrgVerifyReport rep;
  rep.org = ol->code;
  WG_ASSIGN_OR_RETURN(ledger::VerifyReport files, ledger::VerifyLogFiles(ol->dir, progress));
  rep.log_size = files.entries;
  rep.root = files.root;
  WG_ASSIGN_OR_RETURN(rep.outbox_size, store_.FactCount(org));
  if (rep.log_size > static_cast<std::uint64_t>(rep.outbox_size)) {
    return Status::Corruption("evidence log of " + ol->code + " holds " +
                              std::to_string(rep.log_size) + " facts, the outbox only " +
                              std::to_string(rep.outbox_size));
  }
  // Every logged fact equals its outbox row (the projection's source).
  for (std::uint64_t seq = 0; seq < rep.log_size;) {
    WG_ASSIGN_OR_RETURN(auto rows, store_.FactsFrom(org, static_cast<std::int64_t>(seq), kSyncChunk));
    if (rows.empty()) break;
    for (const auto& r : rows) {
      if (static_cast<std::uint64_t>(r.seq) >= rep.log_size) break;
      WG_ASSIGN_OR_RETURN(std::string entry, ol->log->Entry(static_cast<std::uint64_t>(r.seq)));
      if (EncodeFact(FromStored(r, ol->code)) != entry) {
        return Status::Corruption("fact " + std::to_string(r.seq) + " of " + ol->code +
                                  ": the evidence log and the store's outbox differ");
      }
    }
    seq = static_cast<std::uint64_t>(rows.back().seq) + 1;
  }
  // Checkpoints: signed by one of the organization's keys, root matches the log, each
  // consistent with the one before.
  WG_ASSIGN_OR_RETURN(auto keys, keys_.All(ol->code));
  std::vector<ledger::NoteKey> verifiers;
  for (const auto& k : keys) {
    WG_ASSIGN_OR_RETURN(ledger::NoteKey nk, ledger::NoteKey::ForVerifying(k.key_name, k.public_key));
    verifiers.push_back(std::move(nk));
  }
  std::vector<std::string> notes;
  {
    std::lock_guard lock(ol->mu);
    WG_ASSIGN_OR_RETURN(const std::vector<std::string>* stored, ReadCheckpoints(*ol));
    notes = *stored;
  }
  std::optional<ledger::Checkpoint> prev;
  for (std::size_t i = 0; i < notes.size(); ++i) {
    const std::string where = "checkpoint " + std::to_string(i + 1) + " of " + ol->code;
    WG_ASSIGN_OR_RETURN(ledger::SignedNote n, ledger::ParseNote(notes[i]));
    WG_ASSIGN_OR_RETURN(ledger::Checkpoint c, ledger::ParseCheckpointBody(n.text));
    bool signed_ok = false;
    for (const auto& v : verifiers) {
      if (v.Verify(n).ok()) signed_ok = true;
    }
    if (!signed_ok) return Status::Corruption(where + ": no valid signature by an organization key");
    if (c.size > rep.log_size) {
      return Status::Corruption(where + ": size " + std::to_string(c.size) +
                                " exceeds the log size " + std::to_string(rep.log_size));
    }
    WG_ASSIGN_OR_RETURN(ledger::Hash root, ol->log->Root(c.size));
    if (root != c.root) {
      return Status::Corruption(where + ": root " + core::ToHex(c.root) + " but the log's root at size " +
                                std::to_string(c.size) + " is " + core::ToHex(root));
    }
    if (prev.has_value()) {
      if (c.size < prev->size) {
        return Status::Corruption(where + ": size " + std::to_string(c.size) +
                                  " is smaller than the previous checkpoint's " +
                                  std::to_string(prev->size));
      }
      WG_ASSIGN_OR_RETURN(auto proof, ol->log->ConsistencyProof(prev->size, c.size));
      Status s = ledger::VerifyConsistency(ol->log->alg(), prev->size, c.size, prev->root, c.root, proof);
      if (!s.ok()) return Status::Corruption(where + ": " + s.message());
    }
    prev = c;
    ++rep.checkpoints;
  }
  return rep;
}

}  // namespace wg::evidence

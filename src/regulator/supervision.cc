#include "wg/regulator/supervision.h"

#include <mutex>
#include <optional>
#include <set>

#include "book.h"
#include "storage.h"
#include "wg/core/file.h"
#include "wg/core/log.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/crypto/sm.h"

namespace wg::regulator {

using core::Json;
using core::Result;
using core::Status;
using internal::Book;
using internal::Storage;

std::string_view ReasonName(Reason r) {
  switch (r) {
    case Reason::kAccepted:
      return "ACCEPTED";
    case Reason::kUnchanged:
      return "UNCHANGED";
    case Reason::kMalformed:
      return "MALFORMED";
    case Reason::kNotEnrolled:
      return "NOT_ENROLLED";
    case Reason::kOriginMismatch:
      return "ORIGIN_MISMATCH";
    case Reason::kUnknownKey:
      return "UNKNOWN_KEY";
    case Reason::kBadSignature:
      return "BAD_SIGNATURE";
    case Reason::kStaleBase:
      return "STALE_BASE";
    case Reason::kLeafGap:
      return "LEAF_GAP";
    case Reason::kRollback:
      return "ROLLBACK";
    case Reason::kFork:
      return "FORK";
    case Reason::kDigestMismatch:
      return "DIGEST_MISMATCH";
  }
  return "UNKNOWN";
}

std::string_view AlertKindName(AlertKind k) {
  switch (k) {
    case AlertKind::kRollback:
      return "ROLLBACK";
    case AlertKind::kFork:
      return "FORK";
    case AlertKind::kDigestMismatch:
      return "DIGEST_MISMATCH";
    case AlertKind::kSpotCheckFailed:
      return "SPOT_CHECK_FAILED";
  }
  return "UNKNOWN";
}

Result<AlertKind> ParseAlertKind(std::string_view s) {
  for (AlertKind k : {AlertKind::kRollback, AlertKind::kFork, AlertKind::kDigestMismatch,
                      AlertKind::kSpotCheckFailed}) {
    if (AlertKindName(k) == s) return k;
  }
  return Status::InvalidArgument("unknown alert kind \"" + std::string(s) + "\"", "kind");
}

namespace {

class StorageLeaves final : public internal::LeafReader {
 public:
  explicit StorageLeaves(Storage& s) : s_(s) {}
  Result<std::vector<ledger::Hash>> Read(std::uint64_t id, std::uint64_t from,
                                         std::uint64_t count) override {
    return s_.ReadLeaves(id, from, count);
  }

 private:
  Storage& s_;
};

std::string TokenDigest(std::string_view token) { return core::ToHex(crypto::Sha256(token)); }

Status CheckOrigin(const std::string& origin) {
  WG_RETURN_IF_ERROR(core::CheckText(origin, "origin", 256));
  // The origin is the first line of a checkpoint body (docs/formats/checkpoint.md).
  ledger::Checkpoint probe{.origin = origin, .size = 0, .root = {}, .extensions = {}};
  auto parsed = ledger::ParseCheckpointBody(ledger::CheckpointBody(probe));
  if (!parsed.has_value()) return Status::InvalidArgument(parsed.error().message(), "origin");
  return Status::Ok();
}

}  // namespace

struct Supervision::Impl {
  const core::Clock& clock;
  std::unique_ptr<Storage> storage;
  std::optional<ledger::NoteKey> key;
  Book book;
  std::uint64_t offset = 0;  // journal bytes applied
  std::mutex mu;             // serialises every operation in this process

  Impl(const core::Clock& c, std::unique_ptr<Storage> s) : clock(c), storage(std::move(s)) {}

  // Applies the records appended since `offset` (by this or another process).
  Status CatchUp(SupervisionRecovery* recovery) {
    WG_ASSIGN_OR_RETURN(Storage::Scan scan, storage->ReadJournal(offset));
    if (scan.truncated > 0) {
      spdlog::warn("regulator journal: cut {} torn bytes at the tail: {}", scan.truncated,
                   scan.detail);
      if (recovery != nullptr) {
        recovery->truncated_journal_bytes += scan.truncated;
        recovery->detail += "journal: cut " + std::to_string(scan.truncated) + " torn bytes (" +
                            scan.detail + "); ";
      }
    }
    for (const std::string& payload : scan.records) {
      auto rec = core::ParseJson(payload, {internal::kMaxJournalRecord, 8}, "journal");
      if (!rec.has_value()) {
        return Status::Corruption("regulator journal record: " + rec.error().ToString());
      }
      WG_RETURN_IF_ERROR(book.Apply(*rec));
    }
    offset = scan.end;
    return Status::Ok();
  }

  Status Append(const Json& record) {
    const std::string payload = core::DumpJson(record);
    WG_RETURN_IF_ERROR(storage->AppendJournal(offset, payload));
    offset += 8 + payload.size();
    return book.Apply(record);
  }

  // Every operation: this process's mutex, the directory lock, then the records other
  // processes appended.
  struct Guard {
    std::unique_lock<std::mutex> mu;
    Storage::Lock lock;
  };
  Result<Guard> Begin() {
    std::unique_lock<std::mutex> l(mu);
    WG_ASSIGN_OR_RETURN(Storage::Lock fl, storage->Acquire());
    WG_RETURN_IF_ERROR(CatchUp(nullptr));
    return Guard{std::move(l), std::move(fl)};
  }

  Result<internal::EnterpriseState*> Find(const std::string& origin) {
    internal::EnterpriseState* e = book.Find(origin);
    if (e == nullptr)
      return Status::NotFound("origin \"" + origin + "\" is not enrolled", "origin");
    return e;
  }

  EnterpriseView View(const internal::EnterpriseState& e) const {
    EnterpriseView v;
    v.id = e.id;
    v.origin = e.origin;
    v.alg = e.alg;
    v.enrolled = e.enrolled;
    v.keys = e.keys;
    v.checkpoint = e.note;
    if (!e.note.empty()) {
      v.size = e.checkpoint.size;
      v.root = e.checkpoint.root;
      v.accepted = e.accepted;
    }
    v.leaves_held = e.leaves_held;
    v.alerts = e.alerts;
    return v;
  }
};

Supervision::Supervision(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Supervision::~Supervision() = default;

Result<std::unique_ptr<Supervision>> Supervision::Open(const SupervisionOptions& options,
                                                       const core::Clock& clock) {
  if (options.dir.empty()) return Status::InvalidArgument("is required", "dir");
  WG_ASSIGN_OR_RETURN(auto storage, Storage::Open(options.dir, options.sync));
  auto impl = std::make_unique<Impl>(clock, std::move(storage));
  SupervisionRecovery recovery;
  {
    WG_ASSIGN_OR_RETURN(Storage::Lock lock, impl->storage->Acquire());
    WG_RETURN_IF_ERROR(impl->CatchUp(&recovery));

    // The regulator's key: created with the directory, then only read.
    const std::string key_path = options.dir + "/regulator.key";
    std::optional<crypto::Sm2PrivateKey> priv;
    auto pem = core::ReadFile(key_path, 64 * 1024);
    if (pem.has_value()) {
      WG_ASSIGN_OR_RETURN(priv, crypto::Sm2PrivateKey::FromPem(*pem));
    } else if (pem.error().code() == core::StatusCode::kNotFound && !impl->book.initialised()) {
      WG_ASSIGN_OR_RETURN(priv, crypto::Sm2PrivateKey::Generate());
      WG_ASSIGN_OR_RETURN(std::string text, priv->Pem());
      WG_RETURN_IF_ERROR(core::CreateFileExclusive(key_path, text, 0600));
    } else if (pem.error().code() == core::StatusCode::kNotFound) {
      return Status::Corruption(key_path + " is missing but the journal names the regulator's key");
    } else {
      return pem.error();
    }
    const std::string name = impl->book.initialised() ? impl->book.key_name() : options.key_name;
    WG_ASSIGN_OR_RETURN(ledger::NoteKey key, ledger::NoteKey::ForSigning(name, *priv));
    if (!impl->book.initialised()) {
      WG_RETURN_IF_ERROR(impl->Append(Book::InitRecord(name, key.VerifierKey(), clock.Now())));
    } else if (key.VerifierKey() != impl->book.vkey()) {
      return Status::Corruption(key_path + " is not the key the journal was started with (" +
                                impl->book.vkey() + ")");
    }
    impl->key = std::move(key);

    // Leaf hashes past the last acceptance were written by a submission that crashed
    // before its record: never acknowledged, so cut.
    for (const auto& [origin, e] : impl->book.enterprises()) {
      WG_ASSIGN_OR_RETURN(std::uint64_t bytes, impl->storage->LeafBytes(e.id));
      const std::uint64_t want = e.leaves_held * 32;
      if (bytes < want) {
        return Status::Corruption(impl->storage->LeavesPath(e.id) + " holds " +
                                  std::to_string(bytes / 32) + " leaf hashes; the journal says " +
                                  std::to_string(e.leaves_held) + " were accepted for " + origin);
      }
      if (bytes > want) {
        WG_RETURN_IF_ERROR(impl->storage->TruncateLeaves(e.id, e.leaves_held));
        recovery.truncated_leaves += (bytes - want + 31) / 32;
        recovery.detail += origin + ": cut " + std::to_string(bytes - want) +
                           " bytes of unacknowledged leaf hashes; ";
      }
    }
  }
  if (!recovery.detail.empty()) spdlog::warn("regulator state recovered: {}", recovery.detail);
  std::unique_ptr<Supervision> sup(new Supervision(std::move(impl)));
  sup->recovery_ = std::move(recovery);
  return sup;
}

std::string Supervision::VerifierKey() const { return impl_->book.vkey(); }
const std::string& Supervision::key_name() const { return impl_->book.key_name(); }

Result<std::string> Supervision::Enroll(const std::string& origin, ledger::HashAlg alg,
                                        const std::vector<std::string>& vkeys) {
  WG_RETURN_IF_ERROR(CheckOrigin(origin));
  if (vkeys.empty()) return Status::InvalidArgument("at least one verifier key is required", "key");
  std::set<std::string> seen;
  for (const auto& v : vkeys) {
    auto k = ledger::NoteKey::FromVerifierKey(v);
    if (!k.has_value()) return Status::InvalidArgument(k.error().message(), "key");
    if (!seen.insert(v).second) return Status::InvalidArgument("given twice: " + v, "key");
  }
  WG_ASSIGN_OR_RETURN(std::string token, crypto::RandomHex(32));
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  if (impl_->book.Find(origin) != nullptr) {
    return Status::AlreadyExists("origin \"" + origin + "\" is enrolled already", "origin");
  }
  WG_RETURN_IF_ERROR(
      impl_->Append(Book::EnrollRecord(impl_->book.next_enterprise_id(), origin, alg, vkeys,
                                       TokenDigest(token), impl_->clock.Now())));
  return token;
}

Status Supervision::AddKey(const std::string& origin, const std::string& vkey) {
  auto k = ledger::NoteKey::FromVerifierKey(vkey);
  if (!k.has_value()) return Status::InvalidArgument(k.error().message(), "key");
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  WG_ASSIGN_OR_RETURN(internal::EnterpriseState * e, impl_->Find(origin));
  for (const auto& have : e->keys) {
    if (have.vkey == vkey) {
      return Status::AlreadyExists("this key is enrolled for " + origin + " already", "key");
    }
  }
  return impl_->Append(Book::KeyRecord(origin, vkey, impl_->clock.Now()));
}

Result<std::string> Supervision::IssueToken(const std::string& origin) {
  WG_ASSIGN_OR_RETURN(std::string token, crypto::RandomHex(32));
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  WG_RETURN_IF_ERROR(impl_->Find(origin).status());
  WG_RETURN_IF_ERROR(
      impl_->Append(Book::TokenRecord(origin, TokenDigest(token), impl_->clock.Now())));
  return token;
}

Result<std::string> Supervision::AuthenticatePush(std::string_view token) {
  if (token.empty()) return Status::Unauthenticated("no push token");
  const std::string digest = TokenDigest(token);
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  const std::string* found = nullptr;
  // Every digest is compared, in constant time, so timing tells nothing about which
  // enterprise (if any) a guess came close to.
  for (const auto& [origin, e] : impl_->book.enterprises()) {
    if (crypto::ConstantTimeEqual(digest, e.token_sha256)) found = &e.origin;
  }
  if (found == nullptr) return Status::Unauthenticated("unknown push token");
  return *found;
}

Result<Decision> Supervision::Submit(std::string_view pusher_origin, const Submission& s) {
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  const core::Timestamp now = impl_->clock.Now();
  StorageLeaves leaves(*impl_->storage);
  WG_ASSIGN_OR_RETURN(internal::Evaluation ev,
                      impl_->book.Evaluate(pusher_origin, s, *impl_->key, now, leaves));
  if (ev.alert.has_value()) {
    spdlog::warn("regulator: {} alert {} for {}: {}", AlertKindName(ev.alert->kind), ev.alert->id,
                 ev.alert->origin, ev.alert->detail);
    WG_RETURN_IF_ERROR(impl_->Append(Book::AlertRecord(*ev.alert)));
  }
  if (ev.acceptance.has_value()) {
    internal::Evaluation::Acceptance& a = *ev.acceptance;
    const std::string origin(pusher_origin);
    WG_ASSIGN_OR_RETURN(internal::EnterpriseState * e, impl_->Find(origin));
    // Leaf hashes first: the accept record that counts them is what acknowledges them.
    if (!a.new_leaves.empty()) {
      WG_RETURN_IF_ERROR(impl_->storage->WriteLeaves(e->id, a.leaves_from, a.new_leaves));
    }
    const Json record = Book::AcceptRecord(origin, a, now);
    const std::string payload = core::DumpJson(record);
    WG_RETURN_IF_ERROR(impl_->storage->AppendJournal(impl_->offset, payload));
    impl_->offset += 8 + payload.size();
    WG_RETURN_IF_ERROR(impl_->book.ApplyAcceptance(origin, std::move(a), now));
  }
  return std::move(ev.decision);
}

Result<Alert> Supervision::RaiseAlert(const std::string& origin, AlertKind kind, std::string detail,
                                      std::string submitted_checkpoint) {
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  WG_ASSIGN_OR_RETURN(internal::EnterpriseState * e, impl_->Find(origin));
  Alert a;
  a.id = impl_->book.next_alert_id();
  a.kind = kind;
  a.origin = origin;
  a.time = impl_->clock.Now();
  a.detail = std::move(detail);
  a.held_checkpoint = e->note;
  a.submitted_checkpoint = std::move(submitted_checkpoint);
  spdlog::warn("regulator: {} alert {} for {}: {}", AlertKindName(a.kind), a.id, origin, a.detail);
  WG_RETURN_IF_ERROR(impl_->Append(Book::AlertRecord(a)));
  return a;
}

Result<std::vector<EnterpriseView>> Supervision::Enterprises() {
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  std::vector<EnterpriseView> out;
  for (const auto& [origin, e] : impl_->book.enterprises()) out.push_back(impl_->View(e));
  return out;
}

Result<EnterpriseView> Supervision::Enterprise(const std::string& origin) {
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  WG_ASSIGN_OR_RETURN(internal::EnterpriseState * e, impl_->Find(origin));
  return impl_->View(*e);
}

Result<std::vector<Alert>> Supervision::Alerts(const std::optional<std::string>& origin) {
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  std::vector<Alert> out;
  for (const auto& a : impl_->book.alerts()) {
    if (!origin.has_value() || a.origin == *origin) out.push_back(a);
  }
  return out;
}

Result<std::optional<ledger::Hash>> Supervision::HeldLeaf(const std::string& origin,
                                                          std::uint64_t seq) {
  WG_ASSIGN_OR_RETURN(auto guard, impl_->Begin());
  WG_ASSIGN_OR_RETURN(internal::EnterpriseState * e, impl_->Find(origin));
  if (seq >= e->leaves_held) return std::optional<ledger::Hash>();
  WG_ASSIGN_OR_RETURN(auto hashes, impl_->storage->ReadLeaves(e->id, seq, 1));
  if (hashes.size() != 1) return Status::Corruption("leaf hash could not be read back");
  return std::optional<ledger::Hash>(hashes[0]);
}

}  // namespace wg::regulator

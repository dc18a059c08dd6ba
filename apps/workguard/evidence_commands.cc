#include "evidence_commands.h"

#include "cli_common.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pwd.h>

#include "wg/core/clock.h"
#include "wg/core/file.h"
#include "wg/core/json.h"
#include "wg/core/strings.h"
#include "wg/evidence/bundle.h"
#include "wg/server/installation.h"

namespace wg::cli {
namespace {

using core::Result;
using core::Status;


Result<std::unique_ptr<server::Installation>> Open(const std::string& data, bool read_only,
                                                   const core::Clock& clock) {
  if (::access((data + "/workguard.db").c_str(), F_OK) != 0) {
    return Status::NotFound(data + " is not a workguard data directory (no workguard.db)", "data");
  }
  return server::Installation::Open(
      {.data_dir = data, .load_index = false, .read_only_evidence = read_only}, clock);
}

void Progress(const std::string& org, std::uint64_t done, std::uint64_t total) {
  if (!isatty(STDERR_FILENO) || total == 0) return;
  int pct = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
  int filled = pct / 5;
  std::fprintf(stderr, "\r%s [%-20.*s] %3d%%  %llu/%llu facts", org.c_str(), filled,
               "####################", pct, static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total));
  if (done >= total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

int LedgerVerify(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, /*read_only=*/true, clock);
  if (!inst) return Fail(inst.error());
  std::vector<domain::Organization> orgs;
  if (!a.org.empty()) {
    auto o = (*inst)->OrgByCode(a.org);
    if (!o) return Fail(o.error());
    orgs.push_back(*o);
  } else {
    auto all = (*inst)->store().ListOrganizations();
    if (!all) return Fail(all.error());
    orgs = *all;
  }
  int exit_code = kExitOk;
  core::Json report = core::Json::array();
  for (const auto& o : orgs) {
    auto r = (*inst)->evidence().Verify(
        o.id, [&](std::uint64_t d, std::uint64_t t) { Progress(o.code, d, t); });
    // The projection (certificate rows) against the latest fact of each certificate.
    if (r.has_value() || r.error().code() == core::StatusCode::kNotFound) {
      auto projection = (*inst)->registry().VerifyProjection(o.id);
      if (!projection.has_value()) {
        r = projection.error();
      } else if (r.has_value()) {
        r->projection_certificates = projection->certificates;
        r->projection_unrecorded = projection->unrecorded;
      }
    }
    core::Json j = {{"org", o.code}};
    if (r.has_value()) {
      j["status"] = "intact";
      j["log_size"] = r->log_size;
      j["outbox_size"] = r->outbox_size;
      j["pending"] = static_cast<std::uint64_t>(r->outbox_size) - r->log_size;
      j["checkpoints"] = r->checkpoints;
      j["root"] = core::ToHex(r->root);
      j["certificates_checked"] = r->projection_certificates;
      j["certificates_without_facts"] = r->projection_unrecorded;
    } else if (r.error().code() == core::StatusCode::kNotFound) {
      auto pending = (*inst)->store().FactCount(o.id);
      j["status"] = "no log yet";
      j["pending"] = pending.value_or(0);
    } else if (r.error().code() == core::StatusCode::kCorruption) {
      j["status"] = "tampered";
      j["error"] = r.error().message();
      exit_code = kExitNegative;
      std::cerr << "workguard: " << o.code << ": TAMPERED: " << r.error().message() << "\n";
    } else {
      j["status"] = "error";
      j["error"] = r.error().ToString();
      if (exit_code == kExitOk) exit_code = kExitError;
    }
    report.push_back(std::move(j));
  }
  std::cout << core::DumpJson(report, 2) << "\n";
  return exit_code;
}

Result<core::OrgId> OrgId(server::Installation& inst, const std::string& code) {
  if (code.empty()) return Status::InvalidArgument("is required", "org");
  WG_ASSIGN_OR_RETURN(domain::Organization o, inst.OrgByCode(code));
  return o.id;
}

int LedgerProof(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  auto org = OrgId(**inst, a.org);
  if (!org) return Fail(org.error());
  std::optional<std::uint64_t> size;
  if (a.size > 0) size = a.size;
  auto p = (*inst)->evidence().Prove(*org, a.seq, size);
  if (!p) return Fail(p.error());
  core::Json proof = core::Json::array();
  for (const auto& h : p->proof) proof.push_back(core::ToHex(h));
  std::cout << core::DumpJson({{"fact", evidence::FactToJson(p->fact)},
                               {"entry", core::Base64UrlEncode(p->entry)},
                               {"tree_size", p->tree_size},
                               {"proof", proof},
                               {"checkpoint", p->checkpoint}},
                              2)
            << "\n";
  return kExitOk;
}

int LedgerCheckpoint(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  auto org = OrgId(**inst, a.org);
  if (!org) return Fail(org.error());
  auto note = (*inst)->evidence().Checkpoint(*org);
  if (!note) return Fail(note.error());
  std::cout << *note;
  return kExitOk;
}

int LedgerRotate(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  auto org = OrgId(**inst, a.org);
  if (!org) return Fail(org.error());
  auto key = (*inst)->evidence().RotateKey(*org, CliActor());
  if (!key) return Fail(key.error());
  std::cout << core::DumpJson({{"org", key->org}, {"version", key->version},
                               {"key_name", key->key_name}, {"verifier_key", key->vkey}},
                              2)
            << "\n";
  return kExitOk;
}

// The organization's origin and current verifier key: what a regulator enrolls and what
// `evidence verify --key` pins.
int LedgerKey(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  auto org = OrgId(**inst, a.org);
  if (!org) return Fail(org.error());
  auto key = (*inst)->evidence().EnsureKey(*org, CliActor());
  if (!key) return Fail(key.error());
  auto all = (*inst)->keys().All(a.org);
  if (!all) return Fail(all.error());
  core::Json history = core::Json::array();
  for (const auto& k : *all) history.push_back(k.vkey);
  std::cout << core::DumpJson({{"origin", (*inst)->evidence().Origin(a.org)},
                               {"hash", ledger::HashAlgName((*inst)->evidence().alg())},
                               {"verifier_key", key->vkey},
                               {"all_verifier_keys", history}},
                              2)
            << "\n";
  return kExitOk;
}

int LedgerSync(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  Status s = (*inst)->evidence().SyncAll();
  if (!s.ok()) return Fail(s);
  std::cout << "evidence logs in agreement with the store\n";
  return kExitOk;
}

int EvidenceExport(const EvidenceArgs& a, const core::Clock& clock) {
  if (a.subject.empty() == a.cert_number.empty()) {
    return Fail(Status::InvalidArgument("give exactly one of --subject or --cert-number", "subject"));
  }
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  auto org = OrgId(**inst, a.org);
  if (!org) return Fail(org.error());
  std::string subject = a.subject;
  if (!a.cert_number.empty()) {
    auto kind = domain::ParseCertKind(a.cert_kind, "cert-kind");
    if (!kind) return Fail(kind.error());
    subject = evidence::CertificateSubject(domain::CertKindName(*kind), a.cert_number);
  }
  auto bundle = evidence::ExportSubject((*inst)->evidence(), *org, subject);
  if (!bundle) return Fail(bundle.error());
  std::string text = core::DumpJson(evidence::BundleToJson(*bundle), 2) + "\n";
  if (a.out.empty() || a.out == "-") {
    std::cout << text;
  } else {
    if (Status s = core::WriteFileAtomic(a.out, text, 0644); !s.ok()) return Fail(s);
    std::cerr << "wrote " << a.out << ": " << bundle->items.size() << " facts about " << subject
              << "\n";
  }
  return kExitOk;
}

int EvidenceVerify(const EvidenceArgs& a) {
  auto text = core::ReadFile(a.bundle, 256u << 20);
  if (!text) return Fail(text.error());
  auto bundle = evidence::ParseBundle(*text);
  if (!bundle) return Fail(bundle.error());
  std::optional<std::string> trusted;
  if (!a.trusted_key.empty()) trusted = a.trusted_key;
  auto rep = evidence::VerifyBundle(*bundle, trusted);
  if (!rep) {
    if (rep.error().code() == core::StatusCode::kCorruption) {
      std::cerr << "workguard: bundle does NOT verify: " << rep.error().message() << "\n";
      return kExitNegative;
    }
    return Fail(rep.error());
  }
  core::Json facts = core::Json::array();
  for (const auto& f : rep->facts) facts.push_back(evidence::FactToJson(f));
  std::cout << core::DumpJson({{"verified", true},
                               {"origin", rep->origin},
                               {"subject", rep->subject},
                               {"tree_size", rep->tree_size},
                               {"signed_by", rep->signed_by},
                               {"key_pinned", trusted.has_value()},
                               {"facts", facts}},
                              2)
            << "\n";
  if (!trusted.has_value()) {
    std::cerr << "note: the checkpoint was checked against the key shipped in the bundle; pin "
                 "the organization's published key with --key to rule out a forged bundle\n";
  }
  return kExitOk;
}

core::Json ObjectJson(const vault::ObjectInfo& o) { return vault::ToJson(o); }

int VaultPut(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  auto org = OrgId(**inst, a.org);
  if (!org) return Fail(org.error());
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return Fail(Status::NotFound("cannot open " + a.file, "file"));
  std::string name = a.name;
  if (name.empty()) name = std::filesystem::path(a.file).filename().string();
  auto info = (*inst)->StoreAttachment(
      *org, {.org = a.org, .media_type = a.media_type, .file_name = name,
             .retention_class = a.retention_class},
      in, CliActor());
  if (!info) return Fail(info.error());
  std::cout << core::DumpJson(ObjectJson(*info), 2) << "\n";
  return kExitOk;
}

int VaultGet(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, true, clock);
  if (!inst) return Fail(inst.error());
  if (a.out.empty()) return Fail(Status::InvalidArgument("is required", "out"));
  const std::string tmp = a.out + ".part";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Fail(Status::IoError("cannot write " + tmp));
    Status s = (*inst)->vault().Get(a.org, a.id, out);
    out.close();
    if (!s.ok()) {
      std::filesystem::remove(tmp);
      return Fail(s);
    }
  }
  std::filesystem::rename(tmp, a.out);
  return kExitOk;
}

int VaultList(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, true, clock);
  if (!inst) return Fail(inst.error());
  auto list = (*inst)->vault().List(a.org);
  if (!list) return Fail(list.error());
  core::Json arr = core::Json::array();
  for (const auto& o : *list) arr.push_back(ObjectJson(o));
  std::cout << core::DumpJson(arr, 2) << "\n";
  return kExitOk;
}

int VaultExpire(const EvidenceArgs& a, const core::Clock& clock) {
  auto inst = Open(a.data, false, clock);
  if (!inst) return Fail(inst.error());
  auto gone = (*inst)->ExpireAttachments(CliActor());
  if (!gone) return Fail(gone.error());
  core::Json arr = core::Json::array();
  for (const auto& o : *gone) arr.push_back(ObjectJson(o));
  std::cout << core::DumpJson(arr, 2) << "\n";
  return kExitOk;
}

}  // namespace

void AddVaultCommands(CLI::App& app, EvidenceArgs& a);

void AddEvidenceCommands(CLI::App& app, EvidenceArgs& a) {
  auto* ledger = app.add_subcommand("ledger", "The evidence log: verify, proofs, checkpoints, keys");
  ledger->require_subcommand(1);
  a.verify = ledger->add_subcommand(
      "verify", "Recompute every log; exit 0 intact, 1 tampered (first bad index named), 2 bad input");
  a.verify->add_option("--data", a.data, "Data directory")->required();
  a.verify->add_option("--org", a.org, "Only this organization");
  a.proof = ledger->add_subcommand("proof", "A fact with its inclusion proof against a checkpoint");
  a.proof->add_option("--data", a.data, "Data directory")->required();
  a.proof->add_option("--org", a.org, "Organization code")->required();
  a.proof->add_option("--seq", a.seq, "Fact sequence number (0-based)")->required();
  a.proof->add_option("--size", a.size, "Tree size of a stored checkpoint (default: latest)");
  a.checkpoint = ledger->add_subcommand("checkpoint", "Sign and print a checkpoint of the log");
  a.checkpoint->add_option("--data", a.data, "Data directory")->required();
  a.checkpoint->add_option("--org", a.org, "Organization code")->required();
  a.rotate = ledger->add_subcommand("rotate-key", "Create the organization's next SM2 signing key");
  a.rotate->add_option("--data", a.data, "Data directory")->required();
  a.rotate->add_option("--org", a.org, "Organization code")->required();
  a.key = ledger->add_subcommand("key", "Print the organization's origin and verifier keys");
  a.key->add_option("--data", a.data, "Data directory")->required();
  a.key->add_option("--org", a.org, "Organization code")->required();
  a.sync = ledger->add_subcommand("sync", "Append queued facts of every organization to its log");
  a.sync->add_option("--data", a.data, "Data directory")->required();

  auto* ev = app.add_subcommand("evidence", "Evidence bundles: export one subject, verify offline");
  ev->require_subcommand(1);
  a.export_cmd = ev->add_subcommand("export", "Everything about one subject as a self-contained bundle");
  a.export_cmd->add_option("--data", a.data, "Data directory")->required();
  a.export_cmd->add_option("--org", a.org, "Organization code")->required();
  auto* subj = a.export_cmd->add_option("--subject", a.subject, "Fact subject, e.g. worker:W001");
  auto* num = a.export_cmd->add_option("--cert-number", a.cert_number, "Certificate number");
  subj->excludes(num);
  a.export_cmd->add_option("--cert-kind", a.cert_kind, "special_operation|special_equipment")
      ->capture_default_str();
  a.export_cmd->add_option("--out", a.out, "Output file (default: stdout)");
  a.verify_bundle = ev->add_subcommand(
      "verify", "Check a bundle offline; exit 0 verified, 1 does not verify, 2 bad input");
  a.verify_bundle->add_option("bundle", a.bundle, "Bundle file")->required();
  a.verify_bundle->add_option("--key", a.trusted_key,
                              "Pin the organization's verifier key (vkey text)");
  AddVaultCommands(app, a);
}

void AddVaultCommands(CLI::App& app, EvidenceArgs& a) {
  auto* v = app.add_subcommand("vault", "SM4-encrypted attachments with retention classes");
  v->require_subcommand(1);
  a.vault_put = v->add_subcommand("put", "Encrypt and store a file; records a vault.stored fact");
  a.vault_put->add_option("file", a.file, "File to store")->required();
  a.vault_put->add_option("--data", a.data, "Data directory")->required();
  a.vault_put->add_option("--org", a.org, "Organization code")->required();
  a.vault_put->add_option("--class", a.retention_class,
                          "Retention class (rules/retention.json), e.g. photo, process_video")
      ->required();
  a.vault_put->add_option("--media-type", a.media_type, "e.g. image/jpeg, video/mp4")->required();
  a.vault_put->add_option("--name", a.name, "Original file name (default: the file's)");
  a.vault_get = v->add_subcommand("get", "Decrypt an attachment after checking its tag and digest");
  a.vault_get->add_option("--data", a.data, "Data directory")->required();
  a.vault_get->add_option("--org", a.org, "Organization code")->required();
  a.vault_get->add_option("--id", a.id, "Object id")->required();
  a.vault_get->add_option("--out", a.out, "Output file")->required();
  a.vault_list = v->add_subcommand("list", "Attachments of an organization, destroyed ones included");
  a.vault_list->add_option("--data", a.data, "Data directory")->required();
  a.vault_list->add_option("--org", a.org, "Organization code")->required();
  a.vault_expire = v->add_subcommand(
      "expire", "Destroy attachments whose retention ended; records vault.destroyed facts");
  a.vault_expire->add_option("--data", a.data, "Data directory")->required();
}

std::optional<int> RunEvidenceCommands(const EvidenceArgs& a) {
  core::SystemClock clock;
  if (*a.verify) return LedgerVerify(a, clock);
  if (*a.proof) return LedgerProof(a, clock);
  if (*a.checkpoint) return LedgerCheckpoint(a, clock);
  if (*a.rotate) return LedgerRotate(a, clock);
  if (*a.sync) return LedgerSync(a, clock);
  if (*a.key) return LedgerKey(a, clock);
  if (*a.export_cmd) return EvidenceExport(a, clock);
  if (*a.verify_bundle) return EvidenceVerify(a);
  if (*a.vault_put) return VaultPut(a, clock);
  if (*a.vault_get) return VaultGet(a, clock);
  if (*a.vault_list) return VaultList(a, clock);
  if (*a.vault_expire) return VaultExpire(a, clock);
  return std::nullopt;
}

}  // namespace wg::cli

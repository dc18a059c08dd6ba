#pragma once
// Installation: everything that lives in one data directory, opened together.
//
//   DATA/workguard.db         SQLite store (WAL)
//   DATA/rules/*.json         rulebook, editable; defaults installed on first start
//   DATA/keys/id-digest.key   32 random bytes keying national-ID digests (mode 0600)
//   DATA/keys/master.key      32 random bytes sealing the organizations' SM2 keys (0600)
//   DATA/keys/org/<code>/     each organization's SM2 signing keys (wg/evidence/keyring.h)
//   DATA/ledger/<code>/       each organization's evidence log (wg/evidence/evidence.h)
//   DATA/keys/vault-master.key 32 random bytes wrapping the vault's per-object keys (0600)
//   DATA/vault/               SM4-encrypted attachments (docs/formats/vault.md)
//   DATA/rules/retention.json retention classes of attachments
//   DATA/rules/permits/*.json the GB 30871-2022 permit rulebook (wg/permit/rulebook.h)
//   DATA/rules/monitor/*.json the live-monitoring rulebook (wg/monitor/rulebook.h)
//   DATA/rules/presence/rules.json the people-on-site rulebook (wg/presence/rulebook.h)
//   DATA/rules/predict/rules.json  the predicted-alarm rule of early warning
//                                  (docs/formats/predict-rules.md)
//   DATA/tmp/                 spooled uploads
//
// See docs/formats/data-directory.md. Opening creates what is missing; it never
// overwrites an existing key or rule file. Losing id-digest.key makes stored ID digests
// unverifiable, so it is created once and must be backed up with the database.

#include <memory>
#include <optional>
#include <string>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/evidence/attachments.h"
#include "wg/evidence/evidence.h"
#include "wg/evidence/keyring.h"
#include "wg/live/presence_service.h"
#include "wg/live/service.h"
#include "wg/monitor/rulebook.h"
#include "wg/permit/rulebook.h"
#include "wg/permit/service.h"
#include "wg/predict/model_file.h"
#include "wg/presence/rulebook.h"
#include "wg/registry/registry.h"
#include "wg/vault/vault.h"
#include "wg/registry/rulebook.h"
#include "wg/store/store.h"

namespace wg::server {

struct InstallationOptions {
  std::string data_dir;
  std::string rules_dir;  // empty: DATA/rules
  bool load_index = true;
  bool read_only_evidence = false;  // verification tools: never append to the logs
  // Append every committed-but-unlogged fact of every organization at open (crash
  // recovery). The serving process does; CLI commands sync only the organization they
  // write to, so a read-only command never opens (and scans) a log.
  bool sync_evidence = false;
  // Start live monitoring's threads (engine, persister, stop-work, notifier) and people on
  // site's (presence engine, trajectory sealer) at open: only the serving process does.
  // Other processes still get monitor() and presence() for reads and for the permits'
  // hooks (resume guard, approver position, completion guard).
  bool start_monitor = false;
  // Early warning's model, loaded only with start_monitor: "" = the default shipped model
  // (data/models/early-warning.json embedded at build time; the built-in "kalman" when the
  // build had none), "off" = no prediction, otherwise a built-in name ("static",
  // "linear", "holt", "kalman") or a model file path (predict::ResolveModel). A model that
  // does not load fails the open (no silent fallback).
  std::string model;
  live::MonitorOptions monitor;    // start_threads is set from start_monitor; predict_rule
                                   // from DATA/rules/predict/rules.json
  live::PresenceOptions presence;  // start_threads is set from start_monitor
};

class Installation {
 public:
  static core::Result<std::unique_ptr<Installation>> Open(const InstallationOptions& options,
                                                          const core::Clock& clock);
  ~Installation();  // stops people on site, then live monitoring
  Installation(const Installation&) = delete;
  Installation& operator=(const Installation&) = delete;

  store::Store& store() { return *store_; }
  registry::Registry& registry() { return *registry_; }
  evidence::Evidence& evidence() { return *evidence_; }
  evidence::KeyRing& keys() { return *keys_; }
  const registry::Rulebook& rulebook() const { return *rulebook_; }
  // Electronic work permits (wg/permit): the GB 30871-2022 rulebook from
  // DATA/rules/permits/ and the lifecycle service.
  permit::PermitService& permits() { return *permits_; }
  const permit::PermitRulebook& permit_rulebook() const { return *permit_rulebook_; }
  // Live monitoring (wg/live): the rulebook from DATA/rules/monitor/ and the service over
  // this installation's store, evidence logs and permits (installed as their resume
  // guard). Its threads run only when opened with start_monitor (or after Start()).
  live::MonitorService& monitor() { return *monitor_; }
  const monitor::MonitorRulebook& monitor_rulebook() const { return *monitor_rulebook_; }
  // People on site (wg/live/presence_service.h): the rulebook from
  // DATA/rules/presence/rules.json and the service, raising its alarms through monitor().
  // It is installed into permits() as their position source (approver on site) and
  // completion guard (nobody left inside a confined space). Its thread runs only when
  // opened with start_monitor (or after Start()).
  live::PresenceService& presence() { return *presence_; }
  const presence::PresenceRulebook& presence_rulebook() const { return *presence_rulebook_; }
  // The early-warning model in use (set when opened with start_monitor and a model).
  const std::optional<predict::ModelInfo>& model() const { return model_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string tmp_dir() const { return data_dir_ + "/tmp"; }

  // Administrative writes with their facts ("org.created" + the organization's first SM2
  // key as "key.created", "site.created", "user.created"), synced into the evidence log.
  // With an early-warning model loaded, a new organization's log also gets "model.loaded".
  core::Result<domain::Organization> CreateOrganization(const store::NewOrganization& org,
                                                        const std::string& actor);
  core::Result<domain::Site> CreateSite(core::OrgId org, const store::NewSite& site,
                                        const std::string& actor);
  core::Result<domain::User> CreateUser(const domain::User& user, const std::string& actor);

  // Attachments (photos, video, audio, lab reports) go to the SM4 vault; each stored or
  // destroyed object is a fact ("vault.stored" / "vault.destroyed", subject
  // "attachment:<id>") holding its plaintext and ciphertext SM3 digests, so the log still
  // proves what existed after retention destroyed the key and the ciphertext.
  core::Result<vault::ObjectInfo> StoreAttachment(core::OrgId org, const vault::NewObject& obj,
                                                  std::istream& content, const std::string& actor);
  // Destroys every attachment whose retention ended (vault::Vault::DestroyExpired) and
  // records each destruction; returns the destroyed objects.
  core::Result<std::vector<vault::ObjectInfo>> ExpireAttachments(const std::string& actor);
  vault::Vault& vault() { return *vault_; }
  evidence::Attachments& attachments() { return *attachments_; }
  // Start-up recovery of the serving process (the only one that may run it): removes
  // what interrupted vault operations left and records missing vault facts.
  core::Status RecoverVault();

  // Resolves an organization by code; kNotFound names the field "org".
  core::Result<domain::Organization> OrgByCode(const std::string& code);

 private:
  Installation() = default;
  // Loads the model named by `name` (InstallationOptions::model), sets it on the monitor
  // and records "model.loaded" in every organization's log.
  core::Status LoadModel(const std::string& name, bool record);
  // Appends the "model.loaded" fact of the current model to `org`'s log.
  core::Status RecordModel(core::OrgId org);
  std::string data_dir_;
  std::optional<predict::ModelInfo> model_;
  std::string model_source_;  // "embedded", "built-in" or the file path
  bool record_model_ = false;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<registry::Rulebook> rulebook_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<vault::Vault> vault_;
  std::unique_ptr<evidence::Attachments> attachments_;
  std::unique_ptr<permit::PermitRulebook> permit_rulebook_;
  std::unique_ptr<permit::PermitService> permits_;
  std::unique_ptr<monitor::MonitorRulebook> monitor_rulebook_;
  std::unique_ptr<presence::PresenceRulebook> presence_rulebook_;
  // Last: destroyed (stopped) first, before the permits, evidence and store they use;
  // presence before the monitor it raises alarms through.
  std::unique_ptr<live::MonitorService> monitor_;
  std::unique_ptr<live::PresenceService> presence_;
  const core::Clock* clock_ = nullptr;
};

// Writes the embedded monitor rulebook files into `dir` where missing (never overwrites).
core::Status InstallMonitorRules(const std::string& dir);
// Writes the embedded presence rulebook (rules.json) into `dir` where missing.
core::Status InstallPresenceRules(const std::string& dir);
// Writes the embedded predicted-alarm rules (rules.json) into `dir` where missing.
core::Status InstallPredictRules(const std::string& dir);

// Reads DATA/keys/NAME, creating it with 32 random bytes (mode 0600) when absent.
core::Result<std::string> LoadOrCreateKey(const std::string& data_dir, const std::string& name);

// Fills an empty installation with the demo organization (示范石化), its sites, users,
// workers and certificates dated relative to `clock`'s today, so some certificates are
// valid, some expiring, some due for review, one overdue, one expired and one revoked.
// Returns the printed summary (user names and passwords for the demo).
core::Result<std::string> SeedDemo(Installation& inst, const core::Clock& clock);

}  // namespace wg::server

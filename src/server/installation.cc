#include "wg/server/installation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "wg/core/strings.h"
#include "wg/evidence/fact.h"
#include "wg/crypto/crypto.h"

namespace wg::server {

namespace fs = std::filesystem;
using core::Result;
using core::Status;

Result<std::string> LoadOrCreateKey(const std::string& data_dir, const std::string& name) {
  fs::path dir = fs::path(data_dir) / "keys";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  fs::path p = dir / name;
  if (!fs::exists(p)) {
    WG_ASSIGN_OR_RETURN(std::string key, crypto::RandomBytes(32));
    // O_EXCL: two processes starting at once never both write a key.
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      ssize_t n = ::write(fd, key.data(), key.size());
      bool ok = n == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) return Status::IoError("cannot write " + p.string());
    } else if (errno != EEXIST) {
      return Status::IoError("cannot create " + p.string());
    }
  }
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  if (key.size() != 32) {
    return Status::Corruption(p.string() + " holds " + std::to_string(key.size()) +
                              " bytes; expected 32");
  }
  return key;
}

Result<std::unique_ptr<Installation>> Installation::Open(const InstallationOptions& options,
                                                         const core::Clock& clock) {
  if (options.data_dir.empty()) return Status::InvalidArgument("is required", "data");
  std::unique_ptr<Installation> inst(new Installation());
  inst->data_dir_ = options.data_dir;
  std::error_code ec;
  fs::create_directories(fs::path(options.data_dir) / "tmp", ec);
  if (ec) return Status::IoError("cannot create " + options.data_dir + ": " + ec.message());

  std::string rules_dir =
      options.rules_dir.empty() ? options.data_dir + "/rules" : options.rules_dir;
  if (options.rules_dir.empty()) WG_RETURN_IF_ERROR(registry::Rulebook::InstallDefaults(rules_dir));
  WG_ASSIGN_OR_RETURN(registry::Rulebook book, registry::Rulebook::LoadDirectory(rules_dir));
  inst->rulebook_ = std::make_unique<registry::Rulebook>(std::move(book));

  WG_ASSIGN_OR_RETURN(inst->store_,
                      store::OpenSqliteStore({.path = options.data_dir + "/workguard.db"}));
  WG_ASSIGN_OR_RETURN(std::string id_key, LoadOrCreateKey(options.data_dir, "id-digest.key"));
  // The installation's origin prefix names its evidence logs in checkpoints
  // ("<prefix>/<org code>"); chosen once, kept in settings.
  WG_ASSIGN_OR_RETURN(auto origin, inst->store_->GetSetting("ledger.origin_prefix"));
  if (!origin.has_value()) {
    WG_ASSIGN_OR_RETURN(std::string rnd, crypto::RandomHex(4));
    origin = "workguard.local/" + rnd;
    WG_RETURN_IF_ERROR(inst->store_->PutSetting("ledger.origin_prefix", *origin));
  }
  WG_ASSIGN_OR_RETURN(inst->keys_,
                      evidence::KeyRing::Open(options.data_dir + "/keys", *origin));
  WG_ASSIGN_OR_RETURN(inst->evidence_,
                      evidence::Evidence::Open({.ledger_dir = options.data_dir + "/ledger",
                                                .read_only = options.read_only_evidence},
                                               *inst->store_, *inst->keys_, clock));
  if (options.sync_evidence && !options.read_only_evidence) {
    // Crash recovery: facts committed to the store but not yet logged are appended now,
    // so the projection and the log agree before anything else runs.
    Status synced = inst->evidence_->SyncAll();
    if (!synced.ok() && synced.code() != core::StatusCode::kUnavailable) return synced;
  }
  inst->registry_ = std::make_unique<registry::Registry>(
      *inst->store_, clock, *inst->rulebook_, registry::IdDigester(id_key), *inst->evidence_);
  // The vault and its retention classes (installed editable, validated against the
  // regulatory minimums of the embedded copy).
  const std::string retention_path = rules_dir + "/retention.json";
  if (options.rules_dir.empty()) WG_RETURN_IF_ERROR(vault::RetentionBook::InstallDefault(retention_path));
  WG_ASSIGN_OR_RETURN(vault::RetentionBook retention,
                      fs::exists(retention_path) ? vault::RetentionBook::LoadFile(retention_path)
                                                 : vault::RetentionBook::LoadEmbedded());
  WG_ASSIGN_OR_RETURN(std::string vault_key, LoadOrCreateKey(options.data_dir, "vault-master.key"));
  WG_ASSIGN_OR_RETURN(inst->vault_, vault::Vault::Open(options.data_dir + "/vault", clock, vault_key,
                                                       std::move(retention)));
  inst->clock_ = &clock;
  inst->attachments_ = std::make_unique<evidence::Attachments>(*inst->store_, *inst->evidence_,
                                                               *inst->vault_, clock);
  // Permits: the GB 30871-2022 rulebook (installed editable under rules/permits/) and the
  // service; users' signing keys are sealed under the same master key as the orgs' keys.
  const std::string permit_rules = rules_dir + "/permits";
  if (options.rules_dir.empty()) {
    WG_RETURN_IF_ERROR(permit::PermitRulebook::InstallDefaults(permit_rules));
  }
  WG_ASSIGN_OR_RETURN(permit::PermitRulebook permit_book,
                      fs::exists(permit_rules) ? permit::PermitRulebook::LoadDirectory(permit_rules)
                                               : permit::PermitRulebook::LoadEmbedded());
  inst->permit_rulebook_ = std::make_unique<permit::PermitRulebook>(std::move(permit_book));
  WG_ASSIGN_OR_RETURN(std::string master, LoadOrCreateKey(options.data_dir, "master.key"));
  inst->permits_ = std::make_unique<permit::PermitService>(
      *inst->store_, *inst->registry_, *inst->evidence_, *inst->permit_rulebook_, clock,
      std::move(master));
  if (options.load_index) {
    WG_RETURN_IF_ERROR(inst->registry_->LoadIndex());
    WG_RETURN_IF_ERROR(inst->permits_->LoadIndex());
  }
  // Live monitoring: the rulebook (installed editable under rules/monitor/) and the
  // service; it installs itself as the permits' resume guard.
  const std::string monitor_rules = rules_dir + "/monitor";
  if (options.rules_dir.empty()) WG_RETURN_IF_ERROR(InstallMonitorRules(monitor_rules));
  if (fs::exists(monitor_rules)) {
    auto mbook = monitor::MonitorRulebook::LoadDir(monitor_rules);
    if (!mbook.ok()) return mbook.error().WithContext(monitor_rules);
    inst->monitor_rulebook_ = std::move(*mbook);
  } else {
    WG_ASSIGN_OR_RETURN(inst->monitor_rulebook_, monitor::MonitorRulebook::LoadEmbedded());
  }
  live::MonitorOptions mo = options.monitor;
  mo.start_threads = options.start_monitor;
  inst->monitor_ = std::make_unique<live::MonitorService>(*inst->store_, *inst->evidence_,
                                                          *inst->monitor_rulebook_, clock,
                                                          inst->permits_.get(), std::move(mo));
  // People on site: the rulebook (installed editable as rules/presence/rules.json) and the
  // service, raising its alarms through the monitor; it answers the permits' approver
  // position and completion questions.
  const std::string presence_rules = rules_dir + "/presence";
  if (options.rules_dir.empty()) WG_RETURN_IF_ERROR(InstallPresenceRules(presence_rules));
  const std::string presence_file = presence_rules + "/rules.json";
  if (fs::exists(presence_file)) {
    auto pbook = presence::PresenceRulebook::LoadFile(presence_file);
    if (!pbook.ok()) return pbook.error().WithContext(presence_file);
    inst->presence_rulebook_ = std::move(*pbook);
  } else {
    WG_ASSIGN_OR_RETURN(inst->presence_rulebook_, presence::PresenceRulebook::LoadEmbedded());
  }
  live::PresenceOptions po = options.presence;
  po.start_threads = options.start_monitor;
  inst->presence_ = std::make_unique<live::PresenceService>(
      *inst->store_, *inst->evidence_, *inst->presence_rulebook_, clock, inst->permits_.get(),
      inst->monitor_.get(), std::move(po));
  live::PresenceService* presence = inst->presence_.get();
  inst->permits_->SetPositionSource(
      [presence](core::OrgId org, const std::string& site, const std::string& username) {
        return presence->UserPosition(org, site, username);
      });
  inst->permits_->SetCompleteGuard([presence](core::OrgId org, const permit::Permit& p) {
    return presence->CompletionBlocker(org, p);
  });
  // Resumption waits for the monitor (alarms, gas re-test) and for a guardian on site.
  live::MonitorService* monitor = inst->monitor_.get();
  inst->permits_->SetResumeGuard([monitor, presence](core::OrgId org, const permit::Permit& p) {
    if (auto why = monitor->ResumeBlocker(org, p)) return why;
    return presence->ResumeBlocker(org, p);
  });
  if (options.start_monitor) {
    WG_RETURN_IF_ERROR(inst->monitor_->Start());
    WG_RETURN_IF_ERROR(inst->presence_->Start());
  }
  return inst;
}

Installation::~Installation() {
  // People on site first: its thread raises alarms through the monitor and reads the
  // permits; then the monitor. Both are idempotent.
  if (presence_) presence_->Stop();
  if (monitor_) monitor_->Stop();
}

namespace {

// Writes each (name, text) into `dir` where missing, atomically (never overwrites).
Status InstallFiles(const std::string& dir,
                    const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  for (const auto& [name, text] : files) {
    fs::path p = fs::path(dir) / name;
    if (fs::exists(p, ec)) continue;
    const std::string tmp = p.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      if (!out) return Status::IoError("cannot write " + tmp);
    }
    fs::rename(tmp, p, ec);
    if (ec) return Status::IoError("cannot rename " + tmp + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

Status InstallMonitorRules(const std::string& dir) {
  return InstallFiles(dir, monitor::MonitorRulebook::EmbeddedFiles());
}

Status InstallPresenceRules(const std::string& dir) {
  return InstallFiles(dir, presence::PresenceRulebook::EmbeddedFiles());
}


Result<domain::Organization> Installation::CreateOrganization(const store::NewOrganization& org,
                                                              const std::string& actor) {
  WG_ASSIGN_OR_RETURN(store::FactDraft fact, evidence::OrgCreatedFact(org, actor));
  WG_ASSIGN_OR_RETURN(domain::Organization created, store_->CreateOrganization(org, {fact}));
  WG_RETURN_IF_ERROR(evidence_->EnsureKey(created.id, actor).status());
  WG_RETURN_IF_ERROR(evidence_->SyncAfterWrite(created.id));
  return created;
}

Result<domain::Site> Installation::CreateSite(core::OrgId org, const store::NewSite& site,
                                              const std::string& actor) {
  WG_ASSIGN_OR_RETURN(store::FactDraft fact, evidence::SiteCreatedFact(site, actor));
  WG_ASSIGN_OR_RETURN(domain::Site created, store_->CreateSite(org, site, {fact}));
  WG_RETURN_IF_ERROR(evidence_->SyncAfterWrite(org));
  return created;
}

Result<domain::User> Installation::CreateUser(const domain::User& user, const std::string& actor) {
  WG_ASSIGN_OR_RETURN(store::FactDraft fact, evidence::UserCreatedFact(user, actor));
  WG_ASSIGN_OR_RETURN(domain::User created, store_->CreateUser(user, {fact}));
  WG_RETURN_IF_ERROR(evidence_->SyncAfterWrite(user.org_id));
  return created;
}

Result<vault::ObjectInfo> Installation::StoreAttachment(core::OrgId org, const vault::NewObject& obj,
                                                        std::istream& content,
                                                        const std::string& actor) {
  return attachments_->Store(org, obj, content, actor);
}

Result<std::vector<vault::ObjectInfo>> Installation::ExpireAttachments(const std::string& actor) {
  return attachments_->Expire(actor);
}

Status Installation::RecoverVault() { return attachments_->Recover(); }

Result<domain::Organization> Installation::OrgByCode(const std::string& code) {
  auto org = store_->FindOrganizationByCode(code);
  if (!org && org.error().code() == core::StatusCode::kNotFound) {
    return Status::NotFound("no organization with code '" + code + "'", "org");
  }
  return org;
}

}  // namespace wg::server

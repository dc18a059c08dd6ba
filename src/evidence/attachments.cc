#include "wg/evidence/attachments.h"

#include <spdlog/spdlog.h>

#include "wg/core/time.h"
#include "wg/evidence/fact.h"

namespace wg::evidence {

using core::Result;
using core::Status;

namespace {

Result<store::FactDraft> VaultFact(std::string_view kind, const vault::ObjectInfo& o,
                                   const std::string& actor) {
  WG_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(vault::ToJson(o)));
  return store::FactDraft{.kind = std::string(kind), .actor = actor,
                          .subject = "attachment:" + o.id, .site = "", .payload = std::move(payload)};
}

}  // namespace

Result<vault::ObjectInfo> Attachments::Store(core::OrgId org, const vault::NewObject& obj,
                                             std::istream& content, const std::string& actor) {
  WG_ASSIGN_OR_RETURN(domain::Organization o, store_.GetOrganization(org));
  if (obj.org != o.code) {
    return Status::InvalidArgument("object belongs to " + obj.org + ", not " + o.code, "org");
  }
  WG_ASSIGN_OR_RETURN(vault::ObjectInfo info, vault_.Put(obj, content));
  WG_ASSIGN_OR_RETURN(store::FactDraft fact, VaultFact("vault.stored", info, actor));
  WG_RETURN_IF_ERROR(store_.AppendFacts(org, {fact}));
  WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(org));
  return info;
}

Result<std::vector<vault::ObjectInfo>> Attachments::Expire(const std::string& actor) {
  WG_ASSIGN_OR_RETURN(vault::ExpiryRun run, vault_.DestroyExpired(clock_.Now()));
  Status first;
  for (const auto& info : run.destroyed) {
    auto org = store_.FindOrganizationByCode(info.org);
    if (!org) {
      if (first.ok()) first = org.error();
      continue;
    }
    auto fact = VaultFact("vault.destroyed", info, actor);
    Status s = fact ? store_.AppendFacts(org->id, {*fact}) : fact.error();
    if (s.ok()) s = evidence_.SyncAfterWrite(org->id);
    if (!s.ok() && first.ok()) first = s;
  }
  for (const auto& f : run.failures) spdlog::error("vault expiry: {}", f.ToString());
  if (!first.ok()) return first;
  return run.destroyed;
}

Status Attachments::Recover() {
  WG_ASSIGN_OR_RETURN(auto removed, vault_.SweepIncomplete());
  for (const auto& path : removed) spdlog::warn("vault: removed leftover {}", path);
  WG_ASSIGN_OR_RETURN(auto orgs, store_.ListOrganizations());
  for (const auto& o : orgs) {
    WG_ASSIGN_OR_RETURN(auto objects, vault_.List(o.code));
    for (const auto& info : objects) {
      WG_ASSIGN_OR_RETURN(auto facts, store_.FactsAbout(o.id, "attachment:" + info.id, 0, 10));
      bool stored = false, destroyed = false;
      for (const auto& f : facts) {
        stored = stored || f.kind == "vault.stored";
        destroyed = destroyed || f.kind == "vault.destroyed";
      }
      store::FactDrafts missing;
      if (!stored) {
        vault::ObjectInfo as_stored = info;
        as_stored.destroyed_at.reset();
        as_stored.destroy_reason.clear();
        WG_ASSIGN_OR_RETURN(store::FactDraft f, VaultFact("vault.stored", as_stored, "system:recovery"));
        missing.push_back(std::move(f));
      }
      if (info.destroyed() && !destroyed) {
        WG_ASSIGN_OR_RETURN(store::FactDraft f, VaultFact("vault.destroyed", info, "system:recovery"));
        missing.push_back(std::move(f));
      }
      if (!missing.empty()) {
        spdlog::warn("vault object {} of {} had no fact; recorded now", info.id, o.code);
        WG_RETURN_IF_ERROR(store_.AppendFacts(o.id, missing));
        WG_RETURN_IF_ERROR(evidence_.SyncAfterWrite(o.id));
      }
    }
  }
  return Status::Ok();
}

}  // namespace wg::evidence

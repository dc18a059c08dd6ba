// The `permit` commands (permit_commands.h).
#include "permit_commands.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli_common.h"
#include "wg/core/clock.h"
#include "wg/core/file.h"
#include "wg/core/json.h"
#include "wg/permit/check.h"
#include "wg/permit/print.h"
#include "wg/permit/service.h"
#include "wg/server/installation.h"

namespace wg::cli {

namespace {

using core::Json;
using core::Result;
using core::Status;

constexpr std::size_t kMaxDocumentBytes = 4u << 20;

Result<Json> ReadJsonFile(const std::string& path, std::string_view field) {
  WG_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path, kMaxDocumentBytes));
  auto j = core::ParseJson(text, core::JsonLimits{.max_bytes = kMaxDocumentBytes, .max_depth = 16},
                           field);
  if (!j.ok()) return j.error().WithContext(path);
  return j;
}

Result<std::unique_ptr<server::Installation>> Open(const std::string& data,
                                                   const core::Clock& clock) {
  return server::Installation::Open({.data_dir = data, .load_index = true}, clock);
}

int VerdictExit(const permit::Decision& d) {
  switch (d.verdict) {
    case permit::Verdict::kCompliant:
      return kExitOk;
    case permit::Verdict::kBlocked:
      return kExitNegative;
    case permit::Verdict::kWarnings:
      return kExitWarnings;
  }
  return kExitError;
}

int PrintOutcome(const permit::Outcome& o) {
  Json j = {{"applied", o.applied}, {"fact", o.fact_kind}, {"permit", permit::ToJson(o.permit)}};
  if (o.decision) j["decision"] = permit::ToJson(*o.decision);
  std::cout << core::DumpJson(j, 2) << "\n";
  return o.applied ? kExitOk : kExitNegative;
}

int RunCheck(const PermitArgs& a) {
  auto doc_json = ReadJsonFile(a.file, "permit");
  if (!doc_json) return Fail(doc_json.error());
  auto doc = permit::ParsePermit(*doc_json);
  if (!doc) return Fail(doc.error());
  std::optional<core::Timestamp> at;
  if (!a.at.empty()) {
    auto t = core::ParseTimestamp(a.at, "at");
    if (!t) return Fail(t.error());
    at = *t;
  }
  std::optional<permit::Stage> stage;
  if (a.stage != "auto") {
    auto s = permit::ParseStage(a.stage, "stage");
    if (!s) return Fail(s.error());
    stage = *s;
  }
  core::SystemClock clock;
  permit::Decision d;
  if (a.data.empty()) {
    // No data directory: the rulebook alone (people, certificates, authority and
    // conflicts are listed as skipped).
    auto book = a.rules.empty() ? permit::PermitRulebook::LoadEmbedded()
                                : permit::PermitRulebook::LoadDirectory(a.rules);
    if (!book) return Fail(book.error());
    permit::CheckOptions o;
    o.at = at.value_or(clock.Now());
    o.stage = stage;
    d = permit::Check(*book, *doc, o);
  } else {
    auto inst = Open(a.data, clock);
    if (!inst) return Fail(inst.error());
    auto org = ResolveOrg(**inst, a.org);
    if (!org) return Fail(org.error());
    auto r = (*inst)->permits().CheckDocument(*org, *doc, at, stage);
    if (!r) return Fail(r.error());
    d = *r;
  }
  std::cout << core::DumpJson(permit::ToJson(d), 2) << "\n";
  return VerdictExit(d);
}

Result<std::string> PasswordFromEnv(const std::string& var) {
  const char* v = std::getenv(var.c_str());
  if (v == nullptr || *v == '\0') {
    return Status::InvalidArgument("set the signer's password in $" + var, "password-env");
  }
  return std::string(v);
}

int RunLifecycle(const PermitArgs& a) {
  core::SystemClock clock;
  auto inst_r = Open(a.data, clock);
  if (!inst_r) return Fail(inst_r.error());
  server::Installation& inst = **inst_r;
  auto org_r = ResolveOrg(inst, a.org);
  if (!org_r) return Fail(org_r.error());
  const core::OrgId org = *org_r;
  permit::PermitService& svc = inst.permits();
  permit::Actor actor{.name = CliActor()};

  if (a.create != nullptr && a.create->parsed()) {
    auto j = ReadJsonFile(a.file, "permit");
    if (!j) return Fail(j.error());
    auto doc = permit::ParsePermit(*j);
    if (!doc) return Fail(doc.error());
    auto o = svc.Create(org, *doc, actor);
    if (!o) return Fail(o.error());
    return PrintOutcome(*o);
  }
  if (a.edit != nullptr && a.edit->parsed()) {
    auto j = ReadJsonFile(a.file, "permit");
    if (!j) return Fail(j.error());
    auto doc = permit::ParsePermit(*j);
    if (!doc) return Fail(doc.error());
    auto o = svc.Edit(org, a.id, *doc, a.version, actor);
    if (!o) return Fail(o.error());
    return PrintOutcome(*o);
  }
  if (a.list != nullptr && a.list->parsed()) {
    permit::ListQuery q;
    q.limit = a.limit;
    if (!a.state.empty()) {
      for (auto part : core::Split(a.state, ',')) {
        auto st = permit::ParseState(part, "state");
        if (!st) return Fail(st.error());
        q.filter.states.emplace_back(permit::StateCode(*st));
      }
    }
    q.filter.site = a.site;
    if (!a.type.empty()) {
      auto t = permit::ParsePermitType(a.type, "type");
      if (!t) return Fail(t.error());
      q.filter.type = std::string(permit::PermitTypeCode(*t));
    }
    auto list = svc.List(org, q);
    if (!list) return Fail(list.error());
    for (const auto& p : *list) {
      std::cout << p.id << "\t" << p.number << "\t" << permit::PermitTypeNameZh(p.type) << "\t"
                << permit::GradeNameZh(p.type, p.grade) << "\t" << permit::StateCode(p.state)
                << "\t" << p.site << "\t" << core::FormatShanghai(p.planned_start) << " – "
                << core::FormatShanghai(p.planned_end) << "\t" << p.title << "\n";
    }
    return kExitOk;
  }
  if (a.show != nullptr && a.show->parsed()) {
    auto p = svc.Get(org, a.id);
    if (!p) return Fail(p.error());
    std::cout << core::DumpJson(permit::ToJson(*p), 2) << "\n";
    return kExitOk;
  }
  if (a.history != nullptr && a.history->parsed()) {
    auto h = svc.History(org, a.id);
    if (!h) return Fail(h.error());
    Json list = Json::array();
    for (const auto& e : *h) list.push_back(permit::ToJson(e));
    std::cout << core::DumpJson(list, 2) << "\n";
    return kExitOk;
  }
  Result<permit::Outcome> o = Status::Internal("no command");
  if (a.submit != nullptr && a.submit->parsed()) o = svc.Submit(org, a.id, actor);
  if (a.activate != nullptr && a.activate->parsed()) o = svc.Activate(org, a.id, actor);
  if (a.resume != nullptr && a.resume->parsed()) o = svc.Resume(org, a.id, actor);
  if (a.suspend != nullptr && a.suspend->parsed()) o = svc.Suspend(org, a.id, a.reason, actor);
  if (a.cancel != nullptr && a.cancel->parsed()) o = svc.Cancel(org, a.id, a.reason, actor);
  if (a.complete != nullptr && a.complete->parsed()) o = svc.Complete(org, a.id, a.reason, actor);
  if (a.incident != nullptr && a.incident->parsed()) {
    o = svc.RecordIncident(org, a.id, a.reason, actor);
  }
  if (a.gas != nullptr && a.gas->parsed()) {
    auto j = ReadJsonFile(a.file, "readings");
    if (!j) return Fail(j.error());
    auto readings = permit::ParseGasReadings(*j, "readings");
    if (!readings) return Fail(readings.error());
    o = svc.RecordGas(org, a.id, *readings, actor);
  }
  if (a.sign != nullptr && a.sign->parsed()) {
    // The CLI signs as a user of the organization, with that user's password.
    auto user = inst.store().FindUserByUsername(a.user);
    if (!user || user->org_id != org) {
      return Fail(Status::NotFound("no such user in the organization", "user"));
    }
    auto password = PasswordFromEnv(a.password_env);
    if (!password) return Fail(password.error());
    permit::Actor signer{.name = "user:" + user->username + " via " + CliActor(),
                         .user_id = user->id,
                         .username = user->username,
                         .role = std::string(domain::RoleName(user->role))};
    o = svc.Sign(org, a.id, {.role = a.role, .password = *password, .opinion = a.reason},
                 signer);
  }
  if (a.print != nullptr && a.print->parsed()) {
    auto p = svc.Get(org, a.id);
    if (!p) return Fail(p.error());
    auto v = svc.Verify(org, p->number, "");
    if (!v) return Fail(v.error());
    auto o_org = inst.store().GetOrganization(org);
    if (!o_org) return Fail(o_org.error());
    permit::PrintOptions opt;
    opt.org_name = o_org->name;
    opt.printed_at = clock.Now();
    opt.signature_valid = v->signature_valid;
    opt.verify_url = "http://localhost:8080/api/v1/permits/verify?org=" + o_org->code +
                     "&n=" + p->number + "&d=" + v->content_digest.substr(0, 16);
    auto doc = a.format == "pdf" ? permit::RenderPdf(svc.rulebook(), *p, opt)
                                 : permit::RenderHtml(svc.rulebook(), *p, opt);
    if (!doc) return Fail(doc.error());
    if (a.out.empty() || a.out == "-") {
      std::cout << *doc;
    } else if (Status s = core::WriteFileAtomic(a.out, *doc); !s.ok()) {
      return Fail(s);
    }
    return kExitOk;
  }
  if (a.authorize != nullptr && a.authorize->parsed()) {
    auto j = ReadJsonFile(a.file, "authorization");
    if (!j) return Fail(j.error());
    auto scopes = permit::ParseScopes(svc.rulebook(), *j);
    if (!scopes) return Fail(scopes.error());
    if (Status s = svc.PutAuthorization(org, a.user, *scopes, actor); !s.ok()) return Fail(s);
    std::cout << core::DumpJson(permit::ScopesToJson(*scopes), 2) << "\n";
    return kExitOk;
  }
  if (a.expire != nullptr && a.expire->parsed()) {
    auto n = svc.ExpireDue();
    if (!n) return Fail(n.error());
    std::cout << "expired " << *n << " permits\n";
    return kExitOk;
  }
  if (!o) return Fail(o.error());
  return PrintOutcome(*o);
}

}  // namespace

void AddPermitCommands(CLI::App& app, PermitArgs& a) {
  auto* permit = app.add_subcommand(
      "permit", "Electronic work permits (GB 30871-2022): check, lifecycle, print");
  permit->require_subcommand(1);
  auto data_opt = [&](CLI::App* c, bool required) {
    auto* o = c->add_option("--data", a.data, "Data directory");
    if (required) o->required();
    c->add_option("--org", a.org, "Organization code (default: the only one)");
  };
  auto id_arg = [&](CLI::App* c) {
    c->add_option("ID", a.id, "Permit id")->required()->check(CLI::PositiveNumber);
  };

  a.check = permit->add_subcommand(
      "check", "Dry run of the rulebook and conflicts. Exit 0 compliant, 1 blocked, 3 warnings, "
               "2 bad input");
  a.check->add_option("FILE", a.file, "Permit document (docs/formats/permit.md)")->required();
  data_opt(a.check, false);
  a.check->add_option("--at", a.at, "Instant of the check, RFC 3339 (default: now)");
  a.check->add_option("--stage", a.stage, "auto|plan|gas|approve|start")->capture_default_str();
  a.check->add_option("--rules", a.rules, "Permit rulebook directory (without --data)");

  a.create = permit->add_subcommand("create", "Create a draft from a permit document");
  a.create->add_option("FILE", a.file, "Permit document")->required();
  data_opt(a.create, true);
  a.edit = permit->add_subcommand("edit", "Replace a draft's document (not once approved)");
  id_arg(a.edit);
  a.edit->add_option("FILE", a.file, "Permit document")->required();
  a.edit->add_option("--version", a.version, "The version being edited")->required();
  data_opt(a.edit, true);

  a.list = permit->add_subcommand("list", "List permits, newest first");
  data_opt(a.list, true);
  a.list->add_option("--state", a.state, "Comma-separated states");
  a.list->add_option("--site", a.site, "Site code");
  a.list->add_option("--type", a.type, "Permit type code");
  a.list->add_option("--limit", a.limit, "At most this many (1..1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  a.show = permit->add_subcommand("show", "Print a permit document");
  id_arg(a.show);
  data_opt(a.show, true);
  a.history = permit->add_subcommand("history", "A permit's facts from the evidence log");
  id_arg(a.history);
  data_opt(a.history, true);

  struct Simple {
    CLI::App** slot;
    const char* name;
    const char* help;
    const char* reason;  // option name for the text, or nullptr
  };
  const Simple simple[] = {
      {&a.submit, "submit", "Submit a draft for gas analysis and signatures", nullptr},
      {&a.activate, "activate", "Start the work (checks gas freshness, weather, conflicts)",
       nullptr},
      {&a.resume, "resume", "Resume suspended work (re-test rules apply)", nullptr},
      {&a.suspend, "suspend", "Suspend the work", "--reason"},
      {&a.cancel, "cancel", "Cancel the permit", "--reason"},
      {&a.complete, "complete", "Complete the work (completion acceptance)", "--note"},
      {&a.incident, "incident", "Record an incident on the permit", "--description"},
  };
  for (const auto& s : simple) {
    *s.slot = permit->add_subcommand(s.name, s.help);
    id_arg(*s.slot);
    data_opt(*s.slot, true);
    if (s.reason != nullptr) {
      auto* o = (*s.slot)->add_option(s.reason, a.reason, "Text recorded with the fact");
      if (std::string_view(s.reason) != "--note") o->required();
    }
  }
  a.gas = permit->add_subcommand("gas", "Record gas readings (a JSON array of readings)");
  id_arg(a.gas);
  a.gas->add_option("FILE", a.file, "Readings JSON")->required();
  data_opt(a.gas, true);
  a.sign = permit->add_subcommand("sign", "Sign the next step of the chain as a user (SM2)");
  id_arg(a.sign);
  data_opt(a.sign, true);
  a.sign->add_option("--user", a.user, "Username of the signer")->required();
  a.sign->add_option("--role", a.role, "Signature-chain step")->required();
  a.sign->add_option("--password-env", a.password_env,
                     "Environment variable holding the signer's password")
      ->capture_default_str();
  a.sign->add_option("--opinion", a.reason, "Opinion (意见)");
  a.print = permit->add_subcommand("print", "Render the printable permit (HTML or PDF)");
  id_arg(a.print);
  data_opt(a.print, true);
  a.print->add_option("--format", a.format, "html|pdf")
      ->check(CLI::IsMember({"html", "pdf"}))
      ->capture_default_str();
  a.print->add_option("--out", a.out, "Output file (default: stdout)");
  a.authorize = permit->add_subcommand(
      "authorize", "Set an approver's authorization scopes from a JSON file");
  a.authorize->add_option("USER", a.user, "Username")->required();
  a.authorize->add_option("FILE", a.file, "Authorization JSON")->required();
  data_opt(a.authorize, true);
  a.expire = permit->add_subcommand("expire", "Expire permits whose validity ended");
  data_opt(a.expire, true);
}

std::optional<int> RunPermitCommands(const PermitArgs& a) {
  if (a.check != nullptr && a.check->parsed()) return RunCheck(a);
  for (CLI::App* c : {a.create, a.edit, a.list, a.show, a.history, a.submit, a.gas, a.sign,
                      a.activate, a.suspend, a.resume, a.complete, a.cancel, a.incident, a.print,
                      a.authorize, a.expire}) {
    if (c != nullptr && c->parsed()) return RunLifecycle(a);
  }
  return std::nullopt;
}

}  // namespace wg::cli

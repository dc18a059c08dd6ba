// People, signature and approval check kinds (PeopleKinds): who is on the permit, whether
// the registry lets them work, guardians, the signature chain of Appendix A, signature
// integrity and the approver's authority, workload, track record and presence on site.
// Params, clauses and decisions: docs/formats/permit-rules-checks.md.

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules_internal.h"
#include "rules_params.h"
#include "wg/core/strings.h"
#include "wg/core/time.h"

namespace wg::permit::internal {
namespace {

using core::Duration;
using core::Json;
using core::Status;

Status CheckStrings(const Json& p, std::string_view key, bool required) {
  auto it = p.find(key);
  if (it == p.end()) {
    return required ? Status::InvalidArgument("required", Field(key)) : Status::Ok();
  }
  if (!it->is_array()) return Status::InvalidArgument("expected a list of strings", Field(key));
  if (required && it->empty()) return Status::InvalidArgument("must not be empty", Field(key));
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string() || (*it)[i].get_ref<const std::string&>().empty()) {
      return Status::InvalidArgument("expected a non-empty string",
                                     Field(key) + "[" + std::to_string(i) + "]");
    }
  }
  return Status::Ok();
}

Status CheckOneOf(const Json& p, std::string_view key, std::span<const std::string_view> values,
                  bool required) {
  auto it = p.find(key);
  if (it == p.end()) {
    return required ? Status::InvalidArgument("required", Field(key)) : Status::Ok();
  }
  if (it->is_string() &&
      std::find(values.begin(), values.end(), it->get_ref<const std::string&>()) != values.end()) {
    return Status::Ok();
  }
  std::string list;
  for (auto v : values) list += (list.empty() ? "" : ", ") + std::string(v);
  return Status::InvalidArgument("expected one of " + list, Field(key));
}

std::string Str(const Json& p, std::string_view key, std::string fallback = {}) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string RoleZh(std::string_view role) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kRoles = {{
      {"performer", "作业人员"},
      {"guardian", "监护人"},
      {"work_leader", "作业负责人"},
      {"safety_briefer", "安全交底人"},
      {"briefing_recipient", "接受交底人"},
      {"commander", "作业指挥"},
      {"gas_analyst", "分析人"},
      {"measure_confirmer", "安全措施确认人"},
  }};
  for (const auto& [code, zh] : kRoles) {
    if (code == role) return std::string(zh);
  }
  return std::string(role);
}

std::string LevelZh(std::string_view level) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kLevels = {{
      {"grassroots_unit", "所在基层单位"},
      {"workshop", "车间"},
      {"specialist_department", "所在单位专业部门"},
      {"power_supply_unit", "配送电单位"},
      {"safety_department", "安全管理部门"},
      {"leader_in_charge", "主管领导"},
      {"plant_director", "主管厂长或总工程师"},
      {"deputy_director_or_chief_engineer", "主管厂长或总工程师"},
  }};
  for (const auto& [code, zh] : kLevels) {
    if (code == level) return std::string(zh);
  }
  return std::string(level);
}

std::string PersonName(const Person& p) {
  if (!p.name.empty()) return p.name;
  if (!p.username.empty()) return p.username;
  return p.worker_code;
}

// The same human: a shared worker code or a shared username.
bool SamePerson(const Person& a, const Person& b) {
  return (!a.worker_code.empty() && a.worker_code == b.worker_code) ||
         (!a.username.empty() && a.username == b.username);
}

std::vector<std::size_t> IndexesWithRole(const Permit& p, std::string_view role) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < p.people.size(); ++i) {
    if (p.people[i].role == role) out.push_back(i);
  }
  return out;
}

// The approval steps of the chain and the signatures on them.
std::vector<std::size_t> ApprovalSignatures(const EvalContext& ctx) {
  std::vector<std::size_t> out;
  const auto& chain = ctx.spec.signature_chain;
  const auto& sigs = ctx.permit.signatures;
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    for (const auto& step : chain) {
      if (step.approval && step.role == sigs[i].role) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

std::string_view GradeLabel(const Permit& p) {
  return p.grade.empty() ? std::string_view("-") : std::string_view(p.grade);
}

// =====================================================================================
// required_people — TypeSpec::people: min/max persons per role. The requirement's clause
// is named on the violation when it has one.
// =====================================================================================

Status ValidateNoParams(const Json& p) { return CheckKeys(p, {}); }

void EvalRequiredPeople(const EvalContext& ctx, const Rule& rule, Findings& out) {
  for (const auto& req : ctx.spec.people) {
    const int count = static_cast<int>(PeopleWithRole(ctx.permit, req.role).size());
    std::string expected, expected_zh;
    if (count < req.min) {
      expected = "at least " + std::to_string(req.min);
      expected_zh = "至少 " + std::to_string(req.min) + " 人";
    } else if (req.max > 0 && count > req.max) {
      expected = "at most " + std::to_string(req.max);
      expected_zh = "至多 " + std::to_string(req.max) + " 人";
    } else {
      continue;
    }
    const std::size_t before = out.violations.size();
    out.Add(rule, "people",
            {{"role", req.role},
             {"role_zh", RoleZh(req.role)},
             {"count", std::to_string(count)},
             {"expected", expected},
             {"expected_zh", expected_zh}});
    if (!req.clause.empty() && out.violations.size() > before) {
      out.violations.back().clause = req.clause;
    }
  }
}

// =====================================================================================
// worker_certificate — §4.9: each person of a role whose requirement names a registry
// operation must be allowed to work by the registry at the start of the window and at its
// end (a certificate lapsing mid-job fails). No worker code: a violation.
// =====================================================================================

void EvalWorkerCertificate(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const Directory& dir = *ctx.options.directory;
  const core::Timestamp first = std::max(ctx.options.at, p.planned_start);
  for (const auto& req : ctx.spec.people) {
    if (req.operation.empty()) continue;
    for (std::size_t i : IndexesWithRole(p, req.role)) {
      const Person& person = p.people[i];
      Vars v{{"name", PersonName(person)},
             {"role", person.role},
             {"role_zh", RoleZh(person.role)},
             {"operation", req.operation},
             {"worker_code", person.worker_code}};
      if (person.worker_code.empty()) {
        v["verdict"] = "no_worker_code";
        v["certificate"] = "-";
        v["registry_rule"] = "-";
        v["registry_clause"] = "GB 30871-2022 §4.9";
        v["detail"] = "no registry worker code on the permit";
        v["detail_zh"] = "作业票未填写人员登记编号，无法核验资格证书";
        out.Add(rule, Indexed("people", i) + ".worker_code", v);
        continue;
      }
      WorkerCheck wc = dir.VerifyWorker(person.worker_code, req.operation, first);
      std::string when = "at the start of the work";
      std::string when_zh = "作业开始时";
      if (wc.found && wc.may_work && p.planned_end > first) {
        wc = dir.VerifyWorker(person.worker_code, req.operation, p.planned_end);
        when = "at the planned end of the work";
        when_zh = "计划作业结束时";
      }
      if (wc.found && wc.may_work) continue;
      v["verdict"] = wc.found ? (wc.verdict.empty() ? std::string("not_allowed") : wc.verdict)
                              : std::string("unknown_worker");
      v["certificate"] = wc.certificate_number.empty() ? std::string("-") : wc.certificate_number;
      v["registry_rule"] = wc.rule.empty() ? std::string("-") : wc.rule;
      v["registry_clause"] = wc.clause.empty() ? std::string("-") : wc.clause;
      v["detail"] =
          (wc.detail.empty() ? std::string("not allowed to work") : wc.detail) + " (" + when + ")";
      v["detail_zh"] = when_zh + "资格核验未通过：" +
                       (wc.detail.empty() ? std::string("不允许作业") : wc.detail);
      out.Add(rule, Indexed("people", i) + ".worker_code", v);
    }
  }
}

// =====================================================================================
// guardian_present — §4.10: min (default 1) guardians.
// =====================================================================================

Status ValidateGuardianPresent(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"min"}));
  return CheckNumber(p, "min", false, 1, 100);
}

void EvalGuardianPresent(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto min = static_cast<std::size_t>(Num(rule.params, "min", 1));
  const std::size_t count = PeopleWithRole(ctx.permit, "guardian").size();
  if (count >= min) return;
  out.Add(rule, "people", {{"count", std::to_string(count)}, {"min", std::to_string(min)}});
}

// =====================================================================================
// guardian_trained — §4.10: each guardian is an active user whose account role is one of
// params.roles (trained guardians, team leaders, safety managers).
// =====================================================================================

Status ValidateGuardianTrained(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"roles"}));
  return CheckStrings(p, "roles", true);
}

void EvalGuardianTrained(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto roles = Strings(rule.params, "roles");
  for (std::size_t i : IndexesWithRole(ctx.permit, "guardian")) {
    const Person& g = ctx.permit.people[i];
    Vars v{{"name", PersonName(g)}, {"username", g.username}, {"roles", Join(roles, ", ")}};
    const std::string field = Indexed("people", i) + ".username";
    if (g.username.empty()) {
      out.Add(rule, field,
              Reason("has no user account, so the guardian training cannot be verified",
                     "无系统账号，无法核验监护人培训资格", v));
      continue;
    }
    auto user = ctx.options.directory->FindUser(g.username);
    if (!user) {
      out.Add(rule, field, Reason("is not a known user", "不是系统用户", v));
    } else if (!user->active) {
      out.Add(rule, field, Reason("is an inactive user", "账号已停用", v));
    } else if (!Contains(roles, user->role)) {
      out.Add(rule, field,
              Reason("holds account role \"" + user->role + "\", not one of " + Join(roles, ", "),
                     "账号角色为“" + user->role + "”，不具备监护人资格（应为 " + Join(roles, "、") +
                         "）",
                     v));
    }
  }
}

// =====================================================================================
// guardian_not_performer — §4.10 f): the guardian does nothing but guard; the same person
// (worker code or username) may not also be a performer on the permit.
// =====================================================================================

void EvalGuardianNotPerformer(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto& people = ctx.permit.people;
  for (std::size_t i : IndexesWithRole(ctx.permit, "guardian")) {
    for (std::size_t j : IndexesWithRole(ctx.permit, "performer")) {
      if (!SamePerson(people[i], people[j])) continue;
      out.Add(rule, Indexed("people", i), {{"name", PersonName(people[i])}});
      break;
    }
  }
}

// =====================================================================================
// guardian_workload — §4.10 f): open permits a guardian guards, plus this one, must not
// exceed limits.guardian_max_simultaneous (params.max overrides).
// =====================================================================================

Status ValidateMax(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"max"}));
  return CheckNumber(p, "max", false, 0, 100000);
}

void EvalGuardianWorkload(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const int limit =
      static_cast<int>(Num(rule.params, "max", ctx.book.limits().guardian_max_simultaneous));
  for (std::size_t i : IndexesWithRole(ctx.permit, "guardian")) {
    const Person& g = ctx.permit.people[i];
    if (g.username.empty()) continue;  // guardian_trained reports it
    auto user = ctx.options.directory->FindUser(g.username);
    if (!user || user->open_guarding + 1 <= limit) continue;
    out.Add(rule, Indexed("people", i),
            {{"name", PersonName(g)},
             {"username", g.username},
             {"open", std::to_string(user->open_guarding)},
             {"total", std::to_string(user->open_guarding + 1)},
             {"limit", std::to_string(limit)}});
  }
}

// =====================================================================================
// signature_chain — Appendix A. Signatures follow TypeSpec::signature_chain: each role a
// step of the chain, signed once, in chain order and time order, the applicant step first.
// Up to the approve stage every step up to the last approval step must be signed; at the
// start stage also params.start_steps. With a directory each signer is an active user with
// one of the step's user_roles. A signer may sign two steps only when
// params.allow_same_signer. The guardian step is signed by a guardian on the permit.
// =====================================================================================

Status ValidateChain(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"allow_same_signer", "start_steps"}));
  WG_RETURN_IF_ERROR(CheckBool(p, "allow_same_signer"));
  return CheckStrings(p, "start_steps", false);
}

void EvalChain(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto& chain = ctx.spec.signature_chain;
  const auto& sigs = ctx.permit.signatures;
  if (chain.empty()) return;
  auto step_of = [&](std::string_view role) -> int {
    for (std::size_t s = 0; s < chain.size(); ++s) {
      if (chain[s].role == role) return static_cast<int>(s);
    }
    return -1;
  };
  // A rule naming start_steps reports only those steps, and only at the start stage (the
  // rest of the chain is the general rule's).
  if (rule.params.contains("start_steps")) {
    if (ctx.stage != Stage::kStart) return;
    std::vector<std::string> missing, missing_zh;
    for (const auto& role : Strings(rule.params, "start_steps")) {
      const bool done =
          std::any_of(sigs.begin(), sigs.end(), [&](const Signature& s) { return s.role == role; });
      if (done) continue;
      const int s = step_of(role);
      missing.push_back(role);
      missing_zh.push_back(s >= 0 ? chain[static_cast<std::size_t>(s)].name_zh : role);
    }
    if (!missing.empty()) {
      out.Add(rule, "signatures",
              Reason("missing signatures: " + Join(missing, ", "),
                     "缺少签字：" + Join(missing_zh, "、"),
                     {{"missing", Join(missing, ", ")}, {"missing_zh", Join(missing_zh, "、")}}));
    }
    return;
  }
  const Directory* dir = ctx.options.directory;
  const bool allow_same = Bool(rule.params, "allow_same_signer", false);
  std::vector<bool> signed_step(chain.size(), false);
  int last_step = -1;
  std::optional<core::Timestamp> last_time;
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    const Signature& sig = sigs[i];
    const std::string field = Indexed("signatures", i);
    Vars v{{"role", sig.role}, {"username", sig.username}};
    const int s = step_of(sig.role);
    if (s < 0) {
      out.Add(rule, field + ".role",
              Reason("\"" + sig.role + "\" is not a step of the " +
                         std::string(PermitTypeCode(ctx.permit.type)) + " signature chain",
                     "“" + sig.role + "”不是" + ctx.spec.name_zh + "签批流程中的环节", v));
      continue;
    }
    const SignatureStep& step = chain[static_cast<std::size_t>(s)];
    v["step_zh"] = step.name_zh;
    if (i == 0 && s != 0) {
      out.Add(rule, field,
              Reason("the first signature must be the " + chain[0].role + " step",
                     "第一个签字应为“" + chain[0].name_zh + "”", v));
    }
    if (signed_step[static_cast<std::size_t>(s)]) {
      out.Add(rule, field, Reason("the step is signed twice", "该环节重复签字", v));
      continue;
    }
    if (s < last_step) {
      out.Add(
          rule, field,
          Reason(
              "signed out of order (after " + chain[static_cast<std::size_t>(last_step)].role + ")",
              "签字顺序错误（在“" + chain[static_cast<std::size_t>(last_step)].name_zh + "”之后）",
              v));
    } else if (last_time && sig.signed_at < *last_time) {
      out.Add(rule, field + ".signed_at",
              Reason("signed earlier than the previous step", "签字时间早于前一环节", v));
    }
    signed_step[static_cast<std::size_t>(s)] = true;
    last_step = std::max(last_step, s);
    last_time = last_time ? std::max(*last_time, sig.signed_at) : sig.signed_at;

    if (!allow_same) {
      for (std::size_t j = 0; j < i; ++j) {
        if (sigs[j].username == sig.username && sigs[j].role != sig.role) {
          out.Add(rule, field + ".username",
                  Reason("the same person already signed the " + sigs[j].role + " step",
                         "同一人已签署“" + sigs[j].role + "”环节，不得兼签", v));
          break;
        }
      }
    }
    if (sig.role == "guardian") {
      bool listed = false;
      for (const Person* g : PeopleWithRole(ctx.permit, "guardian")) {
        listed = listed || (!g->username.empty() && g->username == sig.username);
      }
      if (!listed) {
        out.Add(rule, field + ".username",
                Reason("the guardian step is signed by someone who is not a guardian on the permit",
                       "监护人环节的签字人不是本作业票的监护人", v));
      }
    }
    if (dir != nullptr) {
      auto user = dir->FindUser(sig.username);
      if (!user) {
        out.Add(rule, field + ".username",
                Reason("the signer is not a known user", "签字人不是系统用户", v));
      } else if (!user->active) {
        out.Add(rule, field + ".username",
                Reason("the signer's account is inactive", "签字人账号已停用", v));
      } else if (!step.user_roles.empty() &&
                 std::find(step.user_roles.begin(), step.user_roles.end(), user->role) ==
                     step.user_roles.end()) {
        out.Add(rule, field + ".username",
                Reason("the signer's account role \"" + user->role + "\" may not sign this step (" +
                           Join(step.user_roles, ", ") + ")",
                       "签字人账号角色“" + user->role + "”无权签署该环节（应为 " +
                           Join(step.user_roles, "、") + "）",
                       v));
      }
    }
  }

  // Steps due by now.
  std::size_t due = 0;
  for (std::size_t s = 0; s < chain.size(); ++s) {
    if (chain[s].approval) due = s + 1;
  }
  std::vector<std::string> missing, missing_zh;
  for (std::size_t s = 0; s < chain.size(); ++s) {
    if (s >= due || signed_step[s]) continue;
    missing.push_back(chain[s].role);
    missing_zh.push_back(chain[s].name_zh.empty() ? chain[s].role : chain[s].name_zh);
  }
  if (!missing.empty()) {
    out.Add(
        rule, "signatures",
        Reason("missing signatures: " + Join(missing, ", "), "缺少签字：" + Join(missing_zh, "、"),
               {{"missing", Join(missing, ", ")}, {"missing_zh", Join(missing_zh, "、")}}));
  }
}

// =====================================================================================
// signature_valid — §4.18 (no alteration). params.verify:
//   "digest":    every signature's digest equals hex(ContentDigestAt(permit, signed_at)) —
//                otherwise the content changed after that signature (gas readings taken
//                later are additions and do not count; model.h ContentDigestAt);
//   "signature": the SM2 signature verifies over the digest it names with the signer's key
//                (Directory::VerifySignature) — otherwise it is forged or the key unknown.
// =====================================================================================

constexpr std::array<std::string_view, 2> kVerify = {"digest", "signature"};

Status ValidateSignatureValid(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"verify"}));
  return CheckOneOf(p, "verify", kVerify, true);
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void EvalSignatureValid(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto& sigs = ctx.permit.signatures;
  if (sigs.empty()) return;
  const bool digest_mode = Str(rule.params, "verify") == "digest";
  if (!digest_mode && ctx.options.directory == nullptr) {
    out.Skipped(rule);  // the signers' keys live in the directory
    return;
  }
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    const Signature& sig = sigs[i];
    const std::string current =
        digest_mode ? core::ToHex(ContentDigestAt(ctx.permit, sig.signed_at)) : std::string();
    Vars v{{"role", sig.role},
           {"username", sig.username},
           {"key_id", sig.key_id},
           {"signed_at", core::FormatShanghai(sig.signed_at)}};
    if (digest_mode) {
      if (Lower(sig.digest) == current) continue;
      v["signed_digest"] = sig.digest;
      v["current_digest"] = current;
      out.Add(rule, Indexed("signatures", i) + ".digest", v);
      continue;
    }
    auto raw = core::FromHex(sig.digest, "digest");
    if (raw.has_value() && raw->size() == 32 && ctx.options.directory->VerifySignature(sig, *raw)) {
      continue;
    }
    out.Add(rule, Indexed("signatures", i) + ".signature", v);
  }
}

// =====================================================================================
// approver_authority — §4.11 b), App. B.1. The signer of each approval step holds an
// AuthorityScope covering the permit's type, declared grade and site, valid on the
// Shanghai date of `at`, whose level ranks at least the grade's approver_level.
// params.report: "missing" (default) — no such scope and no delegated scope;
//                "delegated" — covered only by a lower-level scope naming delegated_by and
//                reference (a warning naming the delegation).
// =====================================================================================

constexpr std::array<std::string_view, 2> kReport = {"missing", "delegated"};

Status ValidateAuthority(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"report"}));
  return CheckOneOf(p, "report", kReport, false);
}

bool Covers(const AuthorityScope& s, const Permit& p, core::Date today) {
  if (!s.types.empty() && std::find(s.types.begin(), s.types.end(), p.type) == s.types.end()) {
    return false;
  }
  if (!s.grades.empty() && std::find(s.grades.begin(), s.grades.end(), p.grade) == s.grades.end()) {
    return false;
  }
  if (!s.sites.empty() && std::find(s.sites.begin(), s.sites.end(), p.site) == s.sites.end()) {
    return false;
  }
  return !s.valid_until || *s.valid_until >= today;
}

void EvalAuthority(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const GradeSpec* g = ctx.spec.FindGrade(p.grade);
  if (g == nullptr || g->approver_level.empty()) return;
  const int need = ctx.book.AuthorityRank(g->approver_level);
  const bool report_delegated = Str(rule.params, "report", "missing") == "delegated";
  const core::Date today = core::ShanghaiDate(ctx.options.at);
  for (std::size_t i : ApprovalSignatures(ctx)) {
    const Signature& sig = p.signatures[i];
    Vars v{{"username", sig.username},
           {"required", g->approver_level},
           {"required_zh", LevelZh(g->approver_level)},
           {"type_zh", ctx.spec.name_zh},
           {"grade", std::string(GradeLabel(p))},
           {"grade_zh", g->name_zh},
           {"site", p.site}};
    const std::string field = Indexed("signatures", i) + ".username";
    auto user = ctx.options.directory->FindUser(sig.username);
    std::vector<std::string> held;
    const AuthorityScope* sufficient = nullptr;
    const AuthorityScope* delegated = nullptr;
    if (user) {
      for (const auto& s : user->scopes) {
        if (!Covers(s, p, today)) continue;
        held.push_back(s.level);
        const int rank = ctx.book.AuthorityRank(s.level);
        if (rank >= 0 && need >= 0 && rank >= need) {
          sufficient = &s;
        } else if (!s.delegated_by.empty() && !s.reference.empty() && delegated == nullptr) {
          delegated = &s;
        }
      }
    }
    v["held"] = held.empty() ? std::string("none") : Join(held, ", ");
    std::vector<std::string> held_zh;
    for (const auto& h : held) held_zh.push_back(LevelZh(h));
    v["held_zh"] = held.empty() ? std::string("无") : Join(held_zh, "、");
    if (sufficient != nullptr) continue;
    if (delegated != nullptr) {
      if (!report_delegated) continue;
      v["level"] = delegated->level;
      v["level_zh"] = LevelZh(delegated->level);
      v["delegated_by"] = delegated->delegated_by;
      v["reference"] = delegated->reference;
      out.Add(rule, field, v);
      continue;
    }
    if (!report_delegated) out.Add(rule, field, v);
  }
}

// =====================================================================================
// approver_workload — the approver's current workload: open permits they approved plus open
// permits they guard (other than this one), plus this one when it is not yet open, must
// not exceed limits.approver_max_active (params.max overrides).
// =====================================================================================

void EvalApproverWorkload(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const int limit =
      static_cast<int>(Num(rule.params, "max", ctx.book.limits().approver_max_active));
  const int self = IsOpen(ctx.permit.state) ? 0 : 1;
  for (std::size_t i : ApprovalSignatures(ctx)) {
    const Signature& sig = ctx.permit.signatures[i];
    auto user = ctx.options.directory->FindUser(sig.username);
    if (!user) continue;
    const int open = user->open_approved + user->open_guarding;
    if (open + self <= limit) continue;
    out.Add(rule, Indexed("signatures", i) + ".username",
            {{"username", sig.username},
             {"open", std::to_string(open)},
             {"approved", std::to_string(user->open_approved)},
             {"guarding", std::to_string(user->open_guarding)},
             {"total", std::to_string(open + self)},
             {"limit", std::to_string(limit)}});
  }
}

// =====================================================================================
// approver_track_record — limits: incidents / approvals ≤ approver_max_incident_rate
// (once approvals ≥ 1), suspensions ≤ approver_max_recent_suspensions, and approving a
// grade in params.special_grades (default ["special"]) needs approvals ≥
// approver_min_approvals_special.
// =====================================================================================

Status ValidateTrackRecord(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"special_grades"}));
  return CheckStrings(p, "special_grades", false);
}

void EvalTrackRecord(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const AuthorizationLimits& lim = ctx.book.limits();
  auto special = Strings(rule.params, "special_grades");
  if (!rule.params.contains("special_grades")) special = {"special"};
  for (std::size_t i : ApprovalSignatures(ctx)) {
    const Signature& sig = ctx.permit.signatures[i];
    auto user = ctx.options.directory->FindUser(sig.username);
    if (!user) continue;  // approver_authority reports an unknown approver
    const std::string field = Indexed("signatures", i) + ".username";
    Vars v{{"username", sig.username},
           {"approvals", std::to_string(user->approvals)},
           {"incidents", std::to_string(user->incidents)},
           {"suspensions", std::to_string(user->suspensions)}};
    if (user->approvals >= 1) {
      const double rate = static_cast<double>(user->incidents) / user->approvals;
      if (rate > lim.approver_max_incident_rate + 1e-12) {
        out.Add(rule, field,
                Reason("incident rate " + FormatNumber(std::round(rate * 1000) / 10) + " % (" +
                           std::to_string(user->incidents) + " incidents in " +
                           std::to_string(user->approvals) + " approvals) exceeds " +
                           FormatNumber(lim.approver_max_incident_rate * 100) + " %",
                       "事故率 " + FormatNumber(std::round(rate * 1000) / 10) + "%（" +
                           std::to_string(user->approvals) + " 次审批中 " +
                           std::to_string(user->incidents) + " 起事故）超过 " +
                           FormatNumber(lim.approver_max_incident_rate * 100) + "%",
                       v));
      }
    }
    if (user->suspensions > lim.approver_max_recent_suspensions) {
      out.Add(rule, field,
              Reason(std::to_string(user->suspensions) +
                         " suspensions of their permits in the last 90 days exceed " +
                         std::to_string(lim.approver_max_recent_suspensions),
                     "近 90 天其审批的作业票被暂停 " + std::to_string(user->suspensions) +
                         " 次，超过 " + std::to_string(lim.approver_max_recent_suspensions) + " 次",
                     v));
    }
    if (Contains(special, ctx.permit.grade) &&
        user->approvals < lim.approver_min_approvals_special) {
      out.Add(rule, field,
              Reason("approving grade " + ctx.permit.grade + " needs at least " +
                         std::to_string(lim.approver_min_approvals_special) +
                         " prior approvals (has " + std::to_string(user->approvals) + ")",
                     "审批" + std::string(GradeNameZh(ctx.permit.type, ctx.permit.grade)) +
                         "作业需至少 " + std::to_string(lim.approver_min_approvals_special) +
                         " 次审批经历（现有 " + std::to_string(user->approvals) + " 次）",
                     v));
    }
  }
}

// =====================================================================================
// approver_on_site — §4.11 a): approval is completed at the work site. The approver's
// position is the signature's position, else the directory's last known position when no
// older than params.max_position_age (relative to the signing time). On site: inside
// location.fence (boundary counts as inside) or, without a fence, within params.radius_m
// of location.point. params.report: "off_site" (a known position elsewhere) or "unknown"
// (no usable position: a warning, because positions arrive with a later issue).
// =====================================================================================

constexpr std::array<std::string_view, 2> kOnSiteReport = {"off_site", "unknown"};

Status ValidateOnSite(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"report", "max_position_age", "radius_m"}));
  WG_RETURN_IF_ERROR(CheckOneOf(p, "report", kOnSiteReport, true));
  WG_RETURN_IF_ERROR(CheckNumber(p, "radius_m", true, 0, 100000));
  auto d = ParseDurationParam(p, "max_position_age");
  return d.has_value() ? Status::Ok() : d.error();
}

bool OnSegment(Point a, Point b, Point q) {
  const double cross = (b.x - a.x) * (q.y - a.y) - (b.y - a.y) * (q.x - a.x);
  if (std::abs(cross) > 1e-9) return false;
  return q.x >= std::min(a.x, b.x) - 1e-9 && q.x <= std::max(a.x, b.x) + 1e-9 &&
         q.y >= std::min(a.y, b.y) - 1e-9 && q.y <= std::max(a.y, b.y) + 1e-9;
}

bool InsidePolygon(const std::vector<Point>& poly, Point q) {
  bool inside = false;
  for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const Point a = poly[i], b = poly[j];
    if (OnSegment(a, b, q)) return true;
    if ((a.y > q.y) != (b.y > q.y) && q.x < (b.x - a.x) * (q.y - a.y) / (b.y - a.y) + a.x) {
      inside = !inside;
    }
  }
  return inside;
}

void EvalOnSite(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const bool report_unknown = Str(rule.params, "report") == "unknown";
  const double radius = Num(rule.params, "radius_m", 50);
  auto max_age = ParseDurationParam(rule.params, "max_position_age");
  const Duration age_limit = max_age.has_value() ? *max_age : Duration::Minutes(10);
  auto near_signing = [&](const Signature& sig, core::Timestamp t) {
    const Duration age = sig.signed_at > t ? sig.signed_at - t : t - sig.signed_at;
    return age <= age_limit;
  };
  for (std::size_t i : ApprovalSignatures(ctx)) {
    const Signature& sig = p.signatures[i];
    // Every known position counts: the one the device sent with the signature (or the
    // directory's copy of it), and the approver's tag position near the signing time. A
    // single one away from the work refuses the approval.
    std::vector<std::pair<Point, std::string>> known;
    if (sig.position) known.emplace_back(*sig.position, "signature");
    if (ctx.options.directory != nullptr) {
      auto user = ctx.options.directory->FindUser(sig.username);
      if (user && !sig.position && user->position && user->position_time &&
          near_signing(sig, *user->position_time)) {
        known.emplace_back(*user->position, "last known position");
      }
      if (user && user->tracked_position && user->tracked_time &&
          near_signing(sig, *user->tracked_time)) {
        known.emplace_back(*user->tracked_position, "tag position");
      }
    }
    const std::string field = Indexed("signatures", i) + ".position";
    Vars v{{"username", sig.username},
           {"max_age", FormatDuration(age_limit)},
           {"radius", FormatNumber(radius)}};
    if (known.empty()) {
      if (report_unknown) out.Add(rule, field, v);
      continue;
    }
    if (report_unknown) continue;
    for (const auto& [pos, source] : known) {
      bool on_site;
      const double dist = std::hypot(pos.x - p.location.point.x, pos.y - p.location.point.y);
      if (p.location.fence.size() >= 3) {
        on_site = InsidePolygon(p.location.fence, pos);
        v["where"] = "outside the work fence";
        v["where_zh"] = "位于作业区域围栏之外";
      } else {
        on_site = dist <= radius;
        v["where"] = "more than " + FormatNumber(radius) + " m from the work point";
        v["where_zh"] = "距作业点超过 " + FormatNumber(radius) + " m";
      }
      if (on_site) continue;
      v["x"] = FormatNumber(pos.x);
      v["y"] = FormatNumber(pos.y);
      v["distance"] = FormatNumber(std::round(dist * 10) / 10);
      v["source"] = source;
      out.Add(rule, field, v);
      break;  // one finding per signature
    }
  }
}

constexpr CheckKind kKinds[] = {
    {"required_people", ValidateNoParams, EvalRequiredPeople},
    {"worker_certificate", ValidateNoParams, EvalWorkerCertificate, /*needs_directory=*/true},
    {"guardian_present", ValidateGuardianPresent, EvalGuardianPresent},
    {"guardian_trained", ValidateGuardianTrained, EvalGuardianTrained, true},
    {"guardian_not_performer", ValidateNoParams, EvalGuardianNotPerformer},
    {"guardian_workload", ValidateMax, EvalGuardianWorkload, true},
    {"signature_chain", ValidateChain, EvalChain},
    {"signature_valid", ValidateSignatureValid, EvalSignatureValid, false, /*eager=*/true},
    {"approver_authority", ValidateAuthority, EvalAuthority, true},
    {"approver_workload", ValidateMax, EvalApproverWorkload, true},
    {"approver_track_record", ValidateTrackRecord, EvalTrackRecord, true},
    {"approver_on_site", ValidateOnSite, EvalOnSite},
};

}  // namespace

std::span<const CheckKind> PeopleKinds() { return kKinds; }

}  // namespace wg::permit::internal

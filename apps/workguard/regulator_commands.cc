#include "regulator_commands.h"

#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/log.h"
#include "wg/core/strings.h"
#include "wg/regulator/server.h"
#include "wg/regulator/spot_check.h"
#include "wg/regulator/supervision.h"
#include "wg/regulator/wire.h"
#include "cli_common.h"

namespace wg::cli {
namespace {

using core::Result;
using core::Status;


Result<std::unique_ptr<regulator::Supervision>> OpenBook(const RegulatorArgs& a,
                                                         const core::Clock& clock) {
  auto sup = regulator::Supervision::Open({.dir = a.data, .key_name = a.key_name}, clock);
  if (sup.has_value() && !(*sup)->recovery().detail.empty()) {
    std::cerr << "workguard: regulator state recovered: " << (*sup)->recovery().detail << "\n";
  }
  return sup;
}

int Serve(const RegulatorArgs& a, const core::Clock& clock) {
  auto hp = ParseListen(a.listen);
  if (!hp) return Fail(hp.error());
  auto sup = OpenBook(a, clock);
  if (!sup) return Fail(sup.error());
  auto created = regulator::EnsureAdminToken(a.data);
  if (!created) return Fail(created.error());
  if (created->has_value()) {
    std::cout << "admin token (shown once; only its SHA-256 is kept): " << **created << "\n";
  }
  auto digest = regulator::ReadAdminTokenDigest(a.data);
  if (!digest) return Fail(digest.error());
  regulator::RegulatorServer server(
      **sup, {.host = hp->first, .port = hp->second, .admin_token_sha256 = *digest});
  // Block the signals in every thread; this thread waits for them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (Status s = server.Start(); !s.ok()) return Fail(s);
  std::cout << "workguard regulator serving http://" << hp->first << ":" << server.port()
            << "/regulator/v1/  (data: " << a.data << ")\nregulator key: " << (*sup)->VerifierKey()
            << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {} received, stopping", sig);
  server.Stop();
  return kExitOk;
}

int Enroll(const RegulatorArgs& a, const core::Clock& clock) {
  auto alg = ledger::ParseHashAlg(a.hash);
  if (!alg) return Fail(alg.error());
  auto sup = OpenBook(a, clock);
  if (!sup) return Fail(sup.error());
  core::Json out = {{"origin", a.origin}, {"regulator_key", (*sup)->VerifierKey()}};
  auto existing = (*sup)->Enterprise(a.origin);
  if (existing) {
    // Enrolled already: add the keys not yet enrolled (a rotation), re-issue on request.
    core::Json added = core::Json::array();
    for (const auto& k : a.keys) {
      Status s = (*sup)->AddKey(a.origin, k);
      if (s.ok()) {
        added.push_back(k);
      } else if (s.code() != core::StatusCode::kAlreadyExists) {
        return Fail(s);
      }
    }
    out["keys_added"] = added;
    if (a.new_token) {
      auto token = (*sup)->IssueToken(a.origin);
      if (!token) return Fail(token.error());
      out["push_token"] = *token;
    }
  } else if (existing.error().code() == core::StatusCode::kNotFound) {
    if (a.keys.empty()) return Fail(Status::InvalidArgument("give at least one --key", "key"));
    auto token = (*sup)->Enroll(a.origin, *alg, a.keys);
    if (!token) return Fail(token.error());
    out["push_token"] = *token;
    out["keys_added"] = a.keys;
  } else {
    return Fail(existing.error());
  }
  std::cout << core::DumpJson(out, 2) << "\n";
  if (out.contains("push_token")) {
    std::cerr << "note: the push token is shown once; the regulator keeps only its SHA-256. "
                 "Give it to the enterprise (serve --regulator-token-env).\n";
  }
  return kExitOk;
}

int Alerts(const RegulatorArgs& a, const core::Clock& clock) {
  auto sup = OpenBook(a, clock);
  if (!sup) return Fail(sup.error());
  std::optional<std::string> origin;
  if (!a.origin.empty()) origin = a.origin;
  auto alerts = (*sup)->Alerts(origin);
  if (!alerts) return Fail(alerts.error());
  core::Json arr = core::Json::array();
  for (const auto& al : *alerts) arr.push_back(regulator::AlertToJson(al));
  std::cout << core::DumpJson(arr, 2) << "\n";
  return kExitOk;
}

int SpotCheck(const RegulatorArgs& a, const core::Clock& clock) {
  const char* token = std::getenv(a.token_env.c_str());
  if (token == nullptr || *token == '\0') {
    return Fail(Status::InvalidArgument(
        "put the enterprise bearer token of a regulator-role user in $" + a.token_env,
        "token-env"));
  }
  auto sup = OpenBook(a, clock);
  if (!sup) return Fail(sup.error());
  auto report = regulator::SpotCheck(**sup, a.url, token, a.origin, a.seq);
  if (!report) return Fail(report.error());
  std::cout << core::DumpJson(regulator::SpotCheckToJson(*report), 2) << "\n";
  if (!report->verified) {
    std::cerr << "workguard: fact " << a.seq << " of " << a.origin
              << " does NOT verify: " << report->reason << "\n";
    return kExitNegative;
  }
  return kExitOk;
}

}  // namespace

void AddRegulatorCommands(CLI::App& app, RegulatorArgs& a) {
  auto* reg = app.add_subcommand(
      "regulator", "The regulator's side of the dual chain: receive and co-sign checkpoints");
  reg->require_subcommand(1);
  a.serve = reg->add_subcommand("serve", "Serve the regulator's HTTP endpoint");
  a.serve->add_option("--data", a.data, "Regulator data directory (created if missing)")
      ->required();
  a.serve->add_option("--listen", a.listen, "HOST:PORT to bind (port 0 picks a free port)")
      ->capture_default_str();
  a.serve
      ->add_option("--name", a.key_name, "Name of the regulator's signing key (first start only)")
      ->capture_default_str();
  a.enroll = reg->add_subcommand(
      "enroll", "Enroll an enterprise origin with its verifier key(s); prints the push token once");
  a.enroll->add_option("--data", a.data, "Regulator data directory")->required();
  a.enroll->add_option("--origin", a.origin, "The enterprise's checkpoint origin")->required();
  a.enroll->add_option("--key", a.keys, "Verifier key (vkey text); repeat for several");
  a.enroll->add_option("--hash", a.hash, "The enterprise log's hash: sm3 or sha256")
      ->capture_default_str();
  a.enroll->add_flag("--new-token", a.new_token,
                     "For an enrolled origin: replace its push token and print the new one");
  a.alerts = reg->add_subcommand("alerts", "List fork, rollback, digest and spot-check alerts");
  a.alerts->add_option("--data", a.data, "Regulator data directory")->required();
  a.alerts->add_option("--origin", a.origin, "Only this origin");
  a.spot_check = reg->add_subcommand(
      "spot-check",
      "Fetch one fact's proof from the enterprise and verify it; exit 0 verified, "
      "1 does not verify, 2 error");
  a.spot_check->add_option("--data", a.data, "Regulator data directory")->required();
  a.spot_check->add_option("--origin", a.origin, "The enterprise's origin")->required();
  a.spot_check->add_option("--seq", a.seq, "Fact sequence number (0-based)")->required();
  a.spot_check->add_option("--url", a.url, "The enterprise API's base URL")->required();
  a.spot_check
      ->add_option("--token-env", a.token_env,
                   "Variable holding a bearer token of a regulator-role user there")
      ->capture_default_str();

  auto serves = app.get_subcommands([](const CLI::App* s) { return s->get_name() == "serve"; });
  for (CLI::App* serve : serves) {
    serve->add_option("--regulator", a.push_url,
                      "Push each periodic checkpoint to this regulator URL");
    serve
        ->add_option("--regulator-token-env", a.push_token_env,
                     "Variable holding the push token, or code=token,code=token per organization")
        ->capture_default_str();
    serve->add_option("--regulator-key", a.push_vkey,
                      "The regulator's vkey; its co-signatures must verify with it");
  }
}

std::optional<int> RunRegulatorCommands(const RegulatorArgs& a) {
  core::SystemClock clock;
  if (*a.serve) return Serve(a, clock);
  if (*a.enroll) return Enroll(a, clock);
  if (*a.alerts) return Alerts(a, clock);
  if (*a.spot_check) return SpotCheck(a, clock);
  return std::nullopt;
}

Result<std::unique_ptr<RegulatorPush>> RegulatorPush::FromArgs(const RegulatorArgs& a) {
  if (a.push_url.empty()) return std::unique_ptr<RegulatorPush>();
  std::unique_ptr<RegulatorPush> p(new RegulatorPush());
  p->base_.url = a.push_url;
  p->base_.regulator_vkey = a.push_vkey;
  if (!a.push_vkey.empty()) {
    WG_RETURN_IF_ERROR(ledger::NoteKey::FromVerifierKey(a.push_vkey).status());
  }
  const char* env = std::getenv(a.push_token_env.c_str());
  if (env == nullptr || *env == '\0') {
    return Status::InvalidArgument("--regulator needs the push token in $" + a.push_token_env,
                                   "regulator-token-env");
  }
  const std::string value = env;
  if (value.find('=') == std::string::npos) {
    p->shared_token_ = std::string(core::Trim(value));
    return p;
  }
  for (std::string_view item : core::Split(value, ',')) {
    item = core::Trim(item);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      return Status::InvalidArgument("expected code=token,code=token in $" + a.push_token_env,
                                     "regulator-token-env");
    }
    p->tokens_[std::string(core::Trim(item.substr(0, eq)))] =
        std::string(core::Trim(item.substr(eq + 1)));
  }
  return p;
}

void RegulatorPush::PushAll(server::Installation& inst) const {
  auto orgs = inst.store().ListOrganizations();
  if (!orgs) {
    spdlog::error("regulator push: {}", orgs.error().ToString());
    return;
  }
  for (const auto& o : *orgs) {
    regulator::RegulatorEndpoint ep = base_;
    if (!shared_token_.empty()) {
      ep.token = shared_token_;
    } else if (auto it = tokens_.find(o.code); it != tokens_.end()) {
      ep.token = it->second;
    } else {
      continue;  // not enrolled with this regulator
    }
    auto r = regulator::PushCheckpointRemembered(inst.evidence(), o.id, ep);
    if (!r) {
      spdlog::error("regulator push of {} failed (retried next period): {}", o.code,
                    r.error().ToString());
    } else if (!r->up_to_date) {
      spdlog::info("regulator co-signed the checkpoint of {} at size {} ({} leaf hashes sent)",
                   o.code, r->size, r->leaves_sent);
    }
  }
}

}  // namespace wg::cli

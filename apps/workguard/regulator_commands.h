#pragma once
// The `regulator` commands of the CLI (docs/adr/0009-regulator-dual-chain.md,
// docs/formats/regulator.md): serve the regulator's endpoint, enroll enterprises, list
// alerts, spot-check a fact. Registered by AddRegulatorCommands, which also gives the
// enterprise `serve` command its --regulator options; run by RunRegulatorCommands when one
// of them was chosen. RegulatorPush is what `serve --regulator URL` does after each
// periodic checkpoint.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "wg/core/status.h"
#include "wg/regulator/push.h"
#include "wg/server/installation.h"

namespace wg::cli {

struct RegulatorArgs {
  std::string data;
  std::string listen = "127.0.0.1:8090";
  std::string key_name = "workguard-regulator";
  std::string origin;
  std::vector<std::string> keys;
  std::string hash = "sm3";
  bool new_token = false;
  std::uint64_t seq = 0;
  std::string url;
  std::string token_env = "WG_ENTERPRISE_TOKEN";
  // Enterprise `serve` options.
  std::string push_url;
  std::string push_token_env = "WG_REGULATOR_TOKEN";
  std::string push_vkey;
  CLI::App* serve = nullptr;
  CLI::App* enroll = nullptr;
  CLI::App* alerts = nullptr;
  CLI::App* spot_check = nullptr;
};

// Adds `regulator ...` to `app`, and --regulator, --regulator-token-env and
// --regulator-key to its `serve` subcommand when it has one.
void AddRegulatorCommands(CLI::App& app, RegulatorArgs& a);
// The exit code when one of the commands ran; nullopt when none was chosen.
std::optional<int> RunRegulatorCommands(const RegulatorArgs& a);

// Pushes each organization's latest checkpoint to the regulator. The token variable holds
// either one token (used for every organization) or "code=token,code=token".
class RegulatorPush {
 public:
  // nullptr when --regulator was not given; kInvalidArgument naming the option otherwise.
  static core::Result<std::unique_ptr<RegulatorPush>> FromArgs(const RegulatorArgs& a);
  // One push per organization with a token; failures are logged, the next call retries.
  void PushAll(server::Installation& inst) const;

 private:
  RegulatorPush() = default;
  regulator::RegulatorEndpoint base_;
  std::string shared_token_;                   // used for every organization when set
  std::map<std::string, std::string> tokens_;  // org code -> token
};

}  // namespace wg::cli

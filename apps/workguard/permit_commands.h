#pragma once
// The `permit` commands of the CLI (docs/formats/permit.md, docs/api.md#permits):
//   permit check FILE [--data DIR --org CODE] [--at TIME] [--stage S]
//       dry run of the rulebook and (with --data) the conflict check against the data
//       directory's open permits; prints the decision; exit 0 compliant, 1 blocked,
//       3 warnings only, 2 bad input.
//   permit create|list|show|history|submit|gas|sign|activate|suspend|resume|complete|
//          cancel|incident|print|authorize|expire  — the lifecycle on a data directory.

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace wg::cli {

inline constexpr int kExitWarnings = 3;

struct PermitArgs {
  std::string data;
  std::string org;
  std::string file;
  std::string at;
  std::string stage = "auto";
  std::string rules;
  std::int64_t id = 0;
  std::string reason;
  std::string user;
  std::string role;
  std::string password_env = "WG_PASSWORD";
  std::string format = "html";
  std::string out;
  std::string state;
  std::string site;
  std::string type;
  std::int64_t version = 0;
  int limit = 100;
  CLI::App* check = nullptr;
  CLI::App* create = nullptr;
  CLI::App* edit = nullptr;
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* history = nullptr;
  CLI::App* submit = nullptr;
  CLI::App* gas = nullptr;
  CLI::App* sign = nullptr;
  CLI::App* activate = nullptr;
  CLI::App* suspend = nullptr;
  CLI::App* resume = nullptr;
  CLI::App* complete = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* incident = nullptr;
  CLI::App* print = nullptr;
  CLI::App* authorize = nullptr;
  CLI::App* expire = nullptr;
};

void AddPermitCommands(CLI::App& app, PermitArgs& a);
// The exit code when one of the commands ran; nullopt when none was chosen.
std::optional<int> RunPermitCommands(const PermitArgs& a);

}  // namespace wg::cli

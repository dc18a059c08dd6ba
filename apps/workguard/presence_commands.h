#pragma once
// The `presence` commands of the CLI: read-only listings of people on site against a data
// directory (docs/formats/presence.md). Each prints a tab-separated table, or with --json
// one JSON document a line (register: one document).
//   presence tags --data DIR [--org CODE] [--json]
//       the tags with the person each is bound to now
//   presence fences --data DIR [--org CODE] [--json]
//       the zone fences (hazardous / restricted) and their zones
//   presence positions --data DIR [--org CODE] [--site CODE] [--json]
//       each tag's last sealed position (trajectory blocks are sealed a minute after the
//       minute they cover, so this lags the live map of a running server by about that)
//   presence register PERMIT-NUMBER --data DIR [--org CODE] [--json]
//       a confined-space permit's entry/exit register and who is inside

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace wg::cli {

struct PresenceArgs {
  std::string data;
  std::string org;
  std::string site;
  std::string permit;
  bool json = false;
  CLI::App* tags = nullptr;
  CLI::App* fences = nullptr;
  CLI::App* positions = nullptr;
  CLI::App* reg = nullptr;
};

void AddPresenceCommands(CLI::App& app, PresenceArgs& a);
// The exit code when one of the commands ran; nullopt when none was chosen.
std::optional<int> RunPresenceCommands(const PresenceArgs& a);

}  // namespace wg::cli

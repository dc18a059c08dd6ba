#pragma once
// The `ledger`, `evidence` and `vault` commands of the CLI (docs/formats/evidence-log.md,
// docs/formats/evidence-bundle.md). Registered on the app by AddEvidenceCommands; run by
// RunEvidenceCommands when one of them was chosen.

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace wg::cli {

struct EvidenceArgs {
  std::string data;
  std::string org;
  std::uint64_t seq = 0;
  std::uint64_t size = 0;
  std::string subject;
  std::string cert_number;
  std::string cert_kind = "special_operation";
  std::string out;
  std::string bundle;
  std::string trusted_key;
  CLI::App* verify = nullptr;
  CLI::App* proof = nullptr;
  CLI::App* checkpoint = nullptr;
  CLI::App* rotate = nullptr;
  CLI::App* sync = nullptr;
  CLI::App* key = nullptr;
  CLI::App* export_cmd = nullptr;
  CLI::App* verify_bundle = nullptr;
  // vault
  std::string file;
  std::string retention_class;
  std::string media_type;
  std::string name;
  std::string id;
  CLI::App* vault_put = nullptr;
  CLI::App* vault_get = nullptr;
  CLI::App* vault_list = nullptr;
  CLI::App* vault_expire = nullptr;
};

void AddEvidenceCommands(CLI::App& app, EvidenceArgs& a);
// The exit code when one of the commands ran; nullopt when none was chosen.
std::optional<int> RunEvidenceCommands(const EvidenceArgs& a);

}  // namespace wg::cli

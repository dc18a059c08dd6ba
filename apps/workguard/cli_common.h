#pragma once
// What every command of the CLI shares: the exit codes (0 success / may work, 1 a negative
// answer, 2 bad input or failure), error printing, HOST:PORT parsing and the actor name
// the CLI's facts carry.

#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <utility>

#include "wg/core/status.h"
#include "wg/core/strings.h"
#include "wg/server/installation.h"

namespace wg::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNegative = 1;
inline constexpr int kExitError = 2;

inline int Fail(const core::Status& s) {
  std::cerr << "workguard: error: " << s.ToString() << "\n";
  return kExitError;
}

inline core::Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return core::Status::InvalidArgument("expected HOST:PORT, e.g. 127.0.0.1:8080", "listen");
  }
  WG_ASSIGN_OR_RETURN(std::int64_t port,
                      core::ParseInt(listen.substr(colon + 1), 0, 65535, "listen"));
  return std::make_pair(listen.substr(0, colon), static_cast<int>(port));
}

// "cli:<login name>" (or the numeric uid when the name is unknown).
inline std::string CliActor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string("cli:") + (pw != nullptr ? pw->pw_name : std::to_string(::geteuid()));
}

// The organization named by --org, or the only one of the installation.
inline core::Result<core::OrgId> ResolveOrg(server::Installation& inst, const std::string& code) {
  if (!code.empty()) {
    WG_ASSIGN_OR_RETURN(auto org, inst.OrgByCode(code));
    return org.id;
  }
  WG_ASSIGN_OR_RETURN(auto orgs, inst.store().ListOrganizations());
  if (orgs.size() == 1) return orgs.front().id;
  return core::Status::InvalidArgument(
      orgs.empty() ? "the data directory has no organization"
                   : "the data directory has several organizations; name one with --org",
      "org");
}

}  // namespace wg::cli

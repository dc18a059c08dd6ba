#include "wg/domain/types.h"

#include <array>
#include <utility>

namespace wg::domain {
namespace {

template <typename E, std::size_t N>
core::Result<E> Lookup(const std::array<std::pair<E, std::string_view>, N>& table,
                       std::string_view s, std::string_view field, std::string_view what) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  std::string allowed;
  for (const auto& [e, name] : table) {
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
  }
  return core::Status::InvalidArgument(
      "unknown " + std::string(what) + " '" + std::string(s.substr(0, 40)) + "' (one of: " +
          allowed + ")",
      std::string(field));
}

template <typename E, std::size_t N>
std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<Role, std::string_view>, 9> kRoles{{
    {Role::kWorker, "worker"},
    {Role::kGuardian, "guardian"},
    {Role::kTeamLeader, "team_leader"},
    {Role::kApprover, "approver"},
    {Role::kSafetyManager, "safety_manager"},
    {Role::kSupervisor, "supervisor"},
    {Role::kRegulator, "regulator"},
    {Role::kAdmin, "admin"},
    {Role::kGateway, "gateway"},
}};

constexpr std::array<std::pair<WorkerStatus, std::string_view>, 3> kWorkerStatuses{{
    {WorkerStatus::kActive, "active"},
    {WorkerStatus::kSuspended, "suspended"},
    {WorkerStatus::kLeft, "left"},
}};

constexpr std::array<std::pair<CertKind, std::string_view>, 2> kCertKinds{{
    {CertKind::kSpecialOperation, "special_operation"},
    {CertKind::kSpecialEquipment, "special_equipment"},
}};

constexpr std::array<std::pair<CertStatus, std::string_view>, 3> kCertStatuses{{
    {CertStatus::kActive, "active"},
    {CertStatus::kRevoked, "revoked"},
    {CertStatus::kCancelled, "cancelled"},
}};

}  // namespace

std::string_view RoleName(Role r) { return Name(kRoles, r); }
core::Result<Role> ParseRole(std::string_view s, std::string_view field) {
  return Lookup(kRoles, s, field, "role");
}
std::string_view WorkerStatusName(WorkerStatus s) { return Name(kWorkerStatuses, s); }
core::Result<WorkerStatus> ParseWorkerStatus(std::string_view s, std::string_view field) {
  return Lookup(kWorkerStatuses, s, field, "worker status");
}
std::string_view CertKindName(CertKind k) { return Name(kCertKinds, k); }
core::Result<CertKind> ParseCertKind(std::string_view s, std::string_view field) {
  return Lookup(kCertKinds, s, field, "certificate kind");
}
std::string_view CertStatusName(CertStatus s) { return Name(kCertStatuses, s); }
core::Result<CertStatus> ParseCertStatus(std::string_view s, std::string_view field) {
  return Lookup(kCertStatuses, s, field, "certificate status");
}

}  // namespace wg::domain

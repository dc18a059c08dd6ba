#pragma once
// Value types shared by every subsystem: organizations (tenants), sites, users and their
// roles, workers and their certificates. Plain structs, copyable, no behaviour beyond
// name<->enum conversion; rules live in `registry`, persistence in `store`.
//
// Privacy: a Worker never holds a national ID number in clear. It holds a per-worker
// random salt, the keyed digest of (salt, ID) and the last four characters for people
// to recognise a record (see docs/adr/0003-national-id-digests.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wg/core/ids.h"
#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::domain {

using core::CertificateId;
using core::Date;
using core::OrgId;
using core::SiteId;
using core::Timestamp;
using core::UserId;
using core::WorkerId;

struct Organization {
  OrgId id;
  std::string code;  // short unique handle, [a-z0-9-]{2,32}
  std::string name;
  Timestamp created_at;
};

struct Site {
  SiteId id;
  OrgId org_id;
  std::string code;
  std::string name;
  std::string address;
  Timestamp created_at;
};

enum class Role {
  kWorker,         // 作业人员
  kGuardian,       // 监护人
  kTeamLeader,     // 班组长
  kApprover,       // 审批人
  kSafetyManager,  // 安全管理人员
  kSupervisor,     // 监理
  kRegulator,      // 监管人员
  kAdmin,          // 管理员
  kGateway,        // 网关/设备账户: a sensor gateway posting readings (POST /api/v1/readings only)
};

std::string_view RoleName(Role r);
core::Result<Role> ParseRole(std::string_view s, std::string_view field = "role");

struct User {
  UserId id;
  OrgId org_id;
  std::string username;  // unique across the installation, [a-z0-9._-]{3,64}
  std::string display_name;
  Role role = Role::kWorker;
  std::string password_hash;  // argon2id encoded string; never leaves the store layer
  bool active = true;
  Timestamp created_at;
};

enum class WorkerStatus { kActive, kSuspended, kLeft };
std::string_view WorkerStatusName(WorkerStatus s);
core::Result<WorkerStatus> ParseWorkerStatus(std::string_view s,
                                             std::string_view field = "status");

struct Worker {
  WorkerId id;
  OrgId org_id;
  std::string code;  // employer's staff number, unique within the organization
  std::string name;
  std::string employer;
  std::string id_salt;    // 16 random bytes, hex
  std::string id_digest;  // HMAC-SM3(installation key, salt || normalized ID), hex
  std::string id_last4;   // last four characters of the ID, for display only
  // HMAC-SM3(installation key, "wg-id-lookup|" || normalized ID), hex, unsalted: unique per
  // organization so one person is never registered twice under two codes. Empty for rows
  // written before schema version 2.
  std::string id_lookup;
  std::string phone;
  std::string photo_ref;  // vault reference or URL of the photo; empty when none
  WorkerStatus status = WorkerStatus::kActive;
  Timestamp created_at;
  Timestamp updated_at;
};

// Which regulatory scheme a certificate belongs to.
enum class CertKind {
  kSpecialOperation,  // 特种作业操作证 (MEM catalog, Order 30 / Order 19)
  kSpecialEquipment,  // 特种设备作业人员证 (SAMR, TSG Z6001-2019)
};
std::string_view CertKindName(CertKind k);
core::Result<CertKind> ParseCertKind(std::string_view s, std::string_view field = "kind");

enum class CertStatus {
  kActive,     // 有效 (subject to dates and reviews)
  kRevoked,    // 撤销/吊销
  kCancelled,  // 注销
};
std::string_view CertStatusName(CertStatus s);
core::Result<CertStatus> ParseCertStatus(std::string_view s, std::string_view field = "status");

struct Certificate {
  CertificateId id;
  OrgId org_id;
  WorkerId worker_id;
  CertKind kind = CertKind::kSpecialOperation;
  std::string category;  // catalog category code, e.g. "welding"
  std::string item;      // catalog item code, e.g. "fusion_welding" or "Q2"
  std::string number;    // certificate number as printed; unique per (org, kind)
  std::string authority; // issuing authority
  Date issue_date;
  Date expiry_date;
  std::optional<Date> last_review_date;    // latest passed 复审
  std::optional<Date> practice_since;      // start of continuous practice in the trade
  bool review_extension_granted = false;   // authority agreed to the 6-year review interval
  int violations = 0;                      // verified violations during validity
  CertStatus status = CertStatus::kActive;
  std::string status_reason;  // reason code for revocation/cancellation (rules data)
  Timestamp created_at;
  Timestamp updated_at;
};

}  // namespace wg::domain

#include "wg/domain/types.h"

#include <gtest/gtest.h>

namespace wg::domain {
namespace {

TEST(DomainTypesTest, EnumNamesRoundTrip) {
  for (Role r : {Role::kWorker, Role::kGuardian, Role::kTeamLeader, Role::kApprover,
                 Role::kSafetyManager, Role::kSupervisor, Role::kRegulator, Role::kAdmin,
                 Role::kGateway}) {
    EXPECT_EQ(*ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(*ParseCertKind("special_equipment"), CertKind::kSpecialEquipment);
  EXPECT_EQ(*ParseCertStatus("revoked"), CertStatus::kRevoked);
  EXPECT_EQ(*ParseWorkerStatus("left"), WorkerStatus::kLeft);
}

TEST(DomainTypesTest, UnknownNamesAreRejectedWithField) {
  auto r = ParseRole("boss", "body.role");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field(), "body.role");
  EXPECT_NE(r.error().message().find("safety_manager"), std::string::npos);
}

}  // namespace
}  // namespace wg::domain

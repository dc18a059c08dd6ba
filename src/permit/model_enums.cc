// Codes and names of permit types, grades and states (model.h).
#include <array>

#include "wg/permit/model.h"

namespace wg::permit {

namespace {

struct TypeName {
  PermitType type;
  std::string_view code;
  std::string_view zh;
};

constexpr std::array<TypeName, kPermitTypeCount> kTypes = {{
    {PermitType::kHotWork, "hot_work", "动火作业"},
    {PermitType::kConfinedSpace, "confined_space", "受限空间作业"},
    {PermitType::kBlindPlate, "blind_plate", "盲板抽堵作业"},
    {PermitType::kHeight, "work_at_height", "高处作业"},
    {PermitType::kLifting, "lifting", "吊装作业"},
    {PermitType::kTemporaryPower, "temporary_power", "临时用电作业"},
    {PermitType::kExcavation, "excavation", "动土作业"},
    {PermitType::kRoadBreaking, "road_breaking", "断路作业"},
}};

struct StateName {
  State state;
  std::string_view code;
  std::string_view zh;
};

constexpr std::array<StateName, 9> kStates = {{
    {State::kDraft, "draft", "编制中"},
    {State::kPendingGasTest, "pending_gas_test", "待气体分析"},
    {State::kPendingSignatures, "pending_signatures", "待签批"},
    {State::kApproved, "approved", "已批准"},
    {State::kActive, "active", "作业中"},
    {State::kSuspended, "suspended", "暂停"},
    {State::kCompleted, "completed", "已完工"},
    {State::kCancelled, "cancelled", "已取消"},
    {State::kExpired, "expired", "已过期"},
}};

struct GradeName {
  PermitType type;
  std::string_view code;
  std::string_view zh;
  int rank;
};

constexpr std::array<GradeName, 10> kGrades = {{
    {PermitType::kHotWork, "grade2", "二级", 0},
    {PermitType::kHotWork, "grade1", "一级", 1},
    {PermitType::kHotWork, "special", "特级", 2},
    {PermitType::kHeight, "I", "Ⅰ级", 0},
    {PermitType::kHeight, "II", "Ⅱ级", 1},
    {PermitType::kHeight, "III", "Ⅲ级", 2},
    {PermitType::kHeight, "IV", "Ⅳ级", 3},
    {PermitType::kLifting, "grade3", "三级", 0},
    {PermitType::kLifting, "grade2", "二级", 1},
    {PermitType::kLifting, "grade1", "一级", 2},
}};

bool Graded(PermitType t) {
  return t == PermitType::kHotWork || t == PermitType::kHeight || t == PermitType::kLifting;
}

}  // namespace

std::string_view PermitTypeCode(PermitType t) { return kTypes[static_cast<int>(t)].code; }
std::string_view PermitTypeNameZh(PermitType t) { return kTypes[static_cast<int>(t)].zh; }

core::Result<PermitType> ParsePermitType(std::string_view s, std::string_view field) {
  for (const auto& t : kTypes) {
    if (t.code == s || t.zh == s) return t.type;
  }
  return core::Status::InvalidArgument(
      "unknown permit type; one of hot_work, confined_space, blind_plate, work_at_height, "
      "lifting, temporary_power, excavation, road_breaking",
      std::string(field));
}

int GradeRank(PermitType t, std::string_view grade) {
  if (!Graded(t)) return grade.empty() ? 0 : -1;
  for (const auto& g : kGrades) {
    if (g.type == t && g.code == grade) return g.rank;
  }
  return -1;
}

std::string NextGradeUp(PermitType t, std::string_view grade) {
  const int rank = GradeRank(t, grade);
  if (rank < 0) return std::string(grade);
  const GradeName* best = nullptr;
  for (const auto& g : kGrades) {
    if (g.type != t) continue;
    if (g.rank == rank + 1) return std::string(g.code);
    if (g.rank == rank) best = &g;
  }
  return best != nullptr ? std::string(best->code) : std::string(grade);
}

std::string_view GradeNameZh(PermitType t, std::string_view grade) {
  for (const auto& g : kGrades) {
    if (g.type == t && g.code == grade) return g.zh;
  }
  return {};
}

std::string_view StateCode(State s) { return kStates[static_cast<int>(s)].code; }
std::string_view StateNameZh(State s) { return kStates[static_cast<int>(s)].zh; }

core::Result<State> ParseState(std::string_view s, std::string_view field) {
  for (const auto& st : kStates) {
    if (st.code == s) return st.state;
  }
  return core::Status::InvalidArgument(
      "unknown state; one of draft, pending_gas_test, pending_signatures, approved, active, "
      "suspended, completed, cancelled, expired",
      std::string(field));
}

bool IsTerminal(State s) {
  return s == State::kCompleted || s == State::kCancelled || s == State::kExpired;
}

bool IsOpen(State s) {
  return s == State::kApproved || s == State::kActive || s == State::kSuspended;
}

std::vector<const Person*> PeopleWithRole(const Permit& p, std::string_view role) {
  std::vector<const Person*> out;
  for (const auto& person : p.people) {
    if (person.role == role) out.push_back(&person);
  }
  return out;
}

std::string ContentDigestAt(const Permit& p, core::Timestamp signed_at) {
  Permit copy = p;
  std::erase_if(copy.gas, [&](const GasReading& g) { return g.time > signed_at; });
  return ContentDigest(copy);
}

}  // namespace wg::permit

// The permit document: strict parsing (every error names its JSON path), the writer's
// exact round trip, the example documents, the schema drift check and the canonical
// content every signer signs.
#include "wg/permit/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "wg/core/strings.h"

namespace wg::permit {
namespace {

using core::Json;
using core::StatusCode;
using core::Timestamp;

// docs/ is found from this source file: <repo>/src/permit/model_test.cc.
std::filesystem::path RepoPath(std::string_view relative) {
  return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / relative;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Timestamp At(std::string_view rfc3339) {
  auto t = core::ParseTimestamp(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(Timestamp{});
}

// The smallest valid client document (grade-1 hot work).
Json MinimalHotWork() {
  return Json::parse(R"({
    "site": "plant-a",
    "type": "hot_work",
    "grade": "grade1",
    "title": "管廊 PR-3 支架焊接",
    "location": {"zone": "U-100", "point": {"x": 312.5, "y": 148}},
    "planned_start": "2026-12-08T08:30:00+08:00",
    "planned_end": "2026-12-08T16:30:00+08:00",
    "people": [
      {"role": "work_leader", "username": "zhang.san", "worker_code": "W0001"},
      {"role": "guardian", "username": "li.si"},
      {"role": "performer", "worker_code": "W0003"}
    ],
    "gas": [{"time": "2026-12-08T08:05:00+08:00", "point": "焊口下方", "gas": "CH4",
             "value": 0.1, "unit": "%vol"}],
    "measures": [{"code": "hot_work.2", "text": "盲板隔离"}],
    "hot_work": {"method": "welding", "nearby": [{"kind": "painting", "distance_m": 45}]}
  })");
}

// 64 bytes in base64url without padding (86 characters).
std::string SignatureB64() { return std::string(85, 'A') + "w"; }

Signature MakeSignature(std::string role, std::string username) {
  Signature s;
  s.role = std::move(role);
  s.username = username;
  s.signed_at = At("2026-12-08T08:20:00+08:00");
  s.key_id = username + "/k1";
  s.digest = std::string(64, 'a');
  s.signature = SignatureB64();
  return s;
}

// A permit with every member of every object set to a non-default value, service fields
// included (all eight sections, although a document carries only one: the writer must
// still write them all, and the reader is exercised per section below).
Permit FullPermit() {
  Permit p;
  p.id = 42;
  p.number = "DH-20261208-0003";
  p.org = "plant-a-org";
  p.site = "plant-a";
  p.type = PermitType::kHotWork;
  p.grade = "special";
  p.state = State::kActive;
  p.version = 7;
  p.supersedes = "DH-20261207-0001";
  p.title = "常压塔 T-101 塔顶管线带压开孔";
  p.work_unit = "检修二队";
  p.owning_unit = "常减压车间";
  p.location.zone = "U-100";
  p.location.description = "T-101 塔顶平台\n东侧";
  p.location.point = {123.25, -45.5};
  p.location.elevation_m = 38.75;
  p.location.fence = {{100, -60}, {150, -60}, {150, -30}, {100, -30}};
  p.location.area_class = "fire_explosion_hazard";
  p.location.outdoor = false;
  p.planned_start = At("2026-12-08T08:30:00+08:00");
  p.planned_end = At("2026-12-08T16:30:00.123456+08:00");
  p.hazard_analysis = "带压开孔，介质为油气。\t见方案。";
  p.hazards = {"fire", "explosion"};
  p.measures = {Measure{.code = "hot_work.1",
                        .text = "清洗置换",
                        .involved = false,
                        .confirmer = "li.si",
                        .confirmed_at = At("2026-12-08T08:10:00+08:00")},
                Measure{.code = "custom",
                        .text = "专人巡检",
                        .involved = true,
                        .confirmer = "",
                        .confirmed_at = std::nullopt}};
  p.people = {Person{.role = "performer",
                     .worker_code = "W0003",
                     .username = "wang.jg",
                     .name = "王建国",
                     .certificate_numbers = {"T320102202301010003"}},
              Person{.role = "guardian",
                     .worker_code = "",
                     .username = "li.si",
                     .name = "李四",
                     .certificate_numbers = {}}};
  p.linked_permits = {"LD-20261207-0001"};
  p.activities = {"welding", "hot_tapping"};
  p.gas = {GasReading{.time = At("2026-12-08T08:05:00+08:00"),
                      .point = "塔顶",
                      .gas = "CH4",
                      .value = 0.1,
                      .unit = "%vol",
                      .analyst = "陈立明",
                      .instrument = "BW-1037",
                      .continuous = true}};
  p.environment = Environment{.wind_force = 3, .weather = {"fog"}, .temperature_c = -2.5};
  Signature s = MakeSignature("approver", "wang.wu");
  s.opinion = "同意";
  s.position = Point{120, -44};
  p.signatures = {s, MakeSignature("applicant", "zhang.san")};
  p.hot_work = HotWorkSection{
      .method = "cutting",
      .on_running_equipment = true,
      .hot_tapping = true,
      .shutdown_and_isolated = true,
      .oxygen_equipment = true,
      .in_fixed_hot_work_area = true,
      .nearby = {NearbyActivity{.kind = "venting", .distance_m = 31.5, .description = "放空"}},
      .oxygen_acetylene_distance_m = 5.5,
      .cylinder_to_point_distance_m = 10.25,
      .welder_machine_distance_m = 9,
      .video_cameras = {"CAM-01"},
      .written_plan_ref = "方案 FA-2026-031",
      .continuous_monitor = "GD-101",
      .isolation = {"blind_plate", "pipe_removed"}};
  p.confined_space = ConfinedSpaceSection{.space_name = "V-205",
                                          .original_medium = "石脑油",
                                          .oxygen_enriched = true,
                                          .isolation = {"blind_plate"},
                                          .ventilation = "forced",
                                          .lighting_voltage_v = 12,
                                          .wet_or_cramped = true,
                                          .previously_flammable = true,
                                          .continuous_monitor = "GD-205"};
  p.blind_plate = BlindPlateSection{
      .pipeline = "P-1203",
      .medium = "原料油",
      .temperature_c = 38.5,
      .pressure_mpa = 0.05,
      .plates = {BlindPlate{
          .number = "MB-07", .action = "remove", .material = "20#", .size = "DN200"}},
      .diagram_ref = "图 3",
      .toxic_line = true,
      .actual_start = At("2026-12-08T09:00:00+08:00")};
  p.height = HeightSection{.height_m = 18.5,
                           .method_b_factors = {"low_temperature"},
                           .raising_situations = {"near_opening"},
                           .grade = "IV",
                           .protective_layer = true};
  p.lifting = LiftingSection{.mass_t = 46.5,
                             .grade = "grade2",
                             .complex_load = true,
                             .plan_ref = "DZFA-041",
                             .risk_analysis_ref = "RA-9",
                             .cranes = 2,
                             .max_load_ratio = 0.72,
                             .test_lift_done = true};
  p.temporary_power = TemporaryPowerSection{.voltage = "380V",
                                            .load_kw = 36.5,
                                            .hazardous_area = true,
                                            .access_point = "JX-03",
                                            .supply_unit = "电气车间"};
  p.excavation = ExcavationSection{.depth_m = 1.5,
                                   .area_m2 = 24,
                                   .hazardous_area = true,
                                   .sketch_ref = "DT-017",
                                   .cosigned_departments = {"water", "power"},
                                   .buried_facilities_surveyed = true};
  p.road_breaking = RoadBreakingSection{.road = "3 号路",
                                        .traffic_plan_ref = "DL-009",
                                        .fire_lane_kept = true,
                                        .short_fixed_point = true,
                                        .cosigned_departments = {"fire", "safety"}};
  p.approved_at = At("2026-12-08T08:25:00+08:00");
  p.started_at = At("2026-12-08T08:31:00+08:00");
  p.last_suspended_at = At("2026-12-08T12:00:00+08:00");
  p.ended_at = At("2026-12-08T16:00:00+08:00");
  p.created_by = "zhang.san";
  p.created_at = At("2026-12-07T15:00:00+08:00");
  p.updated_at = At("2026-12-08T16:00:00+08:00");
  return p;
}

// The same permit carrying only the section of `type` (what a document can hold).
Permit OnlySection(Permit p, PermitType type) {
  p.type = type;
  p.grade = type == PermitType::kHotWork   ? "special"
            : type == PermitType::kHeight  ? "IV"
            : type == PermitType::kLifting ? "grade2"
                                           : "";
  if (type != PermitType::kHotWork) p.hot_work.reset();
  if (type != PermitType::kConfinedSpace) p.confined_space.reset();
  if (type != PermitType::kBlindPlate) p.blind_plate.reset();
  if (type != PermitType::kHeight) p.height.reset();
  if (type != PermitType::kLifting) p.lifting.reset();
  if (type != PermitType::kTemporaryPower) p.temporary_power.reset();
  if (type != PermitType::kExcavation) p.excavation.reset();
  if (type != PermitType::kRoadBreaking) p.road_breaking.reset();
  return p;
}

// Expects kInvalidArgument naming exactly `field`.
void ExpectError(const Json& doc, std::string_view field, bool service_fields = false,
                 const PermitLimits& limits = {}) {
  auto r = ParsePermit(doc, service_fields, limits);
  ASSERT_FALSE(r.has_value()) << "accepted; expected an error at " << field;
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << r.error().ToString();
  EXPECT_EQ(r.error().field(), field) << r.error().ToString();
}

// A JSON pointer from the dotted form used in the tests ("people/0/role").
Json& Node(Json& doc, std::string_view pointer) {
  return doc[Json::json_pointer("/" + std::string(pointer))];
}

void Erase(Json& doc, std::string_view pointer) {
  Json::json_pointer ptr("/" + std::string(pointer));
  doc[ptr.parent_pointer()].erase(ptr.back());
}

const char* const kExampleFiles[] = {"hot_work", "confined_space",  "blind_plate", "work_at_height",
                                     "lifting",  "temporary_power", "excavation",  "road_breaking"};

// --- valid documents ---------------------------------------------------------------------

TEST(ParsePermit, MinimalDocument) {
  auto p = ParsePermit(MinimalHotWork());
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->type, PermitType::kHotWork);
  EXPECT_EQ(p->grade, "grade1");
  EXPECT_EQ(p->state, State::kDraft);
  EXPECT_EQ(p->version, 1);
  EXPECT_EQ(p->location.point.x, 312.5);
  EXPECT_EQ(p->location.point.y, 148.0);
  EXPECT_TRUE(p->location.outdoor);
  EXPECT_EQ(p->planned_start, At("2026-12-08T00:30:00Z"));
  ASSERT_EQ(p->people.size(), 3u);
  EXPECT_EQ(p->people[1].worker_code, "");
  EXPECT_TRUE(p->measures[0].involved);
  ASSERT_TRUE(p->hot_work.has_value());
  EXPECT_EQ(p->hot_work->nearby[0].distance_m, 45.0);
  EXPECT_FALSE(p->confined_space.has_value());
  EXPECT_EQ(PeopleWithRole(*p, "guardian").size(), 1u);
}

TEST(ParsePermit, ExamplesParseAndRoundTrip) {
  for (const char* name : kExampleFiles) {
    SCOPED_TRACE(name);
    const std::string text =
        ReadFile(RepoPath(std::string("docs/examples/permits/") + name + ".json"));
    ASSERT_FALSE(text.empty()) << "missing example " << name;
    auto p = ParsePermitText(text);
    ASSERT_TRUE(p.has_value()) << p.error().ToString();
    EXPECT_EQ(PermitTypeCode(p->type), name);
    EXPECT_FALSE(p->people.empty());
    EXPECT_FALSE(p->measures.empty());
    EXPECT_EQ(core::ShanghaiDate(p->planned_start).month(), 12u);
    auto back = ParsePermit(ToJson(*p), /*service_fields=*/true);
    ASSERT_TRUE(back.has_value()) << back.error().ToString();
    EXPECT_EQ(*back, *p);
    auto via_text = ParsePermitText(core::DumpJson(ToJson(*p)), true);
    ASSERT_TRUE(via_text.has_value()) << via_text.error().ToString();
    EXPECT_EQ(*via_text, *p);
  }
}

TEST(ParsePermit, FullPermitRoundTripsForEveryType) {
  for (int i = 0; i < kPermitTypeCount; ++i) {
    const auto type = static_cast<PermitType>(i);
    SCOPED_TRACE(PermitTypeCode(type));
    const Permit p = OnlySection(FullPermit(), type);
    auto back = ParsePermit(ToJson(p), /*service_fields=*/true);
    ASSERT_TRUE(back.has_value()) << back.error().ToString();
    EXPECT_EQ(*back, p);
    auto via_text = ParsePermitText(core::DumpJson(ToJson(p), 2), true);
    ASSERT_TRUE(via_text.has_value()) << via_text.error().ToString();
    EXPECT_EQ(*via_text, p);
  }
}

TEST(ParsePermit, RoundTripKeepsDefaultsAndEmptyOptionals) {
  auto p = ParsePermit(MinimalHotWork());
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  const Json j = ToJson(*p);
  EXPECT_FALSE(j.contains("id"));
  EXPECT_FALSE(j.contains("environment"));
  EXPECT_FALSE(j.contains("signatures"));
  EXPECT_FALSE(j.contains("created_at"));
  EXPECT_EQ(j["state"], "draft");
  EXPECT_EQ(j["version"], 1);
  auto back = ParsePermit(j, true);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(*back, *p);
}

// The writer writes every member the reader accepts (given a value that is not the
// default), so no member can be read but silently dropped on the way back.
TEST(ParsePermit, WriterCoversEveryMember) {
  const Permit p = FullPermit();
  const Json j = ToJson(p);
  auto keys = [](const Json& o) {
    std::set<std::string> out;
    for (auto it = o.begin(); it != o.end(); ++it) out.insert(it.key());
    return out;
  };
  auto members = [](std::string_view object) {
    std::set<std::string> out;
    for (auto m : DocumentMembers(object)) out.insert(std::string(m));
    return out;
  };
  std::set<std::string> top = members("permit");
  for (auto m : ServiceMembers()) top.insert(std::string(m));
  EXPECT_EQ(keys(j), top);
  EXPECT_EQ(keys(j["location"]), members("location"));
  EXPECT_EQ(keys(j["location"]["point"]), members("point"));
  EXPECT_EQ(keys(j["people"][0]), members("person"));
  EXPECT_EQ(keys(j["measures"][0]), members("measure"));
  EXPECT_EQ(keys(j["gas"][0]), members("gas"));
  EXPECT_EQ(keys(j["signatures"][0]), members("signature"));
  EXPECT_EQ(keys(j["environment"]), members("environment"));
  EXPECT_EQ(keys(j["hot_work"]["nearby"][0]), members("nearby"));
  EXPECT_EQ(keys(j["blind_plate"]["plates"][0]), members("plate"));
  for (std::string_view section : {"hot_work", "confined_space", "blind_plate", "height", "lifting",
                                   "temporary_power", "excavation", "road_breaking"}) {
    EXPECT_EQ(keys(j[std::string(section)]), members(section)) << section;
  }
  EXPECT_TRUE(DocumentMembers("no_such_object").empty());
}

TEST(ParsePermit, AcceptsSignaturesInClientDocument) {
  Json doc = MinimalHotWork();
  doc["signatures"] =
      Json::array({{{"role", "applicant"},
                    {"username", "zhang.san"},
                    {"signed_at", "2026-12-08T08:20:00+08:00"},
                    {"key_id", "zhang.san/k2"},
                    {"digest", std::string(64, '0')},
                    {"signature", std::string(85, '_') + "w"},  // base64url, unpadded
                    {"position", {{"x", 1}, {"y", 2}}}}});
  auto p = ParsePermit(doc);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ASSERT_EQ(p->signatures.size(), 1u);
  EXPECT_EQ(p->signatures[0].key_id, "zhang.san/k2");
  ASSERT_TRUE(p->signatures[0].position.has_value());
  EXPECT_EQ(p->signatures[0].position->y, 2.0);
}

TEST(ParsePermit, AcceptsServiceFieldsWhenReadingBack) {
  Json doc = MinimalHotWork();
  doc["id"] = 9;
  doc["number"] = "DH-20261208-0001";
  doc["state"] = "approved";
  doc["version"] = 3;
  doc["approved_at"] = "2026-12-08T08:25:00+08:00";
  auto p = ParsePermit(doc, /*service_fields=*/true);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->id, 9);
  EXPECT_EQ(p->state, State::kApproved);
  EXPECT_EQ(p->version, 3);
  ASSERT_TRUE(p->approved_at.has_value());
  doc["state"] = "finished";
  ExpectError(doc, "state", true);
  doc["state"] = "approved";
  doc["version"] = 0;
  ExpectError(doc, "version", true);
}

// --- malformed documents -----------------------------------------------------------------

TEST(ParsePermitText, MalformedJson) {
  for (std::string_view text :
       {"", "{", "{\"site\": }", "[1,2", "{\"a\":1}}", "nul", "{\"value\": 1e400}"}) {
    auto r = ParsePermitText(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(r.error().field(), "permit") << text;
  }
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  EXPECT_FALSE(ParsePermitText(deep).has_value());
}

TEST(ParsePermit, NotAnObject) {
  ExpectError(Json::array(), "permit");
  ExpectError(Json("hot_work"), "permit");
  ExpectError(Json(), "permit");
}

TEST(ParsePermit, EachMissingRequiredFieldIsNamed) {
  for (std::string_view pointer : {"type",
                                   "site",
                                   "title",
                                   "location",
                                   "planned_start",
                                   "planned_end",
                                   "hot_work",
                                   "location/zone",
                                   "location/point",
                                   "location/point/x",
                                   "location/point/y",
                                   "people/0/role",
                                   "measures/0/code",
                                   "measures/0/text",
                                   "gas/0/time",
                                   "gas/0/point",
                                   "gas/0/gas",
                                   "gas/0/value",
                                   "gas/0/unit",
                                   "hot_work/method",
                                   "hot_work/nearby/0/kind",
                                   "hot_work/nearby/0/distance_m"}) {
    SCOPED_TRACE(pointer);
    Json doc = MinimalHotWork();
    Erase(doc, pointer);
    std::string field(pointer);
    // "people/0/role" -> "people[0].role"
    std::string want;
    for (auto part : core::Split(field, '/')) {
      if (!part.empty() &&
          std::all_of(part.begin(), part.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        want += "[" + std::string(part) + "]";
      } else {
        want += (want.empty() ? "" : ".") + std::string(part);
      }
    }
    ExpectError(doc, want);
  }
}

TEST(ParsePermit, EmptyRequiredStringIsMissing) {
  Json doc = MinimalHotWork();
  doc["title"] = "";
  ExpectError(doc, "title");
  doc = MinimalHotWork();
  doc["location"]["zone"] = "";
  ExpectError(doc, "location.zone");
}

TEST(ParsePermit, SectionRequiredMembersPerType) {
  struct Case {
    PermitType type;
    const char* missing;
  };
  for (const Case& c :
       {Case{PermitType::kConfinedSpace, "space_name"}, Case{PermitType::kBlindPlate, "pipeline"},
        Case{PermitType::kHeight, "height_m"}, Case{PermitType::kLifting, "mass_t"},
        Case{PermitType::kTemporaryPower, "voltage"}, Case{PermitType::kExcavation, "depth_m"},
        Case{PermitType::kRoadBreaking, "road"}}) {
    Json doc = ToJson(OnlySection(FullPermit(), c.type));
    std::string section;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it->is_object() && it.key() != "location" && it.key() != "environment") {
        section = it.key();
      }
    }
    doc[section].erase(c.missing);
    ExpectError(doc, section + "." + c.missing, true);
  }
}

TEST(ParsePermit, WrongJsonTypes) {
  struct Case {
    const char* pointer;
    Json value;
    const char* field;
  };
  const Case cases[] = {
      {"site", 5, "site"},
      {"type", Json::array({"hot_work"}), "type"},
      {"title", true, "title"},
      {"location", "U-100", "location"},
      {"location/point", Json::array({1, 2}), "location.point"},
      {"location/point/x", "312.5", "location.point.x"},
      {"location/outdoor", "yes", "location.outdoor"},
      {"location/fence", Json::object(), "location.fence"},
      {"planned_start", 1796689800, "planned_start"},
      {"people", Json::object(), "people"},
      {"people/2", "W0003", "people[2]"},
      {"people/2/role", 1, "people[2].role"},
      {"people/2/certificate_numbers", "T1", "people[2].certificate_numbers"},
      {"people/2/certificate_numbers", Json::array({1}), "people[2].certificate_numbers[0]"},
      {"measures/0/involved", 1, "measures[0].involved"},
      {"gas/0/value", "0.1", "gas[0].value"},
      {"gas/0/continuous", nullptr, "gas[0].continuous"},
      {"hazards", "fire", "hazards"},
      {"environment", Json::array(), "environment"},
      {"environment/wind_force", 3.5, "environment.wind_force"},
      {"hot_work", Json::array(), "hot_work"},
      {"hot_work/on_running_equipment", "false", "hot_work.on_running_equipment"},
      {"hot_work/nearby/0/distance_m", "45", "hot_work.nearby[0].distance_m"},
      {"signatures", Json::object(), "signatures"},
      {"site", nullptr, "site"},
      {"grade", nullptr, "grade"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    Json doc = MinimalHotWork();
    Node(doc, c.pointer) = c.value;
    ExpectError(doc, c.field);
  }
}

TEST(ParsePermit, OutOfRangeNumbers) {
  struct Case {
    PermitType type;
    const char* pointer;
    Json value;
    const char* field;
  };
  const Case cases[] = {
      {PermitType::kHotWork, "environment/wind_force", 18, "environment.wind_force"},
      {PermitType::kHotWork, "environment/wind_force", -1, "environment.wind_force"},
      {PermitType::kHotWork, "environment/temperature_c", 70, "environment.temperature_c"},
      {PermitType::kHotWork, "location/point/x", 1.5e7, "location.point.x"},
      {PermitType::kHotWork, "location/point/y", -1e8, "location.point.y"},
      {PermitType::kHotWork, "location/fence/3/x", 2e7, "location.fence[3].x"},
      {PermitType::kHotWork, "location/elevation_m", 1001, "location.elevation_m"},
      {PermitType::kHotWork, "gas/0/value", -0.1, "gas[0].value"},
      {PermitType::kHotWork, "gas/0/value", 100.5, "gas[0].value"},
      {PermitType::kHotWork, "hot_work/nearby/0/distance_m", 100001,
       "hot_work.nearby[0].distance_m"},
      {PermitType::kHotWork, "hot_work/nearby/0/distance_m", -1, "hot_work.nearby[0].distance_m"},
      {PermitType::kHotWork, "hot_work/welder_machine_distance_m", -0.5,
       "hot_work.welder_machine_distance_m"},
      {PermitType::kHotWork, "signatures/0/position/x", 1e9, "signatures[0].position.x"},
      {PermitType::kHeight, "height/height_m", 1000.5, "height.height_m"},
      {PermitType::kHeight, "height/height_m", -2, "height.height_m"},
      {PermitType::kLifting, "lifting/mass_t", 20001, "lifting.mass_t"},
      {PermitType::kLifting, "lifting/mass_t", -1, "lifting.mass_t"},
      {PermitType::kLifting, "lifting/cranes", 0, "lifting.cranes"},
      {PermitType::kLifting, "lifting/cranes", 18446744073709551615ull, "lifting.cranes"},
      {PermitType::kLifting, "lifting/max_load_ratio", 1.2, "lifting.max_load_ratio"},
      {PermitType::kExcavation, "excavation/depth_m", 100.01, "excavation.depth_m"},
      {PermitType::kExcavation, "excavation/area_m2", -3, "excavation.area_m2"},
      {PermitType::kBlindPlate, "blind_plate/pressure_mpa", -0.2, "blind_plate.pressure_mpa"},
      {PermitType::kBlindPlate, "blind_plate/temperature_c", -300, "blind_plate.temperature_c"},
      {PermitType::kConfinedSpace, "confined_space/lighting_voltage_v", 5000,
       "confined_space.lighting_voltage_v"},
      {PermitType::kTemporaryPower, "temporary_power/load_kw", -1, "temporary_power.load_kw"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    Json doc = ToJson(OnlySection(FullPermit(), c.type));
    Node(doc, c.pointer) = c.value;
    ExpectError(doc, c.field, /*service_fields=*/true);
  }
}

TEST(ParsePermit, GasValueLimitDependsOnUnit) {
  Json doc = MinimalHotWork();
  doc["gas"][0]["unit"] = "ppm";
  doc["gas"][0]["value"] = 5000;
  EXPECT_TRUE(ParsePermit(doc).has_value());
  doc["gas"][0]["value"] = 1000001;
  ExpectError(doc, "gas[0].value");
  doc["gas"][0]["unit"] = "mg/m3";
  EXPECT_TRUE(ParsePermit(doc).has_value());
  doc["gas"][0]["unit"] = "%LEL";
  ExpectError(doc, "gas[0].value");
  doc["gas"][0]["value"] = 100;
  EXPECT_TRUE(ParsePermit(doc).has_value());
  doc["gas"][0]["unit"] = "vol%";
  ExpectError(doc, "gas[0].unit");
}

TEST(ParsePermit, UnknownMembers) {
  struct Case {
    const char* pointer;
    const char* field;
  };
  const Case cases[] = {
      {"titel", "titel"},
      {"location/zonee", "location.zonee"},
      {"location/point/z", "location.point.z"},
      {"people/1/rol", "people[1].rol"},
      {"measures/0/note", "measures[0].note"},
      {"gas/0/ppm", "gas[0].ppm"},
      {"hot_work/distance", "hot_work.distance"},
      {"hot_work/nearby/0/dist", "hot_work.nearby[0].dist"},
      {"environment", "environment.0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    Json doc = MinimalHotWork();
    if (std::string_view(c.pointer) == "environment") {
      doc["environment"] = {{"0", 1}};
    } else {
      Node(doc, c.pointer) = 1;
    }
    ExpectError(doc, c.field);
  }
}

TEST(ParsePermit, SectionMustMatchType) {
  Json doc = MinimalHotWork();
  doc["lifting"] = {{"mass_t", 5}};
  ExpectError(doc, "lifting");
  auto r = ParsePermit(doc);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("hot_work"), std::string::npos) << r.error().message();

  // The height section is "height", its type code "work_at_height".
  doc = MinimalHotWork();
  doc["type"] = "work_at_height";
  doc["grade"] = "II";
  ExpectError(doc, "hot_work");
  doc.erase("hot_work");
  ExpectError(doc, "height");
  doc["height"] = {{"height_m", 8}};
  doc["work_at_height"] = {{"height_m", 8}};
  ExpectError(doc, "work_at_height");
  doc.erase("work_at_height");
  EXPECT_TRUE(ParsePermit(doc).has_value());
}

TEST(ParsePermit, TypeAndGrade) {
  Json doc = MinimalHotWork();
  doc["type"] = "hot-work";
  ExpectError(doc, "type");
  doc["type"] = "动火作业";  // names are for people; documents carry codes
  ExpectError(doc, "type");

  doc = MinimalHotWork();
  doc.erase("grade");
  ExpectError(doc, "grade");
  doc["grade"] = "III";
  ExpectError(doc, "grade");
  doc["grade"] = "special";
  EXPECT_TRUE(ParsePermit(doc).has_value());

  Json cs = ToJson(OnlySection(FullPermit(), PermitType::kConfinedSpace));
  EXPECT_FALSE(cs.contains("grade"));
  cs["grade"] = "grade1";
  ExpectError(cs, "grade", true);
  cs["grade"] = "";
  EXPECT_TRUE(ParsePermit(cs, true).has_value());

  Json lift = ToJson(OnlySection(FullPermit(), PermitType::kLifting));
  lift["lifting"]["grade"] = "grade4";
  ExpectError(lift, "lifting.grade", true);
  lift["lifting"]["grade"] = "";
  EXPECT_TRUE(ParsePermit(lift, true).has_value());
  Json height = ToJson(OnlySection(FullPermit(), PermitType::kHeight));
  height["height"]["grade"] = "V";
  ExpectError(height, "height.grade", true);
}

TEST(ParsePermit, ClosedVocabularies) {
  struct Case {
    const char* pointer;
    Json value;
    const char* field;
  };
  const Case cases[] = {
      {"people/2/role", "welder", "people[2].role"},
      {"gas/0/unit", "%", "gas[0].unit"},
      {"hot_work/method", "brazing", "hot_work.method"},
      {"hot_work/isolation", Json::array({"blind_plate", "valves"}), "hot_work.isolation[1]"},
      {"hot_work/nearby/0/kind", "smoking", "hot_work.nearby[0].kind"},
      {"environment/weather", Json::array({"sunny"}), "environment.weather[0]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    Json doc = MinimalHotWork();
    Node(doc, c.pointer) = c.value;
    ExpectError(doc, c.field);
  }
  Json cs = ToJson(OnlySection(FullPermit(), PermitType::kConfinedSpace));
  cs["confined_space"]["ventilation"] = "fan";
  ExpectError(cs, "confined_space.ventilation", true);
  Json bp = ToJson(OnlySection(FullPermit(), PermitType::kBlindPlate));
  bp["blind_plate"]["plates"][0]["action"] = "swap";
  ExpectError(bp, "blind_plate.plates[0].action", true);
}

TEST(ParsePermit, TextFormats) {
  struct Case {
    const char* pointer;
    Json value;
    const char* field;
  };
  const std::string long_title(201, 'x');
  const Case cases[] = {
      {"title", long_title, "title"},
      {"title", "line\nbreak", "title"},
      {"site", "plant a", "site"},
      {"location/zone", "装置", "location.zone"},
      {"people/0/username", "Zhang.San", "people[0].username"},
      {"people/0/username", "zs", "people[0].username"},
      {"people/2/worker_code", "W 0003", "people[2].worker_code"},
      {"hazards", Json::array({""}), "hazards[0]"},
      {"hazard_analysis", std::string("a\x01", 2), "hazard_analysis"},
      {"hazard_analysis", std::string("\xff\xfe", 2), "hazard_analysis"},
      {"measures/0/confirmer", "li si", "measures[0].confirmer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    Json doc = MinimalHotWork();
    Node(doc, c.pointer) = c.value;
    ExpectError(doc, c.field);
  }
  // Free text may span lines; 4000 characters (not bytes) is the default limit.
  Json doc = MinimalHotWork();
  doc["hazard_analysis"] = "第一行\n\t第二行";
  EXPECT_TRUE(ParsePermit(doc).has_value());
  std::string zh;
  for (int i = 0; i < 4000; ++i) zh += "火";
  doc["hazard_analysis"] = zh;
  EXPECT_TRUE(ParsePermit(doc).has_value());
  doc["hazard_analysis"] = zh + "火";
  ExpectError(doc, "hazard_analysis");
}

TEST(ParsePermit, ListLimits) {
  PermitLimits limits;
  limits.max_people = 3;
  limits.max_measures = 1;
  limits.max_gas = 1;
  limits.max_list = 2;
  limits.max_fence_points = 4;
  limits.max_signatures = 0;
  limits.max_text = 10;
  Json doc = MinimalHotWork();
  EXPECT_TRUE(ParsePermit(doc, false, limits).has_value());

  auto over = [&](const char* pointer, const Json& extra, const char* field) {
    SCOPED_TRACE(pointer);
    Json d = MinimalHotWork();
    Node(d, pointer).push_back(extra);
    ExpectError(d, field, false, limits);
  };
  over("people", {{"role", "performer"}, {"worker_code", "W0004"}}, "people");
  over("measures", {{"code", "x"}, {"text", "y"}}, "measures");
  over("gas", doc["gas"][0], "gas");
  Json d = MinimalHotWork();
  d["hazards"] = {"fire", "explosion", "burn"};
  ExpectError(d, "hazards", false, limits);
  d = MinimalHotWork();
  d["hot_work"]["nearby"] = Json::array();
  for (int i = 0; i < 3; ++i) d["hot_work"]["nearby"].push_back(doc["hot_work"]["nearby"][0]);
  ExpectError(d, "hot_work.nearby", false, limits);
  d = MinimalHotWork();
  d["location"]["fence"] =
      Json::parse(R"([{"x":0,"y":0},{"x":4,"y":0},{"x":5,"y":3},{"x":2,"y":5},{"x":-1,"y":3}])");
  ExpectError(d, "location.fence", false, limits);
  d = MinimalHotWork();
  d["signatures"] = Json::array({Json::object()});
  ExpectError(d, "signatures", false, limits);
  d = MinimalHotWork();
  d["hazard_analysis"] = "12345678901";
  ExpectError(d, "hazard_analysis", false, limits);

  // Defaults: 200 people, 64 tags.
  d = MinimalHotWork();
  for (int i = 0; i < 197; ++i) d["people"].push_back(d["people"][2]);
  EXPECT_TRUE(ParsePermit(d).has_value());
  d["people"].push_back(d["people"][2]);
  ExpectError(d, "people");
  d = MinimalHotWork();
  d["activities"] = Json::array();
  for (int i = 0; i < 65; ++i) d["activities"].push_back("a" + std::to_string(i));
  ExpectError(d, "activities");
}

TEST(ParsePermit, BadTimes) {
  for (std::string_view bad :
       {"2026-12-08", "2026-12-08T08:30:00", "2026-12-08 08:30", "2026-12-08T08:30+08:00",
        "2026-13-08T08:30:00+08:00", "2026-02-30T08:30:00+08:00", "2026-12-08T25:00:00Z",
        "2026-12-08T08:30:00+0800", "08:30 2026-12-08", "tomorrow"}) {
    SCOPED_TRACE(bad);
    Json doc = MinimalHotWork();
    doc["planned_start"] = bad;
    ExpectError(doc, "planned_start");
    doc = MinimalHotWork();
    doc["gas"][0]["time"] = bad;
    ExpectError(doc, "gas[0].time");
  }
  Json doc = MinimalHotWork();
  doc["planned_start"] = "2026-12-08T00:30:00Z";  // the same instant as +08:00 08:30
  auto p = ParsePermit(doc);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->planned_start, At("2026-12-08T08:30:00+08:00"));
}

TEST(ParsePermit, EndMustBeAfterStart) {
  Json doc = MinimalHotWork();
  doc["planned_end"] = "2026-12-08T08:00:00+08:00";
  ExpectError(doc, "planned_end");
  doc["planned_end"] = doc["planned_start"];
  ExpectError(doc, "planned_end");
  doc["planned_end"] = "2026-12-08T00:30:01Z";  // one second after, another offset
  EXPECT_TRUE(ParsePermit(doc).has_value());
}

TEST(ParsePermit, ServiceFieldsRejectedInClientDocument) {
  const Permit full = FullPermit();
  const Json stored = ToJson(OnlySection(full, PermitType::kHotWork));
  for (auto member : ServiceMembers()) {
    SCOPED_TRACE(member);
    const std::string key(member);
    ASSERT_TRUE(stored.contains(key));
    Json doc = MinimalHotWork();
    doc[key] = stored[key];
    auto r = ParsePermit(doc, /*service_fields=*/false);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().field(), key);
    EXPECT_NE(r.error().message().find("service"), std::string::npos) << r.error().message();
    EXPECT_TRUE(ParsePermit(doc, /*service_fields=*/true).has_value());
  }
  EXPECT_EQ(ServiceMembers().size(), 12u);
}

TEST(ParsePermit, PeopleNeedAnIdentity) {
  Json doc = MinimalHotWork();
  doc["people"][2] = {{"role", "performer"}, {"name", "王建国"}};
  ExpectError(doc, "people[2].worker_code");
  doc["people"][2]["username"] = "wang.jg";
  EXPECT_TRUE(ParsePermit(doc).has_value());
}

TEST(ParsePermit, MeasureConfirmationIsAPair) {
  Json doc = MinimalHotWork();
  doc["measures"][0]["confirmed_at"] = "2026-12-08T08:10:00+08:00";
  ExpectError(doc, "measures[0].confirmer");
  doc["measures"][0]["confirmer"] = "li.si";
  EXPECT_TRUE(ParsePermit(doc).has_value());
  doc["measures"][0].erase("confirmed_at");
  ExpectError(doc, "measures[0].confirmed_at");
}

TEST(ParsePermit, Signatures) {
  const Json good = {{"role", "approver"},
                     {"username", "wang.wu"},
                     {"signed_at", "2026-12-08T08:20:00+08:00"},
                     {"key_id", "wang.wu/k1"},
                     {"digest", std::string(64, 'f')},
                     {"signature", SignatureB64()},
                     {"opinion", "同意，按方案执行"}};
  Json doc = MinimalHotWork();
  doc["signatures"] = Json::array({good});
  ASSERT_TRUE(ParsePermit(doc).has_value());
  struct Case {
    const char* member;
    Json value;
  };
  const Case cases[] = {
      {"digest", std::string(63, 'f')},
      {"digest", std::string(64, 'F')},
      {"digest", std::string(64, 'g')},
      {"signature", std::string(86, 'A') + "=="},  // standard base64 with padding
      {"signature", std::string(87, 'A')},         // 65 bytes' worth
      {"signature", std::string(85, 'A')},
      {"signature", std::string(85, 'A') + "+"},  // standard alphabet
      {"signature", std::string(85, 'A') + "B"},  // non-canonical tail bits
      {"signature", "not base64"},
      {"key_id", "wang.wu"},
      {"key_id", "wang.wu/1"},
      {"key_id", "wang.wu/k"},
      {"key_id", "WANG/k1"},
      {"username", "W"},
      {"signed_at", "yesterday"},
      {"position", {{"x", 1}}},
      {"role", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.member) + "=" + c.value.dump());
    Json d = MinimalHotWork();
    Json sig = good;
    sig[c.member] = c.value;
    d["signatures"] = Json::array({good, sig});
    const std::string member = c.member;
    ExpectError(d, "signatures[1]." + (member == "position" ? "position.y" : member));
  }
}

TEST(ParsePermit, FenceMustBeASimplePolygon) {
  struct Case {
    const char* fence;
    const char* field;
  };
  const Case bad[] = {
      {R"([{"x":0,"y":0},{"x":1,"y":0}])", "location.fence"},
      {R"([{"x":0,"y":0},{"x":2,"y":2},{"x":2,"y":0},{"x":0,"y":2}])", "location.fence"},
      {R"([{"x":0,"y":0},{"x":1,"y":0},{"x":2,"y":0}])", "location.fence"},
      {R"([{"x":0,"y":0},{"x":4,"y":0},{"x":2,"y":0},{"x":2,"y":3}])", "location.fence"},
      {R"([{"x":0,"y":0},{"x":4,"y":0},{"x":4,"y":0},{"x":0,"y":3}])", "location.fence[2]"},
      {R"([{"x":0,"y":0},{"x":4,"y":0},{"x":4,"y":4},{"x":2,"y":0},{"x":0,"y":4}])",
       "location.fence"},
  };
  for (const Case& c : bad) {
    SCOPED_TRACE(c.fence);
    Json doc = MinimalHotWork();
    doc["location"]["fence"] = Json::parse(c.fence);
    ExpectError(doc, c.field);
  }
  for (const char* good : {R"([{"x":0,"y":0},{"x":4,"y":0},{"x":0,"y":3}])",
                           R"([{"x":0,"y":0},{"x":4,"y":0},{"x":4,"y":4},{"x":2,"y":1},
                               {"x":0,"y":4}])",
                           "[]"}) {
    SCOPED_TRACE(good);
    Json doc = MinimalHotWork();
    doc["location"]["fence"] = Json::parse(good);
    auto p = ParsePermit(doc);
    EXPECT_TRUE(p.has_value()) << p.error().ToString();
  }
}

// --- schema drift --------------------------------------------------------------------------

std::set<std::string> SchemaProperties(const Json& object_schema) {
  std::set<std::string> out;
  if (!object_schema.contains("properties")) return out;
  for (auto it = object_schema["properties"].begin(); it != object_schema["properties"].end();
       ++it) {
    out.insert(it.key());
  }
  return out;
}

std::set<std::string> Members(std::string_view object) {
  std::set<std::string> out;
  for (auto m : DocumentMembers(object)) out.insert(std::string(m));
  return out;
}

TEST(PermitSchema, PropertiesMatchTheParser) {
  const std::string text = ReadFile(RepoPath("docs/formats/permit.schema.json"));
  ASSERT_FALSE(text.empty()) << "docs/formats/permit.schema.json not found";
  auto parsed = core::ParseJson(text, {.max_bytes = 1 << 20, .max_depth = 64});
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  const Json& schema = *parsed;
  EXPECT_EQ(schema.value("$schema", ""), "https://json-schema.org/draft/2020-12/schema");
  EXPECT_EQ(schema.value("additionalProperties", true), false);

  // Top level: the client members, no service member.
  EXPECT_EQ(SchemaProperties(schema), Members("permit"));
  for (auto m : ServiceMembers()) {
    EXPECT_FALSE(schema["properties"].contains(std::string(m))) << m;
  }
  std::set<std::string> required;
  for (const auto& r : schema["required"]) required.insert(r.get<std::string>());
  EXPECT_EQ(required, (std::set<std::string>{"type", "site", "title", "location", "planned_start",
                                             "planned_end"}));

  // Every nested object and section is a $defs entry named like DocumentObjectNames().
  const Json& defs = schema["$defs"];
  std::set<std::string> object_defs;
  for (auto it = defs.begin(); it != defs.end(); ++it) {
    if (it->value("type", "") == "object") object_defs.insert(it.key());
  }
  std::set<std::string> names;
  for (auto n : DocumentObjectNames()) {
    if (n != "permit") names.insert(std::string(n));
  }
  EXPECT_EQ(object_defs, names);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(defs.contains(name));
    EXPECT_EQ(SchemaProperties(defs[name]), Members(name));
    EXPECT_EQ(defs[name].value("additionalProperties", true), false);
  }
  // Sections are referenced under their member names.
  for (int i = 0; i < kPermitTypeCount; ++i) {
    const std::string code(PermitTypeCode(static_cast<PermitType>(i)));
    const std::string section = code == "work_at_height" ? "height" : code;
    EXPECT_EQ(schema["properties"][section].value("$ref", ""), "#/$defs/" + section);
  }
  // The type enum lists exactly the type codes.
  std::set<std::string> codes, enum_codes;
  for (int i = 0; i < kPermitTypeCount; ++i) {
    codes.insert(std::string(PermitTypeCode(static_cast<PermitType>(i))));
  }
  for (const auto& c : schema["properties"]["type"]["enum"]) {
    enum_codes.insert(c.get<std::string>());
  }
  EXPECT_EQ(enum_codes, codes);
}

// --- canonical content and digest ------------------------------------------------------------

TEST(CanonicalContent, ExactBytesOfASmallPermit) {
  Permit p;
  p.site = "plant-a";
  p.type = PermitType::kExcavation;
  p.title = "开挖";
  p.location.zone = "U-900";
  p.location.point = {410, 96.5};
  p.planned_start = At("2026-12-11T08:00:00+08:00");
  p.planned_end = At("2026-12-11T17:00:00+08:00");
  p.gas = {GasReading{.time = At("2026-12-11T07:50:00+08:00"),
                      .point = "坑底",
                      .gas = "O2",
                      .value = 20.9,
                      .unit = "%vol"}};
  p.excavation = ExcavationSection{.depth_m = 1.5};
  p.state = State::kActive;
  p.version = 4;
  p.signatures = {MakeSignature("applicant", "zhang.san")};
  EXPECT_EQ(CanonicalContent(p),
            R"({"excavation":{"buried_facilities_surveyed":false,"depth_m":"1.5",)"
            R"("hazardous_area":false},"gas":[{"continuous":false,"gas":"O2","point":"坑底",)"
            R"("time":"2026-12-10T23:50:00Z","unit":"%vol","value":"20.9"}],)"
            R"("location":{"elevation_m":"0","outdoor":true,"point":{"x":"410","y":"96.5"},)"
            R"("zone":"U-900"},"planned_end":"2026-12-11T09:00:00Z",)"
            R"("planned_start":"2026-12-11T00:00:00Z","site":"plant-a","title":"开挖",)"
            R"("type":"excavation"})");
  const std::string digest = ContentDigest(p);
  ASSERT_EQ(digest.size(), 32u);
  EXPECT_EQ(core::ToHex(digest), core::ToHex(ContentDigest(p)));
  // The test vector quoted in docs/formats/permit.md.
  EXPECT_EQ(core::ToHex(digest),
            "7630db943dddcf18c4e542ded2ac5ffee4705c09e4eed84e9d59675812796f40");
}

TEST(CanonicalContent, StableAcrossParseAndWrite) {
  for (const char* name : kExampleFiles) {
    SCOPED_TRACE(name);
    auto a =
        ParsePermitText(ReadFile(RepoPath(std::string("docs/examples/permits/") + name + ".json")));
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    auto b = ParsePermitText(core::DumpJson(ToJson(*a), 4), true);
    ASSERT_TRUE(b.has_value()) << b.error().ToString();
    EXPECT_EQ(ContentDigest(*a), ContentDigest(*b));
    const std::string content = CanonicalContent(*a);
    EXPECT_EQ(content.find('\n'), std::string::npos);
    EXPECT_EQ(content.find("\"state\""), std::string::npos);
  }
}

TEST(CanonicalContent, EveryContentFieldChangesTheDigest) {
  const Permit base = OnlySection(FullPermit(), PermitType::kHotWork);
  const std::string digest = ContentDigest(base);
  struct Change {
    const char* what;
    void (*apply)(Permit&);
  };
  const Change changes[] = {
      {"number", [](Permit& p) { p.number += "1"; }},
      {"org", [](Permit& p) { p.org = "other"; }},
      {"site", [](Permit& p) { p.site = "plant-b"; }},
      {"grade", [](Permit& p) { p.grade = "grade1"; }},
      {"supersedes", [](Permit& p) { p.supersedes.clear(); }},
      {"title", [](Permit& p) { p.title += "。"; }},
      {"work_unit", [](Permit& p) { p.work_unit = "检修一队"; }},
      {"owning_unit", [](Permit& p) { p.owning_unit.clear(); }},
      {"location.zone", [](Permit& p) { p.location.zone = "U-200"; }},
      {"location.point.x", [](Permit& p) { p.location.point.x += 0.001; }},
      {"location.elevation_m", [](Permit& p) { p.location.elevation_m = 38.76; }},
      {"location.fence", [](Permit& p) { p.location.fence[2].y = -29; }},
      {"location.area_class", [](Permit& p) { p.location.area_class = "general"; }},
      {"location.outdoor", [](Permit& p) { p.location.outdoor = true; }},
      {"planned_start", [](Permit& p) { p.planned_start.micros -= 1; }},
      {"planned_end", [](Permit& p) { p.planned_end.micros += 1'000'000; }},
      {"hazard_analysis", [](Permit& p) { p.hazard_analysis += " "; }},
      {"hazards", [](Permit& p) { p.hazards.push_back("burn"); }},
      {"measures.involved", [](Permit& p) { p.measures[0].involved = true; }},
      {"measures.confirmer", [](Permit& p) { p.measures[0].confirmer = "zhao.liu"; }},
      {"people.role", [](Permit& p) { p.people[1].role = "work_leader"; }},
      {"people.certificate", [](Permit& p) { p.people[0].certificate_numbers.clear(); }},
      {"people.order", [](Permit& p) { std::swap(p.people[0], p.people[1]); }},
      {"linked_permits", [](Permit& p) { p.linked_permits.clear(); }},
      {"activities", [](Permit& p) { p.activities.pop_back(); }},
      {"gas.value", [](Permit& p) { p.gas[0].value = 0.11; }},
      {"gas.added", [](Permit& p) { p.gas.push_back(p.gas[0]); }},
      {"hot_work.method", [](Permit& p) { p.hot_work->method = "welding"; }},
      {"hot_work.hot_tapping", [](Permit& p) { p.hot_work->hot_tapping = false; }},
      {"hot_work.nearby", [](Permit& p) { p.hot_work->nearby[0].distance_m = 29.5; }},
      {"hot_work.distance", [](Permit& p) { p.hot_work->welder_machine_distance_m.reset(); }},
      {"created_by", [](Permit& p) { p.created_by = "li.si"; }},
      {"created_at", [](Permit& p) { p.created_at.micros += 1; }},
  };
  for (const Change& c : changes) {
    SCOPED_TRACE(c.what);
    Permit p = base;
    c.apply(p);
    EXPECT_NE(ContentDigest(p), digest);
  }
}

TEST(CanonicalContent, LifecycleAndSignaturesDoNotChangeTheDigest) {
  const Permit base = OnlySection(FullPermit(), PermitType::kHotWork);
  const std::string content = CanonicalContent(base);
  struct Change {
    const char* what;
    void (*apply)(Permit&);
  };
  const Change changes[] = {
      {"signature added", [](Permit& p) { p.signatures.push_back(p.signatures[0]); }},
      {"signatures removed", [](Permit& p) { p.signatures.clear(); }},
      {"state", [](Permit& p) { p.state = State::kSuspended; }},
      {"version", [](Permit& p) { p.version += 1; }},
      {"environment", [](Permit& p) { p.environment.wind_force = 6; }},
      {"weather", [](Permit& p) { p.environment.weather.push_back("rain"); }},
      {"approved_at", [](Permit& p) { p.approved_at.reset(); }},
      {"started_at", [](Permit& p) { p.started_at->micros += 60'000'000; }},
      {"last_suspended_at", [](Permit& p) { p.last_suspended_at.reset(); }},
      {"ended_at", [](Permit& p) { p.ended_at.reset(); }},
      {"updated_at", [](Permit& p) { p.updated_at.micros += 1; }},
      {"id", [](Permit& p) { p.id = 43; }},
  };
  for (const Change& c : changes) {
    SCOPED_TRACE(c.what);
    Permit p = base;
    c.apply(p);
    EXPECT_EQ(CanonicalContent(p), content);
    EXPECT_EQ(ContentDigest(p), ContentDigest(base));
  }
}

}  // namespace
}  // namespace wg::permit

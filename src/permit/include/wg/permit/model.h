#pragma once
// The electronic work permit (作业票) under GB 30871-2022: value types for all eight
// types, the strict JSON parser and writer of the permit document
// (docs/formats/permit.md, docs/formats/permit.schema.json) and the canonical digest
// every signer signs. Plain data, no rules: the rules live in the PermitRulebook
// (rulebook.h) and the checker (check.h); the lifecycle in lifecycle.h.
//
// Coordinates are site-local metres (x east, y north, z up) so the distance rules
// (30 m venting, 15 m draining, 10 m painting, fall lines) are plain geometry; a site's
// GPS origin converts to and from them (later issue: positions).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::permit {

// The eight special-work types (GB 30871-2022 §3, one permit per type: §4.6).
enum class PermitType {
  kHotWork,         // hot_work          动火作业
  kConfinedSpace,   // confined_space    受限空间作业
  kBlindPlate,      // blind_plate       盲板抽堵作业
  kHeight,          // work_at_height    高处作业
  kLifting,         // lifting           吊装作业
  kTemporaryPower,  // temporary_power   临时用电作业
  kExcavation,      // excavation        动土作业
  kRoadBreaking,    // road_breaking     断路作业
};
inline constexpr int kPermitTypeCount = 8;
std::string_view PermitTypeCode(PermitType t);
std::string_view PermitTypeNameZh(PermitType t);
core::Result<PermitType> ParsePermitType(std::string_view s, std::string_view field = "type");

// Grades. Codes as written in documents and rulebooks:
//   hot work:  "special" 特级, "grade1" 一级, "grade2" 二级
//   height:    "I" Ⅰ级, "II" Ⅱ级, "III" Ⅲ级, "IV" Ⅳ级
//   lifting:   "grade1" 一级 (> 100 t), "grade2" 二级 (40–100 t), "grade3" 三级 (< 40 t)
//   others:    "" (ungraded)
// Grade rank within a type: higher rank = more dangerous (special > grade1 > grade2;
// IV > III > II > I; grade1 > grade2 > grade3). -1 for an unknown code.
int GradeRank(PermitType t, std::string_view grade);
// The grade one step more dangerous (hot work escalation: grade2 -> grade1 -> special;
// special stays special).
std::string NextGradeUp(PermitType t, std::string_view grade);
std::string_view GradeNameZh(PermitType t, std::string_view grade);

enum class State {
  kDraft,              // draft              编制中
  kPendingGasTest,     // pending_gas_test   待气体分析
  kPendingSignatures,  // pending_signatures 待签批
  kApproved,           // approved           已批准
  kActive,             // active             作业中
  kSuspended,          // suspended          暂停
  kCompleted,          // completed          已完工
  kCancelled,          // cancelled          已取消
  kExpired,            // expired            已过期
};
std::string_view StateCode(State s);
std::string_view StateNameZh(State s);
core::Result<State> ParseState(std::string_view s, std::string_view field = "state");
bool IsTerminal(State s);  // completed, cancelled, expired
// Open = counts for conflicts and workload: approved, active, suspended.
bool IsOpen(State s);

struct Point {
  double x = 0;  // metres east of the site origin
  double y = 0;  // metres north
  friend bool operator==(const Point&, const Point&) = default;
};

struct Location {
  std::string zone;        // zone/unit code within the site (装置/区域), 1..64
  std::string description; // free text, e.g. "T-101 塔顶平台"
  Point point;             // the work point
  double elevation_m = 0;  // height of the work point above grade (for fall lines)
  std::vector<Point> fence;  // work fence polygon (≥ 3 points, not self-intersecting), may be empty
  // Area classification of the point (rulebook vocabulary), e.g.
  // "fire_explosion_hazard", "major_hazard_tank_dike", "pipe_rack", "fixed_hot_work_area",
  // "hazardous_area", "general".
  std::string area_class;
  bool outdoor = true;
  friend bool operator==(const Location&, const Location&) = default;
};

// Roles people hold on a permit.
//   performer          作业人员 (动火人, 受限空间作业人, 吊装司机, 电工 …)
//   guardian           监护人
//   work_leader        作业负责人
//   safety_briefer     安全交底人
//   briefing_recipient 接受交底人
//   commander          作业指挥 (lifting, blind plate)
//   gas_analyst        分析人
//   measure_confirmer  安全措施确认人
struct Person {
  std::string role;
  std::string worker_code;   // registry worker code; empty for users only
  std::string username;      // system user; empty for workers only
  std::string name;          // display name as printed
  std::vector<std::string> certificate_numbers;  // as printed on the ticket
  friend bool operator==(const Person&, const Person&) = default;
};

struct Measure {
  std::string code;       // rulebook measure code or "custom"
  std::string text;       // 安全措施 as printed
  bool involved = true;   // 是否涉及
  std::string confirmer;  // username of 确认人; empty until confirmed
  std::optional<core::Timestamp> confirmed_at;
  friend bool operator==(const Measure&, const Measure&) = default;
};

// One gas analysis reading (气体分析). Units: "%vol", "%LEL", "ppm", "mg/m3".
struct GasReading {
  core::Timestamp time;
  std::string point;       // 分析点
  std::string gas;         // rulebook gas code: "O2", "CH4", "H2S", "CO", "C3H8", ...
  double value = 0;
  std::string unit;
  std::string analyst;     // username or name of 分析人
  std::string instrument;  // instrument id / serial
  bool continuous = false; // from a continuous monitor rather than a spot sample
  friend bool operator==(const GasReading&, const GasReading&) = default;
};

struct Signature {
  std::string role;      // signature-chain role: "applicant", "guardian", "approver", ...
  std::string username;
  core::Timestamp signed_at;
  std::string key_id;    // "<username>/k<n>"
  std::string digest;    // hex SM3 of the canonical permit content (CanonicalDigest)
  std::string signature; // base64url (unpadded) raw r||s SM2 signature over the digest bytes
  std::string opinion;   // 意见 text, may be empty
  std::optional<Point> position;  // signer's position when known (on-site approval)
  friend bool operator==(const Signature&, const Signature&) = default;
};

// Observed conditions at check time (weather stops).
struct Environment {
  int wind_force = 0;               // Beaufort 0..17
  std::vector<std::string> weather; // "fog", "dense_fog", "rain", "rainstorm", "heavy_snow", "snow", "thunderstorm", "storm"
  std::optional<double> temperature_c;
  friend bool operator==(const Environment&, const Environment&) = default;
};

// Another activity near the work that the distance rules care about (declared on the
// permit, in addition to other permits found by the conflict check).
struct NearbyActivity {
  std::string kind;       // "venting", "draining", "painting", "solvent_cleaning", "dust_sweeping", "hazmat_train"
  double distance_m = 0;
  std::string description;
  friend bool operator==(const NearbyActivity&, const NearbyActivity&) = default;
};

// --- per-type sections (exactly one is set, matching `type`) -----------------------

struct HotWorkSection {
  std::string method;              // "welding", "cutting", "grinding", "other"
  bool on_running_equipment = false;  // 在运行的生产装置/设备/管道上
  bool hot_tapping = false;        // 带压不置换动火
  bool shutdown_and_isolated = false; // 停车、倒空、置换、分析合格并隔离
  bool oxygen_equipment = false;   // 氧气设备/管道
  bool in_fixed_hot_work_area = false;
  std::vector<NearbyActivity> nearby;
  std::optional<double> oxygen_acetylene_distance_m;  // cylinders apart
  std::optional<double> cylinder_to_point_distance_m;
  std::optional<double> welder_machine_distance_m;
  std::vector<std::string> video_cameras;  // explosion-proof camera ids (特级)
  std::string written_plan_ref;           // 特级: 动火方案
  std::string continuous_monitor;         // 特级: continuous gas monitor id
  std::vector<std::string> isolation;     // "blind_plate", "pipe_removed", "valve", "water_seal"
  friend bool operator==(const HotWorkSection&, const HotWorkSection&) = default;
};

struct ConfinedSpaceSection {
  std::string space_name;           // 受限空间名称
  std::string original_medium;      // 原有介质
  bool oxygen_enriched = false;     // 富氧环境
  std::vector<std::string> isolation;  // as above
  std::string ventilation;          // "natural", "forced", "none", "pure_oxygen"
  std::optional<double> lighting_voltage_v;
  bool wet_or_cramped = false;
  bool previously_flammable = false;
  std::string continuous_monitor;   // monitor id
  friend bool operator==(const ConfinedSpaceSection&, const ConfinedSpaceSection&) = default;
};

struct BlindPlate {
  std::string number;        // 盲板编号 on the location diagram
  std::string action;        // "insert" 堵 / "remove" 抽
  std::string material;
  std::string size;          // e.g. "DN200"
  friend bool operator==(const BlindPlate&, const BlindPlate&) = default;
};

struct BlindPlateSection {
  std::string pipeline;      // 管道名称/编号
  std::string medium;
  std::optional<double> temperature_c;
  std::optional<double> pressure_mpa;
  std::vector<BlindPlate> plates;  // GB 30871 §7: exactly one per permit (checked by a rule)
  std::string diagram_ref;   // location diagram (vault ref)
  bool toxic_line = false;
  std::optional<core::Timestamp> actual_start;
  friend bool operator==(const BlindPlateSection&, const BlindPlateSection&) = default;
};

struct HeightSection {
  double height_m = 0;              // work height above the fall datum
  std::vector<std::string> method_b_factors;   // GB/T 3608 objective hazards, rulebook codes
  std::vector<std::string> raising_situations; // B.1 note 2 situations, rulebook codes
  std::string grade;                // declared grade "I".."IV"
  bool protective_layer = false;    // for vertical cross work
  friend bool operator==(const HeightSection&, const HeightSection&) = default;
};

struct LiftingSection {
  double mass_t = 0;
  std::string grade;               // declared "grade1".."grade3" ("" when < 10 t)
  bool complex_load = false;       // complex/slender/precision/high-value load
  std::string plan_ref;            // 吊装方案
  std::string risk_analysis_ref;   // for lifts < 10 t without a ticket
  int cranes = 1;
  std::optional<double> max_load_ratio;  // of rated capacity, 0..1
  bool test_lift_done = false;
  friend bool operator==(const LiftingSection&, const LiftingSection&) = default;
};

struct TemporaryPowerSection {
  std::string voltage;             // e.g. "380V"
  std::optional<double> load_kw;
  bool hazardous_area = false;
  std::string access_point;        // 电源接入点
  std::string supply_unit;         // 配送电单位
  friend bool operator==(const TemporaryPowerSection&, const TemporaryPowerSection&) = default;
};

struct ExcavationSection {
  double depth_m = 0;
  std::optional<double> area_m2;
  bool hazardous_area = false;
  std::string sketch_ref;
  std::vector<std::string> cosigned_departments;  // 会签: "water", "power", ...
  bool buried_facilities_surveyed = false;
  friend bool operator==(const ExcavationSection&, const ExcavationSection&) = default;
};

struct RoadBreakingSection {
  std::string road;
  std::string traffic_plan_ref;
  bool fire_lane_kept = false;
  bool short_fixed_point = false;  // ≤ 2 h day / ≤ 1 h night
  std::vector<std::string> cosigned_departments;  // "fire", "safety"
  friend bool operator==(const RoadBreakingSection&, const RoadBreakingSection&) = default;
};

struct Permit {
  // Identity (assigned by the service; empty in a new document).
  std::int64_t id = 0;
  std::string number;          // "HW-20261129-0001"
  std::string org;             // organization code
  std::string site;            // site code
  PermitType type = PermitType::kHotWork;
  std::string grade;           // declared grade (see GradeRank), "" when ungraded
  State state = State::kDraft;
  std::int64_t version = 1;    // bumps on every accepted change while draft
  std::string supersedes;      // number of the permit this one replaces (§4.16)

  std::string title;           // 作业内容
  std::string work_unit;       // 作业单位
  std::string owning_unit;     // 所在单位 / 属地单位
  Location location;
  core::Timestamp planned_start;
  core::Timestamp planned_end;
  std::string hazard_analysis;           // 危害辨识 text or vault ref
  std::vector<std::string> hazards;      // identified hazard codes
  std::vector<Measure> measures;
  std::vector<Person> people;
  std::vector<std::string> linked_permits;  // 关联的其他特殊作业及安全作业票编号
  std::vector<std::string> activities;      // tags for the conflict matrix: "welding", "painting", ...
  std::vector<GasReading> gas;
  Environment environment;
  std::vector<Signature> signatures;

  std::optional<HotWorkSection> hot_work;
  std::optional<ConfinedSpaceSection> confined_space;
  std::optional<BlindPlateSection> blind_plate;
  std::optional<HeightSection> height;
  std::optional<LiftingSection> lifting;
  std::optional<TemporaryPowerSection> temporary_power;
  std::optional<ExcavationSection> excavation;
  std::optional<RoadBreakingSection> road_breaking;

  // Lifecycle stamps (set by the service).
  std::optional<core::Timestamp> approved_at;
  std::optional<core::Timestamp> started_at;
  std::optional<core::Timestamp> last_suspended_at;  // start of the current/last break
  std::optional<core::Timestamp> ended_at;
  std::string created_by;
  core::Timestamp created_at;
  core::Timestamp updated_at;
  friend bool operator==(const Permit&, const Permit&) = default;
};

// Limits of a permit document (the parser rejects anything beyond them).
struct PermitLimits {
  std::size_t max_people = 200;
  std::size_t max_measures = 100;
  std::size_t max_gas = 500;
  std::size_t max_fence_points = 256;
  std::size_t max_signatures = 32;
  std::size_t max_text = 4000;        // characters of free-text fields
  std::size_t max_list = 64;          // tags, linked permits, activities, cameras
};

// Parses a permit document. Strict: unknown members, wrong types, out-of-range numbers,
// missing required fields, a section that does not match `type` and over-long lists are
// kInvalidArgument naming the JSON path ("people[2].role", "hot_work.nearby[0].distance_m").
// Times are RFC 3339 with an offset. Fields the service owns (id, number, org, state,
// version, lifecycle stamps, created_*) are accepted only when `service_fields` is true
// (reading back a stored permit); in a client document they are rejected.
core::Result<Permit> ParsePermit(const core::Json& doc, bool service_fields = false,
                                 const PermitLimits& limits = {});
core::Result<Permit> ParsePermitText(std::string_view text, bool service_fields = false,
                                     const PermitLimits& limits = {});
// A list of gas readings as in the document's "gas" member (POST .../gas), each checked as
// the document parser checks them; errors name "<field>[i].<member>".
core::Result<std::vector<GasReading>> ParseGasReadings(const core::Json& list,
                                                       std::string_view field = "readings",
                                                       const PermitLimits& limits = {});
core::Json ToJson(const GasReading& g);
// The full document (service fields included). ParsePermit(ToJson(p), true) == p.
core::Json ToJson(const Permit& p);

// The content every signer signs: the canonical JSON (sorted keys, no whitespace,
// docs/formats/fact.md rules) of the document WITHOUT signatures, state, lifecycle
// stamps, environment and version/updated_at — i.e. what the permit says, not where it is
// in its life. Gas readings are included (they are signed over).
std::string CanonicalContent(const Permit& p);
// SM3 of CanonicalContent, 32 raw bytes.
std::string ContentDigest(const Permit& p);
// What a signer signs at `signed_at`: ContentDigest of the permit with only the gas
// readings taken at or before `signed_at`. Readings recorded later (periodic and re-test
// analyses while the work runs) are additions, not alterations, so they do not break
// earlier signatures; a reading back-dated into the signed past does — and is caught.
// Implemented in model_enums.cc.
std::string ContentDigestAt(const Permit& p, core::Timestamp signed_at);

// The member names ParsePermit accepts in each kind of object of the document: "permit"
// (the top level, client members only), "location", "point", "person", "measure", "gas",
// "signature", "environment", "nearby", "plate" and the eight section names ("hot_work",
// ..., "height", ...). ServiceMembers() are the top-level members only a stored permit
// may carry. Keeps docs/formats/permit.schema.json and the parser from drifting apart
// (model_test.cc) and lets tools build forms. Empty for an unknown object name.
std::vector<std::string_view> DocumentMembers(std::string_view object);
std::vector<std::string_view> DocumentObjectNames();
std::vector<std::string_view> ServiceMembers();

// `j` with every floating-point number written as the shortest decimal string that reads
// back exactly (the canonical content's rule): facts admit no floats.
core::Json WithoutFloats(const core::Json& j);

// People of `role`.
std::vector<const Person*> PeopleWithRole(const Permit& p, std::string_view role);

}  // namespace wg::permit

// Table-driven tests of the general, weather, distance and per-type rules
// (rules_general.cc, permit_rules_general.json): for each rule a compliant and a violating
// case, and the boundaries the standard sets (8 h / 8 h 1 min, 30 m, 36 V …).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "rules_internal.h"
#include "test_directory.h"

namespace wg::permit {
namespace {

using core::Duration;
using testing::CheckWorld;

using Edit = std::function<void(Permit&, CheckWorld&)>;

Duration operator+(Duration a, Duration b) { return Duration{a.micros + b.micros}; }

struct Case {
  std::string name;
  PermitType type;
  Edit edit;
  std::string rule;   // the rule under test
  int expected = 0;   // violations of `rule` expected (0: compliant)
  std::string field;  // field of the first violation, when checked
  Stage stage = Stage::kStart;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

Edit Window(Duration d) {
  return [d](Permit& p, CheckWorld&) { p.planned_end = p.planned_start + d; };
}
Edit Grade(std::string g) {
  return [g](Permit& p, CheckWorld&) { p.grade = g; };
}
Edit Then(Edit a, Edit b) {
  return [a, b](Permit& p, CheckWorld& w) {
    a(p, w);
    b(p, w);
  };
}
Edit Nearby(std::string kind, double m) {
  return [kind, m](Permit& p, CheckWorld&) { p.hot_work->nearby.push_back({kind, m, ""}); };
}
Edit Wind(int force) {
  return [force](Permit& p, CheckWorld&) { p.environment.wind_force = force; };
}
Edit Nothing() {
  return [](Permit&, CheckWorld&) {};
}
Edit LinkedPermit(std::string number, PermitType t, Duration length) {
  return [number, t, length](Permit& p, CheckWorld& w) {
    PermitBrief b;
    b.number = number;
    b.site = "S1";
    b.type = t;
    b.state = State::kApproved;
    b.planned_start = CheckWorld::At();
    b.planned_end = CheckWorld::At() + length;
    w.dir().AddPermit(b);
    p.linked_permits.push_back(number);
  };
}

const Duration kMin = Duration::Minutes(1);

std::vector<Case> Cases() {
  using T = PermitType;
  return {
      // validity_max — §5.1.5, §6.10, §8.2.11
      {"hot_grade2_72h", T::kHotWork, Window(Duration::Hours(72)), "hot_work.validity", 0},
      {"hot_grade2_72h_1min", T::kHotWork, Window(Duration::Hours(72) + kMin), "hot_work.validity",
       1, "planned_end"},
      {"hot_grade1_8h", T::kHotWork, Then(Grade("grade1"), Window(Duration::Hours(8))),
       "hot_work.validity", 0},
      {"hot_grade1_8h_1min", T::kHotWork, Then(Grade("grade1"), Window(Duration::Hours(8) + kMin)),
       "hot_work.validity", 1, "planned_end"},
      {"hot_special_8h_1min", T::kHotWork,
       Then(Grade("special"), Window(Duration::Hours(8) + kMin)), "hot_work.validity", 1},
      {"confined_24h", T::kConfinedSpace, Window(Duration::Hours(24)), "confined_space.validity",
       0},
      {"confined_24h_1min", T::kConfinedSpace, Window(Duration::Hours(24) + kMin),
       "confined_space.validity", 1},
      {"height_7d", T::kHeight, Window(Duration::Days(7)), "work_at_height.validity", 0},
      {"height_7d_1min", T::kHeight, Window(Duration::Days(7) + kMin), "work_at_height.validity",
       1},
      // window_valid
      {"window_end_before_start", T::kHotWork, Window(Duration{0}), "general.window", 1,
       "planned_end"},
      {"window_start_too_early", T::kHotWork,
       [](Permit& p, CheckWorld&) {
         p.planned_start = p.planned_start + Duration::Minutes(16);
         p.planned_end = p.planned_start + Duration::Hours(1);
       },
       "general.window", 1, "planned_start"},
      {"window_lapsed_at_start", T::kHotWork,
       [](Permit& p, CheckWorld&) {
         p.planned_start = CheckWorld::At() - Duration::Hours(2);
         p.planned_end = CheckWorld::At();
       },
       "general.window", 1, "planned_end"},
      {"window_past_at_plan", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.planned_start = CheckWorld::At() - Duration::Hours(1); },
       "general.window", 1, "planned_start", Stage::kPlan},
      {"window_past_within_tolerance_at_plan", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.planned_start = CheckWorld::At() - Duration::Minutes(15); },
       "general.window", 0, "", Stage::kPlan},
      // temporary_power_duration — §10.8
      {"power_15d", T::kTemporaryPower, Window(Duration::Days(15)),
       "temporary_power.duration_normal", 0},
      {"power_16d_warns", T::kTemporaryPower, Window(Duration::Days(16)),
       "temporary_power.duration_normal", 1, "planned_end"},
      {"power_16d_no_block", T::kTemporaryPower, Window(Duration::Days(16)),
       "temporary_power.duration_max", 0},
      {"power_30d", T::kTemporaryPower, Window(Duration::Days(30)), "temporary_power.duration_max",
       0},
      {"power_31d", T::kTemporaryPower, Window(Duration::Days(31)), "temporary_power.duration_max",
       1, "planned_end"},
      {"power_within_hot_work", T::kTemporaryPower,
       LinkedPermit("DH-1", T::kHotWork, Duration::Hours(8)), "temporary_power.follows_linked", 0},
      {"power_beyond_hot_work", T::kTemporaryPower,
       LinkedPermit("DH-1", T::kHotWork, Duration::Hours(6)), "temporary_power.follows_linked", 1,
       "linked_permits[0]"},
      {"power_beyond_lifting_ok", T::kTemporaryPower,
       LinkedPermit("DZ-1", T::kLifting, Duration::Hours(6)), "temporary_power.follows_linked", 0},
      // required_fields
      {"no_hazard_analysis", T::kHotWork, [](Permit& p, CheckWorld&) { p.hazard_analysis = "  "; },
       "hot_work.required_fields", 1, "hazard_analysis"},
      {"no_pipeline", T::kBlindPlate,
       [](Permit& p, CheckWorld&) { p.blind_plate->pipeline.clear(); },
       "blind_plate.required_fields", 1, "blind_plate.pipeline"},
      {"no_supply_unit", T::kTemporaryPower,
       [](Permit& p, CheckWorld&) { p.temporary_power->supply_unit.clear(); },
       "temporary_power.required_fields", 1, "temporary_power.supply_unit"},
      {"no_section", T::kRoadBreaking, [](Permit& p, CheckWorld&) { p.road_breaking.reset(); },
       "road_breaking.required_fields", 2, "road_breaking.road"},
      // measures_confirmed
      {"measure_unconfirmed", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.measures[0].confirmer.clear(); },
       "general.measures_confirmed", 1, "measures[0].confirmer", Stage::kApprove},
      {"measure_not_involved", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) {
         p.measures[0].confirmer.clear();
         p.measures[0].involved = false;
       },
       "general.measures_confirmed", 0, "", Stage::kApprove},
      // briefing — §4.4
      {"no_briefer", T::kExcavation,
       [](Permit& p, CheckWorld&) {
         std::erase_if(p.people, [](const Person& x) { return x.role == "safety_briefer"; });
       },
       "general.briefing", 1, "people"},
      {"no_recipient", T::kExcavation,
       [](Permit& p, CheckWorld&) {
         std::erase_if(p.people, [](const Person& x) { return x.role == "briefing_recipient"; });
       },
       "general.briefing", 1, "people"},
      // linked_type_required — §4.6
      {"hot_at_2m_unlinked", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.location.elevation_m = 2; }, "general.linked_height", 1,
       "linked_permits"},
      {"hot_at_1_9m", T::kHotWork, [](Permit& p, CheckWorld&) { p.location.elevation_m = 1.9; },
       "general.linked_height", 0},
      {"hot_at_2m_linked", T::kHotWork,
       Then([](Permit& p, CheckWorld&) { p.location.elevation_m = 2; },
            LinkedPermit("GC-1", T::kHeight, Duration::Hours(8))),
       "general.linked_height", 0},
      {"hot_at_2m_linked_wrong_type", T::kHotWork,
       Then([](Permit& p, CheckWorld&) { p.location.elevation_m = 2; },
            LinkedPermit("DZ-9", T::kLifting, Duration::Hours(8))),
       "general.linked_height", 1},
      {"hot_at_2m_linked_unknown", T::kHotWork,
       [](Permit& p, CheckWorld&) {
         p.location.elevation_m = 2;
         p.linked_permits = {"GC-404"};
       },
       "general.linked_height", 1},
      {"height_permit_itself", T::kHeight, Nothing(), "general.linked_height", 0},
      {"hot_in_confined_space", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.location.area_class = "confined_space"; },
       "hot_work.linked_confined_space", 1},
      {"hot_in_confined_space_linked", T::kHotWork,
       Then([](Permit& p, CheckWorld&) { p.location.area_class = "confined_space"; },
            LinkedPermit("SX-1", T::kConfinedSpace, Duration::Hours(8))),
       "hot_work.linked_confined_space", 0},
      {"excavation_1_3m_hazardous", T::kExcavation,
       [](Permit& p, CheckWorld&) {
         p.excavation->depth_m = 1.3;
         p.excavation->hazardous_area = true;
       },
       "excavation.deep_confined_rules", 1},
      {"excavation_1_2m_hazardous", T::kExcavation,
       [](Permit& p, CheckWorld&) {
         p.excavation->depth_m = 1.2;
         p.excavation->hazardous_area = true;
       },
       "excavation.deep_confined_rules", 0},
      {"excavation_2m_not_hazardous", T::kExcavation,
       [](Permit& p, CheckWorld&) { p.excavation->depth_m = 2; }, "excavation.deep_confined_rules",
       0},
      // excavation_deep — §11.10
      {"deep_excavation_no_guardian", T::kExcavation,
       [](Permit& p, CheckWorld&) {
         p.excavation->depth_m = 1.3;
         p.excavation->hazardous_area = true;
         std::erase_if(p.people, [](const Person& x) { return x.role == "guardian"; });
       },
       "excavation.deep_guardian", 1, "people", Stage::kPlan},
      {"deep_excavation_guarded", T::kExcavation,
       [](Permit& p, CheckWorld&) {
         p.excavation->depth_m = 1.3;
         p.excavation->hazardous_area = true;
       },
       "excavation.deep_guardian", 0},
      // new_permit_required — §4.16
      {"supersedes_active", T::kHotWork,
       [](Permit& p, CheckWorld& w) {
         w.dir().AddPermit(
             {1, "DH-OLD", "S1", PermitType::kHotWork, "grade2", State::kActive, {}, {}});
         p.supersedes = "DH-OLD";
       },
       "general.new_permit", 1, "supersedes"},
      {"supersedes_expired", T::kHotWork,
       [](Permit& p, CheckWorld& w) {
         w.dir().AddPermit(
             {1, "DH-OLD", "S1", PermitType::kHotWork, "grade2", State::kExpired, {}, {}});
         p.supersedes = "DH-OLD";
       },
       "general.new_permit", 0},
      {"supersedes_missing", T::kHotWork, [](Permit& p, CheckWorld&) { p.supersedes = "DH-NONE"; },
       "general.new_permit", 1, "supersedes"},
      {"supersedes_other_type", T::kHotWork,
       [](Permit& p, CheckWorld& w) {
         w.dir().AddPermit(
             {1, "SX-OLD", "S1", PermitType::kConfinedSpace, "", State::kCompleted, {}, {}});
         p.supersedes = "SX-OLD";
       },
       "general.new_permit", 1},
      // wind_limit — §5.2.15, §8.2.6, §9.2.4
      {"hot_wind_4", T::kHotWork, Wind(4), "hot_work.wind", 0},
      {"hot_wind_5", T::kHotWork, Wind(5), "hot_work.wind", 1, "environment.wind_force"},
      {"hot_wind_5_indoor", T::kHotWork,
       Then(Wind(5), [](Permit& p, CheckWorld&) { p.location.outdoor = false; }), "hot_work.wind",
       0},
      {"hot_wind_5_upgraded", T::kHotWork, Then(Wind(5), Grade("grade1")), "hot_work.wind", 0},
      {"height_wind_4", T::kHeight, Wind(4), "work_at_height.wind", 0},
      {"height_wind_5", T::kHeight, Wind(5), "work_at_height.wind", 1},
      {"lifting_wind_5", T::kLifting, Wind(5), "lifting.wind", 0},
      {"lifting_wind_6", T::kLifting, Wind(6), "lifting.wind", 1},
      {"wind_not_due_at_plan", T::kLifting, Wind(6), "lifting.wind", 0, "", Stage::kPlan},
      // weather_stop
      {"height_dense_fog", T::kHeight,
       [](Permit& p, CheckWorld&) {
         p.environment.weather = {"rain", "dense_fog"};
       },
       "work_at_height.weather", 1, "environment.weather[1]"},
      {"height_rain", T::kHeight, [](Permit& p, CheckWorld&) { p.environment.weather = {"rain"}; },
       "work_at_height.weather", 0},
      {"lifting_heavy_snow", T::kLifting,
       [](Permit& p, CheckWorld&) { p.environment.weather = {"heavy_snow"}; }, "lifting.weather",
       1},
      {"lifting_heavy_snow_indoor", T::kLifting,
       [](Permit& p, CheckWorld&) {
         p.environment.weather = {"heavy_snow"};
         p.location.outdoor = false;
       },
       "lifting.weather", 0},
      // distance_min — §5.2.9, §5.2.10 (≤ limit violates)
      {"venting_29_9", T::kHotWork, Nearby("venting", 29.9), "hot_work.distance_venting", 1,
       "hot_work.nearby[0].distance_m"},
      {"venting_30", T::kHotWork, Nearby("venting", 30), "hot_work.distance_venting", 1},
      {"venting_30_1", T::kHotWork, Nearby("venting", 30.1), "hot_work.distance_venting", 0},
      {"draining_15", T::kHotWork, Nearby("draining", 15), "hot_work.distance_draining", 1},
      {"draining_15_1", T::kHotWork, Nearby("draining", 15.1), "hot_work.distance_draining", 0},
      {"painting_10", T::kHotWork, Nearby("painting", 10), "hot_work.distance_painting", 1},
      {"solvent_9", T::kHotWork, Nearby("solvent_cleaning", 9), "hot_work.distance_painting", 1},
      {"painting_10_1", T::kHotWork, Nearby("painting", 10.1), "hot_work.distance_painting", 0},
      {"dust_10", T::kHotWork, Nearby("dust_sweeping", 10), "hot_work.distance_dust", 1},
      {"train_25", T::kHotWork, Nearby("hazmat_train", 25), "hot_work.distance_railway", 1},
      {"train_25_1", T::kHotWork, Nearby("hazmat_train", 25.1), "hot_work.distance_railway", 0},
      {"venting_20_for_draining_rule", T::kHotWork, Nearby("venting", 20),
       "hot_work.distance_draining", 0},
      // cylinder_distance — §5.2.12, §5.2.13
      {"cylinders_5m", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->oxygen_acetylene_distance_m = 5; },
       "hot_work.cylinder_spacing", 0},
      {"cylinders_4_9m", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->oxygen_acetylene_distance_m = 4.9; },
       "hot_work.cylinder_spacing", 1, "hot_work.oxygen_acetylene_distance_m"},
      {"cylinders_to_point_10m", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->cylinder_to_point_distance_m = 10; },
       "hot_work.cylinder_spacing", 0},
      {"cylinders_to_point_9_9m", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->cylinder_to_point_distance_m = 9.9; },
       "hot_work.cylinder_spacing", 1, "hot_work.cylinder_to_point_distance_m"},
      {"welder_10m", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->welder_machine_distance_m = 10; },
       "hot_work.welder_machine", 0},
      {"welder_10_1m", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->welder_machine_distance_m = 10.1; },
       "hot_work.welder_machine", 1, "hot_work.welder_machine_distance_m"},
      // isolation_blind_plate — §5.2.2, §6.1 a)
      {"hot_valve_only", T::kHotWork,
       [](Permit& p, CheckWorld&) {
         p.hot_work->isolation = {"valve", "water_seal"};
       },
       "hot_work.isolation", 1, "hot_work.isolation"},
      {"hot_valve_and_plate", T::kHotWork,
       [](Permit& p, CheckWorld&) {
         p.hot_work->isolation = {"valve", "blind_plate"};
       },
       "hot_work.isolation", 0},
      {"hot_shutdown_without_isolation", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->shutdown_and_isolated = true; },
       "hot_work.isolation", 1},
      {"confined_water_seal", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->isolation = {"water_seal"}; },
       "confined_space.isolation", 1, "confined_space.isolation"},
      {"confined_no_isolation", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->isolation.clear(); },
       "confined_space.isolation", 1},
      {"confined_pipe_removed", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->isolation = {"pipe_removed"}; },
       "confined_space.isolation", 0},
      // special_extras — §5.4.2 a), §5.2.11, §5.3.1 d)
      {"special_no_plan", T::kHotWork, Grade("special"), "hot_work.special_plan", 1,
       "hot_work.written_plan_ref"},
      {"special_no_video", T::kHotWork, Grade("special"), "hot_work.special_video", 1,
       "hot_work.video_cameras"},
      {"special_no_monitor", T::kHotWork, Grade("special"), "hot_work.special_monitor", 1,
       "hot_work.continuous_monitor"},
      {"special_complete", T::kHotWork,
       Then(Grade("special"),
            [](Permit& p, CheckWorld&) {
              p.hot_work->written_plan_ref = "vault:plan";
              p.hot_work->video_cameras = {"CAM-EX-1"};
              p.hot_work->continuous_monitor = "MON-1";
            }),
       "hot_work.special_video", 0},
      {"grade1_needs_no_video", T::kHotWork, Grade("grade1"), "hot_work.special_video", 0},
      // oxygen_equipment — §5.2.7
      {"oxygen_equipment", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.hot_work->oxygen_equipment = true; },
       "hot_work.oxygen_equipment", 1, "hot_work.oxygen_equipment"},
      {"no_oxygen_equipment", T::kHotWork, Nothing(), "hot_work.oxygen_equipment", 0},
      // ventilation — §6.2, §6.3 e)
      {"pure_oxygen", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->ventilation = "pure_oxygen"; },
       "confined_space.no_oxygen_enrichment", 1, "confined_space.ventilation"},
      {"no_ventilation", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->ventilation = "none"; },
       "confined_space.ventilation", 1},
      {"ventilation_unstated", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->ventilation.clear(); },
       "confined_space.ventilation", 1},
      {"natural_ventilation", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->ventilation = "natural"; },
       "confined_space.ventilation", 0},
      // lighting_voltage — §4.13 b)
      {"lighting_36v", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->lighting_voltage_v = 36; },
       "confined_space.lighting_voltage", 0},
      {"lighting_37v", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) { p.confined_space->lighting_voltage_v = 37; },
       "confined_space.lighting_voltage", 1, "confined_space.lighting_voltage_v"},
      {"lighting_wet_12v", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) {
         p.confined_space->lighting_voltage_v = 12;
         p.confined_space->wet_or_cramped = true;
       },
       "confined_space.lighting_voltage", 0},
      {"lighting_wet_13v", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) {
         p.confined_space->lighting_voltage_v = 13;
         p.confined_space->wet_or_cramped = true;
       },
       "confined_space.lighting_voltage", 1},
      // blind_plate_single — §7.11, §7.1, §7.4
      {"two_plates", T::kBlindPlate,
       [](Permit& p, CheckWorld&) {
         p.blind_plate->plates.push_back({"BP-02", "insert", "碳钢", "DN200"});
       },
       "blind_plate.single_plate", 1, "blind_plate.plates"},
      {"no_plate", T::kBlindPlate, [](Permit& p, CheckWorld&) { p.blind_plate->plates.clear(); },
       "blind_plate.single_plate", 1, "blind_plate.plates"},
      {"plate_without_number", T::kBlindPlate,
       [](Permit& p, CheckWorld&) { p.blind_plate->plates[0].number.clear(); },
       "blind_plate.single_plate", 1, "blind_plate.plates[0].number"},
      {"plate_bad_action", T::kBlindPlate,
       [](Permit& p, CheckWorld&) { p.blind_plate->plates[0].action = "both"; },
       "blind_plate.single_plate", 1, "blind_plate.plates[0].action"},
      {"plate_without_diagram", T::kBlindPlate,
       [](Permit& p, CheckWorld&) { p.blind_plate->diagram_ref.clear(); },
       "blind_plate.single_plate", 1, "blind_plate.diagram_ref"},
      // lifting_plan — §9.2.1
      {"grade2_without_plan", T::kLifting,
       [](Permit& p, CheckWorld&) { p.lifting->plan_ref.clear(); }, "lifting.plan", 1,
       "lifting.plan_ref"},
      {"grade3_without_plan", T::kLifting,
       [](Permit& p, CheckWorld&) {
         p.lifting->plan_ref.clear();
         p.lifting->mass_t = 20;
         p.lifting->grade = "grade3";
         p.grade = "grade3";
       },
       "lifting.plan", 0},
      {"grade3_complex_without_plan", T::kLifting,
       [](Permit& p, CheckWorld&) {
         p.lifting->plan_ref.clear();
         p.lifting->mass_t = 20;
         p.lifting->grade = "grade3";
         p.grade = "grade3";
         p.lifting->complex_load = true;
       },
       "lifting.plan", 1},
      // lifting_multi_crane — §9.2.10 c)
      {"two_cranes_80", T::kLifting,
       [](Permit& p, CheckWorld&) {
         p.lifting->cranes = 2;
         p.lifting->max_load_ratio = 0.8;
       },
       "lifting.multi_crane", 0},
      {"two_cranes_81", T::kLifting,
       [](Permit& p, CheckWorld&) {
         p.lifting->cranes = 2;
         p.lifting->max_load_ratio = 0.81;
       },
       "lifting.multi_crane", 1, "lifting.max_load_ratio"},
      {"two_cranes_unrecorded", T::kLifting, [](Permit& p, CheckWorld&) { p.lifting->cranes = 2; },
       "lifting.multi_crane", 1},
      {"one_crane_95", T::kLifting,
       [](Permit& p, CheckWorld&) { p.lifting->max_load_ratio = 0.95; }, "lifting.multi_crane", 0},
      // cosign — B.1
      {"excavation_no_fire_cosign", T::kExcavation,
       [](Permit& p, CheckWorld&) { std::erase(p.excavation->cosigned_departments, "fire"); },
       "excavation.cosign", 1, "excavation.cosigned_departments"},
      {"excavation_cosign_not_due_at_plan", T::kExcavation,
       [](Permit& p, CheckWorld&) { p.excavation->cosigned_departments.clear(); },
       "excavation.cosign", 0, "", Stage::kPlan},
      {"road_no_safety_cosign", T::kRoadBreaking,
       [](Permit& p, CheckWorld&) { p.road_breaking->cosigned_departments = {"fire"}; },
       "road_breaking.cosign", 1, "road_breaking.cosigned_departments"},
      // road_fire_lane — §12.1, §4.5 a)
      {"road_blocks_fire_lane", T::kRoadBreaking,
       [](Permit& p, CheckWorld&) { p.road_breaking->fire_lane_kept = false; },
       "road_breaking.fire_lane", 1, "road_breaking.fire_lane_kept"},
      {"road_without_traffic_plan", T::kRoadBreaking,
       [](Permit& p, CheckWorld&) { p.road_breaking->traffic_plan_ref.clear(); },
       "road_breaking.fire_lane", 1, "road_breaking.traffic_plan_ref"},
  };
}

class GeneralRuleTest : public ::testing::TestWithParam<Case> {};

TEST_P(GeneralRuleTest, Evaluates) {
  const Case& c = GetParam();
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok()) << w.load_status().ToString();
  ASSERT_NE(w.book().FindRule(c.rule), nullptr) << c.rule;
  Permit p = w.Make(c.type);
  c.edit(p, w);
  ASSERT_TRUE(w.SignAll(p).ok());
  const Decision d = w.Run(p, c.stage);
  std::vector<Violation> hits;
  for (const auto& v : d.violations) {
    if (v.rule == c.rule) hits.push_back(v);
  }
  ASSERT_EQ(static_cast<int>(hits.size()), c.expected)
      << c.rule << " first: " << (hits.empty() ? std::string("-") : hits[0].message);
  if (!hits.empty()) {
    const Rule* r = w.book().FindRule(c.rule);
    EXPECT_EQ(hits[0].clause, r->clause);
    EXPECT_EQ(hits[0].severity, r->severity);
    if (!c.field.empty()) {
      EXPECT_EQ(hits[0].field, c.field);
    }
    // Every placeholder was filled.
    EXPECT_EQ(hits[0].message.find('{'), std::string::npos) << hits[0].message;
    EXPECT_EQ(hits[0].message_zh.find('{'), std::string::npos) << hits[0].message_zh;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, GeneralRuleTest, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

// The compliant permit of every type passes every rule of this file at every stage.
class CompliantTest : public ::testing::TestWithParam<int> {};

TEST_P(CompliantTest, NoViolations) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok()) << w.load_status().ToString();
  Permit p = w.Make(static_cast<PermitType>(GetParam()));
  ASSERT_TRUE(w.SignAll(p).ok());
  for (Stage s : {Stage::kPlan, Stage::kGas, Stage::kApprove, Stage::kStart}) {
    const Decision d = w.Run(p, s);
    for (const auto& v : w.General(d)) {
      ADD_FAILURE() << PermitTypeCode(p.type) << " stage " << StageCode(s) << ": " << v.rule
                    << " at " << v.field << ": " << v.message;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CompliantTest, ::testing::Range(0, kPermitTypeCount),
                         [](const auto& param_info) {
                           return std::string(
                               PermitTypeCode(static_cast<PermitType>(param_info.param)));
                         });

TEST(GeneralRules, MessagesNameLimitAndActual) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok());
  Permit p = w.Make(PermitType::kHotWork);
  p.grade = "grade1";
  p.planned_end = p.planned_start + Duration::Hours(8) + kMin;
  const Decision d = w.Run(p, Stage::kPlan);
  bool found = false;
  for (const auto& v : d.violations) {
    if (v.rule != "hot_work.validity") continue;
    found = true;
    EXPECT_NE(v.message.find("8 h 1 min"), std::string::npos) << v.message;
    EXPECT_NE(v.message.find("8 h"), std::string::npos) << v.message;
    EXPECT_NE(v.message_zh.find("一级"), std::string::npos) << v.message_zh;
  }
  EXPECT_TRUE(found);
}

TEST(GeneralRules, LinkedWindowSkippedWithoutDirectory) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok());
  Permit p = w.Make(PermitType::kTemporaryPower);
  p.linked_permits = {"DH-1"};
  const Decision d = w.Run(p, Stage::kPlan, /*with_directory=*/false);
  EXPECT_NE(std::find(d.skipped.begin(), d.skipped.end(), "temporary_power.follows_linked"),
            d.skipped.end());
}

TEST(GeneralRules, LinkedPermitWithoutDirectoryNeedsANumber) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok());
  Permit p = w.Make(PermitType::kLifting);
  p.location.elevation_m = 3;
  auto count = [&](const Permit& q) {
    const Decision d = w.Run(q, Stage::kPlan, false);
    return std::count_if(d.violations.begin(), d.violations.end(),
                         [](const Violation& v) { return v.rule == "general.linked_height"; });
  };
  EXPECT_EQ(count(p), 1);
  p.linked_permits = {"GC-20261130-0002"};
  EXPECT_EQ(count(p), 0);
}

TEST(GeneralRules, ParamsAreValidatedAtLoad) {
  const internal::CheckKind* k = internal::FindCheckKind("distance_min");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->validate(core::Json{{"activities", {"venting"}}, {"within_m", 30}}).ok());
  auto bad = k->validate(core::Json{{"activities", {"welding"}}, {"within_m", 30}});
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.field(), "params.activities[0]");
  EXPECT_EQ(k->validate(core::Json{{"activities", {"venting"}}}).field(), "params.within_m");
  EXPECT_EQ(
      k->validate(core::Json{{"activities", {"venting"}}, {"within_m", 30}, {"x", 1}}).field(),
      "params.x");
  const internal::CheckKind* rf = internal::FindCheckKind("required_fields");
  ASSERT_NE(rf, nullptr);
  EXPECT_EQ(rf->validate(core::Json{{"fields", {"lifting.plan"}}}).field(), "params.fields[0]");
  const internal::CheckKind* tp = internal::FindCheckKind("temporary_power_duration");
  ASSERT_NE(tp, nullptr);
  EXPECT_FALSE(tp->validate(core::Json::object()).ok());
  EXPECT_FALSE(tp->validate(core::Json{{"max", "fifteen days"}}).ok());
}

}  // namespace
}  // namespace wg::permit

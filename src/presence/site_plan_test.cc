// Site plans: strict parsing (every error names its member), the limits of
// site_plan.h and the canonical round trip ParseSitePlan(ToJson(p)) == p.
#include "wg/presence/site_plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace wg::presence {
namespace {

using core::Json;

// The field a failed parse names ("" when it succeeded).
std::string FieldOf(const core::Result<SitePlan> &r) {
  return r.ok() ? std::string() : r.error().field();
}

Json GoodPlan() {
  return Json::parse(R"({
    "name": "二号联合装置",
    "extent": {"min": [-10, -20], "max": [300, 200.5]},
    "zones": [
      {"code": "U100", "name": "常减压", "polygon": [[0, 0], [100, 0], [100, 80], [0, 80]]},
      {"code": "TF3", "name": "罐区 3", "polygon": [[120, 0], [220, 0], [220, 90]]},
      {"code": "U200", "polygon": [[0, 100], [60, 100], [60, 150], [30, 120], [0, 150]]}
    ],
    "points": {"TF3-H2S-01": [150.5, 20], "U100-LEL-02": [40, 40]},
    "features": [
      {"kind": "tank", "label": "T-101", "centre": [160, 40], "radius_m": 12.5},
      {"kind": "rack", "polyline": [[0, 90], [220, 90]]},
      {"kind": "building", "label": "控制室",
       "polygon": [[250, 10], [290, 10], [290, 40], [250, 40]]},
      {"kind": "label", "label": "北门", "centre": [280, 190]},
      {"kind": "gate", "label": "1#", "polyline": [[280, 195], [290, 195]]}
    ]})");
}

TEST(SitePlan, ParsesTheGoodPlan) {
  auto p = ParseSitePlan(GoodPlan());
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->name, "二号联合装置");
  EXPECT_EQ(p->min, (Vec2{-10, -20}));
  EXPECT_EQ(p->max, (Vec2{300, 200.5}));
  ASSERT_EQ(p->zones.size(), 3u);
  EXPECT_EQ(p->zones[1].code, "TF3");
  EXPECT_EQ(p->zones[2].name, "");
  EXPECT_EQ(p->zones[2].polygon.size(), 5u);
  ASSERT_EQ(p->points.size(), 2u);
  EXPECT_EQ(p->points.at("TF3-H2S-01"), (Vec2{150.5, 20}));
  ASSERT_EQ(p->features.size(), 5u);
  EXPECT_EQ(p->features[0].kind, "tank");
  ASSERT_TRUE(p->features[0].centre.has_value());
  EXPECT_DOUBLE_EQ(p->features[0].radius_m, 12.5);
  EXPECT_EQ(p->features[1].polyline.size(), 2u);
  EXPECT_TRUE(p->features[1].polygon.empty());
  EXPECT_EQ(p->features[3].radius_m, 0);
}

TEST(SitePlan, RoundTripIsExactAndCanonical) {
  auto p = ParseSitePlan(GoodPlan());
  ASSERT_TRUE(p.ok());
  const Json out = ToJson(*p);
  auto again = ParseSitePlan(out);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, *p);
  EXPECT_EQ(ToJson(*again), out); // one canonical form
  // Every member is written, even empty ones, so the board needs no defaults.
  EXPECT_EQ(out["zones"][2]["name"], "");
  EXPECT_EQ(out["features"][1]["label"], "");
  EXPECT_FALSE(out["features"][1].contains("radius_m"));
  EXPECT_EQ(out["features"][3]["radius_m"], 0.0);
}

TEST(SitePlan, MinimalPlanHasOnlyAnExtent) {
  auto p = ParseSitePlan(
      Json::parse(R"({"extent": {"min": [0, 0], "max": [1, 1]}})"));
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_TRUE(p->zones.empty());
  EXPECT_TRUE(p->points.empty());
  EXPECT_TRUE(p->features.empty());
  EXPECT_EQ(*ParseSitePlan(ToJson(*p)), *p);
  // A default-constructed plan round-trips too once it has an extent.
  SitePlan q;
  q.max = {5, 5};
  EXPECT_EQ(*ParseSitePlan(ToJson(q)), q);
}

// Each mutation of the good plan must fail naming exactly this member.
struct Bad {
  const char
      *pointer; // JSON pointer of the member to replace ("" = remove `key`)
  const char *value; // JSON text; nullptr removes the member
  const char *field;
};

TEST(SitePlan, ErrorsNameTheMember) {
  const Bad cases[] = {
      {"/extent", nullptr, "extent"},
      {"/extent", "[0, 1]", "extent"},
      {"/extent/min", nullptr, "extent.min"},
      {"/extent/min", "[1]", "extent.min"},
      {"/extent/min/0", "\"0\"", "extent.min[0]"},
      {"/extent/max/1", "100001", "extent.max[1]"},
      {"/extent/max/0", "-10", "extent.max[0]"}, // min == max
      {"/extent/max/1", "-30", "extent.max[1]"}, // max < min
      {"/extent/zoom", "3", "extent.zoom"},
      {"/colour", "\"red\"", "colour"},
      {"/name", "7", "name"},
      {"/name", "\"a\\u0001b\"", "name"},
      {"/zones", "{}", "zones"},
      {"/zones/2", "[]", "zones[2]"},
      {"/zones/2/polygon/0/1", "true", "zones[2].polygon[0][1]"},
      {"/zones/2/polygon/0/1", "null", "zones[2].polygon[0][1]"},
      {"/zones/2/polygon/0", "[1, 2, 3]", "zones[2].polygon[0]"},
      {"/zones/2/polygon", "[[0, 0], [1, 1]]", "zones[2].polygon"},
      {"/zones/2/polygon", "[[0, 0], [1, 0], [1, 1], [0, 0]]",
       "zones[2].polygon[3]"},
      {"/zones/2/polygon", "[[0, 0], [1, 0], [1, 0], [0, 1]]",
       "zones[2].polygon[2]"},
      {"/zones/2/polygon", "[[0, 0], [1, 1], [2, 2]]",
       "zones[2].polygon"}, // zero area
      {"/zones/2/polygon", "[[0, 0], [10, 10], [10, 0], [0, 5]]",
       "zones[2].polygon[0]"}, // bow tie
      {"/zones/2/polygon", nullptr, "zones[2].polygon"},
      {"/zones/1/code", nullptr, "zones[1].code"},
      {"/zones/1/code", "\"TF 3\"", "zones[1].code"},
      {"/zones/1/code", "\"U100\"", "zones[1].code"}, // duplicate
      {"/zones/1/name", "1", "zones[1].name"},
      {"/zones/1/level", "\"red\"", "zones[1].level"},
      {"/points", "[]", "points"},
      {"/points/TF3-H2S-01", "[1]", "points.TF3-H2S-01"},
      {"/points/TF3-H2S-01/1", "\"y\"", "points.TF3-H2S-01[1]"},
      {"/points/bad id", "[1, 2]", "points"},
      {"/features", "{}", "features"},
      {"/features/0/kind", "\"silo\"", "features[0].kind"},
      {"/features/0/kind", nullptr, "features[0].kind"},
      {"/features/0/radius_m", "-1", "features[0].radius_m"},
      {"/features/0/radius_m", "0",
       "features[0].radius_m"}, // a tank circle needs a radius
      {"/features/0/radius_m", "\"5\"", "features[0].radius_m"},
      {"/features/0/polygon", "[[0, 0], [1, 0], [1, 1]]",
       "features[0]"}, // two shapes
      {"/features/1/polyline", "[[0, 0]]", "features[1].polyline"},
      {"/features/1/polyline/1/0", "1e300", "features[1].polyline[1][0]"},
      {"/features/1/radius_m", "3",
       "features[1].radius_m"}, // radius without centre
      {"/features/2/polygon/2", "[290]", "features[2].polygon[2]"},
      {"/features/3/label", nullptr,
       "features[3].label"}, // a label needs its text
      {"/features/3/centre", "[1, 2, 3]", "features[3].centre"},
      {"/features/4/colour", "\"red\"", "features[4].colour"},
  };
  for (const Bad &c : cases) {
    Json doc = GoodPlan();
    const Json::json_pointer ptr(c.pointer);
    if (c.value == nullptr) {
      doc[ptr.parent_pointer()].erase(ptr.back());
    } else {
      doc[ptr] = Json::parse(c.value);
    }
    auto r = ParseSitePlan(doc);
    EXPECT_EQ(FieldOf(r), c.field)
        << c.pointer << " = " << (c.value ? c.value : "(removed)")
        << (r.ok() ? "" : ": " + r.error().ToString());
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
    }
  }
}

TEST(SitePlan, TextLimits) {
  Json doc = GoodPlan();
  doc["zones"][1]["name"] = std::string(128, 'x');
  EXPECT_TRUE(ParseSitePlan(doc).ok());
  doc["zones"][1]["name"] = std::string(129, 'x');
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "zones[1].name");
  doc = GoodPlan();
  doc["features"][2]["label"] = std::string(129, 'x');
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "features[2].label");
  doc = GoodPlan();
  doc["zones"][0]["code"] = std::string(65, 'a');
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "zones[0].code");
  doc = GoodPlan();
  doc["points"][std::string(65, 'a')] = Json::array({1, 2});
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "points");
}

TEST(SitePlan, NonFiniteNumbersAreRejected) {
  for (double v : {std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    Json doc = GoodPlan();
    doc["zones"][2]["polygon"][0][1] = v;
    EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "zones[2].polygon[0][1]");
    doc = GoodPlan();
    doc["extent"]["min"][0] = v;
    EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "extent.min[0]");
    doc = GoodPlan();
    doc["points"]["U100-LEL-02"][0] = v;
    EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "points.U100-LEL-02[0]");
    doc = GoodPlan();
    doc["features"][0]["radius_m"] = v;
    EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "features[0].radius_m");
  }
  Json doc = GoodPlan();
  doc["points"]["U100-LEL-02"][0] = -100'000.5;
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "points.U100-LEL-02[0]");
  doc["points"]["U100-LEL-02"][0] = -100'000; // the bound itself is fine
  EXPECT_TRUE(ParseSitePlan(doc).ok());
}

TEST(SitePlan, CountLimits) {
  Json doc = GoodPlan();
  Json ring = Json::array();
  for (std::size_t i = 0; i <= kMaxPlanVertices; ++i) {
    const double a =
        2 * 3.14159265358979 * static_cast<double>(i) / (kMaxPlanVertices + 1);
    ring.push_back(Json::array({50 + 40 * std::cos(a), 50 + 40 * std::sin(a)}));
  }
  doc["zones"][0]["polygon"] = ring;
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "zones[0].polygon");
  ring.erase(ring.size() - 1);
  doc["zones"][0]["polygon"] = ring;
  EXPECT_TRUE(ParseSitePlan(doc).ok()) << ParseSitePlan(doc).error().ToString();

  doc = GoodPlan();
  Json zones = Json::array();
  for (std::size_t i = 0; i <= kMaxPlanZones; ++i) {
    zones.push_back(Json{{"code", "Z" + std::to_string(i)},
                         {"polygon", Json::parse("[[0, 0], [1, 0], [1, 1]]")}});
  }
  doc["zones"] = zones;
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "zones");
  zones.erase(zones.size() - 1);
  doc["zones"] = zones;
  EXPECT_TRUE(ParseSitePlan(doc).ok());

  doc = GoodPlan();
  Json features = Json::array();
  for (std::size_t i = 0; i <= kMaxPlanFeatures; ++i) {
    features.push_back(Json{
        {"kind", "label"}, {"label", "x"}, {"centre", Json::array({1, 1})}});
  }
  doc["features"] = features;
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "features");
  features.erase(features.size() - 1);
  doc["features"] = features;
  EXPECT_TRUE(ParseSitePlan(doc).ok());

  doc = GoodPlan();
  Json points = Json::object();
  for (std::size_t i = 0; i <= kMaxPlanPoints; ++i) {
    points["P" + std::to_string(i)] = Json::array({1, 2});
  }
  doc["points"] = points;
  EXPECT_EQ(FieldOf(ParseSitePlan(doc)), "points");
}

TEST(SitePlan, TopLevelMustBeAnObject) {
  EXPECT_FALSE(ParseSitePlan(Json::array()).ok());
  EXPECT_FALSE(ParseSitePlan(Json("plan")).ok());
  EXPECT_FALSE(ParseSitePlan(Json()).ok());
}

} // namespace
} // namespace wg::presence

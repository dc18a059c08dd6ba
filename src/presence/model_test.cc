// People-on-site value types: strict parsing (every error names its field) and round trips.
#include "wg/presence/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace wg::presence {
namespace {

using core::Json;

const core::OrgId kOrg{7};
const core::Timestamp kNow = core::Timestamp::FromSeconds(1'795'000'000);

// The field a failed parse names ("" when it succeeded).
template <typename T>
std::string FieldOf(const core::Result<T>& r) {
  return r.ok() ? std::string() : r.error().field();
}

Json GoodFence() {
  return Json::parse(R"({"id": "F-T101", "site": "S1", "zone": "U100", "name": "Tank 101 dike",
      "hazardous": true, "restricted": false,
      "area": {"outer": [[0, 0], [20, 0], [20, 10], [0, 10]],
               "holes": [[[5, 2], [8, 2], [8, 5]]], "z_min": -2, "z_max": 15.5}})");
}

TEST(PresenceModel, TagKindNames) {
  for (auto k : {TagKind::kUwb, TagKind::kGps}) EXPECT_EQ(*ParseTagKind(TagKindName(k)), k);
  EXPECT_EQ(TagKindName(TagKind::kGps), "gps");
  auto bad = ParseTagKind("rfid", "tags[1].kind");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field(), "tags[1].kind");
}

TEST(PresenceModel, ValidId) {
  EXPECT_TRUE(ValidId("T-001"));
  EXPECT_TRUE(ValidId("a.b_c-D9"));
  EXPECT_TRUE(ValidId(std::string(64, 'x')));
  EXPECT_FALSE(ValidId(""));
  EXPECT_FALSE(ValidId(std::string(65, 'x')));
  EXPECT_FALSE(ValidId("T 001"));
  EXPECT_FALSE(ValidId("T/001"));
  EXPECT_FALSE(ValidId("标签"));
}

TEST(PresenceModel, ParsesATagAndRoundTrips) {
  auto t = ParseTag(kOrg, Json::parse(R"({"id": "UWB-0042", "site": "S1", "kind": "uwb",
      "description": "helmet tag"})"));
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(t->org, kOrg);
  EXPECT_EQ(t->id, "UWB-0042");
  EXPECT_EQ(t->kind, TagKind::kUwb);
  EXPECT_TRUE(t->enabled);
  EXPECT_EQ(t->version, 0);
  t->version = 3;
  t->enabled = false;
  auto back = ParseTag(kOrg, ToJson(*t));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, *t);
  // Through text as well.
  auto again = ParseTag(kOrg, Json::parse(ToJson(*t).dump()));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *t);
}

TEST(PresenceModel, TagErrorsNameTheirField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"site": "S1", "kind": "uwb"})", "id"},
      {R"({"id": "a b", "site": "S1", "kind": "uwb"})", "id"},
      {R"({"id": 5, "site": "S1", "kind": "uwb"})", "id"},
      {R"({"id": "T1", "kind": "uwb"})", "site"},
      {R"({"id": "T1", "site": "S1"})", "kind"},
      {R"({"id": "T1", "site": "S1", "kind": "rfid"})", "kind"},
      {R"({"id": "T1", "site": "S1", "kind": "gps", "enabled": "yes"})", "enabled"},
      {R"({"id": "T1", "site": "S1", "kind": "gps", "version": -1})", "version"},
      {R"({"id": "T1", "site": "S1", "kind": "gps", "colour": "red"})", "colour"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FieldOf(ParseTag(kOrg, Json::parse(c.body))), c.field) << c.body;
  }
  Json long_desc = {{"id", "T1"}, {"site", "S1"}, {"kind", "uwb"},
                    {"description", std::string(129, 'd')}};
  EXPECT_EQ(FieldOf(ParseTag(kOrg, long_desc)), "description");
  long_desc["description"] = std::string(128, 'd');
  EXPECT_TRUE(ParseTag(kOrg, long_desc).ok());
  Json long_site = {{"id", "T1"}, {"site", std::string(65, 's')}, {"kind", "uwb"}};
  EXPECT_EQ(FieldOf(ParseTag(kOrg, long_site)), "site");
  EXPECT_FALSE(ParseTag(kOrg, Json::array()).ok());
}

TEST(PresenceModel, PersonRefs) {
  auto w = ParsePersonRef("worker:W-001");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->kind, PersonRef::Kind::kWorker);
  EXPECT_EQ(w->code, "W-001");
  EXPECT_EQ(w->Key(), "worker:W-001");
  auto u = ParsePersonRef("user:zhang.san");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->kind, PersonRef::Kind::kUser);
  EXPECT_EQ(u->Key(), "user:zhang.san");
  EXPECT_EQ(*ParsePersonRef(u->Key()), *u);
  EXPECT_LT(*w, *u);  // workers sort before users
  EXPECT_FALSE(PersonRef{}.Key().empty());
  EXPECT_TRUE(PersonRef{}.empty());

  for (const char* bad : {"", "W-001", "worker:", "worker:a b", "user:ab", "user:Zhang",
                          "user:", "guest:abc", ":abc", "worker:W:1"}) {
    auto r = ParsePersonRef(bad, "people[3]");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field(), "people[3]") << bad;
  }
  EXPECT_TRUE(ParsePersonRef("worker:" + std::string(64, 'W')).ok());
  EXPECT_FALSE(ParsePersonRef("worker:" + std::string(65, 'W')).ok());
  EXPECT_TRUE(ParsePersonRef("user:" + std::string(64, 'u')).ok());
  EXPECT_FALSE(ParsePersonRef("user:" + std::string(65, 'u')).ok());
  EXPECT_EQ(ParsePersonRef("x").error().field(), "person");
}

TEST(PresenceModel, ParsesABindingAndRoundTrips) {
  auto b = ParseBinding("UWB-0042", Json::parse(R"({"person": "worker:W001",
      "valid_from": "2026-11-28T16:00:00+08:00", "valid_until": "2026-11-29T08:00:00.250Z",
      "note": "day shift"})"), kNow);
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(b->tag, "UWB-0042");
  EXPECT_EQ(b->person.Key(), "worker:W001");
  EXPECT_EQ(core::FormatTimestamp(b->valid_from), "2026-11-28T08:00:00Z");
  ASSERT_TRUE(b->valid_until.has_value());
  EXPECT_EQ(*b->valid_until - b->valid_from,
            core::Duration{core::Duration::Hours(24).micros + 250'000});
  EXPECT_TRUE(b->ValidAt(b->valid_from));
  EXPECT_FALSE(b->ValidAt(*b->valid_until));
  b->id = 12;
  auto back = ParseBinding("UWB-0042", ToJson(*b), kNow);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, *b);
  auto text = ParseBinding("UWB-0042", Json::parse(ToJson(*b).dump()), kNow);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, *b);

  // Defaults: valid_from = now, open end.
  auto open = ParseBinding("T1", Json::parse(R"({"person": "user:li.si"})"), kNow);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->valid_from, kNow);
  EXPECT_FALSE(open->valid_until.has_value());
  EXPECT_TRUE(open->ValidAt(kNow + core::Duration::Days(3650)));
  auto open_back = ParseBinding("T1", ToJson(*open), kNow + core::Duration::Seconds(5));
  ASSERT_TRUE(open_back.ok());
  EXPECT_EQ(*open_back, *open);
}

TEST(PresenceModel, BindingErrorsNameTheirField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({})", "person"},
      {R"({"person": "W001"})", "person"},
      {R"({"person": 1})", "person"},
      {R"({"person": "worker:W001", "valid_from": "yesterday"})", "valid_from"},
      {R"({"person": "worker:W001", "valid_from": 5})", "valid_from"},
      {R"({"person": "worker:W001", "valid_until": "2026-13-01T00:00:00Z"})", "valid_until"},
      {R"({"person": "worker:W001", "valid_from": "2026-11-28T08:00:00Z",
           "valid_until": "2026-11-28T08:00:00Z"})", "valid_until"},
      {R"({"person": "worker:W001", "valid_from": "2026-11-28T08:00:00Z",
           "valid_until": "2026-11-28T07:00:00Z"})", "valid_until"},
      {R"({"person": "worker:W001", "tag": "OTHER"})", "tag"},
      {R"({"person": "worker:W001", "id": "x"})", "id"},
      {R"({"person": "worker:W001", "until": "2026-11-28T07:00:00Z"})", "until"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FieldOf(ParseBinding("T1", Json::parse(c.body), kNow)), c.field) << c.body;
  }
  Json note = {{"person", "worker:W001"}, {"note", std::string(257, 'n')}};
  EXPECT_EQ(FieldOf(ParseBinding("T1", note, kNow)), "note");
  note["note"] = std::string(256, 'n');
  EXPECT_TRUE(ParseBinding("T1", note, kNow).ok());
  EXPECT_EQ(FieldOf(ParseBinding("bad tag", Json::parse(R"({"person": "worker:W1"})"), kNow)),
            "tag");
}

TEST(PresenceModel, ParsesAFenceAndRoundTrips) {
  auto f = ParseFence(kOrg, GoodFence());
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_EQ(f->id, "F-T101");
  EXPECT_EQ(f->zone, "U100");
  EXPECT_TRUE(f->hazardous);
  EXPECT_FALSE(f->restricted);
  EXPECT_TRUE(f->enabled);
  ASSERT_EQ(f->area.outer.size(), 4u);
  EXPECT_EQ(f->area.outer[2], (Vec2{20, 10}));
  ASSERT_EQ(f->area.holes.size(), 1u);
  EXPECT_EQ(f->area.holes[0][1], (Vec2{8, 2}));
  EXPECT_EQ(f->area.z_min, -2);
  EXPECT_EQ(f->area.z_max, 15.5);
  f->version = 9;
  auto back = ParseFence(kOrg, ToJson(*f));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, *f);
  auto text = ParseFence(kOrg, Json::parse(ToJson(*f).dump()));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, *f);

  // Minimal: no holes, no height band, awkward doubles survive the text round trip.
  auto minimal = ParseFence(kOrg, Json::parse(R"({"id": "F2", "site": "S1",
      "area": {"outer": [[0.1, 0.2], [100.30000000000001, -7e-5], [3.3333333333333335, 55]]}})"));
  ASSERT_TRUE(minimal.ok()) << minimal.error().ToString();
  EXPECT_FALSE(minimal->area.z_min.has_value());
  EXPECT_TRUE(minimal->area.holes.empty());
  auto mback = ParseFence(kOrg, Json::parse(ToJson(*minimal).dump()));
  ASSERT_TRUE(mback.ok());
  EXPECT_EQ(*mback, *minimal);
  EXPECT_EQ(AreaToJson(minimal->area), AreaToJson(mback->area));
}

TEST(PresenceModel, FenceErrorsNameTheirField) {
  struct Case {
    const char* path;  // JSON pointer of the member to replace ("" = remove by `remove`)
    Json value;
    const char* field;
  } cases[] = {
      {"/id", "F 1", "id"},
      {"/site", "", "site"},
      {"/zone", 3, "zone"},
      {"/hazardous", "yes", "hazardous"},
      {"/restricted", 1, "restricted"},
      {"/colour", "red", "colour"},
      {"/area", Json::array(), "area"},
      {"/area/outer", Json::object(), "area.outer"},
      {"/area/outer/2", Json::array({1}), "area.outer[2]"},
      {"/area/outer/2", "20,10", "area.outer[2]"},
      {"/area/outer/2/1", "10", "area.outer[2].y"},
      {"/area/outer/1/0", 2e6, "area.outer[1].x"},
      {"/area/holes/0/2", Json::array({8, 5, 1}), "area.holes[0][2]"},
      {"/area/holes/0", Json::array({Json::array({1, 1}), Json::array({2, 2})}), "area.holes[0]"},
      {"/area/holes", Json::object(), "area.holes"},
      {"/area/z_min", "low", "area.z_min"},
      {"/area/z_max", 1e9, "area.z_max"},
      {"/area/height", 3, "area.height"},
  };
  for (const auto& c : cases) {
    Json doc = GoodFence();
    doc[Json::json_pointer(c.path)] = c.value;
    EXPECT_EQ(FieldOf(ParseFence(kOrg, doc)), c.field) << c.path << " = " << c.value.dump();
  }
  Json no_area = GoodFence();
  no_area.erase("area");
  EXPECT_EQ(FieldOf(ParseFence(kOrg, no_area)), "area");
  Json no_outer = GoodFence();
  no_outer["area"].erase("outer");
  EXPECT_EQ(FieldOf(ParseFence(kOrg, no_outer)), "area.outer");
  Json long_name = GoodFence();
  long_name["name"] = std::string(129, 'n');
  EXPECT_EQ(FieldOf(ParseFence(kOrg, long_name)), "name");
  Json long_zone = GoodFence();
  long_zone["zone"] = std::string(65, 'z');
  EXPECT_EQ(FieldOf(ParseFence(kOrg, long_zone)), "zone");

  // Too many vertices is refused before looking at them.
  Json big = GoodFence();
  Json ring = Json::array();
  for (std::size_t i = 0; i <= kMaxRingVertices; ++i) {
    ring.push_back(Json::array({static_cast<double>(i), static_cast<double>(i % 2)}));
  }
  big["area"]["outer"] = ring;
  EXPECT_EQ(FieldOf(ParseFence(kOrg, big)), "area.outer");
  Json holes = GoodFence();
  Json many = Json::array();
  for (std::size_t i = 0; i <= kMaxHoles; ++i) many.push_back(Json::array());
  holes["area"]["holes"] = many;
  EXPECT_EQ(FieldOf(ParseFence(kOrg, holes)), "area.holes");
}

TEST(PresenceModel, ParseAreaUsesTheGivenFieldAndValidatesGeometry) {
  auto a = ParseArea(Json::parse(R"({"outer": [[0, 0], [1, 0], [0, 1]]})"), "permit.fence");
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->outer.size(), 3u);
  auto bad = ParseArea(Json::parse(R"({"outer": [[0, 0], [1, "x"], [0, 1]]})"), "permit.fence");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field(), "permit.fence.outer[1].y");
  auto two = ParseArea(Json::parse(R"({"outer": [[0, 0], [1, 1]]})"));
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().field(), "area.outer");
  // Geometry errors come from ValidateArea and stay under the area's field.
  auto bowtie = ParseArea(Json::parse(R"({"outer": [[0, 0], [2, 2], [2, 0], [0, 2]]})"));
  ASSERT_FALSE(bowtie.ok());
  EXPECT_EQ(bowtie.error().field().rfind("area", 0), 0u) << bowtie.error().field();
  auto band = ParseArea(Json::parse(R"({"outer": [[0, 0], [1, 0], [0, 1]], "z_min": 5,
      "z_max": 1})"));
  ASSERT_FALSE(band.ok());
  EXPECT_EQ(band.error().field().rfind("area", 0), 0u) << band.error().field();
  EXPECT_FALSE(ParseArea(Json::parse("[]")).ok());
}

TEST(PresenceModel, ParsesASiteFrameAndRoundTrips) {
  auto f = ParseSiteFrame(Json::parse(R"({"origin": {"lat": 30.2741, "lon": 120.1551},
      "uwb": {"dx": 12.5, "dy": -3, "dz": 0.25, "rotation_deg": -90}})"));
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  ASSERT_TRUE(f->origin.has_value());
  EXPECT_EQ(f->origin->lat, 30.2741);
  EXPECT_EQ(f->uwb.rotation_deg, -90);
  auto back = ParseSiteFrame(ToJson(*f));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *f);
  auto text = ParseSiteFrame(Json::parse(ToJson(*f).dump()));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, *f);

  auto empty = ParseSiteFrame(Json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->origin.has_value());
  EXPECT_EQ(empty->uwb, FrameTransform{});
  EXPECT_EQ(*ParseSiteFrame(ToJson(*empty)), *empty);
  auto partial = ParseSiteFrame(Json::parse(R"({"uwb": {"dx": 4}})"));
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->uwb.dx, 4);
  EXPECT_EQ(partial->uwb.dy, 0);
}

TEST(PresenceModel, SiteFrameErrorsNameTheirField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"origin": {"lat": 91, "lon": 0}})", "origin.lat"},
      {R"({"origin": {"lat": 0, "lon": -180.5}})", "origin.lon"},
      {R"({"origin": {"lat": 0}})", "origin.lon"},
      {R"({"origin": {"lat": "30", "lon": 120}})", "origin.lat"},
      {R"({"origin": {"lat": 30, "lon": 120, "alt": 5}})", "origin.alt"},
      {R"({"origin": [30, 120]})", "origin"},
      {R"({"uwb": {"dx": 1e7}})", "uwb.dx"},
      {R"({"uwb": {"dy": -1000001}})", "uwb.dy"},
      {R"({"uwb": {"dz": "1"}})", "uwb.dz"},
      {R"({"uwb": {"rotation_deg": 361}})", "uwb.rotation_deg"},
      {R"({"uwb": {"rotation_deg": -360.5}})", "uwb.rotation_deg"},
      {R"({"uwb": {"scale": 1}})", "uwb.scale"},
      {R"({"uwb": 3})", "uwb"},
      {R"({"datum": "WGS-84"})", "datum"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FieldOf(ParseSiteFrame(Json::parse(c.body))), c.field) << c.body;
  }
  EXPECT_TRUE(ParseSiteFrame(Json::parse(R"({"uwb": {"rotation_deg": 360, "dx": -1e6}})")).ok());
  Json nan = {{"uwb", {{"dx", std::nan("")}}}};
  EXPECT_EQ(FieldOf(ParseSiteFrame(nan)), "uwb.dx");
  EXPECT_FALSE(ParseSiteFrame(Json::array()).ok());
}

TEST(PresenceModel, NonFiniteCoordinatesAreRefused) {
  Json doc = GoodFence();
  doc["area"]["outer"][0][0] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(FieldOf(ParseFence(kOrg, doc)), "area.outer[0].x");
}

}  // namespace
}  // namespace wg::presence

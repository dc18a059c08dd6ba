#include "wg/permit/print.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "wg/core/strings.h"

namespace wg::permit {
namespace {

core::Timestamp At(const char* rfc3339) { return core::ParseTimestamp(rfc3339).value(); }

// The embedded rulebook when it loads; an empty one otherwise (the renderer then prints
// role codes for the signature chain).
const PermitRulebook& Book() {
  static const PermitRulebook book = PermitRulebook::LoadEmbedded().value_or(PermitRulebook());
  return book;
}

bool BookLoaded() { return !Book().type(PermitType::kHotWork).signature_chain.empty(); }

Signature Sign(std::string role, std::string user, const char* at) {
  Signature s;
  s.role = std::move(role);
  s.username = std::move(user);
  s.signed_at = At(at);
  s.key_id = s.username + "/k1";
  s.digest = "9f2c0d1e5a7b3c4d00112233445566778899aabbccddeeff0011223344556677";
  s.signature = "MEUCIQ==";
  return s;
}

Permit HotWorkPermit() {
  Permit p;
  p.id = 7;
  p.number = "HW-20261129-0001";
  p.org = "acme";
  p.site = "plant1";
  p.type = PermitType::kHotWork;
  p.grade = "special";
  p.state = State::kApproved;
  p.title = "T-101 塔顶出口法兰焊接修补";
  p.work_unit = "检维修一车间";
  p.owning_unit = "常减压装置";
  p.location.zone = "U-100";
  p.location.description = "T-101 塔顶平台";
  p.location.point = {12.5, -3.25};
  p.location.elevation_m = 42;
  p.location.area_class = "fire_explosion_hazard";
  p.planned_start = At("2026-12-01T08:00:00+08:00");
  p.planned_end = At("2026-12-01T16:00:00+08:00");
  p.hazard_analysis = "可燃气体泄漏、火灾爆炸、高处坠落、灼烫";
  p.hazards = {"fire", "explosion", "fall"};
  p.measures = {
      Measure{"isolate", "动火设备内部构件清理干净，蒸汽吹扫或水洗、置换合格", true, "zhang.wei",
              At("2026-12-01T07:30:00+08:00")},
      Measure{"blind", "断开与动火设备相连接的所有管线，加盲板 3 块", true, "zhang.wei",
              std::nullopt},
      Measure{"custom", "高处作业已采取防火花飞溅措施", false, "", std::nullopt},
  };
  p.people = {
      Person{"performer", "W0001", "", "李强", {"T123456789012345678", "焊接与热切割作业"}},
      Person{"guardian", "W0002", "", "王芳", {"JH-2026-0099"}},
      Person{"work_leader", "", "zhang.wei", "张伟", {}},
      Person{"gas_analyst", "", "chen.li", "陈丽", {}},
  };
  p.linked_permits = {"GC-20261129-0003"};
  p.gas = {
      GasReading{At("2026-12-01T07:40:00+08:00"), "塔顶出口", "O2", 20.9, "%vol", "chen.li",
                 "GD-07", false},
      GasReading{At("2026-12-01T07:41:00+08:00"), "塔顶出口", "CH4", 0.12, "%vol", "chen.li",
                 "GD-07", false},
      GasReading{At("2026-12-01T07:42:00+08:00"), "塔内", "H2S", 1.5, "mg/m3", "chen.li", "CM-3",
                 true},
  };
  HotWorkSection h;
  h.method = "welding";
  h.on_running_equipment = true;
  h.isolation = {"blind_plate"};
  h.oxygen_acetylene_distance_m = 6;
  h.cylinder_to_point_distance_m = 12;
  h.nearby = {NearbyActivity{"venting", 45, "火炬线"}};
  h.video_cameras = {"CAM-EX-01"};
  h.written_plan_ref = "vault:plan-77";
  h.continuous_monitor = "CM-3";
  p.hot_work = h;
  p.signatures = {
      Sign("applicant", "zhang.wei", "2026-12-01T07:45:00+08:00"),
      Sign("guardian", "wang.fang", "2026-12-01T07:46:10+08:00"),
      Sign("approver", "liu.director", "2026-12-01T07:55:00+08:00"),
      Sign("custom_role", "zhao.extra", "2026-12-01T07:56:00+08:00"),
  };
  p.created_by = "zhang.wei";
  return p;
}

PrintOptions Options() {
  PrintOptions o;
  o.verify_url =
      "https://wg.example.cn/permits/verify?org=acme&n=HW-20261129-0001&d=0123456789abcdef";
  o.org_name = "示例石化有限公司";
  o.site_name = "一厂区";
  o.printed_at = At("2026-12-01T09:15:30+08:00");
  return o;
}

std::size_t Count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t pos = hay.find(needle); pos != std::string::npos;
       pos = hay.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// Page objects ("/Type /Page"), not the page tree ("/Type /Pages").
std::size_t PdfPages(const std::string& pdf) {
  std::size_t n = 0;
  const std::string needle = "/Type /Page";
  for (std::size_t pos = pdf.find(needle); pos != std::string::npos;
       pos = pdf.find(needle, pos + 1)) {
    const std::size_t after = pos + needle.size();
    if (after < pdf.size() && pdf[after] != 's') ++n;
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// HTML

TEST(PrintHtml, ContainsTitleGradeNumberGasSignaturesAndFooter) {
  const Permit p = HotWorkPermit();
  PrintOptions o = Options();
  o.signature_valid = {true, true, false, true};
  auto html = RenderHtml(Book(), p, o);
  ASSERT_TRUE(html) << html.error().ToString();
  const std::string& h = *html;
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(h.find("<html lang=\"zh-CN\">"), std::string::npos);
  EXPECT_NE(h.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(h.find("@page"), std::string::npos);
  EXPECT_NE(h.find("<h1>动火安全作业票</h1>"), std::string::npos);
  // B.1: the grade visibly marked, in the most-dangerous colour class.
  EXPECT_NE(h.find("class=\"grade g0\""), std::string::npos);
  EXPECT_NE(h.find(">特级</div>"), std::string::npos);
  EXPECT_NE(h.find("HW-20261129-0001"), std::string::npos);
  EXPECT_NE(h.find("示例石化有限公司"), std::string::npos);
  EXPECT_NE(h.find("已批准"), std::string::npos);
  EXPECT_NE(h.find("T-101 塔顶出口法兰焊接修补"), std::string::npos);
  EXPECT_NE(h.find("检维修一车间"), std::string::npos);
  EXPECT_NE(h.find("常减压装置"), std::string::npos);
  EXPECT_NE(h.find("2026-12-01 08:00 – 2026-12-01 16:00"), std::string::npos);
  EXPECT_NE(h.find("x=12.5 m, y=-3.25 m"), std::string::npos);
  EXPECT_NE(h.find("焊接"), std::string::npos);
  EXPECT_NE(h.find("可燃气体泄漏、火灾爆炸"), std::string::npos);
  // Every gas reading: time, point, value with unit, analyst, instrument.
  for (const char* s : {"2026-12-01 07:40", "2026-12-01 07:41", "2026-12-01 07:42", "20.9 %vol",
                        "0.12 %vol", "1.5 mg/m3", "GD-07", "CM-3（连续监测）", "塔内"}) {
    EXPECT_NE(h.find(s), std::string::npos) << s;
  }
  // Measures with 是否涉及 and confirmer.
  EXPECT_NE(h.find("加盲板 3 块"), std::string::npos);
  EXPECT_NE(h.find("zhang.wei\n2026-12-01 07:30"), std::string::npos);
  // People with certificate numbers; guardian line.
  EXPECT_NE(h.find("动火人"), std::string::npos);
  EXPECT_NE(h.find("T123456789012345678"), std::string::npos);
  EXPECT_NE(h.find("JH-2026-0099"), std::string::npos);
  EXPECT_NE(h.find("王芳"), std::string::npos);
  EXPECT_NE(h.find("GC-20261129-0003"), std::string::npos);
  // Signatures: signer, time with seconds, key, short digest, validity marks.
  for (const char* s : {"zhang.wei/k1", "wang.fang", "2026-12-01 07:46:10", "liu.director/k1",
                        "9f2c0d1e5a7b3c4d", "✓ 有效", "✗ 无效", "custom_role", "zhao.extra"}) {
    EXPECT_NE(h.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(h.find("9f2c0d1e5a7b3c4d0"), std::string::npos) << "only 16 hex of the digest";
  // Footer: no alterations, printed at, the content digest, the QR.
  EXPECT_NE(h.find("本作业票由 workguard 电子签发，不得涂改 (GB 30871-2022 §4.18)"),
            std::string::npos);
  EXPECT_NE(h.find("2026-12-01 09:15:30"), std::string::npos);
  EXPECT_NE(h.find(core::ToHex(ContentDigest(p))), std::string::npos);
  EXPECT_NE(h.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(h.find("扫描二维码核验本作业票"), std::string::npos);
  EXPECT_EQ(h.find("http://", h.find("</svg>")), std::string::npos) << "no external resources";
}

TEST(PrintHtml, SignatureChainUsesRulebookNamesAndListsPendingSteps) {
  if (!BookLoaded()) GTEST_SKIP() << "PermitRulebook::LoadEmbedded() does not load yet";
  auto html = RenderHtml(Book(), HotWorkPermit(), Options());
  ASSERT_TRUE(html) << html.error().ToString();
  EXPECT_NE(html->find("作业申请人（作业负责人）"), std::string::npos);
  EXPECT_NE(html->find("动火审批人"), std::string::npos);
  // Not signed yet: printed with a blank signer.
  EXPECT_NE(html->find("动火前岗位当班班长验票"), std::string::npos);
  EXPECT_NE(html->find("（待签）"), std::string::npos);
  // A role the chain does not know is printed as its code.
  EXPECT_NE(html->find("<td>custom_role</td>"), std::string::npos);
}

TEST(PrintHtml, CopesWithAnEmptyRulebook) {
  const PermitRulebook empty;
  auto html = RenderHtml(empty, HotWorkPermit(), Options());
  ASSERT_TRUE(html) << html.error().ToString();
  EXPECT_NE(html->find("<td>applicant</td>"), std::string::npos);
  EXPECT_NE(html->find("<td>O2</td>"), std::string::npos);
}

TEST(PrintHtml, EscapesEveryTextField) {
  Permit p = HotWorkPermit();
  p.title = "<script>alert('x')</script> & \"co\"";
  p.measures[0].text = "<img src=x onerror=alert(1)>";
  p.people[0].name = "<b>李</b>";
  p.signatures[0].opinion = "</td><script>";
  p.gas[0].point = "<iframe>";
  p.linked_permits = {"<a href=evil>"};
  PrintOptions o = Options();
  o.org_name = "A&B <Corp>";
  auto html = RenderHtml(Book(), p, o);
  ASSERT_TRUE(html) << html.error().ToString();
  const std::string& h = *html;
  EXPECT_NE(h.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"),
            std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("<img"), std::string::npos);
  EXPECT_EQ(h.find("<iframe"), std::string::npos);
  EXPECT_EQ(h.find("<a href"), std::string::npos);
  EXPECT_EQ(h.find("<b>李"), std::string::npos);
  EXPECT_NE(h.find("A&amp;B &lt;Corp&gt;"), std::string::npos);
  // The verify URL's '&' is escaped in the caption too.
  EXPECT_NE(h.find("verify?org=acme&amp;n=HW-20261129-0001"), std::string::npos);
}

TEST(PrintHtml, InvalidUtf8AndControlCharactersDoNotLeak) {
  Permit p = HotWorkPermit();
  p.title = std::string("bad\xff\xfe utf8 \x01 ctl");
  auto html = RenderHtml(Book(), p, Options());
  ASSERT_TRUE(html) << html.error().ToString();
  EXPECT_TRUE(core::IsValidUtf8(*html));
  EXPECT_NE(html->find("bad?? utf8   ctl"), std::string::npos);
}

TEST(PrintHtml, EnglishLabels) {
  PrintOptions o = Options();
  o.language = "en";
  auto html = RenderHtml(Book(), HotWorkPermit(), o);
  ASSERT_TRUE(html) << html.error().ToString();
  EXPECT_NE(html->find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(html->find("Hot work safety permit"), std::string::npos);
  EXPECT_NE(html->find("动火安全作业票"), std::string::npos);  // the ticket's own title too
  EXPECT_NE(html->find("特级 Special grade"), std::string::npos);
  EXPECT_NE(html->find("Gas analysis"), std::string::npos);
  EXPECT_NE(html->find("Issued electronically by workguard; no alterations"), std::string::npos);
  EXPECT_NE(html->find("approved"), std::string::npos);
}

TEST(PrintHtml, RejectsBadOptions) {
  PrintOptions o = Options();
  o.language = "fr";
  auto r = RenderHtml(Book(), HotWorkPermit(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
  o = Options();
  o.signature_valid = {true};  // four signatures
  r = RenderHtml(Book(), HotWorkPermit(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
}

TEST(PrintHtml, NoQrWithoutUrlAndNoGradeMarkForUngradedTypes) {
  Permit p = HotWorkPermit();
  p.type = PermitType::kConfinedSpace;
  p.grade.clear();
  p.hot_work.reset();
  p.confined_space = ConfinedSpaceSection{"V-201 储罐", "汽油", false, {"blind_plate"}, "forced",
                                          12.0,         true,   true,  "CM-9"};
  PrintOptions o = Options();
  o.verify_url.clear();
  auto html = RenderHtml(Book(), p, o);
  ASSERT_TRUE(html) << html.error().ToString();
  EXPECT_NE(html->find("<h1>受限空间安全作业票</h1>"), std::string::npos);
  EXPECT_EQ(html->find("class=\"grade"), std::string::npos);
  EXPECT_EQ(html->find("<svg"), std::string::npos);
  for (const char* s : {"V-201 储罐", "汽油", "强制通风", "12 V", "加盲板", "CM-9"}) {
    EXPECT_NE(html->find(s), std::string::npos) << s;
  }
}

// One permit of every type with its section: the Appendix A title and the section fields.
std::vector<std::pair<Permit, std::vector<std::string>>> EveryType() {
  std::vector<std::pair<Permit, std::vector<std::string>>> out;
  Permit base = HotWorkPermit();
  base.hot_work.reset();
  base.grade.clear();
  auto with = [&](PermitType t, std::string grade, auto set, std::vector<std::string> want) {
    Permit p = base;
    p.type = t;
    p.grade = std::move(grade);
    set(p);
    out.emplace_back(std::move(p), std::move(want));
  };
  with(PermitType::kHotWork, "grade2",
       [](Permit& p) {
         p.hot_work = HotWorkSection{};
         p.hot_work->method = "cutting";
       },
       {"动火安全作业票", "二级", "切割", "grade g2"});
  with(PermitType::kConfinedSpace, "",
       [](Permit& p) {
         p.confined_space = ConfinedSpaceSection{};
         p.confined_space->space_name = "R-3 反应釜";
       },
       {"受限空间安全作业票", "R-3 反应釜"});
  with(PermitType::kBlindPlate, "",
       [](Permit& p) {
         p.blind_plate = BlindPlateSection{};
         p.blind_plate->pipeline = "P-1001 氢气线";
         p.blind_plate->medium = "氢气";
         p.blind_plate->temperature_c = 35;
         p.blind_plate->pressure_mpa = 0.05;
         p.blind_plate->plates = {BlindPlate{"BP-07", "insert", "16MnR", "DN200"}};
       },
       {"盲板抽堵安全作业票", "P-1001 氢气线", "35 °C", "0.05 MPa", "BP-07", "16MnR", "DN200",
        "；抽/堵 堵"});
  with(PermitType::kHeight, "IV",
       [](Permit& p) {
         p.height = HeightSection{};
         p.height->height_m = 32;
         p.height->grade = "IV";
         p.height->method_b_factors = {"gust_force5"};
       },
       {"高处安全作业票", "Ⅳ级", "32 m", "gust_force5", "grade g0"});
  with(PermitType::kLifting, "grade2",
       [](Permit& p) {
         p.lifting = LiftingSection{};
         p.lifting->mass_t = 55.5;
         p.lifting->grade = "grade2";
         p.lifting->plan_ref = "vault:lift-9";
         p.lifting->max_load_ratio = 0.75;
       },
       {"吊装安全作业票", "55.5 t", "vault:lift-9", "75 %", "grade g1"});
  with(PermitType::kTemporaryPower, "",
       [](Permit& p) {
         p.temporary_power =
             TemporaryPowerSection{"380V", 22.0, true, "2# 配电室 3 号柜", "电气车间"};
       },
       {"临时用电安全作业票", "380V", "22 kW", "2# 配电室 3 号柜", "电气车间"});
  with(PermitType::kExcavation, "",
       [](Permit& p) {
         p.excavation = ExcavationSection{};
         p.excavation->depth_m = 1.5;
         p.excavation->area_m2 = 12;
         p.excavation->cosigned_departments = {"water", "power", "fire"};
       },
       {"动土安全作业票", "1.5 m", "12 m²", "水、电、消防"});
  with(PermitType::kRoadBreaking, "",
       [](Permit& p) {
         p.road_breaking =
             RoadBreakingSection{"厂区 3 号路", "vault:traffic-2", true, false, {"fire", "safety"}};
       },
       {"断路安全作业票", "厂区 3 号路", "vault:traffic-2", "消防、安全"});
  return out;
}

TEST(PrintHtml, EveryTypeHasItsTitleAndSection) {
  for (const auto& [p, want] : EveryType()) {
    auto html = RenderHtml(Book(), p, Options());
    ASSERT_TRUE(html) << html.error().ToString();
    for (const std::string& s : want) {
      EXPECT_NE(html->find(s), std::string::npos) << PermitTypeCode(p.type) << ": " << s;
    }
  }
}

// ---------------------------------------------------------------------------------------
// QR

TEST(PrintQr, ModuleCountFollowsTheQrVersion) {
  // Byte mode, error correction M: version 1 holds 14 bytes (21 modules), version 3
  // holds 42 (29 modules), version 4 holds 62 (33 modules); plus a 4-module quiet zone
  // on each side.
  auto v1 = QrSvg("HELLO", 4);
  ASSERT_TRUE(v1) << v1.error().ToString();
  EXPECT_EQ(v1->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(v1->find("viewBox=\"0 0 29 29\""), std::string::npos) << *v1;
  EXPECT_NE(v1->find("width=\"116\" height=\"116\""), std::string::npos);
  EXPECT_NE(v1->find("<path fill=\"#000\" d=\"M"), std::string::npos);
  EXPECT_TRUE(v1->ends_with("\"/></svg>"));
  // The finder pattern's top row: 7 dark modules starting at the quiet zone.
  EXPECT_NE(v1->find("M4 4h7v1h-7z"), std::string::npos);

  const std::string b42(42, 'a');
  auto v3 = QrSvg(b42, 2);
  ASSERT_TRUE(v3);
  EXPECT_NE(v3->find("viewBox=\"0 0 37 37\""), std::string::npos);
  EXPECT_NE(v3->find("width=\"74\""), std::string::npos);
  auto v4 = QrSvg(b42 + "a", 2);
  ASSERT_TRUE(v4);
  EXPECT_NE(v4->find("viewBox=\"0 0 41 41\""), std::string::npos);
}

TEST(PrintQr, SameTextSameSvg) {
  EXPECT_EQ(QrSvg("https://wg.example.cn/v?x=1", 3).value(),
            QrSvg("https://wg.example.cn/v?x=1", 3).value());
}

TEST(PrintQr, RejectsBadInput) {
  auto r = QrSvg("", 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
  r = QrSvg("x", 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
  r = QrSvg(std::string(5000, 'x'), 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------
// PDF

TEST(PrintPdf, IsAPdf) {
  PrintOptions o = Options();
  o.signature_valid = {true, false, true, true};
  auto pdf = RenderPdf(Book(), HotWorkPermit(), o);
  ASSERT_TRUE(pdf) << pdf.error().ToString();
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  std::string tail = pdf->substr(pdf->size() - 16);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  EXPECT_TRUE(tail.ends_with("%%EOF")) << tail;
  EXPECT_GE(PdfPages(*pdf), 1u);
  // Metadata from the options, not the clock.
  // cairo 1.16 omits the "D:" prefix of PDF dates (fixed in 1.17.2); readers accept both.
  EXPECT_TRUE(pdf->find("/CreationDate (D:20261201091530+08'00") != std::string::npos ||
              pdf->find("/CreationDate (20261201091530+08'00") != std::string::npos);
  EXPECT_NE(pdf->find("/Creator (workguard)"), std::string::npos);
}

TEST(PrintPdf, Deterministic) {
  const Permit p = HotWorkPermit();
  auto a = RenderPdf(Book(), p, Options());
  auto b = RenderPdf(Book(), p, Options());
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  PrintOptions later = Options();
  later.printed_at = At("2026-12-02T09:15:30+08:00");
  auto c = RenderPdf(Book(), p, later);
  ASSERT_TRUE(c);
  EXPECT_NE(*a, *c);
}

Permit LongPermit() {
  Permit p = HotWorkPermit();
  p.people.clear();
  for (int i = 0; i < 200; ++i) {
    p.people.push_back(Person{i % 10 == 0 ? "guardian" : "performer",
                              "W" + std::to_string(1000 + i),
                              "",
                              "作业人员" + std::to_string(i),
                              {"T1101011990010" + std::to_string(1000 + i)}});
  }
  p.gas.clear();
  for (int i = 0; i < 100; ++i) {
    p.gas.push_back(GasReading{At("2026-12-01T07:00:00+08:00") + core::Duration::Minutes(i),
                               "点" + std::to_string(i), i % 2 ? "O2" : "CH4",
                               i % 2 ? 20.9 : 0.01 * i, "%vol", "chen.li",
                               "GD-" + std::to_string(i), false});
  }
  // A free-text field longer than a page must wrap and continue on the next page.
  p.hazard_analysis.clear();
  for (int i = 0; i < 300; ++i) p.hazard_analysis += "可燃气体泄漏导致火灾爆炸风险";
  return p;
}

TEST(PrintPdf, LongPermitPaginates) {
  const Permit p = LongPermit();
  auto pdf = RenderPdf(Book(), p, Options());
  ASSERT_TRUE(pdf) << pdf.error().ToString();
  EXPECT_GT(PdfPages(*pdf), 1u);
  // 200 people and 100 readings at ~30 rows a page: well over five pages.
  EXPECT_GT(PdfPages(*pdf), 5u);
  auto again = RenderPdf(Book(), p, Options());
  ASSERT_TRUE(again);
  EXPECT_EQ(*pdf, *again);

  auto html = RenderHtml(Book(), p, Options());
  ASSERT_TRUE(html);
  for (int i = 0; i < 100; ++i) {
    EXPECT_NE(html->find("<td>GD-" + std::to_string(i) + "</td>"), std::string::npos) << i;
  }
  EXPECT_EQ(Count(*html, "T1101011990010"), 200u);
}

TEST(PrintPdf, EveryTypeRenders) {
  for (const auto& [p, want] : EveryType()) {
    auto pdf = RenderPdf(Book(), p, Options());
    ASSERT_TRUE(pdf) << PermitTypeCode(p.type) << ": " << pdf.error().ToString();
    EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  }
  PrintOptions en = Options();
  en.language = "en";
  auto pdf = RenderPdf(Book(), HotWorkPermit(), en);
  ASSERT_TRUE(pdf) << pdf.error().ToString();
}

TEST(PrintPdf, MissingFontIsAFailedPrecondition) {
  PrintOptions o = Options();
  o.font_family = "No Such Font Family 4711";
  auto pdf = RenderPdf(Book(), HotWorkPermit(), o);
  ASSERT_FALSE(pdf);
  EXPECT_EQ(pdf.error().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(pdf.error().message().find("No Such Font Family 4711"), std::string::npos)
      << pdf.error().ToString();
}

// Text extraction needs pdftotext (Debian package poppler-utils).
class PdfText : public ::testing::Test {
 protected:
  static bool HavePdftotext() { return std::system("command -v pdftotext >/dev/null 2>&1") == 0; }

  static std::string Extract(const std::string& pdf) {
    const auto dir = std::filesystem::temp_directory_path();
    const std::string stem = "wg_print_test_" + std::to_string(::getpid());
    const auto in = dir / (stem + ".pdf");
    const auto out = dir / (stem + ".txt");
    {
      std::ofstream f(in, std::ios::binary);
      f << pdf;
    }
    const std::string cmd = "pdftotext -enc UTF-8 '" + in.string() + "' '" + out.string() + "'";
    std::string text;
    if (std::system(cmd.c_str()) == 0) {
      std::ifstream f(out, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      text = ss.str();
    }
    std::filesystem::remove(in);
    std::filesystem::remove(out);
    return text;
  }
};

TEST_F(PdfText, ShowsTheChineseTitleNumberAndFields) {
  if (!HavePdftotext()) {
    GTEST_SKIP() << "pdftotext not installed (Debian package poppler-utils); PDF text not checked";
  }
  const Permit p = HotWorkPermit();
  auto pdf = RenderPdf(Book(), p, Options());
  ASSERT_TRUE(pdf) << pdf.error().ToString();
  const std::string text = Extract(*pdf);
  for (const char* s : {"动火安全作业票", "特级", "HW-20261129-0001", "检维修一车间", "20.9 %vol",
                        "T123456789012345678", "不得涂改", "扫描二维码核验本作业票"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  }
}

TEST_F(PdfText, LongPermitKeepsEveryRow) {
  if (!HavePdftotext()) {
    GTEST_SKIP() << "pdftotext not installed (Debian package poppler-utils); PDF text not checked";
  }
  auto pdf = RenderPdf(Book(), LongPermit(), Options());
  ASSERT_TRUE(pdf) << pdf.error().ToString();
  const std::string text = Extract(*pdf);
  for (int i = 0; i < 200; ++i) {
    EXPECT_NE(text.find("W" + std::to_string(1000 + i)), std::string::npos) << i;
  }
  EXPECT_NE(text.find("第 2 页"), std::string::npos);
}

}  // namespace
}  // namespace wg::permit

// The presence rulebook: the shipped data loads, every check has a rule, every error names
// its JSON path, and FillTemplate.
#include "wg/presence/rulebook.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace wg::presence {
namespace {

using core::Json;

constexpr Check kAllChecks[] = {Check::kUnauthorizedEntry, Check::kGuardianPresence,
                                Check::kConfinedHeadcount, Check::kHolderPresence,
                                Check::kLoneWorker,        Check::kStaleTag,
                                Check::kImplausibleJump};

Json MinimalRule() {
  return Json::parse(R"json({"id": "r1", "clause": "GB 30871-2022 §4.10 f)",
      "check": "guardian_presence", "level": "red", "actions": ["suspend_permit"],
      "params": {"grace": "2m"}, "message_zh": "监护人 {person} 离开",
      "message_en": "guardian {person} left"})json");
}

Json Doc(Json rule) {
  Json d = {{"version", "test"}, {"rules", Json::array()}};
  d["rules"].push_back(std::move(rule));
  return d;
}

std::string FieldOf(const Json& doc) {
  auto b = PresenceRulebook::FromJson(doc);
  return b.ok() ? std::string() : b.error().field();
}

TEST(PresenceRulebook, CheckNames) {
  std::set<std::string_view> names;
  for (auto c : kAllChecks) {
    names.insert(CheckName(c));
    auto back = ParseCheck(CheckName(c));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, c);
  }
  EXPECT_EQ(names.size(), std::size(kAllChecks));
  EXPECT_EQ(CheckName(Check::kConfinedHeadcount), "confined_headcount");
  auto bad = ParseCheck("man_down", "rules[0].check");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field(), "rules[0].check");
}

TEST(PresenceRulebook, ShippedRulesLoad) {
  auto book = PresenceRulebook::LoadEmbedded();
  ASSERT_TRUE(book.ok()) << book.error().ToString();
  const auto& b = **book;
  EXPECT_FALSE(b.version().empty());
  EXPECT_EQ(b.max_accuracy_m(), 50);
  for (auto c : kAllChecks) EXPECT_FALSE(b.RulesOf(c).empty()) << CheckName(c);
  for (const auto& r : b.rules()) {
    EXPECT_FALSE(r.clause.empty()) << r.id;
    EXPECT_FALSE(r.message_zh.empty()) << r.id;
    EXPECT_FALSE(r.message_en.empty()) << r.id;
    EXPECT_EQ(r.id.rfind("presence.", 0), 0u) << r.id;
  }

  const RuleDef* guardian = b.Rule("presence.guardian_absent");
  ASSERT_NE(guardian, nullptr);
  EXPECT_EQ(guardian->check, Check::kGuardianPresence);
  EXPECT_EQ(guardian->level, monitor::Level::kRed);
  EXPECT_EQ(guardian->grace, core::Duration::Minutes(2));
  EXPECT_EQ(guardian->stale_after, core::Duration::Seconds(60));
  EXPECT_EQ(guardian->max_distance_m, 30);
  EXPECT_NE(guardian->clause.find("§4.10 f)"), std::string::npos);
  EXPECT_NE(std::find(guardian->actions.begin(), guardian->actions.end(), "suspend_permit"),
            guardian->actions.end());
  EXPECT_NE(guardian->note.find("UNCERTAIN"), std::string::npos);

  auto entry = b.RulesOf(Check::kUnauthorizedEntry);
  ASSERT_EQ(entry.size(), 2u);
  EXPECT_EQ(entry[0]->id, "presence.unauthorized_entry");  // file order
  EXPECT_EQ(entry[0]->scope, "permit");
  EXPECT_EQ(entry[1]->scope, "restricted");
  EXPECT_EQ(entry[1]->grace, core::Duration::Seconds(15));

  const RuleDef* confined = b.Rule("presence.confined_occupied_suspended");
  ASSERT_NE(confined, nullptr);
  EXPECT_TRUE(confined->block_completion);
  EXPECT_TRUE(confined->AppliesTo("confined_space"));
  EXPECT_FALSE(confined->AppliesTo("hot_work"));
  EXPECT_EQ(confined->grace, core::Duration::Seconds(60));

  const RuleDef* holder = b.Rule("presence.holder_absent");
  ASSERT_NE(holder, nullptr);
  EXPECT_EQ(holder->grace, core::Duration::Minutes(5));
  EXPECT_EQ(holder->max_distance_m, 50);
  EXPECT_TRUE(holder->AppliesTo("hot_work"));  // no permit_types: all
  EXPECT_NE(holder->message_zh.find("{certificate}"), std::string::npos);

  const RuleDef* man_down = b.Rule("presence.man_down");
  ASSERT_NE(man_down, nullptr);
  EXPECT_EQ(man_down->still_for, core::Duration::Minutes(3));
  EXPECT_EQ(man_down->movement_m, 0.5);

  const RuleDef* stale = b.Rule("presence.tag_stale");
  ASSERT_NE(stale, nullptr);
  EXPECT_EQ(stale->after, core::Duration::Minutes(2));
  EXPECT_EQ(stale->level, monitor::Level::kBlue);

  const RuleDef* jump = b.Rule("presence.implausible_jump");
  ASSERT_NE(jump, nullptr);
  EXPECT_EQ(jump->max_speed_mps, 10);
  EXPECT_EQ(jump->count, 3);
  EXPECT_EQ(jump->window, core::Duration::Minutes(5));

  EXPECT_EQ(b.Rule("presence.nope"), nullptr);
}

TEST(PresenceRulebook, EmbeddedMatchesTheFileOnDisk) {
  auto files = PresenceRulebook::EmbeddedFiles();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].first, "rules.json");
  std::ifstream in(std::string(WG_SOURCE_DIR) + "/data/rules/presence/rules.json",
                   std::ios::binary);
  std::string disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(files[0].second, disk);
  auto loaded = PresenceRulebook::LoadFile(std::string(WG_SOURCE_DIR) +
                                           "/data/rules/presence/rules.json");
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ((*loaded)->rules().size(), (*PresenceRulebook::LoadEmbedded())->rules().size());
}

TEST(PresenceRulebook, LoadFileErrorsCarryTheFileName) {
  auto missing = PresenceRulebook::LoadFile("/nonexistent/rules.json");
  EXPECT_FALSE(missing.ok());
  auto path = std::filesystem::temp_directory_path() /
              ("presence_rules_test_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << R"({"version": "x", "rules": [{"id": "r"}]})";
  }
  auto bad = PresenceRulebook::LoadFile(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field(), "rules[0].clause");
  EXPECT_NE(bad.error().message().find(path.filename().string()), std::string::npos)
      << bad.error().ToString();
}

TEST(PresenceRulebook, MinimalRuleAndDefaults) {
  auto book = PresenceRulebook::FromJson(Doc(MinimalRule()));
  ASSERT_TRUE(book.ok()) << book.error().ToString();
  const auto& r = (*book)->rules().at(0);
  EXPECT_EQ(r.grace, core::Duration::Minutes(2));
  EXPECT_EQ(r.stale_after, core::Duration::Seconds(60));  // default
  EXPECT_EQ(r.max_distance_m, 30);
  EXPECT_EQ((*book)->max_accuracy_m(), 50);

  Json no_params = MinimalRule();
  no_params.erase("params");
  no_params.erase("actions");
  auto plain = PresenceRulebook::FromJson(Doc(no_params));
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_TRUE((*plain)->rules()[0].actions.empty());
  EXPECT_EQ((*plain)->rules()[0].grace, core::Duration::Seconds(30));

  Json durations = MinimalRule();
  durations["params"] = {{"grace", "1h30m"}, {"stale_after", "45s"}};
  auto d = PresenceRulebook::FromJson(Doc(durations));
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ((*d)->rules()[0].grace, core::Duration::Minutes(90));
  EXPECT_EQ((*d)->rules()[0].stale_after, core::Duration::Seconds(45));

  Json acc = Doc(MinimalRule());
  acc["max_accuracy_m"] = 0;
  auto unlimited = PresenceRulebook::FromJson(acc);
  ASSERT_TRUE(unlimited.ok());
  EXPECT_EQ((*unlimited)->max_accuracy_m(), 0);
}

TEST(PresenceRulebook, RuleErrorsNameTheirField) {
  struct Case {
    const char* pointer;  // into the rule
    Json value;
    const char* field;
  } cases[] = {
      {"/id", "", "rules[0].id"},
      {"/id", "bad id", "rules[0].id"},
      {"/clause", "", "rules[0].clause"},
      {"/check", "man_down", "rules[0].check"},
      {"/level", "orange", "rules[0].level"},
      {"/actions", Json::array({"notify", "page"}), "rules[0].actions[1]"},
      {"/actions", Json::array({"notify", "notify"}), "rules[0].actions[1]"},
      {"/actions", "notify", "rules[0].actions"},
      {"/params", Json::array(), "rules[0].params"},
      {"/params/grace", "2 min", "rules[0].params.grace"},
      {"/params/grace", "2", "rules[0].params.grace"},
      {"/params/grace", "0s", "rules[0].params.grace"},
      {"/params/grace", "30s2m", "rules[0].params.grace"},
      {"/params/grace", "2d", "rules[0].params.grace"},
      {"/params/grace", "25h", "rules[0].params.grace"},
      {"/params/grace", 120, "rules[0].params.grace"},
      {"/params/stale_after", "-5s", "rules[0].params.stale_after"},
      {"/params/max_distance_m", 0, "rules[0].params.max_distance_m"},
      {"/params/max_distance_m", -3, "rules[0].params.max_distance_m"},
      {"/params/max_distance_m", "30", "rules[0].params.max_distance_m"},
      {"/params/max_distance_m", 1e6, "rules[0].params.max_distance_m"},
      {"/params/still_for", "3m", "rules[0].params.still_for"},  // not a guardian param
      {"/params/permit_types", Json::array({"hot_work"}), "rules[0].params.permit_types"},
      {"/params/radius", 3, "rules[0].params.radius"},
      {"/message_zh", "监护人 {who} 离开", "rules[0].message_zh"},
      {"/message_en", 5, "rules[0].message_en"},
      {"/note", Json::array(), "rules[0].note"},
      {"/severity", "high", "rules[0].severity"},
  };
  for (const auto& c : cases) {
    Json rule = MinimalRule();
    rule[Json::json_pointer(c.pointer)] = c.value;
    EXPECT_EQ(FieldOf(Doc(rule)), c.field) << c.pointer << " = " << c.value.dump();
  }
  for (const char* key : {"id", "clause", "check", "level", "message_zh", "message_en"}) {
    Json rule = MinimalRule();
    rule.erase(key);
    EXPECT_EQ(FieldOf(Doc(rule)), "rules[0]." + std::string(key)) << key;
  }
}

TEST(PresenceRulebook, ParamsPerCheck) {
  struct Case {
    const char* check;
    Json params;
    const char* field;  // "" = loads
  } cases[] = {
      {"unauthorized_entry", {{"scope", "restricted"}, {"grace", "15s"}}, ""},
      {"unauthorized_entry", {{"scope", "zone"}}, "rules[0].params.scope"},
      {"unauthorized_entry", {{"max_distance_m", 5}}, "rules[0].params.max_distance_m"},
      {"confined_headcount",
       {{"grace", "60s"}, {"permit_types", {"confined_space"}}, {"block_completion", true}},
       ""},
      {"confined_headcount", {{"permit_types", {"confined"}}},
       "rules[0].params.permit_types[0]"},
      {"confined_headcount", {{"permit_types", {"hot_work", "hot_work"}}},
       "rules[0].params.permit_types[1]"},
      {"confined_headcount", {{"permit_types", "confined_space"}},
       "rules[0].params.permit_types"},
      {"confined_headcount", {{"block_completion", "yes"}}, "rules[0].params.block_completion"},
      {"holder_presence", {{"grace", "5m"}, {"max_distance_m", 50}}, ""},
      {"holder_presence", {{"stale_after", "1m"}}, "rules[0].params.stale_after"},
      {"lone_worker",
       {{"still_for", "3m"}, {"movement_m", 0.5}, {"permit_types", {"confined_space"}}},
       ""},
      {"lone_worker", {{"movement_m", 0}}, "rules[0].params.movement_m"},
      {"lone_worker", {{"grace", "1m"}}, "rules[0].params.grace"},
      {"stale_tag", {{"after", "2m"}}, ""},
      {"stale_tag", {{"after", "2"}}, "rules[0].params.after"},
      {"stale_tag", {{"window", "2m"}}, "rules[0].params.window"},
      {"implausible_jump", {{"max_speed_mps", 10}, {"count", 3}, {"window", "5m"}}, ""},
      {"implausible_jump", {{"count", 0}}, "rules[0].params.count"},
      {"implausible_jump", {{"count", 2.5}}, "rules[0].params.count"},
      {"implausible_jump", {{"max_speed_mps", -1}}, "rules[0].params.max_speed_mps"},
      {"implausible_jump", {{"window", "5x"}}, "rules[0].params.window"},
  };
  for (const auto& c : cases) {
    Json rule = MinimalRule();
    rule["check"] = c.check;
    rule["params"] = c.params;
    EXPECT_EQ(FieldOf(Doc(rule)), c.field) << c.check << " " << c.params.dump();
  }
}

TEST(PresenceRulebook, DocumentErrorsNameTheirField) {
  Json dup = Doc(MinimalRule());
  dup["rules"].push_back(MinimalRule());
  EXPECT_EQ(FieldOf(dup), "rules[1].id");

  Json d = Doc(MinimalRule());
  d.erase("version");
  EXPECT_EQ(FieldOf(d), "version");
  d = Doc(MinimalRule());
  d["rules"] = Json::object();
  EXPECT_EQ(FieldOf(d), "rules");
  d = Doc(MinimalRule());
  d.erase("rules");
  EXPECT_EQ(FieldOf(d), "rules");
  d = Doc(MinimalRule());
  d["rules"].push_back("r2");
  EXPECT_EQ(FieldOf(d), "rules[1]");
  d = Doc(MinimalRule());
  d["max_accuracy_m"] = -1;
  EXPECT_EQ(FieldOf(d), "max_accuracy_m");
  d = Doc(MinimalRule());
  d["format"] = "workguard-presence-rules/2";
  EXPECT_EQ(FieldOf(d), "format");
  d = Doc(MinimalRule());
  d["checks"] = Json::array();
  EXPECT_EQ(FieldOf(d), "checks");
  EXPECT_FALSE(PresenceRulebook::FromJson(Json::array()).ok());
}

TEST(PresenceRulebook, AppliesTo) {
  RuleDef r;
  EXPECT_TRUE(r.AppliesTo("hot_work"));
  r.permit_types = {"confined_space", "excavation"};
  EXPECT_TRUE(r.AppliesTo("excavation"));
  EXPECT_FALSE(r.AppliesTo("lifting"));
  EXPECT_FALSE(r.AppliesTo(""));
}

TEST(PresenceRulebook, FillTemplate) {
  std::vector<std::pair<std::string, std::string>> vars = {
      {"person", "张三"}, {"permit", "SX-2026-0007"}, {"minutes", "3"}};
  EXPECT_EQ(FillTemplate("监护人 {person} 离开作业票 {permit} 已 {minutes} 分钟", vars),
            "监护人 张三 离开作业票 SX-2026-0007 已 3 分钟");
  EXPECT_EQ(FillTemplate("{person}{person}", vars), "张三张三");
  EXPECT_EQ(FillTemplate("{fence} {person}", vars), "{fence} 张三");  // unknown kept
  EXPECT_EQ(FillTemplate("", vars), "");
  EXPECT_EQ(FillTemplate("no placeholders", vars), "no placeholders");
  EXPECT_EQ(FillTemplate("open {person", vars), "open {person");
  EXPECT_EQ(FillTemplate("{{person}}", vars), "{张三}");
  EXPECT_EQ(FillTemplate("{}", vars), "{}");
  // Values are not expanded again.
  EXPECT_EQ(FillTemplate("{person}", {{"person", "{permit}"}, {"permit", "X"}}), "{permit}");

  auto book = PresenceRulebook::LoadEmbedded();
  ASSERT_TRUE(book.ok());
  const RuleDef* g = (*book)->Rule("presence.guardian_absent");
  ASSERT_NE(g, nullptr);
  auto msg = FillTemplate(g->message_en, {{"person", "Li Si"},
                                          {"permit", "DH-1"},
                                          {"minutes", "2"},
                                          {"distance", "41"}});
  EXPECT_EQ(msg.find('{'), std::string::npos) << msg;
  EXPECT_NE(msg.find("Li Si"), std::string::npos);
}

}  // namespace
}  // namespace wg::presence

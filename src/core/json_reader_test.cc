#include "wg/core/json_reader.h"

#include <gtest/gtest.h>

namespace wg::core {
namespace {

Json Doc(std::string_view text) { return *ParseJson(text); }

// "field: message" of the first recorded error, "" when none.
std::string Err(const JsonReader& r) {
  if (r.status().ok()) return {};
  return r.status().field() + ": " + r.status().message();
}

TEST(JsonReaderTest, ReadsValidMembers) {
  auto j = Doc(R"({"s":"x","i":5,"n":1.5,"b":true,"d":"2024-02-29","a":[1],"o":{},
                   "ss":["p","q"],"z":null})");
  JsonReader r(j, "f.json: ");
  r.Only({"s", "i", "n", "b", "d", "a", "o", "ss", "z"});
  EXPECT_TRUE(r.Has("s"));
  EXPECT_FALSE(r.Has("z"));
  EXPECT_FALSE(r.Has("missing"));
  EXPECT_EQ(r.Str("s"), "x");
  EXPECT_EQ(r.Str("missing", false), "");
  EXPECT_EQ(r.Int("i", 0, 10), 5);
  EXPECT_EQ(r.Int("missing", 0, 10, 7), 7);
  EXPECT_EQ(r.Int64("i", 0, 10), 5);
  EXPECT_EQ(r.OptNumber("n", 0, 2), 1.5);
  EXPECT_EQ(r.OptNumber("z", 0, 2), std::nullopt);
  EXPECT_EQ(r.Number("n", 0, 2, std::nullopt), 1.5);
  EXPECT_EQ(r.Number("missing", 0, 2, 0.25), 0.25);
  EXPECT_TRUE(r.Bool("b"));
  EXPECT_TRUE(r.Bool("missing", true));
  EXPECT_EQ(r.Date("d"), Date::FromYmd(2024, 2, 29));
  EXPECT_EQ(r.OptDate("z"), std::nullopt);
  EXPECT_EQ(r.OptDate("d"), Date::FromYmd(2024, 2, 29));
  EXPECT_EQ(r.Strings("ss"), (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(r.Strings("missing").empty());
  EXPECT_EQ(r.Array("a").size(), 1u);
  EXPECT_TRUE(r.Array("missing", false).empty());
  EXPECT_TRUE(r.Object("o").is_object());
  EXPECT_TRUE(r.Object("missing", false).empty());
  EXPECT_TRUE(r.status().ok()) << Err(r);
  EXPECT_EQ(r.path(), "f.json: ");
  EXPECT_EQ(JsonReader::Index("items", 3), "items[3]");
}

// Each case: a fresh reader over `doc`, one call, the exact error it records.
struct Case {
  const char* doc;
  void (*call)(JsonReader&);
  const char* error;
};

TEST(JsonReaderTest, EachMethodNamesPathAndReason) {
  const Case cases[] = {
      {R"({"a":1,"x":2})", [](JsonReader& r) { r.Only({"a"}); }, "p.x: unknown member"},
      {R"({})", [](JsonReader& r) { r.Str("s"); }, "p.s: is required"},
      {R"({"s":null})", [](JsonReader& r) { r.Str("s"); }, "p.s: is required"},
      {R"({"s":1})", [](JsonReader& r) { r.Str("s"); }, "p.s: expected a string"},
      {R"({"s":1})", [](JsonReader& r) { r.Str("s", false); }, "p.s: expected a string"},
      {R"({"s":""})", [](JsonReader& r) { r.Str("s"); }, "p.s: must not be empty"},
      {R"({})", [](JsonReader& r) { r.Int("i", 0, 9); }, "p.i: expected an integer"},
      {R"({"i":1.5})", [](JsonReader& r) { r.Int("i", 0, 9, 1); }, "p.i: expected an integer"},
      {R"({"i":"1"})", [](JsonReader& r) { r.Int64("i", 0, 9); }, "p.i: expected an integer"},
      {R"({"i":10})", [](JsonReader& r) { r.Int("i", 0, 9); }, "p.i: must be between 0 and 9"},
      {R"({"i":-1})", [](JsonReader& r) { r.Int64("i", 0, 9); }, "p.i: must be between 0 and 9"},
      {R"({"n":"x"})", [](JsonReader& r) { r.OptNumber("n", 0, 1); }, "p.n: expected a number"},
      {R"({"n":2})", [](JsonReader& r) { r.OptNumber("n", 0, 0.5); },
       "p.n: must be between 0 and 0.5"},
      {R"({})", [](JsonReader& r) { r.Number("n", 0, 1, std::nullopt); }, "p.n: is required"},
      {R"({"n":5})", [](JsonReader& r) { r.Number("n", 0, 1, 0.5); },
       "p.n: must be between 0 and 1"},
      {R"({"b":1})", [](JsonReader& r) { r.Bool("b"); }, "p.b: expected true or false"},
      {R"({})", [](JsonReader& r) { r.Date("d"); }, "p.d: is required"},
      {R"({"d":"2024-02-30"})", [](JsonReader& r) { r.Date("d"); }, nullptr},
      {R"({"d":"x"})", [](JsonReader& r) { r.OptDate("d"); }, nullptr},
      {R"({})", [](JsonReader& r) { r.Strings("ss", true); }, "p.ss: is required"},
      {R"({"ss":"a"})", [](JsonReader& r) { r.Strings("ss"); },
       "p.ss: expected an array of strings"},
      {R"({"ss":["a",""]})", [](JsonReader& r) { r.Strings("ss"); },
       "p.ss[1]: expected a non-empty string"},
      {R"({"ss":["a",2]})", [](JsonReader& r) { r.Strings("ss"); },
       "p.ss[1]: expected a non-empty string"},
      {R"({})", [](JsonReader& r) { r.Array("a"); }, "p.a: is required"},
      {R"({"a":{}})", [](JsonReader& r) { r.Array("a", false); }, "p.a: expected an array"},
      {R"({})", [](JsonReader& r) { r.Object("o"); }, "p.o: is required"},
      {R"({"o":[]})", [](JsonReader& r) { r.Object("o", false); }, "p.o: expected an object"},
      {R"({})", [](JsonReader& r) { r.Fail("k", "custom"); }, "p.k: custom"},
      {R"({})", [](JsonReader& r) { r.Absorb(Status::InvalidArgument("m", "elsewhere")); },
       "elsewhere: m"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.doc);
    auto j = Doc(c.doc);
    JsonReader r(j, "p.");
    c.call(r);
    ASSERT_FALSE(r.status().ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    if (c.error != nullptr) {
      EXPECT_EQ(Err(r), c.error);
    } else {
      EXPECT_EQ(r.status().field(), "p.d");  // ParseDate's own message
    }
  }
}

TEST(JsonReaderTest, DateReportsParseDateMessage) {
  auto j = Doc(R"({"d":"2024-13-01"})");
  JsonReader r(j, "p.");
  r.Date("d");
  auto expected = ParseDate("2024-13-01", "d");
  ASSERT_FALSE(expected.has_value());
  EXPECT_EQ(r.status().message(), expected.error().message());
  EXPECT_EQ(r.status().field(), "p.d");
}

TEST(JsonReaderTest, KeepsOnlyTheFirstError) {
  auto j = Doc(R"({"a":1})");
  JsonReader r(j, "p.");
  r.Str("x");
  r.Int("y", 0, 1);
  r.Fail("z", "later");
  r.Absorb(Status::InvalidArgument("later", "w"));
  r.Absorb(Status::Ok());
  EXPECT_EQ(Err(r), "p.x: is required");
}

TEST(JsonReaderTest, OptionsKeepEachLoadersWording) {
  // Missing members under the "type error" wording.
  auto empty = Doc("{}");
  {
    JsonReader r(empty, "p.", {.array_missing_is_required = false});
    r.Array("a");
    EXPECT_EQ(Err(r), "p.a: expected an array");
  }
  {
    JsonReader r(empty, "p.", {.array_missing_is_required = false});
    EXPECT_TRUE(r.Array("a", false).empty());
    EXPECT_TRUE(r.status().ok());
  }
  {
    JsonReader r(empty, "p.", {.int_missing_is_required = true});
    r.Int64("i", 0, 9);
    EXPECT_EQ(Err(r), "p.i: is required");
  }
  // require_object: the path without its separator.
  auto arr = Doc("[1]");
  {
    JsonReader r(arr, "f.json: rules[2].", {.require_object = true});
    EXPECT_EQ(Err(r), "f.json: rules[2]: expected an object");
    r.Str("x");  // still the first error
    EXPECT_EQ(Err(r), "f.json: rules[2]: expected an object");
  }
  {
    JsonReader r(arr, "p.");  // without it: members just look missing
    EXPECT_TRUE(r.status().ok());
    EXPECT_FALSE(r.Has("x"));
    r.Only({});
    EXPECT_TRUE(r.status().ok());
    r.Str("x");
    EXPECT_EQ(Err(r), "p.x: is required");
  }
  // max_string_bytes.
  auto s = Doc(R"({"s":"abcd"})");
  {
    JsonReader r(s, "p.", {.max_string_bytes = 3});
    r.Str("s", false);
    EXPECT_EQ(Err(r), "p.s: longer than 3 bytes");
  }
  {
    JsonReader r(s, "p.", {.max_string_bytes = 4});
    EXPECT_EQ(r.Str("s"), "abcd");
    EXPECT_TRUE(r.status().ok());
  }
  // format_number.
  auto n = Doc(R"({"n":-1})");
  {
    JsonReader r(n, "p.");
    r.OptNumber("n", 0.0001, 100000);
    EXPECT_EQ(Err(r), "p.n: must be between 0.0001 and 100000");
  }
  {
    JsonReader r(n, "p.", {.format_number = [](double v) { return std::to_string(v); }});
    r.OptNumber("n", 0, 1);
    EXPECT_EQ(Err(r), "p.n: must be between 0.000000 and 1.000000");
  }
}

}  // namespace
}  // namespace wg::core

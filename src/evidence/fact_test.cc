#include <gtest/gtest.h>

#include "wg/core/strings.h"
#include "wg/evidence/fact.h"

namespace wg::evidence {
namespace {

Fact Sample() {
  Fact f;
  f.seq = 42;
  f.time = core::Timestamp{1764380000123456};
  f.org = "plant-a";
  f.site = "cdu";
  f.kind = "cert.issued";
  f.actor = "user:张工";
  f.subject = "cert:special_operation/T123";
  f.payload = R"({"a":1,"b":"焊接"})";
  return f;
}

TEST(FactTest, EncodingRoundTripsAndIsStable) {
  Fact f = Sample();
  std::string a = EncodeFact(f);
  EXPECT_EQ(a.substr(0, 4), "WGF1");
  EXPECT_EQ(EncodeFact(f), a) << "same fact, same bytes";
  auto back = DecodeFact(a);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(*back, f);
  // Field boundaries are part of the encoding: moving a byte between fields changes it.
  Fact g = f;
  g.org = "plant-";
  g.site = "acdu";
  EXPECT_NE(EncodeFact(g), a);
}

// The worked example of docs/formats/fact.md, byte for byte.
TEST(FactTest, MatchesTheDocumentedExample) {
  Fact f;
  f.seq = 0;
  f.time = core::Timestamp::FromSeconds(1764381600);
  f.org = "plant-a";
  f.kind = "org.created";
  f.actor = "cli:root";
  f.subject = "org:plant-a";
  f.payload = *CanonicalJson({{"name", "A 石化"}, {"code", "plant-a"}});
  EXPECT_EQ(core::ToHex(EncodeFact(f)),
            "574746310000000000000000000644b21a84280000000007706c616e742d61000000000000000b6f7267"
            "2e6372656174656400000008636c693a726f6f740000000b6f72673a706c616e742d6100000024"
            "7b22636f6465223a22706c616e742d61222c226e616d65223a224120e79fb3e58c96227d");
}

TEST(FactTest, DecodeRejectsMalformedBytesNamingTheField) {
  std::string good = EncodeFact(Sample());
  auto field = [](std::string_view bytes) {
    auto r = DecodeFact(bytes);
    return r.has_value() ? std::string("ok") : r.error().field();
  };
  EXPECT_EQ(field("XXXX" + good.substr(4)), "fact.magic");
  EXPECT_EQ(field(good.substr(0, 10)), "fact.seq");
  EXPECT_EQ(field(good.substr(0, good.size() - 1)), "fact.payload");
  EXPECT_EQ(field(good + "x"), "fact");
  std::string huge = good;
  huge[20] = '\x7f';  // org length's top byte: 2 GB
  EXPECT_EQ(field(huge), "fact.org");
  std::string bad_utf8 = EncodeFact(Sample());
  auto pos = bad_utf8.find("plant-a");
  bad_utf8[pos] = '\xff';
  EXPECT_EQ(field(bad_utf8), "fact.org");
}

TEST(FactTest, CanonicalJsonSortsKeysAndRefusesFloats) {
  core::Json j = {{"b", 1}, {"a", {{"z", true}, {"y", "中文"}}}};
  EXPECT_EQ(*CanonicalJson(j), R"({"a":{"y":"中文","z":true},"b":1})");
  core::Json f = {{"x", {{"temp", 1.5}}}};
  auto r = CanonicalJson(f);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field(), "payload.x.temp");
  core::Json bad = {{"s", std::string("\xff")}};
  EXPECT_FALSE(CanonicalJson(bad).has_value());
}

TEST(FactTest, JsonViewParsesThePayload) {
  core::Json j = FactToJson(Sample());
  EXPECT_EQ(j["seq"], 42);
  EXPECT_EQ(j["payload"]["b"], "焊接");
  EXPECT_EQ(j["time"], "2025-11-29T01:33:20.123456Z");
}

}  // namespace
}  // namespace wg::evidence

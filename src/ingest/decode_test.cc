#include "wg/ingest/decode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace wg::ingest {
namespace {

TopicInfo Single(std::string point = "gas-1") {
  TopicInfo t;
  t.kind = TopicInfo::Kind::kSingle;
  t.org = "org1";
  t.site = "site1";
  t.point = std::move(point);
  return t;
}

TopicInfo Batch() {
  TopicInfo t;
  t.kind = TopicInfo::Kind::kBatch;
  t.org = "org1";
  t.site = "site1";
  return t;
}

Decoded DecodeOne(const TopicInfo& topic, std::string_view payload) {
  Decoded d;
  DecodePayload(topic, payload, d);
  return d;
}

// 2026-11-29T08:00:00Z
constexpr std::int64_t kMs = 1795939200000;

TEST(TopicTest, ParsesReadingAndBatchTopics) {
  auto t = ParseTopic("wg/v1/org1/site-2/points/gas.1_a");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(t->kind, TopicInfo::Kind::kSingle);
  EXPECT_EQ(t->org, "org1");
  EXPECT_EQ(t->site, "site-2");
  EXPECT_EQ(t->point, "gas.1_a");
  auto b = ParseTopic("wg/v1/ORG/S1/batch");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, TopicInfo::Kind::kBatch);
  EXPECT_EQ(b->site, "S1");
  EXPECT_TRUE(b->point.empty());
}

TEST(TopicTest, RejectsEverythingElseNamingTopic) {
  for (const char* bad : {"", "wg/v1", "wg/v1/", "wg/v2/o/s/batch", "x/v1/o/s/batch",
                          "wg/v1/o/s/points", "wg/v1/o/s/points/", "wg/v1/o/s/points/p/x",
                          "wg/v1/o/s/batch/x", "wg/v1/o//batch", "wg/v1//s/batch",
                          "wg/v1/o/s/point/p", "wg/v1/o/s/points/p q", "wg/v1/o/s/points/p+",
                          "wg/v1/o/s/points/p#", "/wg/v1/o/s/batch", "wg/v1/o/s/actuators/z/power-lock",
                          "wg/v1/o/s/points/\xc3\xa9"}) {
    auto t = ParseTopic(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().field(), "topic") << bad;
    EXPECT_EQ(t.error().code(), core::StatusCode::kInvalidArgument);
  }
  const std::string long_id(65, 'a');
  EXPECT_FALSE(ParseTopic("wg/v1/o/s/points/" + long_id).ok());
  EXPECT_TRUE(ParseTopic("wg/v1/o/s/points/" + long_id.substr(1)).ok());
}

TEST(TopicTest, BuildsTopics) {
  EXPECT_EQ(ReadingTopic("o", "s", "p"), "wg/v1/o/s/points/p");
  EXPECT_EQ(BatchTopic("o", "s"), "wg/v1/o/s/batch");
  EXPECT_EQ(CommandTopic("o", "s", "z1", "power-lock"), "wg/v1/o/s/actuators/z1/power-lock");
  EXPECT_EQ(CommandTopic("o", "s", "z1", "broadcast"), "wg/v1/o/s/actuators/z1/broadcast");
  auto t = ParseTopic(ReadingTopic("o", "s", "p"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->point, "p");
}

TEST(DecodeTest, SingleReadingWithEpochMs) {
  auto d = DecodeOne(Single(), R"({"t": 1795939200250, "v": 12.5, "u": "%LEL"})");
  ASSERT_TRUE(d.rejected.empty()) << d.rejected[0].field << ": " << d.rejected[0].message;
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].point, "gas-1");
  EXPECT_EQ(d.readings[0].time.micros, (kMs + 250) * 1000);
  EXPECT_DOUBLE_EQ(d.readings[0].value, 12.5);
  EXPECT_EQ(d.readings[0].unit, "%LEL");
}

TEST(DecodeTest, SingleReadingWithRfc3339AndNoUnit) {
  auto d = DecodeOne(Single(), R"( {"v":-3e-2,"t":"2026-11-29T16:00:00.250+08:00"} )");
  ASSERT_TRUE(d.rejected.empty()) << d.rejected[0].message;
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].time.micros, (kMs + 250) * 1000);
  EXPECT_DOUBLE_EQ(d.readings[0].value, -0.03);
  EXPECT_EQ(d.readings[0].unit, "");
  auto z = DecodeOne(Single(), R"({"t":"2026-11-29T08:00:00Z","v":0})");
  ASSERT_EQ(z.readings.size(), 1u);
  EXPECT_EQ(z.readings[0].time.micros, kMs * 1000);
}

TEST(DecodeTest, EscapedStringsAreDecoded) {
  auto d = DecodeOne(Single(), R"({"\u0074":"2026-11-29T08:00:00Z","v":1,"u":"\u00b0C"})");
  ASSERT_TRUE(d.rejected.empty()) << d.rejected[0].message;
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].unit, "\xc2\xb0" "C");
}

struct BadCase {
  std::string payload;
  const char* reason;
  const char* field;
};

TEST(DecodeTest, MalformedSingleMessagesAreRejectedWithFieldAndReason) {
  const BadCase cases[] = {
      {"", "bad_json", "payload"},
      {"   ", "bad_json", "payload"},
      {"[]", "bad_json", "payload"},
      {"42", "bad_json", "payload"},
      {"null", "bad_json", "payload"},
      {R"({"t":1,"v":1)", "bad_json", "payload"},
      {R"({"t":1,"v":1,})", "bad_json", "payload"},
      {R"({"t":1,"v":1}x)", "bad_json", "payload"},
      {R"({"t":1,"v":1}{})", "bad_json", "payload"},
      {R"({"t":1 "v":1})", "bad_json", "payload"},
      {R"({t:1,"v":1})", "bad_json", "payload"},
      {R"({"t":1,"v":01})", "bad_json", "payload"},
      {R"({"t":1,"v":+1})", "bad_json", "payload"},
      {R"({"t":1,"v":1.})", "bad_json", "payload"},
      {R"({"t":1,"v":.5})", "bad_json", "payload"},
      {R"({"t":1,"v":NaN})", "bad_json", "payload"},
      {R"({"t":1,"v":Infinity})", "bad_json", "payload"},
      {R"({"t":1,"v":1,"u":"a\x"})", "bad_json", "payload"},
      {"{\"t\":1,\"v\":1,\"u\":\"a\nb\"}", "bad_json", "payload"},
      {R"({"t":1,"v":1,"u":"\ud800"})", "bad_json", "payload"},
      {R"({"t":1,"v":1,"u":"abc)", "bad_json", "payload"},
      {R"({"t":1,"v":tru})", "bad_json", "payload"},
      // Members.
      {R"({"v":1})", "bad_time", "t"},
      {R"({"t":1795939200000})", "bad_value", "v"},
      {R"({})", "bad_time", "t"},
      {R"({"t":1795939200000,"v":1,"x":1})", "bad_field", "x"},
      {R"({"t":1795939200000,"v":1,"p":"gas-1"})", "bad_field", "p"},
      {R"({"t":1795939200000,"v":1,"v":2})", "bad_field", "v"},
      {R"({"t":1795939200000,"v":1,"u":5})", "bad_field", "u"},
      {R"({"t":1795939200000,"v":1,"u":"a-unit-longer-than-16"})", "bad_field", "u"},
      {R"({"t":1795939200000,"v":1,"u":null})", "bad_field", "u"},
      // Values.
      {R"({"t":1795939200000,"v":"1"})", "bad_value", "v"},
      {R"({"t":1795939200000,"v":true})", "bad_value", "v"},
      {R"({"t":1795939200000,"v":null})", "bad_value", "v"},
      {R"({"t":1795939200000,"v":[1]})", "bad_value", "v"},
      {R"({"t":1795939200000,"v":{"x":1}})", "bad_value", "v"},
      {R"({"t":1795939200000,"v":1e400})", "bad_value", "v"},
      // Times.
      {R"({"t":1795939200000.5,"v":1})", "bad_time", "t"},
      {R"({"t":1.7e12,"v":1})", "bad_time", "t"},
      {R"({"t":0,"v":1})", "bad_time", "t"},
      {R"({"t":-1795939200000,"v":1})", "bad_time", "t"},
      {R"({"t":9007199254740992,"v":1})", "bad_time", "t"},
      {R"({"t":99999999999999999999,"v":1})", "bad_time", "t"},
      {R"({"t":"2026-11-29T08:00:00","v":1})", "bad_time", "t"},  // no zone
      {R"({"t":"2026-11-29","v":1})", "bad_time", "t"},           // a date is not an instant
      {R"({"t":"2026-02-30T08:00:00Z","v":1})", "bad_time", "t"},
      {R"({"t":"2026-11-29T25:00:00Z","v":1})", "bad_time", "t"},
      {R"({"t":"1795939200000","v":1})", "bad_time", "t"},
      {R"({"t":"yesterday","v":1})", "bad_time", "t"},
      {R"({"t":true,"v":1})", "bad_time", "t"},
      {R"({"t":null,"v":1})", "bad_time", "t"},
  };
  for (const auto& c : cases) {
    auto d = DecodeOne(Single(), c.payload);
    EXPECT_TRUE(d.readings.empty()) << c.payload;
    ASSERT_EQ(d.rejected.size(), 1u) << c.payload;
    EXPECT_EQ(d.rejected[0].reason, c.reason) << c.payload << " -> " << d.rejected[0].message;
    EXPECT_EQ(d.rejected[0].field, c.field) << c.payload << " -> " << d.rejected[0].message;
    EXPECT_FALSE(d.rejected[0].message.empty());
  }
}

TEST(DecodeTest, TimeLimitsAreInclusiveWhereDocumented) {
  auto d = DecodeOne(Single(), R"({"t":9007199254740991,"v":1})");
  EXPECT_EQ(d.readings.size(), 1u);
  auto one = DecodeOne(Single(), R"({"t":1,"v":1})");
  ASSERT_EQ(one.readings.size(), 1u);
  EXPECT_EQ(one.readings[0].time.micros, 1000);
}

TEST(DecodeTest, BatchDeliversGoodReadingsAndNamesTheBadOne) {
  const std::string payload = R"({"readings":[
    {"p":"gas-1","t":1795939200000,"v":1.5,"u":"%LEL"},
    {"p":"gas-2","t":"2026-11-29T08:00:01Z","v":2},
    {"p":"gas-3","t":1795939200000,"v":"high"},
    {"p":"gas-4","t":1795939200000,"v":4}]})";
  auto d = DecodeOne(Batch(), payload);
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].point, "gas-1");
  EXPECT_EQ(d.readings[0].unit, "%LEL");
  EXPECT_EQ(d.readings[1].point, "gas-2");
  EXPECT_EQ(d.readings[1].time.micros, (kMs + 1000) * 1000);
  EXPECT_EQ(d.readings[2].point, "gas-4");
  EXPECT_DOUBLE_EQ(d.readings[2].value, 4);
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].field, "readings[2].v");
  EXPECT_EQ(d.rejected[0].reason, "bad_value");
}

TEST(DecodeTest, BatchReadingProblemsNameTheirMember) {
  const BadCase cases[] = {
      {R"({"readings":[{"t":1795939200000,"v":1}]})", "bad_field", "readings[0].p"},
      {R"({"readings":[{"p":"a b","t":1795939200000,"v":1}]})", "bad_field", "readings[0].p"},
      {R"({"readings":[{"p":"","t":1795939200000,"v":1}]})", "bad_field", "readings[0].p"},
      {R"({"readings":[{"p":7,"t":1795939200000,"v":1}]})", "bad_field", "readings[0].p"},
      {R"({"readings":[{"p":"a","t":"noon","v":1}]})", "bad_time", "readings[0].t"},
      {R"({"readings":[{"p":"a","v":1}]})", "bad_time", "readings[0].t"},
      {R"({"readings":[{"p":"a","t":1795939200000}]})", "bad_value", "readings[0].v"},
      {R"({"readings":[{"p":"a","t":1795939200000,"v":1,"q":1}]})", "bad_field", "readings[0].q"},
      {R"({"readings":[{"p":"a","t":1795939200000,"v":1,"u":[]}]})", "bad_field", "readings[0].u"},
      {R"({"readings":[7]})", "bad_field", "readings[0]"},
      {R"({"readings":["x"]})", "bad_field", "readings[0]"},
  };
  for (const auto& c : cases) {
    auto d = DecodeOne(Batch(), c.payload);
    EXPECT_TRUE(d.readings.empty()) << c.payload;
    ASSERT_EQ(d.rejected.size(), 1u) << c.payload;
    EXPECT_EQ(d.rejected[0].reason, c.reason) << c.payload << " -> " << d.rejected[0].message;
    EXPECT_EQ(d.rejected[0].field, c.field) << c.payload << " -> " << d.rejected[0].message;
  }
}

TEST(DecodeTest, MalformedBatchesAreRejectedWhole) {
  const BadCase cases[] = {
      {R"({})", "bad_field", "readings"},
      {R"({"readings":{}})", "bad_field", "readings"},
      {R"({"readings":null})", "bad_field", "readings"},
      {R"({"readings":[],"extra":1})", "bad_field", "extra"},
      {R"({"readings":[],"readings":[]})", "bad_field", "readings"},
      // An empty member name is still an unknown member (found by mqtt_decode_fuzz).
      {R"({"":1,"readings":[{"p":"a","t":1795939200000,"v":1}]})", "bad_field", "\"\""},
      {R"([{"p":"a","t":1795939200000,"v":1}])", "bad_json", "payload"},
      // A syntax error anywhere voids the whole message, including earlier good readings.
      {R"({"readings":[{"p":"a","t":1795939200000,"v":1},{"p":"b","t":1795939200000,"v":1})",
       "bad_json", "payload"},
      {R"({"readings":[{"p":"a","t":1795939200000,"v":1},{"p":"b","t":1795939200000,"v":x}]})",
       "bad_json", "payload"},
      {R"({"readings":[{"p":"a","t":1795939200000,"v":1},]})", "bad_json", "payload"},
      // Deeply nested junk in an unknown member: bounded recursion.
      {(std::string(R"({"readings":[{"p":"a","t":1,"v":1,"x":)") + std::string(100, '[') +
        std::string(100, ']') + "}]}"),
       "bad_json", "payload"},
  };
  for (const auto& c : cases) {
    Decoded d;
    d.readings.push_back(RawReading{"earlier", {}, 0, ""});  // appended to, never touched
    DecodePayload(Batch(), c.payload, d);
    ASSERT_EQ(d.readings.size(), 1u) << c.payload;
    EXPECT_EQ(d.readings[0].point, "earlier");
    ASSERT_EQ(d.rejected.size(), 1u) << c.payload;
    EXPECT_EQ(d.rejected[0].reason, c.reason) << c.payload << " -> " << d.rejected[0].message;
    EXPECT_EQ(d.rejected[0].field, c.field) << c.payload << " -> " << d.rejected[0].message;
  }
}

TEST(DecodeTest, EmptyBatchIsFine) {
  auto d = DecodeOne(Batch(), R"({"readings":[]})");
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.rejected.empty());
}

std::string MakeBatch(std::size_t n) {
  std::string s = R"({"readings":[)";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ',';
    s += R"({"p":"gas-)" + std::to_string(i % 50) + R"(","t":)" +
         std::to_string(kMs + static_cast<std::int64_t>(i)) + R"(,"v":)" +
         std::to_string(static_cast<double>(i) * 0.25) + R"(,"u":"%LEL"})";
  }
  return s + "]}";
}

TEST(DecodeTest, PayloadOver256KiBIsTooLarge) {
  std::string big = R"({"t":1795939200000,"v":1,"u":")" + std::string(kMaxPayloadBytes, 'x') + "\"}";
  auto d = DecodeOne(Single(), big);
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].reason, "too_large");
  EXPECT_EQ(d.rejected[0].field, "payload");
  // Exactly at the limit is decoded (and here rejected for its unit, not its size).
  std::string at = R"({"t":1795939200000,"v":1,"u":")";
  at += std::string(kMaxPayloadBytes - at.size() - 2, 'x') + "\"}";
  ASSERT_EQ(at.size(), kMaxPayloadBytes);
  auto e = DecodeOne(Single(), at);
  ASSERT_EQ(e.rejected.size(), 1u);
  EXPECT_EQ(e.rejected[0].field, "u");
}

TEST(DecodeTest, MoreThanTenThousandReadingsIsTooLarge) {
  // Compact readings so 10,001 fit under 256 KiB.
  std::string s = R"({"readings":[)";
  for (std::size_t i = 0; i <= kMaxBatchReadings; ++i) {
    if (i) s += ',';
    s += R"({"p":"a","t":1,"v":1})";
  }
  s += "]}";
  ASSERT_LE(s.size(), kMaxPayloadBytes);
  auto d = DecodeOne(Batch(), s);
  EXPECT_TRUE(d.readings.empty());
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].reason, "too_large");
  EXPECT_EQ(d.rejected[0].field, "readings");
  // Exactly 10,000 is fine.
  std::string ok = R"({"readings":[)";
  for (std::size_t i = 0; i < kMaxBatchReadings; ++i) {
    if (i) ok += ',';
    ok += R"({"p":"a","t":1,"v":1})";
  }
  ok += "]}";
  auto e = DecodeOne(Batch(), ok);
  EXPECT_EQ(e.readings.size(), kMaxBatchReadings);
  EXPECT_TRUE(e.rejected.empty());
}

TEST(DecodeTest, DecodeMessageRejectsBadTopics) {
  Decoded d;
  DecodeMessage("wg/v1/o/s/points/p1", R"({"t":1795939200000,"v":3})", d);
  DecodeMessage("wg/v1/o/s/nope", R"({"t":1795939200000,"v":3})", d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].point, "p1");
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].reason, "bad_topic");
  EXPECT_EQ(d.rejected[0].field, "topic");
}

TEST(ParseReadingTimeTest, EpochMsAndRfc3339) {
  auto a = ParseReadingTime("1795939200250", "time");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->micros, (kMs + 250) * 1000);
  auto b = ParseReadingTime("2026-11-29T08:00:00.25Z", "time");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->micros, (kMs + 250) * 1000);
  for (const char* bad : {"", "0", "-5", "01795939200250", "9007199254740992", "2026-11-29",
                          "2026-11-29T08:00:00", "1.5", "soon"}) {
    auto r = ParseReadingTime(bad, "readings[4].t");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field(), "readings[4].t") << bad;
  }
}

// Best of 20 trials: the machine is shared, and the minimum is the least disturbed.
template <typename F>
double MicrosPerCall(int iterations, F f) {
  double best = 1e9;
  for (int trial = 0; trial < 20; ++trial) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) f();
    const auto dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, std::chrono::duration<double, std::micro>(dt).count() / iterations);
  }
  return best;
}

TEST(DecodeSpeedTest, HundredReadingBatchAndSingleMessage) {
  const std::string batch = MakeBatch(100);
  const std::string single = R"({"t":1795939200250,"v":12.5,"u":"%LEL"})";
  const TopicInfo bt = Batch(), st = Single();
  Decoded d;
  d.readings.reserve(200);
  const double batch_us = MicrosPerCall(100, [&] {
    d.readings.clear();
    DecodePayload(bt, batch, d);
  });
  ASSERT_EQ(d.readings.size(), 100u);
  const double single_us = MicrosPerCall(2000, [&] {
    d.readings.clear();
    DecodePayload(st, single, d);
  });
  ASSERT_EQ(d.readings.size(), 1u);
  std::printf("decode: 100-reading batch %.2f us, single %.3f us\n", batch_us, single_us);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // The contract (best of 20 trials, so a busy shared machine does not flake it).
  EXPECT_LT(batch_us, 50.0);
  EXPECT_LT(single_us, 2.0);
#else
  // Unoptimized or sanitized builds only report (Release numbers: src/ingest/README.md).
  std::printf("(not checked in this build type)\n");
#endif
}


// --- positions -------------------------------------------------------------------------

using presence::PositionFix;

TopicInfo PositionSingle(std::string tag = "tag-7") {
  TopicInfo t;
  t.kind = TopicInfo::Kind::kPosition;
  t.org = "org1";
  t.site = "site1";
  t.tag = std::move(tag);
  return t;
}

TopicInfo PositionBatch() {
  TopicInfo t;
  t.kind = TopicInfo::Kind::kPositionBatch;
  t.org = "org1";
  t.site = "site1";
  return t;
}

DecodedPositions DecodeFix(const TopicInfo& topic, std::string_view payload) {
  DecodedPositions d;
  DecodePositions(topic, payload, d);
  return d;
}

TEST(PositionTopicTest, ParsesAndRoundTrips) {
  const std::string single = PositionTopic("acme", "plant-2", "uwb.tag_07");
  EXPECT_EQ(single, "wg/v1/acme/plant-2/tags/uwb.tag_07/position");
  auto t = ParseTopic(single);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(t->kind, TopicInfo::Kind::kPosition);
  EXPECT_TRUE(t->is_position());
  EXPECT_EQ(t->org, "acme");
  EXPECT_EQ(t->site, "plant-2");
  EXPECT_EQ(t->tag, "uwb.tag_07");
  EXPECT_TRUE(t->point.empty());
  EXPECT_EQ(PositionTopic(t->org, t->site, t->tag), single);

  const std::string batch = PositionBatchTopic("acme", "plant-2");
  EXPECT_EQ(batch, "wg/v1/acme/plant-2/positions");
  auto b = ParseTopic(batch);
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(b->kind, TopicInfo::Kind::kPositionBatch);
  EXPECT_TRUE(b->is_position());
  EXPECT_TRUE(b->tag.empty());
  EXPECT_TRUE(b->point.empty());
  EXPECT_EQ(PositionBatchTopic(b->org, b->site), batch);

  // Reading topics are not position topics.
  EXPECT_FALSE(ParseTopic(ReadingTopic("o", "s", "p"))->is_position());
  EXPECT_FALSE(ParseTopic(BatchTopic("o", "s"))->is_position());
  // A tag may be called "position" or "positions"; a site may be called "tags".
  EXPECT_EQ(ParseTopic("wg/v1/o/s/tags/position/position")->tag, "position");
  EXPECT_EQ(ParseTopic("wg/v1/o/tags/tags/positions/position")->site, "tags");
}

TEST(PositionTopicTest, RejectsMalformedPositionTopicsNamingTopic) {
  const std::string long_id(65, 't');
  for (const std::string& bad : std::initializer_list<std::string>{
           "wg/v1/o/s/tags/t", "wg/v1/o/s/tags/t/", "wg/v1/o/s/tags/t/position/x",
        "wg/v1/o/s/tags//position", "wg/v1/o/s/tag/t/position", "wg/v1/o/s/tags/t/positions",
        "wg/v1/o/s/tags/t/Position", "wg/v1/o/s/tags/t p/position", "wg/v1/o/s/tags/t+/position",
        "wg/v1/o/s/tags/+/position", "wg/v1/o/s/tags/#", "wg/v1/o/s/positions/x",
        "wg/v1/o/s/positions/", "wg/v1/o/s/position", "wg/v1/o//positions",
        "wg/v1//s/tags/t/position", "wg/v2/o/s/positions", "wg/v1/o/s/tags/position",
        std::string("wg/v1/o/s/tags/") + long_id + "/position"}) {
    auto t = ParseTopic(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().field(), "topic") << bad;
    EXPECT_EQ(t.error().code(), core::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ParseTopic("wg/v1/o/s/tags/" + long_id.substr(1) + "/position").ok());
}

TEST(DecodePositionsTest, UwbFixInAnchorFrameMetres) {
  auto d = DecodeFix(PositionSingle(),
                     R"({"t": 1795939200250, "x": 12.5, "y": -3, "z": 1.25, "acc": 0.3})");
  ASSERT_TRUE(d.rejected.empty()) << d.rejected[0].field << ": " << d.rejected[0].message;
  ASSERT_EQ(d.fixes.size(), 1u);
  const PositionFix& f = d.fixes[0];
  EXPECT_EQ(f.tag, "tag-7");
  EXPECT_EQ(f.time.micros, (kMs + 250) * 1000);
  EXPECT_EQ(f.frame, PositionFix::Frame::kLocal);
  EXPECT_DOUBLE_EQ(f.x, 12.5);
  EXPECT_DOUBLE_EQ(f.y, -3);
  ASSERT_TRUE(f.z.has_value());
  EXPECT_DOUBLE_EQ(*f.z, 1.25);
  ASSERT_TRUE(f.accuracy_m.has_value());
  EXPECT_DOUBLE_EQ(*f.accuracy_m, 0.3);

  // z and acc are optional; the time may be RFC 3339; members in any order.
  auto e = DecodeFix(PositionSingle(), R"( {"y":0,"x":-0.5,"t":"2026-11-29T16:00:00.250+08:00"} )");
  ASSERT_TRUE(e.rejected.empty()) << e.rejected[0].field << ": " << e.rejected[0].message;
  ASSERT_EQ(e.fixes.size(), 1u);
  EXPECT_EQ(e.fixes[0].time.micros, (kMs + 250) * 1000);
  EXPECT_EQ(e.fixes[0].frame, PositionFix::Frame::kLocal);
  EXPECT_DOUBLE_EQ(e.fixes[0].x, -0.5);
  EXPECT_FALSE(e.fixes[0].z.has_value());
  EXPECT_FALSE(e.fixes[0].accuracy_m.has_value());
}

TEST(DecodePositionsTest, GpsFixIsStoredAsWgs84LatLonAlt) {
  auto d = DecodeFix(PositionSingle("gps-3"),
                     R"({"t":"2026-11-29T08:00:00Z","lat":31.2304,"lon":121.4737,"alt":4.5,"acc":3})");
  ASSERT_TRUE(d.rejected.empty()) << d.rejected[0].field << ": " << d.rejected[0].message;
  ASSERT_EQ(d.fixes.size(), 1u);
  const PositionFix& f = d.fixes[0];
  EXPECT_EQ(f.tag, "gps-3");
  EXPECT_EQ(f.time.micros, kMs * 1000);
  EXPECT_EQ(f.frame, PositionFix::Frame::kWgs84);
  EXPECT_DOUBLE_EQ(f.x, 31.2304);   // lat
  EXPECT_DOUBLE_EQ(f.y, 121.4737);  // lon
  ASSERT_TRUE(f.z.has_value());
  EXPECT_DOUBLE_EQ(*f.z, 4.5);      // alt
  EXPECT_DOUBLE_EQ(*f.accuracy_m, 3);

  // The range limits are inclusive; alt is optional.
  for (const char* edge : {R"({"t":1,"lat":90,"lon":180})", R"({"t":1,"lat":-90,"lon":-180})",
                           R"({"t":1,"lat":-0.0,"lon":0})"}) {
    auto e = DecodeFix(PositionSingle(), edge);
    ASSERT_EQ(e.fixes.size(), 1u) << edge << " -> " << (e.rejected.empty() ? "" : e.rejected[0].message);
    EXPECT_EQ(e.fixes[0].frame, PositionFix::Frame::kWgs84);
    EXPECT_FALSE(e.fixes[0].z.has_value());
  }
}

TEST(DecodePositionsTest, BadFixesAreRejectedNamingTheirMember) {
  const BadCase cases[] = {
      // Not a JSON object / syntax.
      {"", "bad_json", "payload"},
      {"[]", "bad_json", "payload"},
      {R"({"t":1,"x":1,"y":2)", "bad_json", "payload"},
      {R"({"t":1,"x":1,"y":2}x)", "bad_json", "payload"},
      {R"({"t":1,"x":NaN,"y":2})", "bad_json", "payload"},
      {R"({"t":1,"x":-Infinity,"y":2})", "bad_json", "payload"},
      {R"({"t":1,"x":1,"y":.2})", "bad_json", "payload"},
      // Members: unknown, duplicate, "tag" is the topic's.
      {R"({"t":1,"x":1,"y":2,"q":1})", "bad_field", "q"},
      {R"({"t":1,"x":1,"y":2,"":1})", "bad_field", "\"\""},
      {R"({"t":1,"x":1,"y":2,"tag":"t1"})", "bad_field", "tag"},
      {R"({"t":1,"x":1,"y":2,"v":1})", "bad_field", "v"},
      {R"({"t":1,"x":1,"y":2,"x":3})", "bad_field", "x"},
      {R"({"t":1,"lat":1,"lon":2,"lon":3})", "bad_field", "lon"},
      // Mixed frames: the member that mixes is named.
      {R"({"t":1,"x":1,"y":2,"lat":3})", "bad_field", "lat"},
      {R"({"t":1,"lat":1,"lon":2,"z":3})", "bad_field", "z"},
      {R"({"t":1,"alt":1,"x":2,"y":3})", "bad_field", "x"},
      {R"({"t":1,"lon":1,"y":2,"lat":3})", "bad_field", "y"},
      // Missing members.
      {R"({})", "bad_time", "t"},
      {R"({"x":1,"y":2})", "bad_time", "t"},
      {R"({"t":1})", "bad_value", "x"},
      {R"({"t":1,"acc":2})", "bad_value", "x"},
      {R"({"t":1,"y":2})", "bad_value", "x"},
      {R"({"t":1,"x":2})", "bad_value", "y"},
      {R"({"t":1,"x":2,"z":1})", "bad_value", "y"},
      {R"({"t":1,"lon":2})", "bad_value", "lat"},
      {R"({"t":1,"lat":2})", "bad_value", "lon"},
      {R"({"t":1,"alt":2})", "bad_value", "lat"},
      // Times (as for readings).
      {R"({"t":"1795939200000","x":1,"y":2})", "bad_time", "t"},
      {R"({"t":1795939200000.5,"x":1,"y":2})", "bad_time", "t"},
      {R"({"t":0,"x":1,"y":2})", "bad_time", "t"},
      {R"({"t":9007199254740992,"x":1,"y":2})", "bad_time", "t"},
      {R"({"t":"2026-11-29T08:00:00","x":1,"y":2})", "bad_time", "t"},
      {R"({"t":null,"x":1,"y":2})", "bad_time", "t"},
      // Values: types, impossible numbers, ranges.
      {R"({"t":1,"x":"1","y":2})", "bad_value", "x"},
      {R"({"t":1,"x":1,"y":null})", "bad_value", "y"},
      {R"({"t":1,"x":1,"y":2,"z":true})", "bad_value", "z"},
      {R"({"t":1,"x":1,"y":2,"z":null})", "bad_value", "z"},
      {R"({"t":1,"x":[1],"y":2})", "bad_value", "x"},
      {R"({"t":1,"x":1e400,"y":2})", "bad_value", "x"},
      {R"({"t":1,"x":1,"y":-1e309})", "bad_value", "y"},
      {R"({"t":1,"lat":"31.2","lon":121})", "bad_value", "lat"},
      {R"({"t":1,"lat":90.000001,"lon":121})", "bad_value", "lat"},
      {R"({"t":1,"lat":-91,"lon":121})", "bad_value", "lat"},
      {R"({"t":1,"lat":31,"lon":180.5})", "bad_value", "lon"},
      {R"({"t":1,"lat":31,"lon":-360})", "bad_value", "lon"},
      {R"({"t":1,"lat":1e400,"lon":0})", "bad_value", "lat"},
      {R"({"t":1,"lat":31,"lon":121,"alt":{}})", "bad_value", "alt"},
      {R"({"t":1,"lat":31,"lon":121,"alt":1e999})", "bad_value", "alt"},
  };
  for (const auto& c : cases) {
    DecodedPositions d;
    d.fixes.push_back(PositionFix{.tag = "earlier"});  // appended to, never touched
    DecodePositions(PositionSingle(), c.payload, d);
    ASSERT_EQ(d.fixes.size(), 1u) << c.payload;
    EXPECT_EQ(d.fixes[0].tag, "earlier");
    ASSERT_EQ(d.rejected.size(), 1u) << c.payload;
    EXPECT_EQ(d.rejected[0].reason, c.reason) << c.payload << " -> " << d.rejected[0].message;
    EXPECT_EQ(d.rejected[0].field, c.field) << c.payload << " -> " << d.rejected[0].message;
    EXPECT_FALSE(d.rejected[0].message.empty());
  }
}

TEST(DecodePositionsTest, AccuracyMustBePositiveAndAtMostTenKilometres) {
  for (const char* ok : {"0.001", "1", "9999.99", "10000", "1e4"}) {
    auto d = DecodeFix(PositionSingle(), std::string(R"({"t":1,"x":1,"y":2,"acc":)") + ok + "}");
    ASSERT_EQ(d.fixes.size(), 1u) << ok << " -> " << d.rejected[0].message;
    ASSERT_TRUE(d.fixes[0].accuracy_m.has_value());
  }
  for (const char* bad : {"0", "-0", "-1", "10000.001", "1e5", "1e400", "\"3\"", "null", "[]"}) {
    auto d = DecodeFix(PositionSingle(), std::string(R"({"t":1,"lat":1,"lon":2,"acc":)") + bad + "}");
    EXPECT_TRUE(d.fixes.empty()) << bad;
    ASSERT_EQ(d.rejected.size(), 1u) << bad;
    EXPECT_EQ(d.rejected[0].reason, "bad_value") << bad;
    EXPECT_EQ(d.rejected[0].field, "acc") << bad;
  }
}

TEST(DecodePositionsTest, BatchDeliversGoodFixesAndNamesTheBadOnes) {
  const std::string payload = R"({"positions":[
    {"tag":"uwb-1","t":1795939200000,"x":1.5,"y":2.5},
    {"tag":"gps-1","t":"2026-11-29T08:00:01Z","lat":31.2,"lon":121.5,"acc":4},
    {"tag":"gps-2","t":1795939200000,"lat":95,"lon":121.5},
    7,
    {"tag":"uwb-2","t":1795939200000,"x":3,"y":4,"z":0.5,"acc":0.1},
    {"tag":"uwb-3","t":1795939200000,"x":3,"lat":4}]})";
  for (int via_http = 0; via_http < 2; ++via_http) {
    DecodedPositions d;
    if (via_http) {
      DecodePositionBatch(payload, d);
    } else {
      DecodePositions(PositionBatch(), payload, d);
    }
    ASSERT_EQ(d.fixes.size(), 3u);
    EXPECT_EQ(d.fixes[0].tag, "uwb-1");
    EXPECT_EQ(d.fixes[0].frame, PositionFix::Frame::kLocal);
    EXPECT_EQ(d.fixes[1].tag, "gps-1");
    EXPECT_EQ(d.fixes[1].frame, PositionFix::Frame::kWgs84);
    EXPECT_EQ(d.fixes[1].time.micros, (kMs + 1000) * 1000);
    EXPECT_DOUBLE_EQ(d.fixes[1].x, 31.2);
    EXPECT_DOUBLE_EQ(d.fixes[1].y, 121.5);
    EXPECT_DOUBLE_EQ(*d.fixes[1].accuracy_m, 4);
    EXPECT_EQ(d.fixes[2].tag, "uwb-2");
    EXPECT_DOUBLE_EQ(*d.fixes[2].z, 0.5);
    ASSERT_EQ(d.rejected.size(), 3u);
    EXPECT_EQ(d.rejected[0].field, "positions[2].lat");
    EXPECT_EQ(d.rejected[0].reason, "bad_value");
    EXPECT_EQ(d.rejected[1].field, "positions[3]");
    EXPECT_EQ(d.rejected[1].reason, "bad_field");
    EXPECT_EQ(d.rejected[2].field, "positions[5].lat");
    EXPECT_EQ(d.rejected[2].reason, "bad_field");
  }
}

TEST(DecodePositionsTest, BatchFixProblemsNameTheirMember) {
  const BadCase cases[] = {
      {R"({"positions":[{"t":1,"x":1,"y":2}]})", "bad_field", "positions[0].tag"},
      {R"({"positions":[{"tag":"","t":1,"x":1,"y":2}]})", "bad_field", "positions[0].tag"},
      {R"({"positions":[{"tag":"a/b","t":1,"x":1,"y":2}]})", "bad_field", "positions[0].tag"},
      {R"({"positions":[{"tag":7,"t":1,"x":1,"y":2}]})", "bad_field", "positions[0].tag"},
      {R"({"positions":[{"tag":"a","tag":"b","t":1,"x":1,"y":2}]})", "bad_field", "positions[0].tag"},
      {R"({"positions":[{"tag":"a","x":1,"y":2}]})", "bad_time", "positions[0].t"},
      {R"({"positions":[{"tag":"a","t":"noon","x":1,"y":2}]})", "bad_time", "positions[0].t"},
      {R"({"positions":[{"tag":"a","t":1}]})", "bad_value", "positions[0].x"},
      {R"({"positions":[{"tag":"a","t":1,"x":1}]})", "bad_value", "positions[0].y"},
      {R"({"positions":[{"tag":"a","t":1,"lat":1}]})", "bad_value", "positions[0].lon"},
      {R"({"positions":[{"tag":"a","t":1,"lat":1,"lon":-181}]})", "bad_value", "positions[0].lon"},
      {R"({"positions":[{"tag":"a","t":1,"x":1,"y":2,"acc":0}]})", "bad_value", "positions[0].acc"},
      {R"({"positions":[{"tag":"a","t":1,"x":1,"y":2,"alt":3}]})", "bad_field", "positions[0].alt"},
      {R"({"positions":[{"tag":"a","t":1,"x":1,"y":2,"p":"a"}]})", "bad_field", "positions[0].p"},
      {R"({"positions":[null]})", "bad_field", "positions[0]"},
      {R"({"positions":[[]]})", "bad_field", "positions[0]"},
  };
  for (const auto& c : cases) {
    auto d = DecodeFix(PositionBatch(), c.payload);
    EXPECT_TRUE(d.fixes.empty()) << c.payload;
    ASSERT_EQ(d.rejected.size(), 1u) << c.payload;
    EXPECT_EQ(d.rejected[0].reason, c.reason) << c.payload << " -> " << d.rejected[0].message;
    EXPECT_EQ(d.rejected[0].field, c.field) << c.payload << " -> " << d.rejected[0].message;
  }
  // The index counts every element, good or bad.
  auto d = DecodeFix(PositionBatch(),
                     R"({"positions":[{"tag":"a","t":1,"x":1,"y":2},{"tag":"a","t":1,"x":1,"y":2},)"
                     R"({"tag":"a","t":1,"x":1,"y":2},{"tag":"b","t":1,"x":1,"y":2,"lat":1}]})");
  EXPECT_EQ(d.fixes.size(), 3u);
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].field, "positions[3].lat");
}

TEST(DecodePositionsTest, MalformedPositionBatchesAreRejectedWhole) {
  const std::string good = R"({"tag":"a","t":1795939200000,"x":1,"y":2})";
  const BadCase cases[] = {
      {R"({})", "bad_field", "positions"},
      {R"({"positions":{}})", "bad_field", "positions"},
      {R"({"positions":null})", "bad_field", "positions"},
      {R"({"readings":[]})", "bad_field", "readings"},
      {R"({"positions":[],"extra":1})", "bad_field", "extra"},
      {R"({"positions":[],"positions":[]})", "bad_field", "positions"},
      {"{\"\":1,\"positions\":[" + good + "]}", "bad_field", "\"\""},
      {"[" + good + "]", "bad_json", "payload"},
      {"{\"positions\":[" + good + "," + good + "}", "bad_json", "payload"},
      {"{\"positions\":[" + good + ",]}", "bad_json", "payload"},
      {"{\"positions\":[" + good + "]} x", "bad_json", "payload"},
      {R"({"positions":[{"tag":"a","t":1,"x":1,"y":2,"q":)" + std::string(100, '[') +
           std::string(100, ']') + "}]}",
       "bad_json", "payload"},
  };
  for (const auto& c : cases) {
    for (int via_http = 0; via_http < 2; ++via_http) {
      DecodedPositions d;
      d.fixes.push_back(PositionFix{.tag = "earlier"});
      d.rejected.push_back(Rejection{"bad_json", "earlier", "m"});
      if (via_http) {
        DecodePositionBatch(c.payload, d);
      } else {
        DecodePositions(PositionBatch(), c.payload, d);
      }
      ASSERT_EQ(d.fixes.size(), 1u) << c.payload;
      EXPECT_EQ(d.fixes[0].tag, "earlier");
      ASSERT_EQ(d.rejected.size(), 2u) << c.payload;
      EXPECT_EQ(d.rejected[0].field, "earlier");
      EXPECT_EQ(d.rejected[1].reason, c.reason) << c.payload << " -> " << d.rejected[1].message;
      EXPECT_EQ(d.rejected[1].field, c.field) << c.payload << " -> " << d.rejected[1].message;
    }
  }
  auto empty = DecodeFix(PositionBatch(), R"( {"positions": []} )");
  EXPECT_TRUE(empty.fixes.empty());
  EXPECT_TRUE(empty.rejected.empty());
}

TEST(DecodePositionsTest, PayloadOver256KiBIsTooLarge) {
  const std::string big =
      R"({"t":1,"x":1,"y":2,"pad":")" + std::string(kMaxPayloadBytes, 'x') + "\"}";
  for (int how = 0; how < 3; ++how) {
    DecodedPositions d;
    if (how == 0) DecodePositions(PositionSingle(), big, d);
    if (how == 1) DecodePositions(PositionBatch(), big, d);
    if (how == 2) DecodePositionBatch(big, d);
    EXPECT_TRUE(d.fixes.empty());
    ASSERT_EQ(d.rejected.size(), 1u) << how;
    EXPECT_EQ(d.rejected[0].reason, "too_large");
    EXPECT_EQ(d.rejected[0].field, "payload");
  }
  // Exactly at the limit is decoded (and here rejected for its unknown member, not its size).
  std::string at = R"({"t":1,"x":1,"y":2,"pad":")";
  at += std::string(kMaxPayloadBytes - at.size() - 2, 'x') + "\"}";
  ASSERT_EQ(at.size(), kMaxPayloadBytes);
  auto e = DecodeFix(PositionSingle(), at);
  ASSERT_EQ(e.rejected.size(), 1u);
  EXPECT_EQ(e.rejected[0].field, "pad");
}

TEST(DecodePositionsTest, MoreThanTenThousandPositionsIsOneTooLarge) {
  // 10,000 full fixes do not fit in 256 KiB (the payload limit usually binds first), so
  // the first 8,000 elements are fixes and the rest are empty objects (each rejected).
  constexpr std::size_t kFixes = 8000;
  auto make = [](std::size_t n) {
    std::string s = R"({"positions":[)";
    for (std::size_t i = 0; i < n; ++i) {
      if (i) s += ',';
      s += i < kFixes ? R"({"tag":"a","t":1,"x":1,"y":2})" : "{}";
    }
    return s + "]}";
  };
  const std::string over = make(kMaxBatchPositions + 1);
  ASSERT_LE(over.size(), kMaxPayloadBytes);
  DecodedPositions d;
  d.fixes.push_back(PositionFix{.tag = "earlier"});
  DecodePositions(PositionBatch(), over, d);
  ASSERT_EQ(d.fixes.size(), 1u);  // none of the 10,001 is delivered
  EXPECT_EQ(d.fixes[0].tag, "earlier");
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].reason, "too_large");
  EXPECT_EQ(d.rejected[0].field, "positions");
  // Exactly 10,000 is fine.
  const std::string at = make(kMaxBatchPositions);
  ASSERT_LE(at.size(), kMaxPayloadBytes);
  auto e = DecodeFix(PositionBatch(), at);
  EXPECT_EQ(e.fixes.size(), kFixes);
  ASSERT_EQ(e.rejected.size(), kMaxBatchPositions - kFixes);
  EXPECT_EQ(e.rejected.back().field, "positions[9999].tag");
}

TEST(DecodePositionsTest, ReadingAndPositionDecodersRejectEachOthersTopics) {
  // Readings: a position topic is a "bad_topic" (the bridge dispatches on is_position()).
  Decoded r;
  DecodeMessage(PositionTopic("o", "s", "t1"), R"({"t":1795939200000,"x":1,"y":2})", r);
  DecodeMessage(PositionBatchTopic("o", "s"), R"({"positions":[]})", r);
  DecodePayload(PositionSingle(), R"({"t":1795939200000,"v":3})", r);
  EXPECT_TRUE(r.readings.empty());
  ASSERT_EQ(r.rejected.size(), 3u);
  for (const auto& j : r.rejected) {
    EXPECT_EQ(j.reason, "bad_topic");
    EXPECT_EQ(j.field, "topic");
    EXPECT_NE(j.message.find("DecodePositions"), std::string::npos) << j.message;
  }
  // Positions: a reading topic is a "bad_topic".
  DecodedPositions p;
  DecodePositions(Single(), R"({"t":1,"x":1,"y":2})", p);
  DecodePositions(Batch(), R"({"positions":[]})", p);
  EXPECT_TRUE(p.fixes.empty());
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.rejected[0].reason, "bad_topic");
  EXPECT_EQ(p.rejected[1].field, "topic");
  // A parsed position topic decodes.
  auto t = ParseTopic("wg/v1/o/s/tags/T-1/position");
  ASSERT_TRUE(t.ok());
  DecodePositions(*t, R"({"t":1,"x":1,"y":2})", p);
  ASSERT_EQ(p.fixes.size(), 1u);
  EXPECT_EQ(p.fixes[0].tag, "T-1");
}

}  // namespace
}  // namespace wg::ingest

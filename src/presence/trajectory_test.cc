#include "wg/presence/trajectory.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/monitor/blocks.h"

namespace wg::presence {

// Readable failures (gtest finds it by ADL).
void PrintTo(const TrackPoint& p, std::ostream* os) {
  *os << "{" << p.time.micros << "us (" << p.position.x << ", " << p.position.y;
  if (p.has_z) *os << ", z " << p.position.z;
  *os << ")}";
}

namespace {

using core::OrgId;
using core::StatusCode;
using core::Timestamp;

constexpr std::int64_t kMinute = 60'000'000;

Timestamp Ms(std::int64_t ms) { return Timestamp{ms * 1000}; }
TrackPoint P(Timestamp t, double x, double y) { return TrackPoint{t, Vec3{x, y, 0}, false}; }
TrackPoint P(Timestamp t, double x, double y, double z) {
  return TrackPoint{t, Vec3{x, y, z}, true};
}

std::vector<TrackPoint> RoundTrip(const std::vector<TrackPoint>& points,
                                  const std::string& tag = "T1") {
  const std::string data = EncodeTrajectory(tag, points);
  auto d = DecodeTrajectory(data);
  EXPECT_TRUE(d.ok()) << d.error().ToString();
  if (!d.ok()) return {};
  EXPECT_EQ(d->tag, tag);
  return d->points;
}

// Replaces the trailing CRC so a crafted body passes the checksum and reaches the parser.
std::string Reseal(std::string block) {
  block.resize(block.size() - 4);
  const std::uint32_t crc = monitor::BlockCrc32c(block);
  for (int i = 0; i < 4; ++i) block.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return block;
}

std::string DecodeError(const std::string& data) {
  auto d = DecodeTrajectory(data);
  if (d.ok()) return "ok";
  EXPECT_EQ(d.error().code(), StatusCode::kCorruption);
  return d.error().message();
}

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---- Format.

// The worked example of docs/formats/trajectory-block.md, byte for byte.
TEST(TrajectoryFormatTest, WorkedExampleIsByteExact) {
  const std::vector<TrackPoint> points = {P(Ms(60'000), 1.0, -2.5),
                                          P(Ms(61'500), 1.25, -2.5, 3.0),
                                          P(Ms(62'000), -0.5, 0.0)};
  const std::string data = EncodeTrajectory("T1", points);
  EXPECT_EQ(core::ToHex(data),
            "5747544201"  // magic "WGTB", version 1
            "025431"      // tag: length 2, "T1"
            "03"          // 3 points
            "02" "02"     // z flags: mixed; bitmap 0b010 (point 1 has z)
            "c0a907"      // point 0: time 60000 ms, zig-zag 120000
            "c801"        //   x 100 cm: zig-zag 200
            "f303"        //   y -250 cm: zig-zag 499
            "dc0b"        // point 1: +1500 ms
            "32"          //   x +25 cm: zig-zag 50
            "00"          //   y +0
            "d804"        //   z +300 cm (from 0): zig-zag 600
            "f403"        // point 2: +500 ms
            "dd02"        //   x -175 cm: zig-zag 349
            "f403"        //   y +250 cm: zig-zag 500
            "2e5b8cfc");  // CRC-32C 0xfc8c5b2e of the 30 bytes before, little-endian
  auto d = DecodeTrajectory(data);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->tag, "T1");
  EXPECT_EQ(d->points, points);
}

TEST(TrajectoryFormatTest, RoundTripsValuesOnTheGridExactly) {
  // Negative coordinates, mixed z, equal times, before 1970, big jumps in time and space.
  const std::vector<TrackPoint> points = {
      P(Ms(-1'000'000'000'123), -1'000'000, -999'999.99),
      P(Ms(-1'000'000'000'123), 1'000'000, 1'000'000, -10'000),
      P(Ms(-5), 0.01, -0.01, 10'000),
      P(Ms(0), 12.34, 56.78),
      P(Ms(1), -12.34, -56.78, 0.07),
      P(Ms(1'750'000'000'000), 123.45, -678.9),
      P(Ms(9'000'000'000'000'000), -1'000'000, 1'000'000, -9'999.99),
  };
  EXPECT_EQ(RoundTrip(points), points);

  std::vector<TrackPoint> all_z = {P(Ms(1), 1, 2, 3), P(Ms(2), -1, -2, -3)};
  EXPECT_EQ(RoundTrip(all_z), all_z);
  std::vector<TrackPoint> no_z = {P(Ms(1), 1, 2), P(Ms(2), -1, -2)};
  EXPECT_EQ(RoundTrip(no_z), no_z);
  std::vector<TrackPoint> one = {P(Ms(-3), -0.5, 0.25, 1.5)};
  EXPECT_EQ(RoundTrip(one), one);

  // Mixed z over more than one bitmap byte (10 points: a partial last byte).
  std::vector<TrackPoint> mixed;
  for (int i = 0; i < 10; ++i) {
    mixed.push_back(i % 3 == 0 ? P(Ms(1000 + i * 100), i * 0.5, -i * 0.25, i * 1.5)
                               : P(Ms(1000 + i * 100), -i * 0.5, i * 0.25));
  }
  EXPECT_EQ(RoundTrip(mixed), mixed);

  // A typical minute: 1 Hz UWB fixes walking slowly, a few bytes each.
  std::vector<TrackPoint> walk;
  for (int i = 0; i < 60; ++i) {
    walk.push_back(P(Ms(1'750'000'020'000 + i * 1000 + (i % 3)), (1000 + i * 3) / 100.0,
                     (2000 - i * 2) / 100.0, 1.2));
  }
  const std::string data = EncodeTrajectory("uwb-0001", walk);
  EXPECT_LT(data.size(), walk.size() * 8);
  EXPECT_EQ(RoundTrip(walk, "uwb-0001"), walk);
}

TEST(TrajectoryFormatTest, EmptyBlocksAndTagLengths) {
  EXPECT_EQ(core::ToHex(EncodeTrajectory("", {})).substr(0, 14), "57475442010000");
  EXPECT_EQ(EncodeTrajectory("", {}).size(), 11u);  // the smallest block
  auto d = DecodeTrajectory(EncodeTrajectory("", {}));
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->tag, "");
  EXPECT_TRUE(d->points.empty());
  EXPECT_TRUE(RoundTrip({}, "T9").empty());

  const std::string longest(255, 'x');
  std::vector<TrackPoint> one = {P(Ms(1), 1, 1)};
  EXPECT_EQ(RoundTrip(one, longest), one);
  // The length is one byte: a longer tag is cut to 255 bytes (the sealer refuses it).
  auto cut = DecodeTrajectory(EncodeTrajectory(std::string(300, 'y'), one));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->tag, std::string(255, 'y'));
}

TEST(TrajectoryFormatTest, QuantizesToMillisecondsAndCentimetres) {
  const std::vector<TrackPoint> in = {
      TrackPoint{Timestamp{1'999}, Vec3{1.234, -1.235, 7.0}, false},  // z dropped: no z
      TrackPoint{Timestamp{-1}, Vec3{0.004, -0.006, 1.0049}, true},     // floors to -1 ms
      TrackPoint{Timestamp{2'000'999}, Vec3{-0.0, 0.125, -2.226}, true},
  };
  auto d = DecodeTrajectory(EncodeTrajectory("T1", in));
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  // Sorted by time (the input was not): the encoder sorts a copy.
  const std::vector<TrackPoint> want = {
      P(Timestamp{-1000}, 0.0, -0.01, 1.0),
      P(Timestamp{1000}, 1.23, std::llround(-123.5) / 100.0),
      P(Timestamp{2'000'000}, 0.0, std::llround(12.5) / 100.0, -2.23),
  };
  EXPECT_EQ(d->points, want);
  EXPECT_NE(d->points, in);  // off the grid: not equal after the round trip

  // Out of the site-frame limits: clamped (NaN is 0); the sealer refuses such points.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  auto c = DecodeTrajectory(EncodeTrajectory(
      "T1", {TrackPoint{Timestamp{std::numeric_limits<std::int64_t>::min()},
                        Vec3{inf, -5e6, nan}, true},
             TrackPoint{Timestamp{std::numeric_limits<std::int64_t>::max()},
                        Vec3{nan, 5e6, -inf}, true}}));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ASSERT_EQ(c->points.size(), 2u);
  EXPECT_EQ(c->points[0], P(Ms(-(std::numeric_limits<std::int64_t>::max() / 1000)), 1e6, -1e6, 0));
  EXPECT_EQ(c->points[1], P(Ms(std::numeric_limits<std::int64_t>::max() / 1000), 0, 1e6, -1e4));
}

TEST(TrajectoryFormatTest, DamageIsCorruptionNamingWhatIsWrong) {
  const std::vector<TrackPoint> points = {P(Ms(60'000), 1.0, -2.5),
                                          P(Ms(61'500), 1.25, -2.5, 3.0),
                                          P(Ms(62'000), -0.5, 0.0)};
  const std::string data = EncodeTrajectory("T1", points);
  for (std::size_t n = 0; n < data.size(); ++n) {
    EXPECT_NE(DecodeError(data.substr(0, n)), "ok") << "truncated to " << n;
    // Also past the checksum: a truncated body resealed reaches the parser.
    if (n >= 11) {
      EXPECT_NE(DecodeError(Reseal(data.substr(0, n))), "ok") << "resealed " << n;
    }
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_NE(DecodeError(bad), "ok") << "byte " << i << " bit " << bit;
      (void)DecodeError(Reseal(bad));  // never crashes, whatever it says
    }
  }

  EXPECT_TRUE(Has(DecodeError(data.substr(0, 10)), "shorter than the smallest block (11)"));
  std::string bad = data;
  bad[0] = 'X';
  EXPECT_TRUE(Has(DecodeError(bad), "bad magic"));
  bad = data;
  bad[4] = 2;
  EXPECT_TRUE(Has(DecodeError(bad), "unsupported version 2"));
  bad = data;
  bad[12] ^= 1;
  EXPECT_TRUE(Has(DecodeError(bad), "checksum mismatch"));
  EXPECT_TRUE(Has(DecodeError(data + "x"), "checksum mismatch"));
  EXPECT_TRUE(Has(DecodeError(Reseal(data + "xy")), "2 unexpected bytes after the points"));
  EXPECT_TRUE(Has(DecodeError(Reseal(EncodeTrajectory("T1", {}) + "z")),
                  "1 unexpected bytes after the points"));

  // Crafted bodies with a valid checksum reach the parser. Layout of `data`:
  // header(5) len(1)@5 "T1"@6 count@8 flags@9 bitmap@10 time0@11..13 x0@14..15 y0@16..17 ...
  bad = data;
  bad[5] = 60;
  EXPECT_TRUE(Has(DecodeError(Reseal(bad)), "tag is truncated"));
  bad = data;
  bad[8] = 9;
  EXPECT_TRUE(Has(DecodeError(Reseal(bad)), "point count 9 exceeds the block size"));
  bad = data;
  bad[9] = 3;
  EXPECT_TRUE(Has(DecodeError(Reseal(bad)), "z flags 3 is not 0, 1 or 2"));
  bad = data;
  bad[10] = 0x0a;  // a bit past the third point
  EXPECT_TRUE(Has(DecodeError(Reseal(bad)), "bits set past the last point"));
  bad = data;
  bad[10] = 0x07;  // every point has z: flags must say 1
  EXPECT_TRUE(Has(DecodeError(Reseal(bad)), "marks every point alike"));
  bad = data;
  bad[10] = 0x00;
  EXPECT_TRUE(Has(DecodeError(Reseal(bad)), "marks every point alike"));
  bad = data;
  bad[9] = 1;  // all have z: the bitmap byte is read as point 0's time, the rest shifts
  EXPECT_NE(DecodeError(Reseal(bad)), "ok");
  bad = data;
  bad[16] = static_cast<char>(0x80);  // y0 "f3 03" -> "80 00": a zero last byte
  bad[17] = 0x00;
  EXPECT_TRUE(Has(DecodeError(Reseal(bad)), "y of point 0 is not minimally encoded"));

  // Out-of-range coordinates and times (valid varints, impossible values).
  const auto with = [](std::vector<std::uint64_t> fields, std::uint8_t flags) {
    std::string b = "WGTB\x01";
    b += std::string("\x01T", 2);
    monitor::wire::PutUvarint(b, 1);
    b.push_back(static_cast<char>(flags));
    for (std::uint64_t f : fields) monitor::wire::PutUvarint(b, f);
    return Reseal(b + "crc!");
  };
  using monitor::wire::ZigZag;
  EXPECT_EQ(DecodeError(with({ZigZag(5), ZigZag(-100'000'000), ZigZag(100'000'000)}, 0)), "ok");
  EXPECT_TRUE(Has(DecodeError(with({ZigZag(5), ZigZag(100'000'001), 0}, 0)),
                  "x of point 0 is out of range"));
  EXPECT_TRUE(Has(DecodeError(with({ZigZag(5), 0, ZigZag(-100'000'001)}, 0)),
                  "y of point 0 is out of range"));
  EXPECT_TRUE(Has(DecodeError(with({ZigZag(5), 0, 0, ZigZag(1'000'001)}, 1)),
                  "z of point 0 is out of range"));
  EXPECT_TRUE(Has(DecodeError(with({ZigZag(std::numeric_limits<std::int64_t>::max()), 0, 0}, 0)),
                  "time of point 0 is out of range"));
  EXPECT_TRUE(Has(DecodeError(with({~std::uint64_t{0}, 0, 0}, 0)),
                  "time of point 0 is out of range"));

  // A time delta that would pass the largest instant.
  std::string two = "WGTB\x01";
  two += std::string("\x01T", 2);
  monitor::wire::PutUvarint(two, 2);
  two.push_back(0);
  monitor::wire::PutUvarint(two, ZigZag(std::numeric_limits<std::int64_t>::max() / 1000 - 1));
  two += std::string("\0\0", 2);
  monitor::wire::PutUvarint(two, 2);  // +2 ms: past the end
  two += std::string("\0\0", 2);
  EXPECT_TRUE(Has(DecodeError(Reseal(two + "crc!")), "time of point 1 is out of range"));
}

// ---- TrajectorySealer.

const OrgId kOrg{7};

TEST(TrajectorySealerTest, SealsWholeMinutesAfterTheGrace) {
  TrajectorySealer sealer(core::Duration::Seconds(5));
  const std::int64_t m = 29'166'666 * kMinute;  // some whole minute
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m}, 1, 2));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + kMinute - 1}, 3, 4, 5));  // its last µs
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 10'000}, -1, -2));          // out of order
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + kMinute}, 9, 9));           // the next minute
  EXPECT_EQ(sealer.pending_points(), 4u);

  EXPECT_TRUE(sealer.SealDue(Timestamp{m + kMinute + 5'000'000 - 1}).empty());
  auto blocks = sealer.SealDue(Timestamp{m + kMinute + 5'000'000});
  ASSERT_EQ(blocks.size(), 1u);
  const SealedTrajectory& b = blocks[0];
  EXPECT_EQ(b.org, kOrg);
  EXPECT_EQ(b.site, "S1");
  EXPECT_EQ(b.tag, "T1");
  EXPECT_EQ(b.minute, Timestamp{m});
  EXPECT_EQ(b.part, 0);
  EXPECT_EQ(b.count, 3);
  EXPECT_EQ(b.first, Timestamp{m});
  EXPECT_EQ(b.last, Timestamp{m + kMinute - 1000});  // quantized to the millisecond
  EXPECT_EQ(b.sm3_hex, core::ToHex(crypto::Sm3(b.data)));
  EXPECT_EQ(b.sm3_hex.size(), 64u);
  auto d = DecodeTrajectory(b.data);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->tag, "T1");
  const std::vector<TrackPoint> want = {P(Timestamp{m}, 1, 2), P(Timestamp{m + 10'000}, -1, -2),
                                        P(Timestamp{m + kMinute - 1000}, 3, 4, 5)};
  EXPECT_EQ(d->points, want);
  EXPECT_EQ(sealer.pending_points(), 1u);
  EXPECT_TRUE(sealer.SealDue(Timestamp{m + kMinute + 5'000'000}).empty());
  blocks = sealer.SealDue(Timestamp{m + 2 * kMinute + 5'000'000});
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].minute, Timestamp{m + kMinute});
  EXPECT_EQ(sealer.pending_points(), 0u);
}

TEST(TrajectorySealerTest, OutOfOrderFixesAreKeptSortedStably) {
  TrajectorySealer sealer(core::Duration::Seconds(0));
  const std::int64_t m = 500 * kMinute;
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 3000}, 3, 0));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 1000}, 1, 0));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 3000}, 4, 0));  // same time: after the first
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 2000}, 2, 0));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m}, 0, 0));
  auto blocks = sealer.SealAll();
  ASSERT_EQ(blocks.size(), 1u);
  auto d = DecodeTrajectory(blocks[0].data);
  ASSERT_TRUE(d.ok());
  std::vector<double> xs;
  for (const auto& p : d->points) xs.push_back(p.position.x);
  EXPECT_EQ(xs, (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(blocks[0].first, Timestamp{m});
  EXPECT_EQ(blocks[0].last, Timestamp{m + 3000});
}

TEST(TrajectorySealerTest, LateFixesStartTheNextPart) {
  TrajectorySealer sealer(core::Duration::Seconds(0));
  const std::int64_t m = 100 * kMinute;
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 1000}, 1, 1));
  ASSERT_EQ(sealer.SealDue(Timestamp{m + kMinute}).size(), 1u);
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 2000}, 2, 2));  // late: minute m is sealed
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + kMinute + 1000}, 5, 5));
  auto blocks = sealer.SealDue(Timestamp{m + 2 * kMinute});
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].minute, Timestamp{m});
  EXPECT_EQ(blocks[0].part, 1);
  EXPECT_EQ(blocks[0].count, 1);
  EXPECT_EQ(blocks[1].minute, Timestamp{m + kMinute});
  EXPECT_EQ(blocks[1].part, 0);
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 3000}, 3, 3));
  blocks = sealer.SealAll();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].part, 2);
  EXPECT_EQ(sealer.pending_points(), 0u);
  EXPECT_TRUE(sealer.SealAll().empty());
}

TEST(TrajectorySealerTest, SealAllSealsEverythingOldestFirst) {
  TrajectorySealer sealer;
  const std::int64_t m = -3 * kMinute;  // before 1970: minutes floor
  sealer.Append(kOrg, "S1", "T2", P(Timestamp{m + 1000}, 1, 1));
  sealer.Append(OrgId{8}, "S9", "T2", P(Timestamp{m + 2000}, 2, 2));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m - 1000}, 3, 3));  // the minute before
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 5000}, 4, 4));
  EXPECT_TRUE(sealer.SealDue(Timestamp{m}).empty());  // nothing due yet (grace 5 s)
  auto blocks = sealer.SealAll();
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].minute, Timestamp{m - kMinute});
  EXPECT_EQ(blocks[0].tag, "T1");
  EXPECT_EQ(blocks[1].minute, Timestamp{m});
  EXPECT_EQ(blocks[1].tag, "T1");
  EXPECT_EQ(blocks[2].tag, "T2");
  EXPECT_EQ(blocks[2].org, kOrg);
  EXPECT_EQ(blocks[3].org, OrgId{8});
  EXPECT_EQ(blocks[3].site, "S9");
  EXPECT_EQ(sealer.pending_points(), 0u);
}

TEST(TrajectorySealerTest, ASiteChangeSealsTheOldSitesPart) {
  TrajectorySealer sealer(core::Duration::Seconds(5));
  const std::int64_t m = 200 * kMinute;
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 1000}, 1, 1));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 2000}, 2, 2));
  sealer.Append(kOrg, "S2", "T1", P(Timestamp{m + 3000}, 3, 3));  // moved mid-minute
  EXPECT_EQ(sealer.pending_points(), 3u);
  EXPECT_EQ(sealer.Pending(kOrg, "T1", Timestamp{m}, Timestamp{m + kMinute}).size(), 3u);
  // The old site's part is closed: handed out by the next SealDue, whatever the time.
  auto blocks = sealer.SealDue(Timestamp{m + 4000});
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].site, "S1");
  EXPECT_EQ(blocks[0].part, 0);
  EXPECT_EQ(blocks[0].count, 2);
  sealer.Append(kOrg, "S2", "T1", P(Timestamp{m + 4000}, 4, 4));
  blocks = sealer.SealDue(Timestamp{m + kMinute + 5'000'000});
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].site, "S2");
  EXPECT_EQ(blocks[0].minute, Timestamp{m});
  EXPECT_EQ(blocks[0].part, 1);
  EXPECT_EQ(blocks[0].count, 2);
}

TEST(TrajectorySealerTest, RefusesPointsItCannotEncode) {
  TrajectorySealer sealer;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{0}, nan, 0));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{0}, 0, std::numeric_limits<double>::infinity()));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{0}, 1'000'000.01, 0));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{0}, 0, 0, 10'000.5));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{0}, 0, 0, nan));
  sealer.Append(kOrg, "S1", std::string(256, 't'), P(Timestamp{0}, 0, 0));
  EXPECT_EQ(sealer.pending_points(), 0u);
  sealer.Append(kOrg, "S1", "T1", TrackPoint{Timestamp{0}, Vec3{0, 0, nan}, false});  // no z
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{1}, -1'000'000, 1'000'000, -10'000));
  EXPECT_EQ(sealer.pending_points(), 2u);
  EXPECT_EQ(sealer.SealAll().size(), 1u);
}

TEST(TrajectorySealerTest, PendingShowsUnsealedPointsInTheWindow) {
  TrajectorySealer sealer;
  const std::int64_t m = 1000 * kMinute;
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 30'000}, 3, 3));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 10'000}, 1, 1));
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + kMinute + 1000}, 4, 4, 4));
  sealer.Append(kOrg, "S1", "T2", P(Timestamp{m + 20'000}, 2, 2));
  // Pending points are quantized like the block will be.
  sealer.Append(kOrg, "S1", "T3", TrackPoint{Timestamp{m + 1'999}, Vec3{0.123, 0, 0}, false});
  EXPECT_EQ(sealer.Pending(kOrg, "T1", Timestamp{m}, Timestamp{m + kMinute + 1001}),
            (std::vector<TrackPoint>{P(Timestamp{m + 10'000}, 1, 1),
                                     P(Timestamp{m + 30'000}, 3, 3),
                                     P(Timestamp{m + kMinute + 1000}, 4, 4, 4)}));
  // [from, to): from inclusive, to exclusive.
  EXPECT_EQ(sealer.Pending(kOrg, "T1", Timestamp{m + 10'000}, Timestamp{m + kMinute + 1000}),
            (std::vector<TrackPoint>{P(Timestamp{m + 10'000}, 1, 1),
                                     P(Timestamp{m + 30'000}, 3, 3)}));
  EXPECT_EQ(sealer.Pending(kOrg, "T1", Timestamp{m + 10'001}, Timestamp{m + 30'000}),
            std::vector<TrackPoint>{});
  EXPECT_EQ(sealer.Pending(kOrg, "T3", Timestamp{m}, Timestamp{m + kMinute}),
            (std::vector<TrackPoint>{P(Timestamp{m + 1000}, 0.12, 0)}));
  EXPECT_TRUE(sealer.Pending(OrgId{8}, "T1", Timestamp{m}, Timestamp{m + kMinute}).empty());
  EXPECT_TRUE(sealer.Pending(kOrg, "T9", Timestamp{m}, Timestamp{m + kMinute}).empty());
  EXPECT_EQ(sealer.pending_points(), 5u);
  EXPECT_EQ(sealer.SealDue(Timestamp{m + kMinute + 5'000'000}).size(), 3u);
  EXPECT_EQ(sealer.Pending(kOrg, "T1", Timestamp{m}, Timestamp{m + 2 * kMinute}),
            (std::vector<TrackPoint>{P(Timestamp{m + kMinute + 1000}, 4, 4, 4)}));
  EXPECT_EQ(sealer.pending_points(), 1u);
}

TEST(TrajectorySealerTest, ForgetsIdleTagsPastThePartMemory) {
  TrajectorySealer sealer(core::Duration::Seconds(0));
  const std::int64_t m = 300 * kMinute;
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 1000}, 1, 1));
  ASSERT_EQ(sealer.SealDue(Timestamp{m + kMinute}).size(), 1u);
  // Within the memory a late fix is part 1 ...
  sealer.SealDue(Timestamp{m + 100 * kMinute});
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 2000}, 2, 2));
  auto blocks = sealer.SealDue(Timestamp{m + 100 * kMinute});
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].part, 1);
  // ... long after, an idle tag is forgotten: part 0 again (the store refuses the duplicate).
  sealer.SealDue(Timestamp{m + 200 * kMinute});
  sealer.Append(kOrg, "S1", "T1", P(Timestamp{m + 3000}, 3, 3));
  blocks = sealer.SealAll();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].part, 0);
}

}  // namespace
}  // namespace wg::presence

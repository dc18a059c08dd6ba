#include "wg/monitor/blocks.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::monitor {
namespace {

using core::OrgId;
using core::StatusCode;
using core::Timestamp;

constexpr std::int64_t kMinute = 60'000'000;

Timestamp T(std::int64_t micros) { return Timestamp{micros}; }

void ExpectSameSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].time, want[i].time) << i;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got[i].value), std::bit_cast<std::uint64_t>(want[i].value))
        << i;
  }
}

std::vector<Sample> RoundTrip(const std::vector<Sample>& samples, const std::string& point = "P1") {
  const std::string data = EncodeBlock(point, samples);
  auto d = DecodeBlock(data);
  EXPECT_TRUE(d.ok()) << d.error().ToString();
  if (!d.ok()) return {};
  EXPECT_EQ(d->point, point);
  return d->samples;
}

// Replaces the trailing CRC so a crafted body passes the checksum and reaches the parser.
std::string Reseal(std::string body_with_old_crc) {
  body_with_old_crc.resize(body_with_old_crc.size() - 4);
  const std::uint32_t crc = BlockCrc32c(body_with_old_crc);
  for (int i = 0; i < 4; ++i) body_with_old_crc.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return body_with_old_crc;
}

std::string DecodeError(const std::string& data) {
  auto d = DecodeBlock(data);
  if (d.ok()) return "ok";
  EXPECT_EQ(d.error().code(), StatusCode::kCorruption);
  return d.error().message();
}

TEST(BlockFormatTest, Crc32cCheckValue) {
  EXPECT_EQ(BlockCrc32c("123456789"), 0xE3069283u);
}

// The worked example of docs/formats/reading-block.md, byte for byte.
TEST(BlockFormatTest, WorkedExampleIsByteExact) {
  const std::vector<Sample> samples = {{T(60'000'000), 1.0}, {T(61'000'000), 1.0},
                                       {T(62'500'000), 2.5}};
  const std::string data = EncodeBlock("P1", samples);
  EXPECT_EQ(core::ToHex(data),
            "5747524201"          // magic "WGRB", version 1
            "025031"              // point id: length 2, "P1"
            "03"                  // 3 samples
            "0087930300000000"    // first time 60000000 µs, int64 little-endian
            "80897a"              // +1000000 µs: zig-zag 2000000, varint
            "c08db701"            // +1500000 µs: zig-zag 3000000, varint
            "063ff0"              // 1.0: XOR 3ff0000000000000, 0 leading, 6 trailing zero bytes
            "80"                  // 1.0 again: XOR 0
            "067ff4"              // 2.5: XOR 7ff4000000000000
            "354f0d9a");          // CRC-32C of the bytes before, little-endian
  auto d = DecodeBlock(data);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ExpectSameSamples(d->samples, samples);
}

TEST(BlockFormatTest, RoundTripsEdgeValuesAndTimes) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Sample> samples = {
      {T(0), 0.0},
      {T(1), -0.0},
      {T(2), std::numeric_limits<double>::denorm_min()},
      {T(3), std::numeric_limits<double>::max()},
      {T(4), std::numeric_limits<double>::lowest()},
      {T(5), inf},
      {T(6), -inf},
      {T(7), std::numeric_limits<double>::epsilon()},
      {T(8), -123456.789},
      {T(8), -123456.789},
      {T(-5), 42.0},  // out of order: a negative delta
  };
  ExpectSameSamples(RoundTrip(samples), samples);

  const std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  const std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  std::vector<Sample> huge = {{T(lo), 1}, {T(hi), 2}, {T(lo), 3}, {T(0), 4}, {T(-1), 5}};
  ExpectSameSamples(RoundTrip(huge), huge);

  std::vector<Sample> one = {{T(-1'750'000'000'000'000), -3.5}};
  ExpectSameSamples(RoundTrip(one), one);
  ExpectSameSamples(RoundTrip({}), {});

  std::vector<Sample> many;
  for (int i = 0; i < 6000; ++i) many.push_back({T(1'750'000'000'000'000 + i * 10'000), 20.0 + (i % 7) * 0.1});
  const std::string data = EncodeBlock("gas-01.h2s_A", many);
  EXPECT_LT(data.size(), many.size() * 16);  // below the raw 16 bytes a sample
  ExpectSameSamples(RoundTrip(many, "gas-01.h2s_A"), many);
}

TEST(BlockFormatTest, DamageIsCorruptionNamingWhatIsWrong) {
  const std::vector<Sample> samples = {{T(60'000'000), 1.0}, {T(61'000'000), 7.25},
                                       {T(62'500'000), -2.5}};
  const std::string data = EncodeBlock("P1", samples);
  for (std::size_t n = 0; n < data.size(); ++n) {
    EXPECT_NE(DecodeError(data.substr(0, n)), "ok") << "truncated to " << n;
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::string bad = data;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_NE(DecodeError(bad), "ok") << "byte " << i;
  }
  EXPECT_NE(DecodeError(data.substr(0, 5)).find("shorter"), std::string::npos);
  std::string bad = data;
  bad[0] = 'X';
  EXPECT_NE(DecodeError(bad).find("magic"), std::string::npos);
  bad = data;
  bad[4] = 2;
  EXPECT_NE(DecodeError(bad).find("version 2"), std::string::npos);
  bad = data;
  bad[data.size() - 7] ^= 1;
  EXPECT_NE(DecodeError(bad).find("checksum"), std::string::npos);
  EXPECT_NE(DecodeError(Reseal(data + "x")).find("unexpected bytes"), std::string::npos);
  EXPECT_NE(DecodeError(data + "x").find("checksum"), std::string::npos);

  // Crafted bodies with a valid checksum reach the parser.
  const std::string one = EncodeBlock("P1", {{T(0), 1.0}});
  // header(5) len(1) "P1"(2) count(1) time(8) ctl(1) value(2) crc(4)
  bad = one;
  bad[8] = 100;  // count
  EXPECT_NE(DecodeError(Reseal(bad)).find("sample count"), std::string::npos);
  bad = one;
  bad[17] = static_cast<char>(0x44);  // control: 4 + 4 zero bytes, no value bytes
  EXPECT_NE(DecodeError(Reseal(bad)).find("control byte"), std::string::npos);
  bad = one;
  bad[5] = 60;  // point id length past the end
  EXPECT_NE(DecodeError(Reseal(bad)).find("point id"), std::string::npos);
  bad = one;
  bad[17] = 0x05;  // claims 3 value bytes, 2 remain
  EXPECT_NE(DecodeError(Reseal(bad)).find("value 0"), std::string::npos);
}

// ---- BlockSealer.

const OrgId kOrg{7};

TEST(BlockSealerTest, SealsWholeMinutesAfterTheGrace) {
  BlockSealer sealer(core::Duration::Seconds(5));
  const std::int64_t m = 29'166'666 * kMinute;  // some whole minute
  sealer.Append(kOrg, "S1", "P1", T(m), 1.0);
  sealer.Append(kOrg, "S1", "P1", T(m + kMinute - 1), 3.0);  // last microsecond of the minute
  sealer.Append(kOrg, "S1", "P1", T(m + 10), -2.0);           // out of order within the minute
  sealer.Append(kOrg, "S1", "P1", T(m + kMinute), 9.0);       // the next minute
  sealer.Append(kOrg, "S1", "P1", T(m + 20), std::nan(""));   // ignored
  EXPECT_EQ(sealer.pending_samples(), 4u);

  EXPECT_TRUE(sealer.SealDue(T(m + kMinute + 5'000'000 - 1)).empty());
  auto blocks = sealer.SealDue(T(m + kMinute + 5'000'000));
  ASSERT_EQ(blocks.size(), 1u);
  const SealedBlock& b = blocks[0];
  EXPECT_EQ(b.org, kOrg);
  EXPECT_EQ(b.site, "S1");
  EXPECT_EQ(b.point, "P1");
  EXPECT_EQ(b.minute, T(m));
  EXPECT_EQ(b.part, 0);
  EXPECT_EQ(b.count, 3);
  EXPECT_EQ(b.first, T(m));
  EXPECT_EQ(b.last, T(m + kMinute - 1));
  EXPECT_EQ(b.min, -2.0);
  EXPECT_EQ(b.max, 3.0);
  EXPECT_EQ(b.sm3_hex, core::ToHex(crypto::Sm3(b.data)));
  auto d = DecodeBlock(b.data);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->point, "P1");
  ExpectSameSamples(d->samples, {{T(m), 1.0}, {T(m + 10), -2.0}, {T(m + kMinute - 1), 3.0}});
  EXPECT_EQ(sealer.pending_samples(), 1u);
  EXPECT_TRUE(sealer.SealDue(T(m + kMinute + 5'000'000)).empty());
}

TEST(BlockSealerTest, LateReadingsStartTheNextPart) {
  BlockSealer sealer(core::Duration::Seconds(0));
  const std::int64_t m = 100 * kMinute;
  sealer.Append(kOrg, "S1", "P1", T(m + 1), 1.0);
  ASSERT_EQ(sealer.SealDue(T(m + kMinute)).size(), 1u);
  sealer.Append(kOrg, "S1", "P1", T(m + 2), 2.0);  // late: minute m is sealed
  sealer.Append(kOrg, "S1", "P1", T(m + kMinute + 1), 5.0);
  auto blocks = sealer.SealDue(T(m + 2 * kMinute));
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].minute, T(m));
  EXPECT_EQ(blocks[0].part, 1);
  EXPECT_EQ(blocks[0].count, 1);
  EXPECT_EQ(blocks[1].minute, T(m + kMinute));
  EXPECT_EQ(blocks[1].part, 0);
  sealer.Append(kOrg, "S1", "P1", T(m + 3), 3.0);
  blocks = sealer.SealAll();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].part, 2);
  EXPECT_EQ(sealer.pending_samples(), 0u);
}

TEST(BlockSealerTest, PointsAndOrganizationsAreSeparateAndOrderedOldestFirst) {
  BlockSealer sealer(core::Duration::Seconds(0));
  const std::int64_t m = -3 * kMinute;  // before 1970: minutes floor
  sealer.Append(kOrg, "S1", "P2", T(m + 1), 1.0);
  sealer.Append(OrgId{8}, "S9", "P2", T(m + 2), 2.0);
  const BlockSealer::SeriesId p1 = sealer.Series(kOrg, "S1", "P1");
  EXPECT_EQ(sealer.Series(kOrg, "S1", "P1"), p1);
  sealer.Append(p1, T(m - 1), 3.0);  // the minute before
  sealer.Append(kOrg, "S1", "P1", T(m + 5), 4.0);
  auto blocks = sealer.SealDue(T(m + kMinute));
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].minute, T(m - kMinute));
  EXPECT_EQ(blocks[0].point, "P1");
  EXPECT_EQ(blocks[1].point, "P1");
  EXPECT_EQ(blocks[1].minute, T(m));
  EXPECT_EQ(blocks[2].point, "P2");
  EXPECT_EQ(blocks[2].org, kOrg);
  EXPECT_EQ(blocks[3].org, OrgId{8});
  EXPECT_EQ(blocks[3].site, "S9");
}

TEST(BlockSealerTest, PendingShowsUnsealedSamplesInTheWindow) {
  BlockSealer sealer;
  const std::int64_t m = 1000 * kMinute;
  sealer.Append(kOrg, "S1", "P1", T(m + 30), 3.0);
  sealer.Append(kOrg, "S1", "P1", T(m + 10), 1.0);
  sealer.Append(kOrg, "S1", "P1", T(m + kMinute + 1), 4.0);
  sealer.Append(kOrg, "S1", "P2", T(m + 20), 2.0);
  ExpectSameSamples(sealer.Pending(kOrg, "P1", T(m), T(m + kMinute + 2)),
                    {{T(m + 10), 1.0}, {T(m + 30), 3.0}, {T(m + kMinute + 1), 4.0}});
  ExpectSameSamples(sealer.Pending(kOrg, "P1", T(m + 11), T(m + kMinute + 1)), {{T(m + 30), 3.0}});
  EXPECT_TRUE(sealer.Pending(OrgId{8}, "P1", T(m), T(m + kMinute)).empty());
  EXPECT_TRUE(sealer.Pending(kOrg, "P9", T(m), T(m + kMinute)).empty());
  sealer.SealDue(T(m + kMinute + 5'000'000));
  ExpectSameSamples(sealer.Pending(kOrg, "P1", T(m), T(m + 2 * kMinute)),
                    {{T(m + kMinute + 1), 4.0}});
}

}  // namespace
}  // namespace wg::monitor

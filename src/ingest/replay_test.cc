#include "wg/ingest/replay.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace wg::ingest {
namespace {

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("wg-replay-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void Write(const std::string& text) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f << text;
  }

  struct Run {
    ReplayStats stats;
    std::vector<std::vector<RawReading>> batches;
    std::vector<core::Timestamp> sleeps;
  };
  core::Result<Run> Replay(const ReplayOptions& o) {
    Run run;
    auto r = ReplayCsv(
        path_, o,
        [&](std::vector<RawReading>& b) {
          run.batches.push_back(b);
          return core::Status::Ok();
        },
        [&](core::Timestamp t) { run.sleeps.push_back(t); });
    if (!r) return r.error();
    run.stats = *r;
    return run;
  }

  std::string path_;
};

constexpr std::int64_t kMs = 1795939200000;  // 2026-11-29T08:00:00Z
const core::Timestamp kStart{1'900'000'000'000'000};

TEST_F(ReplayTest, RetimesPacesAndBatches) {
  Write("time,point,value,unit\n"
        "2026-11-29T08:00:00Z,gas-1,1.5,%LEL\n"
        "1795939200010,gas-2,2,%LEL\n"        // +10 ms: same batch (within 50 ms)
        "2026-11-29T08:00:01Z,gas-1,3,%LEL\n"  // +1 s
        "2026-11-29T08:00:03Z,gas-1,4,\n");    // +3 s, empty unit
  ReplayOptions o;
  o.speed = 2.0;
  o.start = kStart;
  auto run = Replay(o);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->stats.rows, 4);
  EXPECT_EQ(run->stats.delivered, 4);
  EXPECT_EQ(run->stats.bad_rows, 0);
  ASSERT_EQ(run->batches.size(), 3u);
  ASSERT_EQ(run->batches[0].size(), 2u);
  // Re-timing shifts by (start - first) and keeps the spacing.
  EXPECT_EQ(run->batches[0][0].time, kStart);
  EXPECT_EQ(run->batches[0][0].point, "gas-1");
  EXPECT_EQ(run->batches[0][0].unit, "%LEL");
  EXPECT_EQ(run->batches[0][1].time.micros, kStart.micros + 10'000);
  EXPECT_EQ(run->batches[1][0].time.micros, kStart.micros + 1'000'000);
  EXPECT_EQ(run->batches[2][0].time.micros, kStart.micros + 3'000'000);
  EXPECT_EQ(run->batches[2][0].unit, "");
  EXPECT_DOUBLE_EQ(run->batches[2][0].value, 4);
  // Pacing at 2x: played at start + dt/2, each batch at its last row's instant.
  ASSERT_EQ(run->sleeps.size(), 3u);
  EXPECT_EQ(run->sleeps[0].micros, kStart.micros + 5'000);
  EXPECT_EQ(run->sleeps[1].micros, kStart.micros + 500'000);
  EXPECT_EQ(run->sleeps[2].micros, kStart.micros + 1'500'000);
}

TEST_F(ReplayTest, SpeedZeroDoesNotSleepAndFillsBatches) {
  std::string text = "time,point,value\n";
  for (int i = 0; i < 25; ++i) {
    text += std::to_string(kMs + i * 60000) + ",p" + std::to_string(i) + "," + std::to_string(i) + "\n";
  }
  Write(text);
  ReplayOptions o;
  o.speed = 0;
  o.batch = 10;
  o.retime = false;
  auto run = Replay(o);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_TRUE(run->sleeps.empty());
  ASSERT_EQ(run->batches.size(), 3u);
  EXPECT_EQ(run->batches[0].size(), 10u);
  EXPECT_EQ(run->batches[2].size(), 5u);
  EXPECT_EQ(run->batches[0][0].time.micros, kMs * 1000);  // not re-timed
  EXPECT_EQ(run->batches[2][4].point, "p24");
  EXPECT_EQ(run->stats.delivered, 25);
}

TEST_F(ReplayTest, BadRowsAreReportedWithLineNumbersAndSkipped) {
  Write("time,point,value\n"
        "1795939200000,gas-1,1\n"
        "not-a-time,gas-1,2\n"
        "1795939200000,gas 1,3\n"
        "\n"
        "1795939200000,gas-1,abc\n"
        "1795939200000,gas-1\n"
        "2026-11-29T08:00:00,gas-1,5\n"
        "1795939200000,gas-1,1e999\n"
        "1795939200001,gas-2,7\n");
  ReplayOptions o;
  o.speed = 0;
  o.start = kStart;
  auto run = Replay(o);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->stats.rows, 8);
  EXPECT_EQ(run->stats.delivered, 2);
  EXPECT_EQ(run->stats.bad_rows, 6);
  ASSERT_EQ(run->stats.errors.size(), 6u);
  EXPECT_EQ(run->stats.errors[0].rfind("line 3: time:", 0), 0u) << run->stats.errors[0];
  EXPECT_EQ(run->stats.errors[1].rfind("line 4: point:", 0), 0u) << run->stats.errors[1];
  EXPECT_EQ(run->stats.errors[2].rfind("line 6: value: not a number", 0), 0u)
      << run->stats.errors[2];
  EXPECT_EQ(run->stats.errors[3].rfind("line 7: expected 3 fields", 0), 0u)
      << run->stats.errors[3];
  EXPECT_EQ(run->stats.errors[4].rfind("line 8: time:", 0), 0u) << run->stats.errors[4];
  EXPECT_EQ(run->stats.errors[5].rfind("line 9: value:", 0), 0u) << run->stats.errors[5];
  ASSERT_EQ(run->batches.size(), 1u);
  EXPECT_EQ(run->batches[0][1].point, "gas-2");
  EXPECT_EQ(run->batches[0][1].time.micros, kStart.micros + 1000);
}

TEST_F(ReplayTest, OnlyTheFirstTwentyErrorsAreKept) {
  std::string text = "time,point,value\n";
  for (int i = 0; i < 30; ++i) text += "x,p,1\n";
  Write(text);
  ReplayOptions o;
  o.speed = 0;
  auto run = Replay(o);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->stats.bad_rows, 30);
  EXPECT_EQ(run->stats.errors.size(), 20u);
  EXPECT_TRUE(run->batches.empty());
}

TEST_F(ReplayTest, MaxRowsStopsEarly) {
  Write("time,point,value\n1795939200000,a,1\n1795939200001,a,2\n1795939200002,a,3\n");
  ReplayOptions o;
  o.speed = 0;
  o.max_rows = 2;
  auto run = Replay(o);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->stats.rows, 2);
  EXPECT_EQ(run->stats.delivered, 2);
}

TEST_F(ReplayTest, SinkErrorStopsTheReplay) {
  Write("time,point,value\n1795939200000,a,1\n1795939200001,a,2\n");
  ReplayOptions o;
  o.speed = 0;
  o.batch = 1;
  int calls = 0;
  auto r = ReplayCsv(path_, o, [&](std::vector<RawReading>&) {
    ++calls;
    return core::Status::ResourceExhausted("queue full");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), core::StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 1);
}

TEST_F(ReplayTest, BadHeaderOptionsAndFiles) {
  auto sink = [](std::vector<RawReading>&) { return core::Status::Ok(); };
  ReplayOptions o;
  o.speed = 0;
  Write("when,point,value\n1,a,1\n");
  auto h = ReplayCsv(path_, o, sink);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().field(), "header");
  Write("");
  EXPECT_EQ(ReplayCsv(path_, o, sink).error().field(), "header");
  Write("time,point,value\n\"1795939200000,a,1\n");  // unterminated quote: fatal
  auto q = ReplayCsv(path_, o, sink);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message().find("line 2"), std::string::npos) << q.error().message();
  EXPECT_EQ(ReplayCsv(path_ + ".missing", o, sink).error().code(), core::StatusCode::kNotFound);
  ReplayOptions neg;
  neg.speed = -1;
  EXPECT_EQ(ReplayCsv(path_, neg, sink).error().field(), "speed");
  ReplayOptions big;
  big.batch = kMaxBatchReadings + 1;
  EXPECT_EQ(ReplayCsv(path_, big, sink).error().field(), "batch");
}

}  // namespace
}  // namespace wg::ingest

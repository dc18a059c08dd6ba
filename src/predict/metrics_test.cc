#include "wg/predict/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

namespace wg::predict {
namespace {

constexpr double kMin = 60;
constexpr double kT0 = 1'780'000'000;  // some epoch second

ScoreOptions Opts() { return ScoreOptions{12 * kMin, 30 * kMin}; }

SeriesWarnings One(std::vector<Episode> episodes, std::vector<double> events,
                   double first = kT0, double last = kT0 + 10 * 3600) {
  SeriesWarnings w;
  w.episodes = std::move(episodes);
  w.events = std::move(events);
  w.first_t = first;
  w.last_t = last;
  return w;
}

TEST(ScoreWarnings, EarlyWarningIsWarnedWithItsLead) {
  const double te = kT0 + 3600;
  const Score s = ScoreWarnings({One({{te - 20 * kMin, te}}, {te})}, Opts());
  EXPECT_EQ(s.events, 1u);
  EXPECT_EQ(s.warned, 1u);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
  ASSERT_EQ(s.leads_s.size(), 1u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 20 * kMin);
  EXPECT_DOUBLE_EQ(s.median_lead_s, 20 * kMin);
  EXPECT_EQ(s.episodes, 1u);
  EXPECT_EQ(s.false_episodes, 0u);
  EXPECT_DOUBLE_EQ(s.false_share, 0.0);
}

TEST(ScoreWarnings, WarnableFiguresLeaveOutEventsWhosePrecursorCameTooLate) {
  const double te1 = kT0 + 3600, te2 = kT0 + 7200, te3 = kT0 + 9000;
  SeriesWarnings w = One({{te1 - 20 * kMin, te1}}, {te1, te2, te3});
  // te1: precursor an hour before (warnable, warned); te2: precursor 5 min before (not
  // warnable, missed); te3: unknown precursor (warnable, missed).
  w.onsets = {te1 - 60 * kMin, te2 - 5 * kMin, std::nan("")};
  const Score s = ScoreWarnings({w}, Opts());
  EXPECT_EQ(s.events, 3u);
  EXPECT_EQ(s.warned, 1u);
  EXPECT_EQ(s.warnable_events, 2u);
  EXPECT_EQ(s.warned_warnable, 1u);
  EXPECT_DOUBLE_EQ(s.recall_warnable, 0.5);
  EXPECT_NEAR(s.recall, 1.0 / 3.0, 1e-12);
}

TEST(ScoreWarnings, ExactlyAtTheLeadIsWarned) {
  const double te = kT0 + 3600;
  const Score s = ScoreWarnings({One({{te - 12 * kMin, te}}, {te})}, Opts());
  EXPECT_EQ(s.warned, 1u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 12 * kMin);
}

TEST(ScoreWarnings, LateWarningHasALeadButIsNotWarned) {
  const double te = kT0 + 3600;
  const Score s = ScoreWarnings({One({{te - 5 * kMin, te}}, {te})}, Opts());
  EXPECT_EQ(s.warned, 0u);
  EXPECT_DOUBLE_EQ(s.recall, 0.0);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 5 * kMin);
  EXPECT_EQ(s.false_episodes, 0u);  // the event follows it within the horizon
}

TEST(ScoreWarnings, MissedEventAndFalseEpisode) {
  const double te = kT0 + 5 * 3600;
  // An episode that ended long before the window, and one after the event.
  const Score s =
      ScoreWarnings({One({{kT0 + 3600, kT0 + 3700}, {te + 60, te + 600}}, {te})}, Opts());
  EXPECT_EQ(s.warned, 0u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 0.0);
  EXPECT_EQ(s.episodes, 2u);
  EXPECT_EQ(s.false_episodes, 2u);
  EXPECT_DOUBLE_EQ(s.false_share, 1.0);
  EXPECT_DOUBLE_EQ(s.point_hours, 10.0);
  EXPECT_DOUBLE_EQ(s.false_per_1000_point_hours, 200.0);
}

TEST(ScoreWarnings, EpisodeStartingAfterTheEventDoesNotCount) {
  const double te = kT0 + 3600;
  const Score s = ScoreWarnings({One({{te + 1, te + 100}}, {te})}, Opts());
  EXPECT_DOUBLE_EQ(s.leads_s[0], 0.0);
  EXPECT_EQ(s.false_episodes, 1u);
}

TEST(ScoreWarnings, FalseEpisodeBoundaryIsTheHorizon) {
  const double te = kT0 + 3600;
  // Starts exactly H before the event: not false. Starting 1 s earlier: false.
  Score s = ScoreWarnings({One({{te - 30 * kMin, te - 29 * kMin}}, {te})}, Opts());
  EXPECT_EQ(s.false_episodes, 0u);
  EXPECT_EQ(s.warned, 1u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 30 * kMin);
  s = ScoreWarnings({One({{te - 30 * kMin - 1, te - 29 * kMin}}, {te})}, Opts());
  EXPECT_EQ(s.false_episodes, 1u);
  EXPECT_EQ(s.warned, 1u);  // still on at te - H: clipped
  EXPECT_DOUBLE_EQ(s.leads_s[0], 30 * kMin);
}

TEST(ScoreWarnings, StandingWarningIsClippedToTheHorizonAndIsFalse) {
  const double te = kT0 + 5 * 3600;
  // On since two hours before the event, through it.
  const Score s = ScoreWarnings({One({{te - 2 * 3600, te}}, {te})}, Opts());
  EXPECT_EQ(s.warned, 1u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 30 * kMin);  // clipped start te - H
  EXPECT_EQ(s.false_episodes, 1u);             // nothing followed within H of its start
}

TEST(ScoreWarnings, EpisodeEndingExactlyAtWindowStartIsNotOnThere) {
  const double te = kT0 + 5 * 3600;
  const Score s = ScoreWarnings({One({{te - 2 * 3600, te - 30 * kMin}}, {te})}, Opts());
  EXPECT_EQ(s.warned, 0u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 0.0);
}

TEST(ScoreWarnings, OverlappingCandidatesTakeTheEarliest) {
  const double te = kT0 + 5 * 3600;
  // A short late episode and an earlier one that ended before the event: the earliest
  // counted start wins.
  const Score s =
      ScoreWarnings({One({{te - 25 * kMin, te - 20 * kMin}, {te - 3 * kMin, te}}, {te})}, Opts());
  EXPECT_EQ(s.warned, 1u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 25 * kMin);
  EXPECT_EQ(s.false_episodes, 0u);
}

TEST(ScoreWarnings, MultipleEventsPerSeriesAndAcrossSeries) {
  const double a = kT0 + 3600, b = kT0 + 3600 + 20 * kMin;
  // One episode warns both events of series 1 (lead 15 min and 35 -> clipped 30 min);
  // the event of series 2 must not be credited by series 1's episode.
  std::vector<SeriesWarnings> in;
  in.push_back(One({{a - 15 * kMin, b}}, {a, b}));
  in.push_back(One({}, {a}, kT0, kT0 + 3600 * 2));
  const Score s = ScoreWarnings(in, Opts());
  EXPECT_EQ(s.events, 3u);
  EXPECT_EQ(s.warned, 2u);
  ASSERT_EQ(s.leads_s.size(), 3u);
  EXPECT_DOUBLE_EQ(s.leads_s[0], 15 * kMin);
  EXPECT_DOUBLE_EQ(s.leads_s[1], 30 * kMin);
  EXPECT_DOUBLE_EQ(s.leads_s[2], 0.0);
  EXPECT_NEAR(s.recall, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.point_hours, 12.0);
  EXPECT_EQ(s.false_episodes, 0u);
}

TEST(ScoreWarnings, ZeroEventsAndZeroEpisodes) {
  Score s = ScoreWarnings({}, Opts());
  EXPECT_EQ(s.events, 0u);
  EXPECT_DOUBLE_EQ(s.recall, 0.0);
  EXPECT_DOUBLE_EQ(s.median_lead_s, 0.0);
  EXPECT_DOUBLE_EQ(s.false_share, 0.0);
  EXPECT_DOUBLE_EQ(s.false_per_1000_point_hours, 0.0);

  s = ScoreWarnings({One({{kT0 + 10, kT0 + 20}}, {})}, Opts());
  EXPECT_EQ(s.events, 0u);
  EXPECT_EQ(s.false_episodes, 1u);
  EXPECT_DOUBLE_EQ(s.false_per_1000_point_hours, 100.0);

  s = ScoreWarnings({One({}, {kT0 + 100})}, Opts());
  EXPECT_EQ(s.episodes, 0u);
  EXPECT_DOUBLE_EQ(s.false_share, 0.0);
  EXPECT_EQ(s.warned, 0u);

  // A series with a single reading has no point-hours: no division by zero.
  s = ScoreWarnings({One({{kT0, kT0}}, {}, kT0, kT0)}, Opts());
  EXPECT_DOUBLE_EQ(s.point_hours, 0.0);
  EXPECT_DOUBLE_EQ(s.false_per_1000_point_hours, 0.0);
}

TEST(ScoreWarnings, PercentilesAreNearestRankIncludingMisses) {
  // Ten events in ten series: leads 0 (x3), 5, 10, 15, 20, 25, 30, 30 minutes.
  std::vector<SeriesWarnings> in;
  const std::vector<double> leads_min = {20, 0, 5, 30, 0, 10, 15, 25, 0, 30};
  for (double l : leads_min) {
    const double te = kT0 + 3600;
    in.push_back(One(l > 0 ? std::vector<Episode>{{te - l * kMin, te}} : std::vector<Episode>{}, {te}));
  }
  const Score s = ScoreWarnings(in, Opts());
  ASSERT_EQ(s.leads_s.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_DOUBLE_EQ(s.leads_s[i], leads_min[i] * kMin) << i;
  // Sorted: 0 0 0 5 10 15 20 25 30 30. p10: rank ceil(1) = 1 -> 0. Median: rank 5 -> 10.
  EXPECT_DOUBLE_EQ(s.p10_lead_s, 0.0);
  EXPECT_DOUBLE_EQ(s.median_lead_s, 10 * kMin);
  EXPECT_EQ(s.warned, 5u);  // leads of 12 minutes or more: 15, 20, 25, 30, 30
}

TEST(ScoreWarnings, MedianOfOddAndSmallCounts) {
  std::vector<SeriesWarnings> in;
  for (double l : {20.0, 13.0, 25.0}) {
    const double te = kT0 + 3600;
    in.push_back(One({{te - l * kMin, te}}, {te}));
  }
  const Score s = ScoreWarnings(in, Opts());
  EXPECT_DOUBLE_EQ(s.median_lead_s, 20 * kMin);  // rank ceil(1.5) = 2
  EXPECT_DOUBLE_EQ(s.p10_lead_s, 13 * kMin);     // rank ceil(0.3) = 1
}

TEST(ScoreWarnings, JsonHasSnakeCaseMembersAndMinutes) {
  const double te = kT0 + 3600;
  const Score s = ScoreWarnings({One({{te - 18 * kMin, te}}, {te})}, Opts());
  const core::Json j = ToJson(s);
  EXPECT_EQ(j.at("events"), 1);
  EXPECT_EQ(j.at("warned"), 1);
  EXPECT_DOUBLE_EQ(j.at("median_lead_s").get<double>(), 18 * kMin);
  EXPECT_DOUBLE_EQ(j.at("median_lead_min").get<double>(), 18.0);
  EXPECT_DOUBLE_EQ(j.at("p10_lead_min").get<double>(), 18.0);
  for (const char* k : {"recall", "episodes", "false_episodes", "false_share", "point_hours",
                        "false_per_1000_point_hours", "leads_s"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }

  Score big;
  big.leads_s.assign(1001, 0.0);
  EXPECT_FALSE(ToJson(big).contains("leads_s"));
  big.leads_s.assign(1000, 0.0);
  EXPECT_TRUE(ToJson(big).contains("leads_s"));
}

// --- NAB ---------------------------------------------------------------------------

// 100 readings one minute apart; one window over rows 40..49.
struct NabCase {
  std::vector<double> t;
  std::vector<std::pair<double, double>> windows;
  NabCase() {
    for (int i = 0; i < 100; ++i) t.push_back(kT0 + 60.0 * i);
    windows.push_back({t[40], t[49]});
  }
};

double S(double y) { return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0; }

TEST(ScoreNab, ProbationLengthIsNabs) {
  EXPECT_EQ(NabProbationLength(0), 0u);
  EXPECT_EQ(NabProbationLength(100), 15u);
  EXPECT_EQ(NabProbationLength(101), 15u);
  EXPECT_EQ(NabProbationLength(4032), 604u);
  EXPECT_EQ(NabProbationLength(22695), 750u);  // capped at 0.15 * 5000
}

TEST(ScoreNab, NullAndPerfect) {
  NabCase c;
  const NabScore null_s = ScoreNab(c.t, c.windows, {}, NabStandard());
  EXPECT_EQ(null_s.windows, 1u);
  EXPECT_DOUBLE_EQ(null_s.raw, -1.0);
  EXPECT_DOUBLE_EQ(null_s.normalized, 0.0);
  const NabScore perfect = ScoreNab(c.t, c.windows, {c.t[40]}, NabStandard());
  EXPECT_NEAR(perfect.raw, 1.0, 1e-12);
  EXPECT_NEAR(perfect.normalized, 100.0, 1e-9);
  EXPECT_EQ(perfect.detected, 1u);
  // reward_low_FN: null = -2, perfect = 1.
  const NabScore fn_null = ScoreNab(c.t, c.windows, {}, NabRewardLowFn());
  EXPECT_DOUBLE_EQ(fn_null.raw, -2.0);
  EXPECT_DOUBLE_EQ(fn_null.normalized, 0.0);
  EXPECT_NEAR(ScoreNab(c.t, c.windows, {c.t[40]}, NabRewardLowFn()).normalized, 100.0, 1e-9);
}

TEST(ScoreNab, WindowStartScoresTheFullTpWeightAndLaterLess) {
  NabCase c;
  // NAB 1.x divides by S(-1) = 0.98661: the window's first row earns exactly A_TP
  // (the 2015 scorer's 0.98661 * A_TP before normalisation).
  EXPECT_NEAR(S(-1.0), 0.9866142981514305, 1e-12);
  const NabScore first = ScoreNab(c.t, c.windows, {c.t[40]}, NabStandard());
  EXPECT_NEAR(first.raw * S(-1.0), 0.98661, 1e-5);
  // Row 45 of 40..49: position -(49 - 45 + 1) / 10 = -0.5.
  const NabScore mid = ScoreNab(c.t, c.windows, {c.t[45]}, NabStandard());
  EXPECT_NEAR(mid.raw, S(-0.5) / S(-1.0), 1e-12);
  EXPECT_NEAR(mid.raw, 0.84828 / 0.98661, 1e-4);
  EXPECT_LT(mid.normalized, 100.0);
  EXPECT_GT(mid.normalized, 0.0);
  // Last row: -1/10.
  const NabScore last = ScoreNab(c.t, c.windows, {c.t[49]}, NabStandard());
  EXPECT_NEAR(last.raw, S(-0.1) / S(-1.0), 1e-12);
}

TEST(ScoreNab, OnlyTheFirstDetectionInAWindowCounts) {
  NabCase c;
  const NabScore s = ScoreNab(c.t, c.windows, {c.t[45], c.t[41], c.t[48]}, NabStandard());
  EXPECT_EQ(s.detected, 1u);
  EXPECT_EQ(s.false_positives, 0u);
  EXPECT_NEAR(s.raw, S(-0.9) / S(-1.0), 1e-12);  // row 41: -(49 - 41 + 1) / 10
  // Duplicates of the same reading count once.
  EXPECT_NEAR(ScoreNab(c.t, c.windows, {c.t[40], c.t[40]}, NabStandard()).raw, 1.0, 1e-12);
}

TEST(ScoreNab, FalsePositivePenalty) {
  NabCase c;
  // Before any window: the full A_FP.
  NabScore s = ScoreNab(c.t, c.windows, {c.t[20]}, NabStandard());
  EXPECT_EQ(s.false_positives, 1u);
  EXPECT_NEAR(s.raw, -1.0 - 0.11, 1e-12);
  s = ScoreNab(c.t, c.windows, {c.t[20]}, NabRewardLowFp());
  EXPECT_NEAR(s.raw, -1.0 - 0.22, 1e-12);
  EXPECT_LT(s.normalized, 0.0);
  // Just after the window (row 50, y = 1/9): a small penalty; far after (row 90, y = 41/9
  // > 3): the full one.
  s = ScoreNab(c.t, c.windows, {c.t[40], c.t[50]}, NabStandard());
  EXPECT_NEAR(s.raw, 1.0 + 0.11 * S(1.0 / 9.0), 1e-12);
  EXPECT_GT(s.raw, 1.0 - 0.11);
  s = ScoreNab(c.t, c.windows, {c.t[40], c.t[90]}, NabStandard());
  EXPECT_NEAR(s.raw, 1.0 - 0.11, 1e-12);
  EXPECT_EQ(s.false_positives, 1u);
}

TEST(ScoreNab, ProbationaryDetectionsAreIgnored) {
  NabCase c;
  // Row 10 lies in the first 15 readings.
  const NabScore s = ScoreNab(c.t, c.windows, {c.t[10]}, NabStandard());
  EXPECT_EQ(s.false_positives, 0u);
  EXPECT_DOUBLE_EQ(s.raw, -1.0);
  // A window wholly inside the probationary period is not scored.
  const NabScore w = ScoreNab(c.t, {{c.t[2], c.t[5]}}, {}, NabStandard());
  EXPECT_EQ(w.windows, 0u);
  EXPECT_DOUBLE_EQ(w.raw, 0.0);
  EXPECT_DOUBLE_EQ(w.normalized, 0.0);
}

TEST(ScoreNab, DetectionsBetweenReadingsMoveToTheNextOne) {
  NabCase c;
  // 30 s before row 40 lands on row 40; after the last reading: ignored.
  const NabScore s = ScoreNab(c.t, c.windows, {c.t[40] - 30, c.t[99] + 30}, NabStandard());
  EXPECT_NEAR(s.raw, 1.0, 1e-12);
  EXPECT_EQ(s.false_positives, 0u);
}

TEST(ScoreNab, EmptySeries) {
  const NabScore s = ScoreNab({}, {{1, 2}}, {1}, NabStandard());
  EXPECT_EQ(s.windows, 0u);
  EXPECT_DOUBLE_EQ(s.raw, 0.0);
}

}  // namespace
}  // namespace wg::predict

// End-to-end tests of the early-warning commands of the workguard binary (WG_BINARY):
// simulate, predict eval, model train / info, with their exit codes and messages.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/time.h"
#include "wg/ingest/decode.h"
#include "wg/monitor/model.h"
#include "wg/server/installation.h"

namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Binary() {
  const char* b = std::getenv("WG_BINARY");
  return b ? b : "workguard";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

wg::core::Json ParseOut(const RunResult& r) {
  auto j = wg::core::ParseJson(r.out, {.max_bytes = 64 << 20, .max_depth = 64}, "stdout");
  EXPECT_TRUE(j.ok()) << r.out << "\n" << r.err;
  return j.ok() ? *j : wg::core::Json();
}

class PredictCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-predict-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunResult Exec(const std::vector<std::string>& args) {
    std::string cmd = Quote(Binary());
    for (const auto& a : args) cmd += " " + Quote(a);
    const std::string out_path = dir_ + "/stdout", err_path = dir_ + "/stderr";
    cmd += " </dev/null >" + out_path + " 2>" + err_path;
    const int rc = std::system(cmd.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = Slurp(out_path);
    r.err = Slurp(err_path);
    return r;
  }

  // A small simulated dataset (fast: a few one-hour confined-space scenarios).
  std::string Simulate(const std::string& name, int scenarios, const std::string& set = "train",
                       int seed = 3) {
    const std::string out = dir_ + "/" + name;
    RunResult r = Exec({"simulate", "--out", out, "--set", set, "--seed", std::to_string(seed),
                        "--scenarios", std::to_string(scenarios), "--unit", "confined",
                        "--hours-min", "1", "--hours-max", "1.5", "--event-share", "0.6"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    wg::core::Json j = ParseOut(r);
    EXPECT_EQ(j.value("scenarios", 0), scenarios) << r.out;
    EXPECT_GT(j.value("readings", 0), 0) << r.out;
    EXPECT_TRUE(j.contains("events")) << r.out;
    EXPECT_TRUE(j.contains("series")) << r.out;
    return out;
  }

  void WriteFile(const std::string& path, const std::string& body) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << body;
  }

  std::string dir_;
};

TEST_F(PredictCliTest, SimulateThenEvalPrintsTheDocumentedMembers) {
  const std::string sim = Simulate("sim", 4);
  RunResult r = Exec({"predict", "eval", "--input", sim, "--model", "linear"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  wg::core::Json j = ParseOut(r);
  ASSERT_TRUE(j.is_object());
  for (const char* m : {"dataset", "lead_s", "horizon_s", "models", "seed"}) {
    EXPECT_TRUE(j.contains(m)) << "missing " << m << ": " << r.out;
  }
  EXPECT_EQ(j["lead_s"].get<double>(), 720.0);
  EXPECT_EQ(j["horizon_s"].get<double>(), 1800.0);
  EXPECT_EQ(j["dataset"].value("scenarios", 0), 4);
  EXPECT_GT(j["dataset"].value("readings", 0), 0);
  ASSERT_TRUE(j["models"].is_array());
  ASSERT_EQ(j["models"].size(), 1u);
  const wg::core::Json& row = j["models"][0];
  EXPECT_EQ(row.value("model", ""), "linear");
  EXPECT_EQ(row.value("kind", ""), "linear");
  EXPECT_GT(row.value("readings", 0), 0);
  EXPECT_TRUE(row.contains("ns_per_reading"));
  ASSERT_TRUE(row.contains("score"));
  for (const char* m : {"events", "recall", "median_lead_s", "p10_lead_s", "false_share",
                        "false_per_1000_point_hours"}) {
    EXPECT_TRUE(row["score"].contains(m)) << "missing score." << m;
  }
  const double recall = row["score"].value("recall", -1.0);
  EXPECT_GE(recall, 0.0);
  EXPECT_LE(recall, 1.0);

  // Other durations and the human table.
  r = Exec({"predict", "eval", "--input", sim, "--model", "static,linear", "--lead", "900s",
            "--horizon", "1h", "--table"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("recall@15.0 min"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("static"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("linear"), std::string::npos) << r.out;
}

TEST_F(PredictCliTest, MalformedScenarioFileNamesFileLineAndColumn) {
  WriteFile(dir_ + "/bad/bad.csv",
            "ts,point,kind,value\n"
            "2026-01-01T00:00:00Z,p1,o2,20.9\n"
            "2026-01-01T00:00:10Z,p1,o2,abc\n");
  RunResult r = Exec({"predict", "eval", "--input", dir_ + "/bad", "--model", "linear"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("bad.csv:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("value"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  // Times going backwards for a point are refused the same way.
  WriteFile(dir_ + "/back/back.csv",
            "ts,point,kind,value\n"
            "2026-01-01T00:00:10Z,p1,o2,20.9\n"
            "2026-01-01T00:00:00Z,p1,o2,20.8\n");
  r = Exec({"predict", "eval", "--input", dir_ + "/back", "--model", "linear"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("back.csv:3"), std::string::npos) << r.err;
}

TEST_F(PredictCliTest, BadDurationsAndModelsAreRejectedNamingTheOption) {
  WriteFile(dir_ + "/one/a.csv", "ts,point,kind,value\n0,p1,o2,20.9\n10,p1,o2,20.9\n");
  const std::string in = dir_ + "/one";
  struct Case {
    std::vector<std::string> extra;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{"--lead", "12"}, "lead"},          // no unit
      {{"--lead", "12x"}, "lead"},         // unknown unit
      {{"--lead", "-5m"}, "lead"},         // sign
      {{"--lead", "0m"}, "lead"},          // not positive
      {{"--horizon", "1e3s"}, "horizon"},  // exponent
      {{"--horizon", "m"}, "horizon"},     // no number
      {{"--horizon", "8d"}, "horizon"},
      {{"--lead", "40m", "--horizon", "30m"}, "lead"},  // lead past the horizon
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"predict", "eval", "--input", in, "--model", "linear"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    RunResult r = Exec(args);
    EXPECT_EQ(r.exit_code, 2) << c.extra[1];
    EXPECT_NE(r.err.find(c.field), std::string::npos) << c.extra[1] << ": " << r.err;
  }
  RunResult r = Exec({"predict", "eval", "--input", in, "--model", "linear,no-such-model"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-such-model"), std::string::npos) << r.err;
  r = Exec({"predict", "eval", "--input", in, "--model", "linear,"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  r = Exec({"predict", "eval", "--input", dir_ + "/missing", "--model", "linear"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("input"), std::string::npos) << r.err;
}

TEST_F(PredictCliTest, TrainKalmanThenInfoVerifiesItAndCorruptionIsRefused) {
  const std::string sim = Simulate("train", 6);
  const std::string model = dir_ + "/kalman-test.json";
  RunResult r = Exec({"model", "train", "--input", sim, "--kind", "kalman", "--out", model,
                      "--eval", sim});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  wg::core::Json t = ParseOut(r);
  EXPECT_EQ(t.value("name", ""), "kalman-test");  // the file's stem
  EXPECT_EQ(t.value("kind", ""), "kalman");
  const std::string digest = t.value("digest", "");
  EXPECT_EQ(digest.rfind("sm3:", 0), 0u) << digest;

  r = Exec({"model", "info", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  wg::core::Json i = ParseOut(r);
  EXPECT_EQ(i.value("name", ""), "kalman-test");
  EXPECT_EQ(i.value("kind", ""), "kalman");
  EXPECT_EQ(i.value("digest", ""), digest);
  EXPECT_TRUE(i.value("digest_verified", false));
  EXPECT_FALSE(i.value("created", "").empty());
  ASSERT_TRUE(i.contains("evaluation"));
  EXPECT_TRUE(i["evaluation"].contains("score")) << r.out;
  ASSERT_TRUE(i.contains("training"));
  EXPECT_EQ(i["training"]["data"].value("scenarios", 0), 6) << r.out;

  // The trained file is usable by eval.
  r = Exec({"predict", "eval", "--input", sim, "--model", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseOut(r)["models"][0].value("model", ""), "kalman-test");

  // One member changed: the digest no longer matches.
  auto doc = wg::core::ParseJson(Slurp(model), {.max_bytes = 64 << 20, .max_depth = 64});
  ASSERT_TRUE(doc.ok());
  (*doc)["name"] = "kalman-tampered";
  const std::string bad = dir_ + "/tampered.json";
  WriteFile(bad, doc->dump(2));
  r = Exec({"model", "info", bad});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;

  // Another format version.
  (*doc)["format"] = "workguard-predict-model/2";
  WriteFile(bad, doc->dump(2));
  r = Exec({"model", "info", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not supported"), std::string::npos) << r.err;

  // Not JSON at all.
  WriteFile(bad, "{\"format\": ");
  r = Exec({"model", "info", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(r.err.empty());
}

TEST_F(PredictCliTest, TrainRefusesBadInput) {
  const std::string model = dir_ + "/m.json";
  RunResult r = Exec({"model", "train", "--out", model, "--kind", "kalman"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("input"), std::string::npos) << r.err;
  r = Exec({"model", "train", "--input", dir_, "--out", model, "--kind", "lstm"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("kind"), std::string::npos) << r.err;
  r = Exec({"model", "train", "--input", dir_, "--out", model, "--name", "bad name!"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("name"), std::string::npos) << r.err;
  r = Exec({"model", "train", "--input", dir_, "--out", model, "--from", "2026-01-01"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("data"), std::string::npos) << r.err;
  r = Exec({"model", "train", "--data", dir_ + "/nothing", "--out", model});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("data"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(model));
}

TEST_F(PredictCliTest, TrainOnAnInstallationWithoutIncidentsSaysSo) {
  const std::string data = dir_ + "/data";
  RunResult r = Exec({"admin", "create-org", "--data", data, "--code", "plant-a", "--name", "A"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string model = dir_ + "/m.json";
  r = Exec({"model", "train", "--data", data, "--out", model, "--kind", "kalman", "--from",
            "2026-01-01T00:00:00Z", "--to", "2026-01-03T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("no confirmed incidents"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(model));
  r = Exec({"model", "train", "--data", data, "--out", model, "--from", "2026-01-03T00:00:00Z",
            "--to", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("to"), std::string::npos) << r.err;
}


// Retraining from history: an installation whose H2S point (in ppm: the rulebook's red
// 20 mg/m3 converted) crossed red twice; `model train --data` learns from it and records a
// "model.trained" fact that the evidence log verifies.
TEST_F(PredictCliTest, TrainOnInstallationHistoryRecordsTheFact) {
  const std::string data = dir_ + "/data";
  wg::core::SystemClock clock;
  const wg::core::Timestamp now = clock.Now();
  const wg::core::Timestamp base = now - wg::core::Duration::Hours(5);
  {
    auto inst = wg::server::Installation::Open({.data_dir = data, .load_index = false}, clock);
    ASSERT_TRUE(inst.ok()) << inst.error().ToString();
    auto org = (*inst)->CreateOrganization({"plant-a", "Plant A"}, "cli:test");
    ASSERT_TRUE(org.ok()) << org.error().ToString();
    auto site = (*inst)->CreateSite(org->id, {"s1", "Site 1", ""}, "cli:test");
    ASSERT_TRUE(site.ok()) << site.error().ToString();
    wg::monitor::PointConfig p;
    p.org = org->id;
    p.id = "T-301.h2s";
    p.name = "T-301 H2S";
    p.site = "s1";
    p.kind = "h2s";
    p.unit = "ppm";
    auto put = (*inst)->monitor().PutPoint(org->id, p, 0, {"cli:test", "admin"});
    ASSERT_TRUE(put.ok()) << put.error().ToString();
    ASSERT_TRUE((*inst)->monitor().Start().ok());
    // Four hours at 10 s: a quiet baseline with two leaks ramping past red (14.1 ppm).
    std::vector<wg::ingest::RawReading> batch;
    for (int i = 0; i < 4 * 360; ++i) {
      const double minute = i / 6.0;
      double v = 1.0 + 0.2 * std::sin(i * 0.7);
      for (double start : {60.0, 150.0}) {
        if (minute >= start && minute < start + 20) v += (minute - start) * 1.2;
        if (minute >= start + 20 && minute < start + 30) v += 24.0 - (minute - start - 20) * 2.4;
      }
      batch.push_back({p.id, base + wg::core::Duration::Seconds(10 * i), v, "ppm"});
      if (batch.size() == 500) {
        auto r = (*inst)->monitor().Submit(org->id, "s1", std::move(batch),
                                           wg::core::Duration::Seconds(10));
        ASSERT_TRUE(r.ok()) << r.error().ToString();
        EXPECT_EQ(r->rejected, 0u);
        batch.clear();
      }
    }
    auto r = (*inst)->monitor().Submit(org->id, "s1", std::move(batch),
                                       wg::core::Duration::Seconds(10));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    ASSERT_TRUE((*inst)->monitor().Flush().ok());
    (*inst)->monitor().Stop();
  }
  const std::string model = dir_ + "/history.json";
  RunResult r = Exec({"model", "train", "--data", data, "--kind", "kalman", "--out", model,
                      "--from", wg::core::FormatTimestamp(base - wg::core::Duration::Hours(1)),
                      "--to", wg::core::FormatTimestamp(now + wg::core::Duration::Minutes(1))});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  wg::core::Json j = ParseOut(r);
  EXPECT_EQ(j.value("facts_recorded", 0), 1) << r.out;
  const wg::core::Json& h = j["training"]["history"];
  EXPECT_EQ(h.value("events", 0), 2) << r.out;
  EXPECT_GE(h.value("scenarios", 0), 1) << r.out;
  EXPECT_GE(h.value("readings", 0), 4 * 360 - 10) << r.out;
  ASSERT_TRUE(h["organizations"].is_array());
  ASSERT_EQ(h["organizations"].size(), 1u);
  EXPECT_EQ(h["organizations"][0].value("org", ""), "plant-a");
  // The incidents at the readings that crossed 14.1 ppm, about 11 minutes into each leak
  // (not where the backfilled alarms were processed).
  const wg::core::Json& at = h["organizations"][0]["events_at"];
  ASSERT_EQ(at.size(), 2u) << r.out;
  for (std::size_t k = 0; k < 2; ++k) {
    auto t = wg::core::ParseTimestamp(at[k].value("at", ""));
    ASSERT_TRUE(t.ok()) << at.dump();
    const double minute = static_cast<double>((*t - base).micros) / 60e6;
    const double expected = (k == 0 ? 60.0 : 150.0) + 11.0;
    EXPECT_NEAR(minute, expected, 1.5) << at.dump();
  }

  r = Exec({"model", "info", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseOut(r)["training"]["data"]["history"].value("events", 0), 2) << r.out;

  // The fact is in the organization's evidence, and the log verifies.
  {
    auto inst = wg::server::Installation::Open({.data_dir = data, .load_index = false}, clock);
    ASSERT_TRUE(inst.ok()) << inst.error().ToString();
    auto org = (*inst)->OrgByCode("plant-a");
    ASSERT_TRUE(org.ok());
    auto facts = (*inst)->store().FactsOfKinds(org->id, {"model.trained"}, 0, 10);
    ASSERT_TRUE(facts.ok()) << facts.error().ToString();
    ASSERT_EQ(facts->size(), 1u);
    EXPECT_EQ(facts->front().subject, "model:history");
    EXPECT_NE(facts->front().payload.find(j.value("digest", "?")), std::string::npos);
  }
  r = Exec({"ledger", "verify", "--data", data});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace

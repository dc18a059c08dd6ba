// End-to-end test of people on site as an installation runs it: a real mosquitto on a free
// port, the demo data (an active hot-work permit at the CDU with its guardian) seeded by
// `workguard demo`, the presence rulebook edited as data (short grace), then
// `workguard serve --mqtt` as a separate process driven over HTTP and MQTT: a UWB tag
// bound to the guardian reports inside the work fence, then far away — the guardian-absent
// red alarm is raised and the permit is suspended; GPS fixes posted over HTTP land on the
// map with their WGS-84 position; malformed and out-of-range fixes are counted, not fatal.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "wg/core/json.h"
#include "wg/ingest/broker.h"
#include "wg/ingest/decode.h"
#include "wg/ingest/mqtt.h"

namespace {

using wg::core::Json;
using namespace std::chrono_literals;

constexpr const char* kOrg = "demo-petrochem";
constexpr const char* kPassword = "workguard-demo";  // the demo users' (demo_seed.cc)

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

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool WaitFor(const std::function<bool()>& f, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return f();
}

class PresenceIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-pres-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    data_ = dir_ + "/data";
    ASSERT_TRUE(broker_.Start().ok());
  }
  void TearDown() override {
    StopServer();
    (void)broker_.Stop();
    std::filesystem::remove_all(dir_);
  }

  int Exec(const std::vector<std::string>& args, std::string* out = nullptr) {
    std::string cmd = Quote(Binary());
    for (const auto& a : args) cmd += " " + Quote(a);
    cmd += " </dev/null >" + dir_ + "/stdout 2>" + dir_ + "/stderr";
    int rc = std::system(cmd.c_str());
    if (out != nullptr) *out = Slurp(dir_ + "/stdout") + Slurp(dir_ + "/stderr");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  // Starts `workguard <command> --data DATA --listen 127.0.0.1:0 --mqtt BROKER` and returns
  // the port it prints (0 on failure).
  int StartServer(const char* command) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    const std::string mqtt = "127.0.0.1:" + std::to_string(broker_.port());
    server_pid_ = fork();
    if (server_pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      std::string bin = Binary();
      execl(bin.c_str(), bin.c_str(), command, "--data", data_.c_str(), "--listen",
            "127.0.0.1:0", "--mqtt", mqtt.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    char c;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && read(fds[0], &c, 1) == 1) {
      if (c == '\n') {
        auto pos = line.find("http://127.0.0.1:");
        if (pos != std::string::npos) {
          close(fds[0]);
          return std::atoi(line.c_str() + pos + 17);
        }
        line.clear();
      } else {
        line += c;
      }
    }
    close(fds[0]);
    ADD_FAILURE() << "server did not print its URL";
    return 0;
  }

  void StopServer() {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGTERM);
      int status = 0;
      waitpid(server_pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "server exit " << status;
      server_pid_ = -1;
    }
  }

  // The presence rulebook is data: the guardian's grace shortened to `grace`.
  void SetGuardianGrace(const std::string& grace) {
    const std::string path = data_ + "/rules/presence/rules.json";
    std::string text = Slurp(path);
    Json doc = Json::parse(text);
    bool found = false;
    for (auto& r : doc["rules"]) {
      if (r.value("id", "") == "presence.guardian_absent") {
        r["params"]["grace"] = grace;
        found = true;
      }
    }
    ASSERT_TRUE(found) << path;
    std::ofstream(path, std::ios::trunc) << doc.dump(2);
  }

  httplib::Headers Login(httplib::Client& cli, const std::string& user) {
    auto r = cli.Post("/api/v1/auth/login", Json{{"username", user}, {"password", kPassword}}.dump(),
                      "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return {{"Authorization", "Bearer " + Json::parse(r->body).value("token", "")}};
  }

  wg::ingest::TestBroker broker_;
  std::string dir_, data_;
  pid_t server_pid_ = -1;
};

TEST_F(PresenceIntegrationTest, GuardianLeavingRaisesRedAlarmSuspendsPermitAndGpsLandsOnMap) {
  // The demo data: an active grade-2 hot-work permit at the CDU (work point (120, 45),
  // fence x 105..135, y 30..60) with user "guardian" as its guardian. Seeded once by the
  // demo, which is stopped again; the rest runs under `serve`.
  ASSERT_GT(StartServer("demo"), 0);
  StopServer();
  SetGuardianGrace("3s");
  const int port = StartServer("serve");
  ASSERT_GT(port, 0);
  httplib::Client cli("127.0.0.1", port);
  const httplib::Headers safety = Login(cli, "safety");

  auto permits = cli.Get("/api/v1/permits?state=active&type=hot_work", safety);
  ASSERT_TRUE(permits);
  ASSERT_EQ(permits->status, 200) << permits->body;
  Json listed = Json::parse(permits->body)["permits"];
  ASSERT_EQ(listed.size(), 1u) << permits->body;
  const std::int64_t permit_id = listed[0]["id"].get<std::int64_t>();
  const std::string permit_path = "/api/v1/permits/" + std::to_string(permit_id);
  // The demo has other active permits with guardians of their own: only this permit's
  // guardian alarm counts.
  const std::string permit_number = listed[0].value("number", "");

  // Configuration over HTTP: the site frame, the test's own guardian tag (the demo's
  // guardian tag goes, so only ours speaks for the guardian) and a GPS tracker.
  auto del = cli.Delete("/api/v1/tags/UWB-CDU-02", safety);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204) << del->body;
  auto frame = cli.Put("/api/v1/sites/cdu/frame", safety,
                       R"({"origin": {"lat": 30.2741, "lon": 120.1551}})", "application/json");
  ASSERT_TRUE(frame);
  ASSERT_EQ(frame->status, 200) << frame->body;
  for (auto [id, kind] : {std::pair{"T-GUARD", "uwb"}, std::pair{"T-GPS", "gps"}}) {
    auto put = cli.Put(std::string("/api/v1/tags/") + id, safety,
                       Json{{"site", "cdu"}, {"kind", kind}}.dump(), "application/json");
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201) << put->body;
  }
  auto bind = cli.Post("/api/v1/tags/T-GUARD/bindings", safety, R"({"person": "user:guardian"})",
                       "application/json");
  ASSERT_TRUE(bind);
  ASSERT_EQ(bind->status, 201) << bind->body;
  auto bind_gps = cli.Post("/api/v1/tags/T-GPS/bindings", safety, R"({"person": "worker:JX-001"})",
                           "application/json");
  ASSERT_TRUE(bind_gps);
  ASSERT_EQ(bind_gps->status, 201) << bind_gps->body;

  wg::ingest::MqttOptions po;
  po.port = broker_.port();
  po.client_id = "uwb-engine";
  po.clean_session = true;
  wg::ingest::MqttPublisher uwb(po);
  ASSERT_TRUE(uwb.Start().ok());
  const std::string topic = wg::ingest::PositionTopic(kOrg, "cdu", "T-GUARD");
  auto fix = [&](double x, double y) {
    return Json{{"t", NowMs()}, {"x", x}, {"y", y}, {"acc", 0.3}}.dump();
  };
  auto guardian_alarm = [&]() -> Json {
    auto r = cli.Get("/api/v1/alarms?min_level=red", safety);
    if (!r || r->status != 200) return Json();
    const Json alarms = Json::parse(r->body)["alarms"];
    for (const auto& a : alarms) {
      if (a.value("rule", "") == "presence.guardian_absent" &&
          a.dump().find(permit_number) != std::string::npos) {
        return a;
      }
    }
    return Json();
  };

  // Inside the work fence for longer than the grace: no alarm.
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(uwb.Publish(topic, fix(121 + 0.3 * i, 46), 1, false).ok());
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(guardian_alarm().is_null()) << "guardian present, yet an alarm";

  // Malformed and out-of-range fixes are counted and change nothing.
  ASSERT_TRUE(uwb.Publish(topic, "{not json", 1, false).ok());
  ASSERT_TRUE(uwb.Publish(topic, fix(1e9, 46), 1, false).ok());

  // Then the guardian walks away east at 8 m/s (a faster move would be rejected as an
  // implausible jump) to 55 m from the work point and stays there: absent once beyond
  // 30 m and outside the fence (x > 150), so within the grace and a few ticks the red
  // alarm, and the permit stops.
  double x = 123.4;
  for (; x < 175; x += 2) {
    ASSERT_TRUE(uwb.Publish(topic, fix(x, 46), 1, false).ok());
    std::this_thread::sleep_for(250ms);
  }
  const auto away = std::chrono::steady_clock::now();
  Json alarm;
  ASSERT_TRUE(WaitFor(
      [&] {
        x += 0.2;  // fidgeting where they stand
        (void)uwb.Publish(topic, fix(x, 46), 1, false);
        alarm = guardian_alarm();
        return !alarm.is_null();
      },
      15s))
      << "no guardian-absent alarm; presence "
      << cli.Get("/api/v1/presence/status", safety)->body;
  EXPECT_LT(std::chrono::steady_clock::now() - away, 10s);
  EXPECT_EQ(alarm["level"], "red");
  EXPECT_FALSE(alarm["clause"].get<std::string>().empty());
  std::string state;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = cli.Get(permit_path, safety);
        if (!r || r->status != 200) return false;
        state = Json::parse(r->body)["permit"].value("state", "");
        return state == "suspended";
      },
      10s))
      << "permit state " << state;

  // GPS over HTTP: lands on the map with both its site-frame and WGS-84 position.
  const std::string gps = Json{{"positions", Json::array({{{"tag", "T-GPS"},
                                                           {"t", NowMs()},
                                                           {"lat", 30.27415},
                                                           {"lon", 120.15525},
                                                           {"acc", 3.0}}})}}
                              .dump();
  auto posted = cli.Post("/api/v1/sites/cdu/positions", safety, gps, "application/json");
  ASSERT_TRUE(posted);
  ASSERT_LT(posted->status, 300) << posted->body;
  Json on_map;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = cli.Get("/api/v1/positions?site=cdu", safety);
        if (!r || r->status != 200) return false;
        const Json positions = Json::parse(r->body)["positions"];
        for (const auto& p : positions) {
          if (p.value("tag", "") == "T-GPS" && !p["lat"].is_null()) on_map = p;
        }
        return !on_map.is_null();
      },
      10s));
  EXPECT_NEAR(on_map["lat"].get<double>(), 30.27415, 1e-6);
  EXPECT_NEAR(on_map["lon"].get<double>(), 120.15525, 1e-6);
  EXPECT_NEAR(on_map["x"].get<double>(), 14.4, 1.0);  // ~0.00015 deg east at 30.27 N
  EXPECT_NEAR(on_map["y"].get<double>(), 5.5, 1.0);   // ~0.00005 deg north
  EXPECT_EQ(on_map["person"], "worker:JX-001");

  // A body that is not JSON is the client's error; nothing stops.
  auto bad = cli.Post("/api/v1/sites/cdu/positions", safety, "{not json", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;

  Json inst;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = cli.Get("/api/v1/presence/status", safety);
        if (!r || r->status != 200) return false;
        inst = Json::parse(r->body)["installation"];
        const Json& rej = inst["rejected"];
        return rej.value("bad_json", 0) >= 2 && rej.value("out_of_range", 0) >= 1;
      },
      10s))
      << inst.dump();
  EXPECT_GE(inst["accepted"].get<std::uint64_t>(), 9u) << inst.dump();
  EXPECT_GE(inst["alarms_raised"].get<std::uint64_t>(), 1u) << inst.dump();

  uwb.Stop();
  StopServer();
  // Every alarm transition, configuration change and sealed trajectory is in the evidence
  // log, which verifies; the CLI lists what the server configured and recorded.
  std::string out;
  ASSERT_EQ(Exec({"ledger", "verify", "--data", data_}, &out), 0) << out;
  EXPECT_NE(out.find("intact"), std::string::npos) << out;
  ASSERT_EQ(Exec({"presence", "tags", "--data", data_, "--org", kOrg, "--json"}, &out), 0) << out;
  EXPECT_NE(out.find("\"T-GUARD\""), std::string::npos) << out;
  EXPECT_NE(out.find("user:guardian"), std::string::npos) << out;
  EXPECT_EQ(out.find("UWB-CDU-02"), std::string::npos) << out;
  ASSERT_EQ(Exec({"presence", "positions", "--data", data_, "--org", kOrg, "--site", "cdu",
                  "--json"},
                 &out),
            0)
      << out;
  EXPECT_NE(out.find("\"T-GPS\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"lat\""), std::string::npos) << out;
}

}  // namespace

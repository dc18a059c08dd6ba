// End-to-end test of live monitoring as an installation runs it: a real mosquitto started
// on a free port, `workguard serve --mqtt` as a separate process, a gas detector publishing
// over MQTT, a PLC gateway subscribed to the power-lock topic, and people using the API.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "wg/core/json.h"
#include "wg/ingest/broker.h"
#include "wg/ingest/decode.h"
#include "wg/ingest/mqtt.h"

namespace {

using wg::core::Json;

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

class MonitorIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-mon-XXXXXX";
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

  int Exec(const std::vector<std::string>& args, const std::string& input = "",
           std::string* out = nullptr) {
    std::string cmd = Quote(Binary());
    for (const auto& a : args) cmd += " " + Quote(a);
    std::ofstream(dir_ + "/stdin") << input;
    cmd += " <" + dir_ + "/stdin >" + dir_ + "/stdout 2>" + dir_ + "/stderr";
    int rc = std::system(cmd.c_str());
    if (out != nullptr) *out = Slurp(dir_ + "/stdout") + Slurp(dir_ + "/stderr");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  int StartServer(const std::string& webhook) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    const std::string mqtt = "127.0.0.1:" + std::to_string(broker_.port());
    server_pid_ = fork();
    if (server_pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      std::string bin = Binary();
      execl(bin.c_str(), bin.c_str(), "serve", "--data", data_.c_str(), "--listen",
            "127.0.0.1:0", "--mqtt", mqtt.c_str(), "--webhook", webhook.c_str(),
            static_cast<char*>(nullptr));
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

  std::string Login(httplib::Client& cli, const std::string& user) {
    auto r = cli.Post("/api/v1/auth/login",
                      Json{{"username", user}, {"password", "correct-horse-battery"}}.dump(),
                      "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return Json::parse(r->body).value("token", "");
  }

  wg::ingest::TestBroker broker_;
  std::string dir_, data_;
  pid_t server_pid_ = -1;
};

TEST_F(MonitorIntegrationTest, ReadingOverMqttRaisesRedAlarmLocksPowerAndIsAcknowledged) {
  ASSERT_EQ(Exec({"admin", "create-org", "--data", data_, "--code", "plant", "--name", "厂"}), 0);
  for (auto [user, role] : {std::pair{"admin", "admin"}, std::pair{"safety", "safety_manager"},
                            std::pair{"leader", "team_leader"}, std::pair{"welder", "worker"}}) {
    std::string out;
    ASSERT_EQ(Exec({"admin", "create-user", "--data", data_, "--org", "plant", "--username", user,
                    "--role", role, "--password-stdin"},
                   "correct-horse-battery\n", &out),
              0)
        << out;
  }
  // The notification receiver (an on-call system's webhook).
  std::mutex hook_mu;
  std::vector<std::string> hooks;
  httplib::Server receiver;
  receiver.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(hook_mu);
    hooks.push_back(req.body);
    res.status = 204;
  });
  const int hook_port = receiver.bind_to_any_port("127.0.0.1");
  ASSERT_GT(hook_port, 0);
  std::thread receiver_thread([&] { receiver.listen_after_bind(); });
  struct Join {
    httplib::Server& s;
    std::thread& t;
    ~Join() {
      s.stop();
      if (t.joinable()) t.join();
    }
  } join{receiver, receiver_thread};
  // A malformed webhook URL is refused before anything starts.
  std::string bad_out;
  EXPECT_EQ(Exec({"serve", "--data", data_, "--listen", "127.0.0.1:0", "--webhook", "ftp://x y"},
                 "", &bad_out),
            2);
  EXPECT_NE(bad_out.find("webhook[0]"), std::string::npos) << bad_out;
  int port = StartServer("http://127.0.0.1:" + std::to_string(hook_port) + "/hook");
  ASSERT_GT(port, 0);
  httplib::Client cli("127.0.0.1", port);
  httplib::Headers safety{{"Authorization", "Bearer " + Login(cli, "safety")}};
  httplib::Headers leader{{"Authorization", "Bearer " + Login(cli, "leader")}};
  httplib::Headers welder{{"Authorization", "Bearer " + Login(cli, "welder")}};

  httplib::Headers admin{{"Authorization", "Bearer " + Login(cli, "admin")}};
  // A point must name a site of the organization.
  Json point = {{"name", "T-301 罐内 硫化氢"}, {"site", "tank-farm"}, {"zone", "TF-3"},
                {"kind", "h2s"}, {"unit", "mg/m3"}};
  auto no_site = cli.Put("/api/v1/points/TF3-H2S-01", safety, point.dump(), "application/json");
  ASSERT_TRUE(no_site);
  EXPECT_EQ(no_site->status, 400) << no_site->body;
  EXPECT_NE(no_site->body.find("site"), std::string::npos) << no_site->body;
  auto site = cli.Post("/api/v1/sites", admin, R"({"code":"tank-farm","name":"罐区"})",
                       "application/json");
  ASSERT_TRUE(site);
  ASSERT_EQ(site->status, 201) << site->body;
  // A worker may not configure points; the safety manager may.
  auto denied = cli.Put("/api/v1/points/TF3-H2S-01", welder, point.dump(), "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  auto put = cli.Put("/api/v1/points/TF3-H2S-01", safety, point.dump(), "application/json");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 201) << put->body;

  // The PLC gateway listens for power-lock commands.
  std::mutex mu;
  std::vector<std::string> commands;
  wg::ingest::MqttOptions sub_opts;
  sub_opts.port = broker_.port();
  sub_opts.client_id = "plc-gateway";
  sub_opts.clean_session = true;
  wg::ingest::MqttSubscriber plc(
      sub_opts,
      [&](std::string_view, std::string_view payload) {
        std::lock_guard<std::mutex> lock(mu);
        commands.emplace_back(payload);
      },
      {"wg/v1/plant/+/actuators/+/power-lock"});
  ASSERT_TRUE(plc.Start().ok());

  wg::ingest::MqttOptions pub_opts;
  pub_opts.port = broker_.port();
  pub_opts.client_id = "detector";
  pub_opts.clean_session = true;
  wg::ingest::MqttPublisher detector(pub_opts);
  ASSERT_TRUE(detector.Start().ok());
  const std::string topic = wg::ingest::ReadingTopic("plant", "tank-farm", "TF3-H2S-01");
  // Malformed messages first: each is rejected and counted; ingestion goes on.
  for (const std::string bad : {"{not json", R"({"t":1,"v":"NaN"})", R"({"t":1})",
                                R"({"t":9999999999999,"v":1.0,"u":"mg/m3"})"}) {
    ASSERT_TRUE(detector.Publish(topic, bad, 1, false).ok());
  }
  ASSERT_TRUE(detector
                  .Publish(wg::ingest::ReadingTopic("plant", "tank-farm", "NO-SUCH-POINT"),
                           Json{{"t", NowMs()}, {"v", 1.0}}.dump(), 1, false)
                  .ok());
  ASSERT_TRUE(detector
                  .Publish(topic, Json{{"t", NowMs()}, {"v", 1.0}, {"u", "ppm"}}.dump(), 1, false)
                  .ok());
  std::int64_t t = NowMs() - 5000;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(detector.Publish(topic, Json{{"t", t + i * 500}, {"v", 1.2}, {"u", "mg/m3"}}.dump(),
                                 1, false)
                    .ok());
  }
  // H2S 31 mg/m3: above the red set-point (GB/T 50493-2019 AH 20 mg/m3).
  ASSERT_TRUE(detector.Publish(topic, Json{{"t", NowMs()}, {"v", 31.0}, {"u", "mg/m3"}}.dump(), 1,
                               false)
                  .ok());
  ASSERT_TRUE(detector.Drain(5000).ok());

  Json lock;
  for (int i = 0; i < 100 && lock.is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard<std::mutex> l(mu);
    for (const auto& c : commands) {
      Json j = Json::parse(c, nullptr, false);
      if (j.is_object() && j.value("command", "") == "lock") lock = j;
    }
  }
  ASSERT_FALSE(lock.is_null()) << "no power-lock command arrived";
  EXPECT_EQ(lock["level"], "red");
  EXPECT_EQ(lock["zone"], "TF-3");
  EXPECT_EQ(lock["site"], "tank-farm");

  // The alarm through the API: red, unacknowledged, naming its rule and clause.
  Json red;
  for (int i = 0; i < 50 && red.is_null(); ++i) {
    auto r = cli.Get("/api/v1/alarms?min_level=red", safety);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto alarms = Json::parse(r->body)["alarms"];
    if (!alarms.empty()) red = alarms[0];
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(red.is_null());
  EXPECT_EQ(red["level"], "red");
  EXPECT_EQ(red["state"], "active_unacked");
  EXPECT_EQ(red["point"], "TF3-H2S-01");
  EXPECT_FALSE(red["clause"].get<std::string>().empty());
  EXPECT_EQ(lock["alarm"], red["id"]);

  // Rejections were counted, not fatal.
  auto status = cli.Get("/api/v1/monitor/status", safety);
  ASSERT_TRUE(status);
  Json inst = Json::parse(status->body)["installation"];
  std::uint64_t rejected = 0;
  for (auto& [reason, n] : inst["rejected"].items()) rejected += n.get<std::uint64_t>();
  EXPECT_GE(rejected, 6u) << status->body;
  EXPECT_GE(inst["accepted"].get<std::uint64_t>(), 6u) << status->body;

  // A worker may not acknowledge a red alarm; the safety manager may, once.
  const std::string ack = "/api/v1/alarms/" + std::to_string(red["id"].get<std::int64_t>()) + "/ack";
  auto wrong = cli.Post(ack, welder, R"({"note":"seen"})", "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403) << wrong->body;
  auto ok = cli.Post(ack, safety, R"({"note":"evacuated, ventilating"})", "application/json");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(Json::parse(ok->body)["alarm"]["state"], "active_acked");
  auto again = cli.Post(ack, safety, "{}", "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409);

  // The red alarm's notification reached the webhook.
  bool notified = false;
  for (int i = 0; i < 100 && !notified; ++i) {
    {
      std::lock_guard<std::mutex> l(hook_mu);
      for (const auto& h : hooks) {
        notified = notified || (h.find("TF3-H2S-01") != std::string::npos &&
                                h.find("red") != std::string::npos);
      }
    }
    if (!notified) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(notified) << "no webhook notification for the red alarm";

  auto metrics = cli.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("wg_alarms_raised_total{level=\"red\"} 1"), std::string::npos)
      << metrics->body.substr(0, 3000);

  // The CSV replay source publishes onto the same broker.
  std::ofstream(dir_ + "/replay.csv") << "time,point,value,unit\n"
                                      << "2026-11-29T08:00:00Z,TF3-H2S-01,1.5,mg/m3\n"
                                      << "2026-11-29T08:00:01Z,TF3-H2S-01,oops,mg/m3\n"
                                      << "2026-11-29T08:00:02Z,TF3-H2S-01,1.4,mg/m3\n";
  std::string out;
  int rc = Exec({"monitor", "replay", dir_ + "/replay.csv", "--mqtt",
                 "127.0.0.1:" + std::to_string(broker_.port()), "--org", "plant", "--site",
                 "tank-farm", "--speed", "0"},
                "", &out);
  EXPECT_EQ(rc, 1) << out;  // one bad row, reported with its line
  EXPECT_NE(out.find("line 3"), std::string::npos) << out;
  std::uint64_t accepted_after = 0;
  for (int i = 0; i < 50; ++i) {
    auto s = cli.Get("/api/v1/monitor/status", safety);
    ASSERT_TRUE(s);
    accepted_after = Json::parse(s->body)["installation"]["accepted"].get<std::uint64_t>();
    if (accepted_after >= inst["accepted"].get<std::uint64_t>() + 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(accepted_after, inst["accepted"].get<std::uint64_t>() + 2);

  detector.Stop();
  plc.Stop();
  StopServer();
  // Every alarm transition and action is in the evidence log, which verifies.
  ASSERT_EQ(Exec({"ledger", "verify", "--data", data_}, "", &out), 0) << out;
  EXPECT_NE(out.find("intact"), std::string::npos) << out;
  ASSERT_EQ(Exec({"monitor", "alarms", "--data", data_, "--org", "plant"}, "", &out), 0) << out;
  EXPECT_NE(out.find("TF3-H2S-01"), std::string::npos) << out;
}

}  // namespace

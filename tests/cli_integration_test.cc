// End-to-end tests of the workguard binary: the CLI commands with their exit codes, and
// `serve` on a free port picking up writes the CLI makes to the same data directory.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "wg/core/json.h"
#include "wg/registry/id_number.h"

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

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    data_ = dir_ + "/data";
  }
  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }

  RunResult Exec(const std::vector<std::string>& args, const std::string& env = "",
           const std::string& input = "") {
    std::string cmd = env + " " + Quote(Binary());
    for (const auto& a : args) cmd += " " + Quote(a);
    std::string in_path = dir_ + "/stdin", out_path = dir_ + "/stdout", err_path = dir_ + "/stderr";
    std::ofstream(in_path) << input;
    cmd += " <" + in_path + " >" + out_path + " 2>" + err_path;
    int rc = std::system(cmd.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = Slurp(out_path);
    r.err = Slurp(err_path);
    return r;
  }

  std::string WriteCsv(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << body;
    return path;
  }

  int StartServer() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    server_pid_ = fork();
    if (server_pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      std::string bin = Binary();
      execl(bin.c_str(), bin.c_str(), "serve", "--data", data_.c_str(), "--listen",
            "127.0.0.1:0", static_cast<char*>(nullptr));
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

  std::string Id(const std::string& first17) {
    return first17 + wg::registry::ResidentIdCheckChar(first17);
  }

  std::string Csv() {
    return "worker_code,worker_name,national_id,employer,cert_kind,category,item,cert_number,"
           "authority,issue_date\n"
           "W1,张三," + Id("32010219900101123") + ",检修公司,special_operation,焊接与热切割作业,"
           "熔化焊接与热切割作业,T-100,南京市应急管理局,2025-06-10\n"
           "W2,李四," + Id("32010219851111123") + ",检修公司,special_equipment,lifting_machinery,"
           "Q2,TS-200,南京市市场监督管理局,2024-03-01\n";
  }

  std::string dir_, data_;
  pid_t server_pid_ = -1;
};

TEST_F(CliTest, VersionAndHelp) {
  auto v = Exec({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("workguard "), std::string::npos);
  auto h = Exec({"cert", "verify", "--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--operation"), std::string::npos);
  EXPECT_NE(Exec({"no-such-command"}).exit_code, 0);
}

TEST_F(CliTest, ImportVerifyExpiringAndExitCodes) {
  ASSERT_EQ(Exec({"admin", "create-org", "--data", data_, "--code", "plant", "--name", "厂"}).exit_code, 0);
  auto dup = Exec({"admin", "create-org", "--data", data_, "--code", "plant", "--name", "厂"});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find("ALREADY_EXISTS"), std::string::npos);

  // A bad file: nothing imported, exit 1, every bad row reported.
  std::string bad = Csv() + "W3,王五,123,检修公司,special_operation,welding,fusion_welding,T-300,x,2025-01-01\n";
  auto refused = Exec({"cert", "import", WriteCsv("bad.csv", bad), "--data", data_, "--org", "plant"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  auto report = wg::core::Json::parse(refused.out);
  EXPECT_EQ(report["imported"], false);
  EXPECT_EQ(report["errors"][0]["row"], 3);
  EXPECT_EQ(report["errors"][0]["column"], "national_id");

  auto ok = Exec({"cert", "import", WriteCsv("ok.csv", Csv()), "--data", data_, "--org", "plant"});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(wg::core::Json::parse(ok.out)["certificates_created"], 2);

  auto may = Exec({"cert", "verify", "--data", data_, "--worker", "1", "--operation", "hot_work"});
  EXPECT_EQ(may.exit_code, 0) << may.out << may.err;
  EXPECT_EQ(wg::core::Json::parse(may.out)["verdict"], "valid");
  // Same worker, the wrong operation: exit 1 with the reason.
  auto wrong = Exec({"cert", "verify", "--data", data_, "--worker", "1", "--operation", "crane_driving"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wg::core::Json::parse(wrong.out)["verdict"], "wrong_category");
  // After expiry.
  auto late = Exec({"cert", "verify", "--data", data_, "--worker", "1", "--operation", "hot_work",
                    "--at", "2031-06-10T00:00:00+08:00"});
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_EQ(wg::core::Json::parse(late.out)["verdict"], "expired");
  // Real certificate, wrong person.
  auto other = Exec({"cert", "verify", "--data", data_, "--worker", "1", "--operation", "hot_work",
                     "--national-id", Id("32010219851111123")});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(wg::core::Json::parse(other.out)["verdict"], "id_mismatch");
  // Bad input: exit 2 naming the field.
  auto bad_op = Exec({"cert", "verify", "--data", data_, "--worker", "1", "--operation", "juggling"});
  EXPECT_EQ(bad_op.exit_code, 2);
  EXPECT_NE(bad_op.err.find("operation"), std::string::npos);
  auto bad_at = Exec({"cert", "verify", "--data", data_, "--worker", "1", "--operation", "hot_work",
                      "--at", "yesterday"});
  EXPECT_EQ(bad_at.exit_code, 2);
  EXPECT_NE(bad_at.err.find("at"), std::string::npos);
  // By staff number instead of id.
  auto by_code = Exec({"cert", "verify", "--data", data_, "--org", "plant", "--worker-code", "W2",
                       "--operation", "crane_driving"});
  EXPECT_EQ(by_code.exit_code, 0) << by_code.err;
  EXPECT_EQ(wg::core::Json::parse(by_code.out)["verdict"], "valid");
  auto code_no_org = Exec({"cert", "verify", "--data", data_, "--worker-code", "W2", "--operation",
                           "crane_driving"});
  EXPECT_EQ(code_no_org.exit_code, 2);
  auto no_code = Exec({"cert", "verify", "--data", data_, "--org", "plant", "--worker-code", "W9",
                       "--operation", "hot_work"});
  EXPECT_EQ(no_code.exit_code, 1);
  EXPECT_EQ(wg::core::Json::parse(no_code.out)["verdict"], "unknown_worker");
  auto unknown = Exec({"cert", "verify", "--data", data_, "--worker", "999", "--operation", "hot_work"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(wg::core::Json::parse(unknown.out)["verdict"], "unknown_worker");

  auto exp = Exec({"cert", "expiring", "--data", data_, "--days", "120", "--at", "2028-01-20"});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  auto list = wg::core::Json::parse(exp.out);
  ASSERT_EQ(list.size(), 1u);  // the Q2 certificate expires 2028-03-01
  EXPECT_EQ(list[0]["number"], "TS-200");

  auto qr = Exec({"cert", "qr", "--data", data_, "--org", "plant", "--cert", "1", "--out", dir_ + "/c.png"});
  ASSERT_EQ(qr.exit_code, 0) << qr.err;
  EXPECT_EQ(Slurp(dir_ + "/c.png").substr(1, 3), "PNG");
  EXPECT_EQ(qr.out.rfind("WG1|", 0), 0u);
}

TEST_F(CliTest, ServeAnswersAndCatchesUpWithCliWrites) {
  ASSERT_EQ(Exec({"admin", "create-org", "--data", data_, "--code", "plant", "--name", "厂"}).exit_code, 0);
  auto user = Exec({"admin", "create-user", "--data", data_, "--org", "plant", "--username",
                    "safety", "--role", "safety_manager", "--password-stdin"},
                   "", "correct-horse-battery\n");
  ASSERT_EQ(user.exit_code, 0) << user.err;
  auto weak = Exec({"admin", "create-user", "--data", data_, "--org", "plant", "--username",
                    "weak", "--role", "guardian", "--password-stdin"}, "", "short\n");
  EXPECT_EQ(weak.exit_code, 2);
  auto bad_role = Exec({"admin", "create-user", "--data", data_, "--org", "plant", "--username",
                        "boss", "--role", "boss"}, "WG_PASSWORD=correct-horse-battery");
  EXPECT_EQ(bad_role.exit_code, 2);

  int port = StartServer();
  ASSERT_GT(port, 0);
  httplib::Client cli("127.0.0.1", port);
  auto health = cli.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto login = cli.Post("/api/v1/auth/login",
                        R"({"username":"safety","password":"correct-horse-battery"})",
                        "application/json");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  std::string token = wg::core::Json::parse(login->body)["token"];
  httplib::Headers auth{{"Authorization", "Bearer " + token}};
  auto before = cli.Get("/api/v1/workers/1/verify?operation=hot_work", auth);
  ASSERT_TRUE(before);
  EXPECT_EQ(wg::core::Json::parse(before->body)["verdict"], "unknown_worker");

  // The CLI imports into the same data directory while the server runs.
  ASSERT_EQ(Exec({"cert", "import", WriteCsv("ok.csv", Csv()), "--data", data_, "--org", "plant"}).exit_code, 0);
  std::string verdict;
  for (int i = 0; i < 50 && verdict != "valid"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = cli.Get("/api/v1/workers/1/verify?operation=hot_work", auth);
    ASSERT_TRUE(r);
    verdict = wg::core::Json::parse(r->body)["verdict"];
  }
  EXPECT_EQ(verdict, "valid");
  auto metrics = cli.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("wg_index_certificates 2"), std::string::npos) << metrics->body.substr(0, 2000);
  StopServer();  // SIGTERM: clean exit 0
}

}  // namespace

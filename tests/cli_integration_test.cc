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
#include "wg/core/time.h"
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
  // The CLI's facts waited in the outbox while the server held the log; it appended them.
  std::string ledger;
  for (int i = 0; i < 50; ++i) {
    auto v = Exec({"ledger", "verify", "--data", data_});
    ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
    ledger = v.out;
    if (wg::core::Json::parse(ledger)[0]["pending"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto verified = wg::core::Json::parse(ledger)[0];
  EXPECT_EQ(verified["status"], "intact");
  EXPECT_EQ(verified["pending"], 0) << ledger;
  // org.created, key.created, user.created, 2 workers + 2 certificates imported, and the
  // early-warning model serve loaded (model.loaded).
  EXPECT_EQ(verified["log_size"], 8) << ledger;
  StopServer();  // SIGTERM: clean exit 0
}

TEST_F(CliTest, LedgerVerifyExportAndBundleVerifyCatchTampering) {
  ASSERT_EQ(Exec({"admin", "create-org", "--data", data_, "--code", "plant", "--name", "厂"}).exit_code, 0);
  ASSERT_EQ(Exec({"cert", "import", WriteCsv("ok.csv", Csv()), "--data", data_, "--org", "plant"}).exit_code, 0);
  auto checkpoint = Exec({"ledger", "checkpoint", "--data", data_, "--org", "plant"});
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
  EXPECT_NE(checkpoint.out.find("/plant\n6\n"), std::string::npos);
  EXPECT_NE(checkpoint.out.find("\n\n\u2014 "), std::string::npos);
  auto intact = Exec({"ledger", "verify", "--data", data_});
  ASSERT_EQ(intact.exit_code, 0) << intact.out << intact.err;
  EXPECT_EQ(wg::core::Json::parse(intact.out)[0]["checkpoints"], 1);

  auto proof = Exec({"ledger", "proof", "--data", data_, "--org", "plant", "--seq", "3"});
  ASSERT_EQ(proof.exit_code, 0) << proof.err;
  EXPECT_EQ(wg::core::Json::parse(proof.out)["tree_size"], 6);

  const std::string bundle = dir_ + "/bundle.json";
  auto exported = Exec({"evidence", "export", "--data", data_, "--org", "plant", "--cert-number",
                        "T-100", "--out", bundle});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto ok = Exec({"evidence", "verify", bundle});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto report = wg::core::Json::parse(ok.out);
  EXPECT_EQ(report["facts"][0]["kind"], "cert.imported");
  EXPECT_EQ(report["facts"][0]["payload"]["number"], "T-100");
  EXPECT_NE(ok.err.find("--key"), std::string::npos) << "warns that the key was not pinned";
  // Pinned to another key: refused.
  auto other_key = Exec({"evidence", "verify", bundle, "--key",
                         wg::core::Json::parse(Slurp(bundle))["verifier_keys"][0].get<std::string>() + "x"});
  EXPECT_EQ(other_key.exit_code, 2) << other_key.err;
  // A bundle edited to claim another certificate number: exit 1.
  std::string text = Slurp(bundle);
  auto j = wg::core::Json::parse(text);
  std::string entry = j["facts"][0]["entry"];
  entry[entry.size() / 2] = entry[entry.size() / 2] == 'A' ? 'B' : 'A';
  j["facts"][0]["entry"] = entry;
  std::ofstream(dir_ + "/forged.json") << j.dump();
  auto forged = Exec({"evidence", "verify", dir_ + "/forged.json"});
  EXPECT_EQ(forged.exit_code, 1) << forged.out << forged.err;
  EXPECT_NE(forged.err.find("does NOT verify"), std::string::npos);
  EXPECT_EQ(Exec({"evidence", "verify", dir_ + "/missing.json"}).exit_code, 2);

  // A certificate row edited behind the store (revoked -> reinstated would be the attack;
  // here the expiry is pushed out) no longer matches its latest fact: exit 1.
  {
    const std::string backup = dir_ + "/before-edit.db";
    std::filesystem::copy_file(data_ + "/workguard.db", backup);
    std::string sql = "sqlite3 " + Quote(data_ + "/workguard.db") +
                      " \"UPDATE certificates SET expiry_date = expiry_date + 3650 WHERE number = 'T-100'\"";
    ASSERT_EQ(std::system(sql.c_str()), 0);
    auto edited = Exec({"ledger", "verify", "--data", data_});
    EXPECT_EQ(edited.exit_code, 1) << edited.out << edited.err;
    EXPECT_NE(edited.err.find("T-100"), std::string::npos) << edited.err;
    std::filesystem::copy_file(backup, data_ + "/workguard.db",
                               std::filesystem::copy_options::overwrite_existing);
    auto restored = Exec({"ledger", "verify", "--data", data_});
    EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
    EXPECT_EQ(wg::core::Json::parse(restored.out)[0]["certificates_checked"], 2);
  }

  // One flipped bit in the log: ledger verify names the record and exits 1.
  const std::string entries = data_ + "/ledger/plant/entries.dat";
  std::string log = Slurp(entries);
  ASSERT_GT(log.size(), 600u);
  log[500] = static_cast<char>(log[500] ^ 0x01);
  std::ofstream(entries, std::ios::binary | std::ios::trunc) << log;
  auto tampered = Exec({"ledger", "verify", "--data", data_});
  EXPECT_EQ(tampered.exit_code, 1) << tampered.out << tampered.err;
  EXPECT_EQ(wg::core::Json::parse(tampered.out)[0]["status"], "tampered");
  EXPECT_NE(tampered.err.find("record"), std::string::npos) << tampered.err;
  EXPECT_EQ(Exec({"ledger", "verify", "--data", dir_ + "/nowhere"}).exit_code, 2);
}

TEST_F(CliTest, VaultPutGetListAndBadInput) {
  ASSERT_EQ(Exec({"admin", "create-org", "--data", data_, "--code", "plant", "--name", "厂"}).exit_code, 0);
  const std::string file = dir_ + "/gas-test.pdf";
  std::ofstream(file, std::ios::binary) << "%PDF-1.4 lab report: O2 20.9%, LEL 0%";
  auto put = Exec({"vault", "put", file, "--data", data_, "--org", "plant", "--class",
                   "test_report", "--media-type", "application/pdf"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  auto info = wg::core::Json::parse(put.out);
  EXPECT_EQ(info["file_name"], "gas-test.pdf");
  EXPECT_TRUE(info["expires_at"].is_null()) << "test reports are kept permanently";
  auto get = Exec({"vault", "get", "--data", data_, "--org", "plant", "--id",
                   info["id"].get<std::string>(), "--out", dir_ + "/back.pdf"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(Slurp(dir_ + "/back.pdf"), Slurp(file));
  auto list = Exec({"vault", "list", "--data", data_, "--org", "plant"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(wg::core::Json::parse(list.out).size(), 1u);
  // The box on disk does not contain the plaintext.
  bool plaintext_on_disk = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data_ + "/vault")) {
    if (e.is_regular_file() && Slurp(e.path().string()).find("lab report") != std::string::npos) {
      plaintext_on_disk = true;
    }
  }
  EXPECT_FALSE(plaintext_on_disk);
  auto bad_class = Exec({"vault", "put", file, "--data", data_, "--org", "plant", "--class",
                         "forever", "--media-type", "application/pdf"});
  EXPECT_EQ(bad_class.exit_code, 2);
  EXPECT_NE(bad_class.err.find("retention_class"), std::string::npos) << bad_class.err;
  auto other_org = Exec({"vault", "get", "--data", data_, "--org", "other", "--id",
                         info["id"].get<std::string>(), "--out", dir_ + "/x"});
  EXPECT_EQ(other_org.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x"));
  auto verify = Exec({"ledger", "verify", "--data", data_});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(wg::core::Json::parse(verify.out)[0]["log_size"], 3) << verify.out;  // org, key, vault
}

}  // namespace

namespace {

std::string ExampleDir() {
  // tests/ -> docs/examples/permits/
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/../docs/examples/permits/";
}

// `permit check`: exit 0 compliant, 1 blocked, 3 warnings only, 2 bad input; the decision
// on stdout names the rulebook version and every violation's rule, clause and field.
TEST_F(CliTest, PermitCheckExitCodesAndDecision) {
  for (const char* type : {"hot_work", "confined_space", "blind_plate", "work_at_height",
                           "lifting", "temporary_power", "excavation", "road_breaking"}) {
    const std::string file = ExampleDir() + type + ".json";
    RunResult r = Exec({"permit", "check", file, "--stage", "plan"});
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 3) << type << r.err;
    auto j = wg::core::Json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << type << ": " << r.out << r.err;
    EXPECT_FALSE(j.value("rulebook", "").empty());
    const std::string verdict = j.value("verdict", "");
    EXPECT_EQ(r.exit_code, verdict == "compliant" ? 0 : verdict == "blocked" ? 1 : 3) << type;
    for (const auto& v : j["violations"]) {
      EXPECT_FALSE(v.value("rule", "").empty());
      EXPECT_FALSE(v.value("clause", "").empty()) << v.dump();
    }
  }
  // A grade-1 hot-work permit for 8 h 1 min is blocked on planned_end (§5.1.5).
  auto doc = wg::core::Json::parse(Slurp(ExampleDir() + "hot_work.json"));
  auto start = *wg::core::ParseTimestamp(doc["planned_start"].get<std::string>());
  doc["grade"] = "grade1";
  doc["planned_end"] = wg::core::FormatTimestamp(start + wg::core::Duration::Minutes(8 * 60 + 1));
  const std::string long_file = WriteCsv("long.json", doc.dump());
  RunResult blocked = Exec({"permit", "check", long_file, "--stage", "plan"});
  EXPECT_EQ(blocked.exit_code, 1) << blocked.out << blocked.err;
  bool named = false;
  const auto blocked_json = wg::core::Json::parse(blocked.out);
  for (const auto& v : blocked_json["violations"]) {
    named = named || (v.value("field", "") == "planned_end" && v.value("severity", "") == "block");
  }
  EXPECT_TRUE(named) << blocked.out;
  // Bad input: malformed JSON, a missing member (named), a missing file, bad options.
  RunResult malformed = Exec({"permit", "check", WriteCsv("bad.json", "{\"type\": ")});
  EXPECT_EQ(malformed.exit_code, 2);
  doc.erase("site");
  RunResult partial = Exec({"permit", "check", WriteCsv("partial.json", doc.dump())});
  EXPECT_EQ(partial.exit_code, 2);
  EXPECT_NE(partial.err.find("site"), std::string::npos) << partial.err;
  EXPECT_EQ(Exec({"permit", "check", dir_ + "/missing.json"}).exit_code, 2);
  EXPECT_EQ(Exec({"permit", "check", long_file, "--stage", "someday"}).exit_code, 2);
  EXPECT_EQ(Exec({"permit", "check"}).exit_code, 2);
}

// `presence` listings are read-only: an organization without tags lists nothing (exit 0);
// the presence rulebook is installed with the data directory; an unknown permit, an
// ambiguous organization and a missing --data are errors (exit 2).
TEST_F(CliTest, PresenceListingsAreReadOnlyAndNameTheirErrors) {
  ASSERT_EQ(Exec({"admin", "create-org", "--data", data_, "--code", "plant-a", "--name", "A"})
                .exit_code,
            0);
  EXPECT_TRUE(std::filesystem::exists(data_ + "/rules/presence/rules.json"));
  for (const char* what : {"tags", "fences", "positions"}) {
    RunResult table = Exec({"presence", what, "--data", data_});
    EXPECT_EQ(table.exit_code, 0) << what << ": " << table.err;
    EXPECT_EQ(table.out, "") << what;
    RunResult json = Exec({"presence", what, "--data", data_, "--org", "plant-a", "--json"});
    EXPECT_EQ(json.exit_code, 0) << what << ": " << json.err;
    EXPECT_EQ(json.out, "") << what;
  }
  RunResult unknown = Exec({"presence", "register", "HP-NOPE", "--data", data_});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos) << unknown.err;
  ASSERT_EQ(Exec({"admin", "create-org", "--data", data_, "--code", "plant-b", "--name", "B"})
                .exit_code,
            0);
  RunResult ambiguous = Exec({"presence", "tags", "--data", data_});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_NE(ambiguous.err.find("org"), std::string::npos) << ambiguous.err;
  EXPECT_EQ(Exec({"presence", "fences"}).exit_code, 2);
}

}  // namespace

// workguard: the command line. Every command is a thin shell over the libraries:
// parse and check options, open the installation, call one library function, print JSON
// or a table, and exit 0 (success / may work), 1 (a negative answer: may not work,
// import refused) or 2 (bad input or failure, with the message on stderr).

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <filesystem>
#include <thread>

#include <CLI/CLI.hpp>

#include "wg/api/server.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/log.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/live/mqtt_bridge.h"
#include "wg/ingest/broker.h"
#include "wg/server/demo.h"
#include "wg/server/installation.h"
#include "cli_common.h"
#include "evidence_commands.h"
#include "permit_commands.h"
#include "monitor_commands.h"
#include "presence_commands.h"
#include "predict_commands.h"
#include "demo_live.h"
#include "regulator_commands.h"

#ifndef WG_VERSION
#define WG_VERSION "0.0.0"
#endif

namespace {

using wg::core::Result;
using wg::core::Status;

using wg::cli::CliActor;
using wg::cli::Fail;
using wg::cli::kExitError;
using wg::cli::kExitNegative;
using wg::cli::kExitOk;
using wg::cli::ParseListen;

std::atomic<bool> g_stop{false};

// Runs the HTTP server until SIGINT/SIGTERM. A background thread folds in writes that
// other processes (the CLI) made to the same data directory. (Expired tokens are swept by
// the API itself, at most hourly.)
int Serve(wg::server::Installation& inst, const wg::core::Clock& clock, const std::string& listen,
          const std::string& banner, const wg::cli::RegulatorPush* regulator = nullptr,
          int checkpoint_seconds = 60, const std::string& mqtt = "",
          const std::string& web_root = "") {
  auto hp = ParseListen(listen);
  if (!hp) return Fail(hp.error());
  // Live monitoring and people on site: the services' threads (idempotent when the
  // installation started them) and, with --mqtt HOST:PORT, the bridge to the broker
  // (readings and positions in, power-lock and broadcast commands out).
  if (Status s = inst.monitor().Start(); !s.ok()) return Fail(s);
  if (Status s = inst.presence().Start(); !s.ok()) return Fail(s);
  std::unique_ptr<wg::live::MqttBridge> bridge;
  if (!mqtt.empty()) {
    auto broker = ParseListen(mqtt);
    if (!broker) return Fail(broker.error());
    wg::live::BridgeOptions bo;
    bo.mqtt.host = broker->first;
    bo.mqtt.port = broker->second;
    bridge = std::make_unique<wg::live::MqttBridge>(inst.monitor(), bo);
    bridge->SetPresence(&inst.presence());
    if (Status s = bridge->Start(); !s.ok()) return Fail(s);
    spdlog::info("monitoring: MQTT broker {}:{}", broker->first, broker->second);
  }
  wg::api::ServerOptions opts;
  opts.host = hp->first;
  opts.port = hp->second;
  opts.import_tmp_dir = inst.tmp_dir();
  opts.web_root = web_root;
  wg::api::ApiServer server(inst.store(), inst.registry(), clock, opts);
  // Block the signals in every thread; this thread waits for them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  server.SetAttachments(&inst.attachments());
  server.SetPermits(&inst.permits());
  server.SetMonitor(&inst.monitor());
  server.SetPresence(&inst.presence());
  if (Status s = inst.RecoverVault(); !s.ok()) return Fail(s);
  if (Status s = server.Start(); !s.ok()) return Fail(s);
  std::cout << banner << "workguard " WG_VERSION " serving http://" << opts.host << ":"
            << server.port() << "/  (data: " << inst.data_dir() << ")" << std::endl;
  std::thread maintenance([&] {
    int ticks = 0;
    while (!g_stop.load()) {
      for (int i = 0; i < 10 && !g_stop.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (Status s = inst.registry().CatchUp(); !s.ok()) {
        spdlog::warn("index catch-up failed: {}", s.ToString());
      }
      // Permits other processes wrote; permits whose validity ended expire (GB 30871-2022
      // validity limits: an expired permit is no longer open for work).
      if (Status s = inst.permits().CatchUp(); !s.ok()) {
        spdlog::warn("permit catch-up failed: {}", s.ToString());
      }
      // Working conditions of the monitoring points from the open permits.
      if (Status s = inst.monitor().Refresh(); !s.ok()) {
        spdlog::warn("monitor refresh failed: {}", s.ToString());
      }
      // Work fences, guardians and certificate holders of the open permits.
      if (Status s = inst.presence().Refresh(); !s.ok()) {
        spdlog::warn("presence refresh failed: {}", s.ToString());
      }
      if (auto n = inst.permits().ExpireDue(); !n) {
        spdlog::error("permit expiry failed: {}", n.error().ToString());
      } else if (*n > 0) {
        spdlog::info("expired {} permits", *n);
      }
      // Facts the CLI queued while this server held the logs.
      if (Status s = inst.evidence().SyncAll(); !s.ok()) {
        spdlog::error("evidence sync failed: {}", s.ToString());
      }
      // Attachments whose retention ended: destroy key and ciphertext, record the fact.
      if (ticks % 3600 == 0) {
        if (auto gone = inst.ExpireAttachments("system:retention"); !gone) {
          spdlog::error("attachment expiry failed: {}", gone.error().ToString());
        } else if (!gone->empty()) {
          spdlog::info("retention: destroyed {} attachments", gone->size());
        }
      }
      // A signed checkpoint per organization every checkpoint_seconds when its log grew.
      if (++ticks % checkpoint_seconds == 1) {  // the first one a second after start
        auto orgs = inst.store().ListOrganizations();
        for (const auto& o : orgs.value_or(std::vector<wg::domain::Organization>{})) {
          if (auto c = inst.evidence().Checkpoint(o.id); !c) {
            spdlog::error("checkpoint of {} failed: {}", o.code, c.error().ToString());
          }
        }
        if (regulator != nullptr) regulator->PushAll(inst);  // serve --regulator URL
      }
    }
  });
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {} received, stopping", sig);
  g_stop.store(true);
  server.Stop();
  maintenance.join();
  if (bridge) bridge->Stop();
  inst.presence().Stop();  // drains, seals the open trajectory blocks
  inst.monitor().Stop();   // drains the queue, seals the open blocks, persists
  return kExitOk;
}

Result<std::unique_ptr<wg::server::Installation>> OpenData(const std::string& data,
                                                           const wg::core::Clock& clock,
                                                           bool load_index = true,
                                                           bool sync_evidence = false,
                                                           bool start_monitor = false,
                                                           std::vector<std::string> webhooks = {},
                                                           const std::string& model = "") {
  wg::server::InstallationOptions options{.data_dir = data,
                                          .load_index = load_index,
                                          .sync_evidence = sync_evidence,
                                          .start_monitor = start_monitor};
  options.monitor.webhooks = std::move(webhooks);
  options.model = model;
  return wg::server::Installation::Open(options, clock);
}

// --webhook URL: http:// or https://, no spaces or control characters, at most 2048 bytes.
Status CheckWebhooks(const std::vector<std::string>& urls) {
  for (std::size_t i = 0; i < urls.size(); ++i) {
    const std::string& u = urls[i];
    const bool scheme = u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
    const bool clean = std::none_of(u.begin(), u.end(), [](unsigned char c) {
      return c <= 0x20 || c == 0x7f;
    });
    if (!scheme || !clean || u.size() > 2048 || u.size() < 10) {
      return Status::InvalidArgument(
          "expected an http:// or https:// URL without spaces, at most 2048 bytes: '" + u + "'",
          "webhook[" + std::to_string(i) + "]");
    }
  }
  return Status::Ok();
}

// Finds the organization of a worker when the CLI is not told (ids are installation-wide).
Result<wg::core::OrgId> OrgOfWorker(wg::server::Installation& inst, const std::string& org_code,
                                    wg::core::WorkerId worker) {
  if (!org_code.empty()) {
    auto org = inst.OrgByCode(org_code);
    if (!org) return org.error();
    return org->id;
  }
  auto orgs = inst.store().ListOrganizations();
  if (!orgs) return orgs.error();
  for (const auto& o : *orgs) {
    if (inst.store().GetWorker(o.id, worker).has_value()) return o.id;
  }
  return wg::core::OrgId{};  // unknown worker: the verdict says so
}

void ProgressBar(std::size_t rows, std::size_t done, std::size_t total) {
  if (!isatty(STDERR_FILENO) || total == 0) return;
  int pct = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
  int filled = pct / 5;
  std::fprintf(stderr, "\r[%-20.*s] %3d%%  %zu rows", filled, "####################", pct, rows);
  if (done >= total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  wg::core::SetupLogging("info");
  CLI::App app{"workguard — special-operation safety: certified people, permits, live "
               "monitoring and tamper-evident evidence"};
  app.set_version_flag("--version", std::string("workguard ") + WG_VERSION);
  app.require_subcommand(1);

  std::string data = "./var/demo";
  std::string listen = "127.0.0.1:8080";

  auto* serve = app.add_subcommand("serve", "Serve the HTTP API for a data directory");
  serve->add_option("--data", data, "Data directory (created if missing)")->required();
  serve->add_option("--listen", listen, "HOST:PORT to bind (port 0 picks a free port)")
      ->capture_default_str();

  auto* demo = app.add_subcommand(
      "demo", "Create (if needed) a data directory with a sample organization and serve it");
  demo->add_option("--data", data, "Data directory")->capture_default_str();
  demo->add_option("--listen", listen, "HOST:PORT to bind (port 0 picks a free port)")
      ->capture_default_str();
  std::string mqtt;
  std::string model;
  std::string web_root;
  for (auto* cmd : {serve, demo}) {
    cmd->add_option("--web-root", web_root,
                    "Serve the browser application from this directory instead of the copy "
                    "built into the binary (development, restyling)");
    cmd->add_option("--model", model,
                    "Early-warning model: a built-in name (static, linear, holt, kalman), a "
                    "model file, or 'off' (default: the shipped model)");
  }
  serve->add_option("--mqtt", mqtt, "MQTT broker HOST:PORT for live monitoring");
  demo->add_option("--mqtt", mqtt, "MQTT broker HOST:PORT for live monitoring");
  wg::cli::DemoOptions demo_options;
  demo->add_option("--speed", demo_options.speed,
                   "Play the incident timeline X times faster (readings keep the real time)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1000.0));
  demo->add_option("--incident-every", demo_options.incident_every_s,
                   "Scenario seconds between repeats of the incident timeline (>= 1800)")
      ->capture_default_str()
      ->check(CLI::Range(1800.0, 86400.0));
  demo->add_option("--h2s-start", demo_options.h2s_start_s,
                   "Scenario second the V-203 H2S rise starts: negative puts its beginning in the "
                   "uploaded history (red ~90 s after start by default); 60 plays it all live "
                   "(predicted warning ~12 min, red ~20 min)")
      ->capture_default_str()
      ->check(CLI::Range(-1200.0, 600.0));
  demo->add_option("--extra-points", demo_options.extra_points,
                   "Generated points (1 Hz) on site bench-site, for the board benchmark")
      ->capture_default_str()
      ->check(CLI::Range(0, 20000));
  std::vector<std::string> webhooks;
  serve->add_option("--webhook", webhooks,
                    "URL receiving every alarm notification as a JSON POST (repeatable)");
  demo->add_option("--webhook", webhooks,
                   "URL receiving every alarm notification as a JSON POST (repeatable)");

  auto* admin = app.add_subcommand("admin", "Bootstrap organizations and users");
  admin->require_subcommand(1);
  std::string org_code, org_name, username, display_name, role, password_env = "WG_PASSWORD";
  bool password_stdin = false;
  auto* create_org = admin->add_subcommand("create-org", "Create an organization (tenant)");
  create_org->add_option("--data", data, "Data directory")->required();
  create_org->add_option("--code", org_code, "Short code, [a-z0-9-]{2,32}")->required();
  create_org->add_option("--name", org_name, "Display name")->required();
  auto* create_user = admin->add_subcommand("create-user", "Create a user in an organization");
  create_user->add_option("--data", data, "Data directory")->required();
  create_user->add_option("--org", org_code, "Organization code")->required();
  create_user->add_option("--username", username, "Login name, [a-z0-9._-]{3,64}")->required();
  create_user->add_option("--display-name", display_name, "Name shown to people");
  create_user->add_option("--role", role,
                          "worker|guardian|team_leader|approver|safety_manager|supervisor|"
                          "regulator|admin|gateway")
      ->required();
  create_user->add_flag("--password-stdin", password_stdin, "Read the password from stdin");
  create_user->add_option("--password-env", password_env,
                          "Environment variable holding the password")
      ->capture_default_str();

  auto* cert = app.add_subcommand("cert", "Worker certificates: verify, reminders, import, QR");
  cert->require_subcommand(1);
  std::int64_t worker_id = 0, cert_id = 0;
  std::string operation, at, national_id, file, out;
  int days = 30;
  bool skip_invalid = false;
  auto* verify = cert->add_subcommand(
      "verify", "May this worker do this operation? Exit 0 yes, 1 no, 2 bad input");
  verify->add_option("--data", data, "Data directory")->required();
  std::string worker_code;
  auto* worker_opt = verify->add_option("--worker", worker_id, "Worker id");
  auto* code_opt =
      verify->add_option("--worker-code", worker_code, "Worker code (staff number); needs --org");
  worker_opt->excludes(code_opt);
  verify->add_option("--operation", operation, "Operation code, e.g. hot_work")->required();
  verify->add_option("--at", at, "Instant (RFC 3339) or date; default now");
  verify->add_option("--org", org_code, "Organization code (default: the worker's)");
  verify->add_option("--national-id", national_id, "Check the presented ID against the worker");
  auto* expiring = cert->add_subcommand("expiring", "Certificates due for review or expiry");
  expiring->add_option("--data", data, "Data directory")->required();
  expiring->add_option("--days", days, "Window in days")->capture_default_str()->check(CLI::Range(0, 3660));
  expiring->add_option("--org", org_code, "Only this organization");
  expiring->add_option("--at", at, "As of this instant or date; default now");
  auto* import = cert->add_subcommand("import", "Import workers and certificates from CSV");
  import->add_option("file", file, "CSV file (docs/formats/certificate-csv.md)")->required();
  import->add_option("--data", data, "Data directory")->required();
  import->add_option("--org", org_code, "Organization code")->required();
  import->add_flag("--skip-invalid", skip_invalid, "Import the valid rows even if some are bad");
  auto* qr = cert->add_subcommand("qr", "Write a certificate's signed QR code (PNG or SVG)");
  qr->add_option("--data", data, "Data directory")->required();
  qr->add_option("--org", org_code, "Organization code")->required();
  qr->add_option("--cert", cert_id, "Certificate id")->required();
  qr->add_option("--out", out, "Output file (.png or .svg); '-' prints the payload")->required();

  wg::cli::EvidenceArgs evidence_args;
  wg::cli::AddEvidenceCommands(app, evidence_args);
  wg::cli::RegulatorArgs regulator_args;
  wg::cli::AddRegulatorCommands(app, regulator_args);
  wg::cli::PermitArgs permit_args;
  wg::cli::AddPermitCommands(app, permit_args);
  wg::cli::MonitorArgs monitor_args;
  wg::cli::AddMonitorCommands(app, monitor_args);
  wg::cli::PresenceArgs presence_args;
  wg::cli::AddPresenceCommands(app, presence_args);
  wg::cli::PredictArgs predict_args;
  wg::cli::AddPredictCommands(app, predict_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and --version exit 0; any other parse error is bad input (exit 2).
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitError;
  }
  if (auto code = wg::cli::RunPermitCommands(permit_args)) return *code;
  if (auto code = wg::cli::RunMonitorCommands(monitor_args)) return *code;
  if (auto code = wg::cli::RunPresenceCommands(presence_args)) return *code;
  if (auto code = wg::cli::RunPredictCommands(predict_args)) return *code;
  if (auto code = wg::cli::RunEvidenceCommands(evidence_args)) return *code;
  if (auto code = wg::cli::RunRegulatorCommands(regulator_args)) return *code;

  wg::core::SystemClock clock;

  if (*serve || *demo) {
    // Block SIGINT/SIGTERM before any thread starts (the monitor's start at open), so
    // every thread inherits the mask and Serve's sigwait receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    if (Status s = CheckWebhooks(webhooks); !s.ok()) return Fail(s);
    auto inst = OpenData(data, clock, /*load_index=*/true, /*sync_evidence=*/true,
                         /*start_monitor=*/true, webhooks, model);
    if (!inst) return Fail(inst.error());
    std::string banner;
    // The demo's live monitoring: its own mosquitto (unless --mqtt names one) and a
    // simulator publishing the demo points' readings (demo_live.h).
    std::unique_ptr<wg::ingest::TestBroker> demo_broker;
    std::unique_ptr<wg::cli::DemoSimulator> simulator;
    if (*demo) {
      auto seeded = wg::server::SeedDemo(**inst, clock);
      if (!seeded) return Fail(seeded.error());
      banner = *seeded;
      if (demo_options.extra_points > 0) {
        auto bench = wg::server::SeedBenchSite(**inst, demo_options.extra_points);
        if (!bench) return Fail(bench.error());
        banner += *bench;
      }
      if (mqtt.empty()) {
        wg::ingest::BrokerOptions bo;
        bo.dir = (*inst)->data_dir() + "/mqtt";
        std::filesystem::create_directories(bo.dir);
        demo_broker = std::make_unique<wg::ingest::TestBroker>(bo);
        if (Status s = demo_broker->Start(); !s.ok()) {
          banner += "live monitoring: no MQTT broker (" + s.ToString() + ")\n";
          demo_broker.reset();
        } else {
          mqtt = "127.0.0.1:" + std::to_string(demo_broker->port());
          banner += "live monitoring: mosquitto on " + mqtt + " (topics: docs/formats/mqtt-topics.md)\n";
        }
      }
      if (!mqtt.empty()) {
        auto hp = ParseListen(mqtt);
        if (!hp) return Fail(hp.error());
        simulator = std::make_unique<wg::cli::DemoSimulator>(**inst, hp->first, hp->second, clock,
                                                             demo_options);
        if (Status s = simulator->Start(); !s.ok()) return Fail(s);
        banner += "simulator: readings and positions every second (docs/demo.md)\n" +
                  simulator->Schedule();
      }
      // One login per role (every demo user's password is the same).
      banner += "demo logins (password '" + std::string(wg::server::kDemoPassword) + "'):\n";
      for (const auto& l : wg::server::DemoLogins()) {
        banner += "  " + l.username + std::string(12 - std::min<std::size_t>(11, l.username.size()), ' ') +
                  l.role_zh + " / " + l.role + "  (" + l.display_name + ")\n";
      }
    }
    auto regulator = wg::cli::RegulatorPush::FromArgs(regulator_args);
    if (!regulator) return Fail(regulator.error());
    const int rc = Serve(**inst, clock, listen, banner, regulator->get(), 60, mqtt, web_root);
    if (simulator) simulator->Stop();
    return rc;
  }

  if (*create_org) {
    auto inst = OpenData(data, clock, false);
    if (!inst) return Fail(inst.error());
    auto org = (*inst)->CreateOrganization({org_code, org_name}, CliActor());
    if (!org) return Fail(org.error());
    std::cout << wg::core::DumpJson({{"id", org->id.value}, {"code", org->code}, {"name", org->name}})
              << "\n";
    return kExitOk;
  }

  if (*create_user) {
    auto parsed_role = wg::domain::ParseRole(role);
    if (!parsed_role) return Fail(parsed_role.error());
    std::string password;
    if (password_stdin) {
      std::getline(std::cin, password);
    } else if (const char* env = std::getenv(password_env.c_str())) {
      password = env;
    } else {
      return Fail(Status::InvalidArgument("give the password on stdin (--password-stdin) or in $" +
                                              password_env,
                                          "password"));
    }
    if (password.size() < 10) {
      return Fail(Status::InvalidArgument("must be at least 10 characters", "password"));
    }
    auto inst = OpenData(data, clock, false);
    if (!inst) return Fail(inst.error());
    auto org = (*inst)->OrgByCode(org_code);
    if (!org) return Fail(org.error());
    auto hash = wg::crypto::HashPassword(password);
    if (!hash) return Fail(hash.error());
    wg::domain::User u;
    u.org_id = org->id;
    u.username = username;
    u.display_name = display_name.empty() ? username : display_name;
    u.role = *parsed_role;
    u.password_hash = *hash;
    u.created_at = clock.Now();
    auto saved = (*inst)->CreateUser(u, CliActor());
    if (!saved) return Fail(saved.error());
    std::cout << wg::core::DumpJson({{"id", saved->id.value},
                                     {"username", saved->username},
                                     {"role", wg::domain::RoleName(saved->role)},
                                     {"org", org->code}})
              << "\n";
    return kExitOk;
  }

  std::optional<wg::core::Timestamp> when;
  if (!at.empty()) {
    auto t = wg::core::ParseTimestamp(at, "at");
    if (!t) return Fail(t.error());
    when = *t;
  }

  if (*verify) {
    if (worker_code.empty() && worker_id <= 0) {
      return Fail(Status::InvalidArgument("give a positive --worker id or --worker-code", "worker"));
    }
    if (!worker_code.empty() && org_code.empty()) {
      return Fail(Status::InvalidArgument("--worker-code needs --org", "org"));
    }
    auto inst = OpenData(data, clock);
    if (!inst) return Fail(inst.error());
    if (!worker_code.empty()) {
      auto org = (*inst)->OrgByCode(org_code);
      if (!org) return Fail(org.error());
      auto w = (*inst)->store().FindWorkerByCode(org->id, worker_code);
      if (w) {
        worker_id = w->id.value;
      } else if (w.error().code() != wg::core::StatusCode::kNotFound) {
        return Fail(w.error());
      } else {
        worker_id = 0;  // unknown worker: the verdict says so
      }
    }
    auto org = OrgOfWorker(**inst, org_code, wg::core::WorkerId{worker_id});
    if (!org) return Fail(org.error());
    std::optional<std::string> presented;
    if (!national_id.empty()) presented = national_id;
    auto v = (*inst)->registry().Verify(*org, wg::core::WorkerId{worker_id}, operation, when,
                                        presented);
    if (!v) return Fail(v.error());
    std::cout << wg::core::DumpJson(wg::registry::ToJson(*v), 2) << "\n";
    return v->may_work ? kExitOk : kExitNegative;
  }

  if (*expiring) {
    auto inst = OpenData(data, clock);
    if (!inst) return Fail(inst.error());
    std::optional<wg::core::OrgId> org;
    if (!org_code.empty()) {
      auto o = (*inst)->OrgByCode(org_code);
      if (!o) return Fail(o.error());
      org = o->id;
    }
    auto list = (*inst)->registry().Expiring(org, days, when);
    if (!list) return Fail(list.error());
    wg::core::Json arr = wg::core::Json::array();
    for (const auto& r : *list) arr.push_back(wg::registry::ToJson(r));
    std::cout << wg::core::DumpJson(arr, 2) << "\n";
    return kExitOk;
  }

  if (*import) {
    // A running server folds the import into its own index; this process needs none.
    auto inst = OpenData(data, clock, /*load_index=*/false);
    if (!inst) return Fail(inst.error());
    auto org = (*inst)->OrgByCode(org_code);
    if (!org) return Fail(org.error());
    wg::registry::ImportOptions opts;
    opts.skip_invalid = skip_invalid;
    opts.actor = CliActor();
    opts.progress = [](std::size_t rows, std::size_t done, std::size_t total) {
      ProgressBar(rows, done, total);
    };
    auto report = (*inst)->registry().ImportCsv(org->id, file, opts);
    if (!report) return Fail(report.error());
    std::cout << wg::core::DumpJson(wg::registry::ToJson(*report), 2) << "\n";
    return report->imported ? kExitOk : kExitNegative;
  }

  if (*qr) {
    auto inst = OpenData(data, clock, false);
    if (!inst) return Fail(inst.error());
    auto org = (*inst)->OrgByCode(org_code);
    if (!org) return Fail(org.error());
    auto code = (*inst)->registry().MakeQr(org->id, wg::core::CertificateId{cert_id});
    if (!code) return Fail(code.error());
    if (out == "-") {
      std::cout << code->payload << "\n";
      return kExitOk;
    }
    bool svg = out.size() > 4 && out.substr(out.size() - 4) == ".svg";
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    const std::string& bytes = svg ? code->svg : code->png;
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) return Fail(Status::IoError("cannot write " + out));
    std::cout << code->payload << "\n";
    return kExitOk;
  }
  return kExitError;
}

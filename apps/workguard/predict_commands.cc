// The early-warning commands (predict_commands.h).
#include "predict_commands.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <system_error>
#include <vector>

#include "cli_common.h"
#include "model_history.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/time.h"
#include "wg/monitor/rulebook.h"
#include "wg/predict/dataset.h"
#include "wg/predict/eval.h"
#include "wg/predict/gbt.h"
#include "wg/predict/metrics.h"
#include "wg/predict/model.h"
#include "wg/predict/model_file.h"
#include "wg/predict/simulate.h"
#include "wg/predict/thresholds.h"
#include "wg/server/installation.h"

namespace wg::cli {

namespace fs = std::filesystem;

namespace {

using core::Json;
using core::Result;
using core::Status;

constexpr double kMaxDurationS = 7 * 86400.0;
// Quarterly retraining: the default window of history `model train --data` reads.
constexpr core::Duration kDefaultHistory = core::Duration::Days(92);

// --- progress on stderr ------------------------------------------------------------------

// A single updating line per stage when stderr is a terminal ("boosting 120/200  60%");
// otherwise one line per stage, written when the stage ends.
class Progress {
 public:
  Progress() : tty_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() { Finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Update(const std::string& stage, std::size_t done, std::size_t total) {
    if (stage != stage_) {
      Finish();
      stage_ = stage;
      pct_ = -1;
    }
    done_ = done;
    total_ = total;
    if (!tty_) return;
    const int pct = total == 0 ? 0
                               : static_cast<int>(100.0 * static_cast<double>(done) /
                                                  static_cast<double>(total));
    if (pct == pct_) return;
    pct_ = pct;
    std::fprintf(stderr, "\r%-12s %zu/%zu %3d%%   ", stage_.c_str(), done, total, pct);
    std::fflush(stderr);
  }

  // Ends the current stage's line.
  void Finish() {
    if (stage_.empty()) return;
    if (tty_) {
      std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "%s: %zu/%zu\n", stage_.c_str(), done_, total_);
    }
    std::fflush(stderr);
    stage_.clear();
  }

 private:
  bool tty_;
  std::string stage_;
  std::size_t done_ = 0, total_ = 0;
  int pct_ = -1;
};

// --- inputs ------------------------------------------------------------------------------

Result<std::unique_ptr<monitor::MonitorRulebook>> LoadBook(const std::string& rules) {
  if (rules.empty()) return monitor::MonitorRulebook::LoadEmbedded();
  return monitor::MonitorRulebook::LoadDir(rules);
}

Result<predict::Dataset> LoadData(const std::string& dir, const monitor::MonitorRulebook& book,
                                  std::string_view field) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("not a directory: '" + dir + "'", std::string(field));
  }
  return predict::LoadDataset(dir, predict::RulebookThresholds(book));
}

Json DatasetJson(const std::string& path, const predict::Dataset& d) {
  std::size_t series = 0;
  double point_hours = 0;
  for (const auto& sc : d.scenarios) {
    series += sc.series.size();
    for (const auto& s : sc.series) {
      if (s.t.size() >= 2) point_hours += (s.t.back() - s.t.front()) / 3600.0;
    }
  }
  Json j = {{"scenarios", d.scenarios.size()},
            {"series", series},
            {"readings", d.readings()},
            {"events", d.events()},
            {"point_hours", std::round(point_hours * 10) / 10}};
  if (!path.empty()) j["path"] = path;
  return j;
}

bool ValidModelName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
  });
}

// The shipped model: data/models/early-warning.json beside the binary, in the source tree
// above a build directory (build/<preset>/workguard), or in an installed share directory.
std::optional<fs::path> DefaultModelFile() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const fs::path dir = exe.parent_path();
  for (const fs::path& p :
       {dir / "data/models/early-warning.json", dir / "../data/models/early-warning.json",
        dir / "../../data/models/early-warning.json",
        dir / "../share/workguard/models/early-warning.json"}) {
    if (fs::is_regular_file(p, ec)) return p.lexically_normal();
  }
  return std::nullopt;
}

struct NamedModel {
  std::string name;
  std::string source;  // "builtin" or the file
  std::unique_ptr<predict::Predictor> predictor;
};

bool IsBuiltin(std::string_view s) {
  return s == "static" || s == "linear" || s == "holt" || s == "kalman";
}

// "NAME|FILE[,NAME|FILE...]|all".
Result<std::vector<NamedModel>> ResolveModels(const std::string& spec) {
  std::vector<std::string> tokens;
  std::stringstream ss(spec);
  std::string tok;
  while (std::getline(ss, tok, ',')) tokens.push_back(tok);
  if (spec.empty() || spec.back() == ',') tokens.emplace_back();
  std::vector<std::string> expanded;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty()) {
      return Status::InvalidArgument("entry " + std::to_string(i + 1) +
                                         " is empty (expected NAME|FILE[,NAME|FILE...]|all)",
                                     "model");
    }
    if (tokens[i] == "all") {
      for (const char* b : {"static", "linear", "holt", "kalman"}) expanded.emplace_back(b);
      if (auto f = DefaultModelFile()) expanded.push_back(f->string());
    } else {
      expanded.push_back(tokens[i]);
    }
  }
  std::vector<NamedModel> out;
  for (const std::string& t : expanded) {
    if (!IsBuiltin(t)) {
      std::error_code ec;
      if (!fs::exists(t, ec)) {
        return Status::InvalidArgument("'" + t +
                                           "' is neither a model name (static, linear, holt, "
                                           "kalman, all) nor a model file",
                                       "model");
      }
    }
    auto loaded = predict::ResolveModel(t);
    if (!loaded.ok()) return loaded.error().WithContext(t);
    NamedModel m;
    if (IsBuiltin(t)) {
      m.name = t;
      m.source = "builtin";
    } else {
      m.name = loaded->info.name.empty() ? fs::path(t).stem().string() : loaded->info.name;
      m.source = t;
    }
    m.predictor = std::move(loaded->predictor);
    // The same model twice (e.g. "all,kalman"): evaluated once.
    const bool dup = std::any_of(out.begin(), out.end(), [&](const NamedModel& o) {
      return o.name == m.name && o.source == m.source;
    });
    if (!dup) out.push_back(std::move(m));
  }
  return out;
}

std::string Minutes(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f min", s / 60.0);
  return buf;
}

std::string Percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * x);
  return buf;
}

void PrintTable(const Json& dataset, double lead_s, double horizon_s,
                const std::vector<predict::EvalRow>& rows) {
  std::printf("dataset: %zu scenarios, %zu series, %zu readings, %zu events; lead %s, horizon %s\n",
              dataset.value("scenarios", std::size_t{0}), dataset.value("series", std::size_t{0}),
              dataset.value("readings", std::size_t{0}), dataset.value("events", std::size_t{0}),
              Minutes(lead_s).c_str(), Minutes(horizon_s).c_str());
  const std::string recall_head = "recall@" + Minutes(lead_s);
  std::printf("%-24s %-7s %7s %16s %12s %12s %12s %11s %11s\n", "model", "kind", "events",
              recall_head.c_str(), "median lead", "p10 lead", "false share", "FA/1000 ph",
              "ns/reading");
  for (const auto& r : rows) {
    std::printf("%-24s %-7s %7zu %16s %12s %12s %12s %11.2f %11.1f\n", r.model.c_str(),
                r.kind.c_str(), r.score.events, Percent(r.score.recall).c_str(),
                Minutes(r.score.median_lead_s).c_str(), Minutes(r.score.p10_lead_s).c_str(),
                Percent(r.score.false_share).c_str(), r.score.false_per_1000_point_hours,
                r.ns_per_reading);
  }
  const Json seed = predict::SeedFigures();
  if (seed.is_object() && seed.contains("accuracy")) {
    std::printf("seed's figures (reported, not measured by us): %.1f %% accuracy at %s (%s); "
                "false alarms %.1f %% -> %.1f %% after quarterly retraining\n",
                100.0 * seed.value("accuracy", 0.0),
                Minutes(60.0 * seed.value("lead_min", 0.0)).c_str(),
                seed.value("note", std::string("accuracy, not recall")).c_str(),
                100.0 * seed.value("false_alarm_share_before", 0.0),
                100.0 * seed.value("false_alarm_share_after_retraining", 0.0));
  }
}

Result<predict::ScoreOptions> ScoreOptionsOf(const PredictArgs& a) {
  predict::ScoreOptions o;
  WG_ASSIGN_OR_RETURN(o.lead_s, ParseDurationSeconds(a.lead, "lead"));
  WG_ASSIGN_OR_RETURN(o.horizon_s, ParseDurationSeconds(a.horizon, "horizon"));
  if (o.lead_s > o.horizon_s) {
    return Status::InvalidArgument("must not be longer than the horizon (" + a.horizon + ")",
                                   "lead");
  }
  return o;
}

// --- commands ----------------------------------------------------------------------------

int RunSimulate(const PredictArgs& a) {
  predict::SimOptions o;
  o.seed = a.seed;
  o.set = a.set;
  o.unit = a.unit;
  o.scenarios = a.scenarios;
  o.hours_min = a.hours_min;
  o.hours_max = a.hours_max;
  o.event_share = a.event_share;
  o.sample_s = a.sample_s;
  if (Status s = predict::ValidateSimOptions(o); !s.ok()) return Fail(s);
  Progress progress;
  auto d = predict::Simulate(o, [&](int done, int total) {
    progress.Update("simulate", static_cast<std::size_t>(std::max(done, 0)),
                    static_cast<std::size_t>(std::max(total, 0)));
  });
  progress.Finish();
  if (!d.ok()) return Fail(d.error());
  if (Status s = predict::WriteDataset(*d, a.out); !s.ok()) return Fail(s);
  Json j = DatasetJson(a.out, *d);
  j["set"] = o.set;
  j["seed"] = o.seed;
  j["unit"] = o.unit;
  std::cout << core::DumpJson(j, 2) << "\n";
  return kExitOk;
}

int RunImportTep(const PredictArgs& a) {
  if (a.set != "train" && a.set != "test") {
    return Fail(Status::InvalidArgument("expected train or test, got '" + a.set + "'", "set"));
  }
  std::error_code ec;
  if (!fs::is_directory(a.input, ec)) {
    return Fail(Status::InvalidArgument("not a directory: '" + a.input + "'", "input"));
  }
  auto d = predict::ImportTep(a.input, a.set);
  if (!d.ok()) return Fail(d.error());
  if (Status s = predict::WriteDataset(*d, a.out); !s.ok()) return Fail(s);
  Json j = DatasetJson(a.out, *d);
  j["set"] = a.set;
  j["source"] = a.input;
  std::cout << core::DumpJson(j, 2) << "\n";
  return kExitOk;
}

int RunEval(const PredictArgs& a) {
  auto score = ScoreOptionsOf(a);
  if (!score.ok()) return Fail(score.error());
  auto models = ResolveModels(a.model);
  if (!models.ok()) return Fail(models.error());
  auto book = LoadBook(a.rules);
  if (!book.ok()) return Fail(book.error());
  auto d = LoadData(a.input, **book, "input");
  if (!d.ok()) return Fail(d.error());
  std::vector<predict::EvalRow> rows;
  Json rows_json = Json::array();
  for (const auto& m : *models) {
    std::fprintf(stderr, "evaluating %s\n", m.name.c_str());
    rows.push_back(predict::Evaluate(m.name, *m.predictor, *d, *score));
    Json r = predict::ToJson(rows.back());
    if (r.is_object() && m.source != "builtin") r["file"] = m.source;
    rows_json.push_back(std::move(r));
  }
  if (!a.episodes.empty()) {
    // One JSON line per warning episode: which series, when, and whether it was false
    // (no event of its series within the horizon after its start) — for finding out what
    // a model cries wolf on.
    std::ofstream out(a.episodes, std::ios::trunc);
    if (!out) return Fail(Status::IoError("episodes: cannot write " + a.episodes));
    for (const auto& m : *models) {
      for (const predict::Scenario& sc : d->scenarios) {
        for (const predict::Series& s : sc.series) {
          for (const predict::Episode& e : predict::RunSeries(*m.predictor, s)) {
            bool is_false = true;
            for (double te : s.events) {
              if (te >= e.start && te <= e.start + score->horizon_s) is_false = false;
            }
            out << core::DumpJson(Json{{"model", m.name},
                                       {"scenario", sc.name},
                                       {"point", s.point},
                                       {"kind", s.kind},
                                       {"start", e.start},
                                       {"end", e.end},
                                       {"false", is_false},
                                       {"events", s.events}})
                << "\n";
          }
        }
      }
    }
    if (!out.flush()) return Fail(Status::IoError("episodes: cannot write " + a.episodes));
  }
  const Json dataset = DatasetJson(a.input, *d);
  if (a.table) {
    PrintTable(dataset, score->lead_s, score->horizon_s, rows);
    return kExitOk;
  }
  std::cout << core::DumpJson({{"dataset", dataset},
                               {"lead_s", score->lead_s},
                               {"horizon_s", score->horizon_s},
                               {"models", rows_json},
                               {"seed", predict::SeedFigures()}},
                              2)
            << "\n";
  return kExitOk;
}

int RunNab(const PredictArgs& a) {
  if (!(a.margin >= 0) || a.margin > 10) {
    return Fail(Status::InvalidArgument("must be between 0 and 10", "margin"));
  }
  auto models = ResolveModels(a.model);
  if (!models.ok()) return Fail(models.error());
  std::error_code ec;
  if (!fs::is_directory(a.input, ec)) {
    return Fail(Status::InvalidArgument("not a directory: '" + a.input + "'", "input"));
  }
  auto s = predict::ImportNab(a.input, a.nab_name);
  if (!s.ok()) return Fail(s.error());
  Json rows = Json::array();
  for (const auto& m : *models) {
    rows.push_back(predict::ToJson(predict::EvaluateNab(m.name, *m.predictor, *s, a.margin)));
  }
  std::cout << core::DumpJson({{"series", s->name},
                               {"readings", s->t.size()},
                               {"windows", s->windows.size()},
                               {"margin", a.margin},
                               {"models", rows}},
                              2)
            << "\n";
  return kExitOk;
}

int RunTrain(const PredictArgs& a) {
  if (a.kind != "gbt" && a.kind != "kalman" && a.kind != "linear" && a.kind != "holt" &&
      a.kind != "static") {
    return Fail(Status::InvalidArgument(
        "expected gbt, kalman, linear, holt or static, got '" + a.kind + "'", "kind"));
  }
  if (a.input.empty() && a.data.empty()) {
    return Fail(Status::InvalidArgument(
        "give the training set: --input DIR, --data DATA_DIR (the installation's history) or both",
        "input"));
  }
  if (a.data.empty() && (!a.from.empty() || !a.to.empty())) {
    return Fail(Status::InvalidArgument("--from/--to select the history of --data DATA_DIR",
                                        a.from.empty() ? "to" : "from"));
  }
  std::string name = a.name;
  if (name.empty()) {
    name = fs::path(a.out).stem().string();
    if (!ValidModelName(name)) name = a.kind;
  }
  if (!ValidModelName(name)) {
    return Fail(Status::InvalidArgument("expected [A-Za-z0-9._-]{1,64}, got '" + name + "'",
                                        "name"));
  }
  core::SystemClock clock;
  const core::Timestamp now = clock.Now();

  predict::TrainOptions opts;
  opts.seed = a.seed;
  opts.rounds = a.rounds;
  // Calibration scores with the same lead and horizon as `predict eval`.
  auto score = ScoreOptionsOf(a);
  if (!score.ok()) return Fail(score.error());
  opts.score = *score;
  std::optional<double> model_horizon;
  if (!a.predict_horizon.empty()) {
    auto h = ParseDurationSeconds(a.predict_horizon, "predict-horizon");
    if (!h.ok()) return Fail(h.error());
    model_horizon = *h;
    opts.horizon_s = *h;  // gbt: the label looks this far ahead
  }

  auto book = LoadBook(a.rules);
  if (!book.ok()) return Fail(book.error());
  predict::Dataset d;
  if (!a.input.empty()) {
    auto in = LoadData(a.input, **book, "input");
    if (!in.ok()) return Fail(in.error());
    d = std::move(*in);
  }

  // The installation's own history.
  std::unique_ptr<server::Installation> inst;
  HistoryOptions ho;
  Json history_facts;
  std::vector<core::OrgId> history_orgs;
  if (!a.data.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(fs::path(a.data) / "workguard.db", ec)) {
      return Fail(Status::InvalidArgument(
          "not a workguard data directory (no workguard.db): '" + a.data + "'", "data"));
    }
    ho.to = now;
    if (!a.to.empty()) {
      auto t = core::ParseTimestamp(a.to, "to");
      if (!t.ok()) return Fail(t.error());
      ho.to = *t;
    }
    ho.from = ho.to - kDefaultHistory;
    if (!a.from.empty()) {
      auto t = core::ParseTimestamp(a.from, "from");
      if (!t.ok()) return Fail(t.error());
      ho.from = *t;
    }
    if (!(ho.from < ho.to)) return Fail(Status::InvalidArgument("must be after --from", "to"));
    ho.horizon_s = opts.horizon_s;
    auto opened = server::Installation::Open({.data_dir = a.data, .load_index = false}, clock);
    if (!opened.ok()) return Fail(opened.error());
    inst = std::move(*opened);
    std::fprintf(stderr, "reading the history of %s from %s to %s\n", a.data.c_str(),
                 core::FormatTimestamp(ho.from).c_str(), core::FormatTimestamp(ho.to).c_str());
    auto h = LoadHistory(*inst, ho);
    if (!h.ok()) return Fail(h.error());
    history_facts = h->Facts(ho);
    if (h->dataset.events() == 0) {
      std::cerr << core::DumpJson(history_facts, 2) << "\n";
      return Fail(Status::InvalidArgument(
          "the history from " + core::FormatTimestamp(ho.from) + " to " +
              core::FormatTimestamp(ho.to) + " has no confirmed incidents (red threshold alarms) " +
              "on points with a red threshold (" + std::to_string(h->dataset.scenarios.size()) +
              " point-days, " + std::to_string(h->dataset.readings()) +
              " readings): nothing to learn from; widen --from/--to or train on --input",
          "data"));
    }
    for (const auto& f : h->orgs) {
      if (f.scenarios > 0) history_orgs.push_back(f.org);
    }
    for (auto& sc : h->dataset.scenarios) d.scenarios.push_back(std::move(sc));
    std::sort(d.scenarios.begin(), d.scenarios.end(),
              [](const predict::Scenario& x, const predict::Scenario& y) { return x.name < y.name; });
  }
  if (d.events() == 0) {
    return Fail(Status::InvalidArgument("the training set has no events: nothing to learn from",
                                        a.input.empty() ? "data" : "input"));
  }

  std::unique_ptr<predict::Predictor> model;
  Json training;
  if (a.kind == "gbt") {
    Progress progress;
    auto r = predict::TrainGbt(d, opts, [&](const predict::TrainProgress& p) {
      progress.Update(p.stage, p.done, p.total);
    });
    progress.Finish();
    if (!r.ok()) return Fail(r.error());
    model = std::move(r->model);
    training = std::move(r->training);
    if (model_horizon) model->set_horizon_s(*model_horizon);
  } else {
    auto m = predict::MakeByKind(a.kind, Json::object());
    if (!m.ok()) return Fail(m.error());
    model = std::move(*m);
    if (model_horizon) model->set_horizon_s(*model_horizon);
    std::fprintf(stderr, "calibrating %s on %zu scenarios\n", a.kind.c_str(), d.scenarios.size());
    Json table = predict::Calibrate(*model, d, opts);
    training = {{"method", "calibration"},
                {"calibration", table},
                {"max_false_share", opts.max_false_share},
                {"lead_s", opts.score.lead_s},
                {"horizon_s", opts.score.horizon_s}};
  }
  if (!model) return Fail(Status::Internal("training returned no model"));
  if (!training.is_object()) training = Json{{"facts", training}};
  Json data_facts = DatasetJson("", d);
  if (!a.input.empty()) data_facts["input"] = a.input;
  if (!history_facts.is_null()) data_facts["history"] = history_facts;
  training["data"] = data_facts;

  predict::ModelInfo info;
  info.name = name;
  info.created = core::FormatTimestamp(core::Timestamp::FromSeconds(now.seconds()));
  info.training = training;
  if (!a.eval.empty()) {
    auto ev = LoadData(a.eval, **book, "eval");
    if (!ev.ok()) return Fail(ev.error());
    std::fprintf(stderr, "evaluating on %s\n", a.eval.c_str());
    const predict::EvalRow row = predict::Evaluate(name, *model, *ev, opts.score);
    info.evaluation = predict::ToJson(row);
    if (!info.evaluation.is_object()) info.evaluation = Json::object();
    info.evaluation["dataset"] = DatasetJson(a.eval, *ev);
    info.evaluation["lead_s"] = opts.score.lead_s;
    info.evaluation["horizon_s"] = opts.score.horizon_s;
  }
  if (Status s = predict::SaveModel(*model, info, a.out); !s.ok()) return Fail(s);

  Json summary = {{"scenarios", data_facts["scenarios"]},
                  {"readings", data_facts["readings"]},
                  {"events", data_facts["events"]},
                  {"seed", opts.seed}};
  if (a.kind == "gbt") summary["rounds"] = opts.rounds;
  if (!history_facts.is_null()) summary["history"] = history_facts;
  if (inst && !history_orgs.empty()) {
    Json evaluation = info.evaluation;  // without the per-event leads (the model file has them)
    if (evaluation.contains("score") && evaluation["score"].is_object()) {
      evaluation["score"].erase("leads_s");
    }
    Json payload = {{"name", info.name},
                    {"kind", info.kind},
                    {"digest", info.digest},
                    {"created", info.created},
                    {"training", summary},
                    {"evaluation", evaluation}};
    if (Status s = RecordModelTrained(*inst, history_orgs, info.name, payload, CliActor());
        !s.ok()) {
      return Fail(s.WithContext("model written to " + a.out + " but its fact was not recorded"));
    }
  }
  std::cout << core::DumpJson({{"model", a.out},
                               {"name", info.name},
                               {"kind", info.kind},
                               {"created", info.created},
                               {"digest", info.digest},
                               {"training", summary},
                               {"evaluation", info.evaluation},
                               {"facts_recorded", history_orgs.size()}},
                              2)
            << "\n";
  return kExitOk;
}

int RunInfo(const PredictArgs& a) {
  auto m = predict::LoadModel(a.file);
  if (!m.ok()) return Fail(m.error().WithContext(a.file));
  const predict::ModelInfo& i = m->info;
  std::cout << core::DumpJson({{"file", a.file},
                               {"name", i.name},
                               {"kind", i.kind},
                               {"created", i.created},
                               {"digest", i.digest},
                               {"digest_verified", true},
                               {"horizon_s", m->predictor->horizon_s()},
                               {"policy", predict::ToJson(m->predictor->policy())},
                               {"training", i.training},
                               {"evaluation", i.evaluation}},
                              2)
            << "\n";
  return kExitOk;
}

}  // namespace

Result<double> ParseDurationSeconds(std::string_view s, std::string_view field) {
  const std::string f(field);
  auto bad = [&] {
    return Status::InvalidArgument(
        "expected a duration with a unit, e.g. 900s, 12m or 1h; got '" + std::string(s) + "'", f);
  };
  if (s.size() < 2) return bad();
  double unit = 0;
  switch (s.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    default: return bad();
  }
  const std::string_view num = s.substr(0, s.size() - 1);
  // Digits with at most one decimal point and at least one digit; no sign, no exponent.
  int dots = 0, digits = 0;
  for (char c : num) {
    if (c == '.') {
      ++dots;
    } else if (c >= '0' && c <= '9') {
      ++digits;
    } else {
      return bad();
    }
  }
  if (dots > 1 || digits == 0) return bad();
  double v = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || end != num.data() + num.size()) return bad();
  const double seconds = v * unit;
  if (!(seconds > 0) || seconds > kMaxDurationS) {
    return Status::InvalidArgument("must be more than 0 and at most 7 days, got '" +
                                       std::string(s) + "'",
                                   f);
  }
  return seconds;
}

void AddPredictCommands(CLI::App& app, PredictArgs& a) {
  a.simulate = app.add_subcommand(
      "simulate", "Write a simulated scenario dataset (confined spaces, process units)");
  a.simulate->add_option("--out", a.out, "Output directory (created; must hold no *.csv)")
      ->required();
  a.simulate->add_option("--set", a.set, "train|test: parameter ranges")->capture_default_str();
  a.simulate->add_option("--seed", a.seed, "Random seed")->capture_default_str();
  a.simulate->add_option("--scenarios", a.scenarios, "Number of scenarios (1..100000)")
      ->capture_default_str();
  a.simulate->add_option("--unit", a.unit, "confined|process|mixed")->capture_default_str();
  a.simulate->add_option("--hours-min", a.hours_min, "Shortest scenario, hours")
      ->capture_default_str();
  a.simulate->add_option("--hours-max", a.hours_max, "Longest scenario, hours")
      ->capture_default_str();
  a.simulate->add_option("--event-share", a.event_share,
                         "Share of scenarios built to cross red (0..1)")
      ->capture_default_str();
  a.simulate->add_option("--sample-s", a.sample_s, "Sampling period of confined spaces, s")
      ->capture_default_str();

  auto* p = app.add_subcommand("predict", "Early warning: import data sets, evaluate models");
  p->require_subcommand(1);
  a.import_tep = p->add_subcommand("import-tep", "Tennessee Eastman runs as a scenario dataset");
  a.import_tep->add_option("--input", a.input, "Directory of dNN.dat / dNN_te.dat")->required();
  a.import_tep->add_option("--set", a.set, "train (dNN.dat) | test (dNN_te.dat)")->required();
  a.import_tep->add_option("--out", a.out, "Output directory")->required();

  a.predict_eval = p->add_subcommand("eval", "Run models over a scenario dataset and score them");
  a.predict_eval->add_option("--input", a.input, "Scenario dataset directory")->required();
  a.predict_eval->add_option("--model", a.model,
                             "NAME|FILE[,NAME|FILE...]|all (static, linear, holt, kalman, "
                             "model files)")
      ->required();
  a.predict_eval->add_option("--lead", a.lead, "Lead time scored (900s, 12m, 1h)")
      ->capture_default_str();
  a.predict_eval->add_option("--horizon", a.horizon, "Horizon of a warning (900s, 30m, 1h)")
      ->capture_default_str();
  a.predict_eval->add_option("--episodes", a.episodes,
                             "Write every warning episode (JSON lines) to this file");
  a.predict_eval->add_option("--rules", a.rules,
                             "Monitoring rulebook directory (default: the built-in rules)");
  a.predict_eval->add_flag("--table", a.table, "A human-readable table instead of JSON");

  a.nab = p->add_subcommand("nab", "NAB sanity check of models on one NAB series");
  a.nab->add_option("--input", a.input, "NAB directory (data/, labels/)")->required();
  a.nab->add_option("--name", a.nab_name, "Series: CATEGORY/FILE.csv")->capture_default_str();
  a.nab->add_option("--model", a.model, "NAME|FILE[,NAME|FILE...]|all")->required();
  a.nab->add_option("--margin", a.margin,
                    "Threshold margin beyond the probationary range, times the range")
      ->capture_default_str();

  auto* m = app.add_subcommand("model", "Early-warning model files: train, inspect");
  m->require_subcommand(1);
  a.train = m->add_subcommand("train", "Train (gbt) or calibrate a model and write its file");
  a.train->add_option("--input", a.input, "Training scenario dataset directory");
  a.train->add_option("--data", a.data,
                      "Installation data directory: train on (add) its monitoring history");
  a.train->add_option("--out", a.out, "Model file to write")->required();
  a.train->add_option("--kind", a.kind, "gbt|kalman|linear|holt|static")->capture_default_str();
  a.train->add_option("--predict-horizon", a.predict_horizon,
                      "The model's horizon: probability of crossing within it (gbt: the "
                      "label's look-ahead; default 15m, gbt 25m)");
  a.train->add_option("--lead", a.lead, "Lead the calibration scores (12m)")->capture_default_str();
  a.train->add_option("--horizon", a.horizon, "Horizon the calibration scores (30m)")
      ->capture_default_str();
  a.train->add_option("--name", a.name, "Model name (default: the file's stem)");
  a.train->add_option("--seed", a.seed, "Training seed")->capture_default_str();
  a.train->add_option("--rounds", a.rounds, "Boosting rounds (gbt)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  a.train->add_option("--from", a.from, "History from (RFC 3339; default 92 days before --to)");
  a.train->add_option("--to", a.to, "History up to (RFC 3339; default now)");
  a.train->add_option("--eval", a.eval, "Held-out dataset: the evaluation stored in the file");
  a.train->add_option("--rules", a.rules,
                      "Monitoring rulebook directory for --input/--eval thresholds");

  a.info = m->add_subcommand("info", "A model file's facts (the digest verified)");
  a.info->add_option("file", a.file, "Model file")->required();
}

std::optional<int> RunPredictCommands(const PredictArgs& a) {
  if (a.simulate != nullptr && a.simulate->parsed()) return RunSimulate(a);
  if (a.import_tep != nullptr && a.import_tep->parsed()) return RunImportTep(a);
  if (a.predict_eval != nullptr && a.predict_eval->parsed()) return RunEval(a);
  if (a.nab != nullptr && a.nab->parsed()) return RunNab(a);
  if (a.train != nullptr && a.train->parsed()) return RunTrain(a);
  if (a.info != nullptr && a.info->parsed()) return RunInfo(a);
  return std::nullopt;
}

}  // namespace wg::cli

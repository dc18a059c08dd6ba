#pragma once
// The early-warning commands of the CLI (wg/predict; docs/formats/predict-scenarios.md,
// docs/formats/predict-model.md). Each prints one JSON document on stdout and exits 0, or
// 2 with the message on stderr (bad input, a file that does not parse, a failed run).
//   simulate --out DIR [--set train|test] [--seed N] [--scenarios N]
//            [--unit confined|process|mixed] [--hours-min H] [--hours-max H]
//            [--event-share X] [--sample-s S]
//       writes a simulated scenario dataset (progress on stderr)
//   predict import-tep --input DIR --set train|test --out DIR
//       the Tennessee Eastman runs as a scenario dataset
//   predict eval --input DIR --model NAME|FILE[,...]|all [--lead 12m] [--horizon 30m]
//                [--rules DIR] [--table]
//       runs models over a dataset and scores them ("all": static, linear, holt, kalman and
//       the shipped data/models/early-warning.json when it is found beside the binary)
//   predict nab --input NABDIR [--name CATEGORY/FILE.csv] [--model ...] [--margin X]
//       the NAB sanity check of the same models
//   model train --out MODEL (--input DIR | --data DATA_DIR) [--kind gbt|kalman|linear|holt]
//               [--name NAME] [--seed N] [--rounds N] [--from TIME --to TIME] [--eval DIR]
//               [--rules DIR]
//       trains (gbt) or calibrates (the others) a model and writes its file; with --data the
//       installation's own monitoring history is (added to) the training set and a
//       "model.trained" fact is recorded for each organization whose history was used
//   model info FILE
//       a model file's name, kind, creation, verified digest, training and evaluation
//
// Durations ("--lead", "--horizon") are a number with a unit: "900s", "12m", "1h".

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "wg/core/status.h"

namespace wg::cli {

struct PredictArgs {
  // simulate
  std::string out;
  std::string set = "train";
  std::uint64_t seed = 1;
  int scenarios = 200;
  std::string unit = "mixed";
  double hours_min = 2, hours_max = 6;
  double event_share = 0.5;
  double sample_s = 10;
  // predict import-tep / eval / nab
  std::string input;
  std::string model;
  std::string lead = "12m";
  std::string horizon = "30m";
  std::string rules;
  std::string episodes;
  std::string predict_horizon;  // model train: the model's probability horizon ("" = default)  // predict eval --episodes FILE: every warning episode, JSON lines
  bool table = false;
  std::string nab_name = "realKnownCause/machine_temperature_system_failure.csv";
  double margin = 0.1;
  // model train / info
  std::string kind = "gbt";
  std::string name;
  int rounds = 100;
  std::string data;
  std::string from, to;
  std::string eval;
  std::string file;

  CLI::App* simulate = nullptr;
  CLI::App* import_tep = nullptr;
  CLI::App* predict_eval = nullptr;
  CLI::App* nab = nullptr;
  CLI::App* train = nullptr;
  CLI::App* info = nullptr;
};

void AddPredictCommands(CLI::App& app, PredictArgs& a);
// The exit code when one of the commands ran; nullopt when none was chosen.
std::optional<int> RunPredictCommands(const PredictArgs& a);

// "900s", "12m", "1.5h" → seconds (0 < d <= 7 days); kInvalidArgument naming `field`.
core::Result<double> ParseDurationSeconds(std::string_view s, std::string_view field);

}  // namespace wg::cli

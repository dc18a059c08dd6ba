#pragma once
// Scenario simulator (docs/formats/predict-scenarios.md#simulator): confined spaces and
// process units with known ground truth, written in the evaluation format.
//
// Confined space (受限空间): a volume V with forced ventilation Q (air changes per hour,
// switched off/on or changed during the run), a leak of gas g starting at a random onset
// with rate S (ramping in over minutes, sometimes stopping), worker activity (entries,
// O2 consumption, CO bursts from hot work), ambient temperature with season and daily
// cycle (evaporation-driven sources scale with it). Points: o2 (%vol, red low 18), the
// leaking gas's kind (ch4 / combustible %LEL red 50, h2s mg/m3 red 20, co mg/m3 red 40),
// temperature. Truth follows dC/dt = S/V - (Q/V)(C - C_ambient), integrated at 1 s.
// Process unit: a vessel pressure under PI control (red per point in thresholds.json) with
// disturbances: feed loss (first-order runaway), cooling loss, set-point changes and
// oscillations that stay below the limit.
// Sensors: Gaussian noise, slow drift, dropouts (gaps of minutes), single-sample spikes,
// quantization. Events are labelled on the true (noise-free) signal at the sampling
// instants: the first sample whose true value is past red, and again only after the truth
// has been back inside for 10 minutes. A spike past red is not an event (the static
// baseline's false alarms show that).
//
// `set` picks parameter ranges: "train" and "test" use different seeds' streams AND
// different ranges (test: larger and smaller volumes, faster and slower leaks, other gases'
// mixes), so a model that memorizes the training ranges is caught.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "wg/core/status.h"
#include "wg/predict/dataset.h"

namespace wg::predict {

struct SimOptions {
  std::uint64_t seed = 1;
  std::string set = "train";      // "train" | "test"
  std::string unit = "mixed";     // "confined" | "process" | "mixed"
  int scenarios = 200;            // 1..100000
  double hours_min = 2, hours_max = 6;
  double event_share = 0.5;       // share of scenarios built to cross red (others: near misses,
                                  // ventilation, drift, spikes — the false-alarm controls)
  double sample_s = 10;           // confined spaces; process units sample every 60 s
  double start_epoch = 1'767'225'600;  // 2026-01-01T00:00:00Z
};
core::Status ValidateSimOptions(const SimOptions& o);  // names the field

// Deterministic for (options): the same options give byte-identical datasets.
core::Result<Dataset> Simulate(const SimOptions& o,
                               const std::function<void(int done, int total)>& progress = {});

}  // namespace wg::predict

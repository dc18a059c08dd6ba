#pragma once
// Retraining from history (`workguard model train --data DIR`): an installation's own
// monitoring record as an early-warning training set, and the evidence fact of a model
// trained on it.
//
// For every organization and every enabled monitoring point with a red threshold (the
// point's own red limit, else the monitoring rulebook's red rule of its kind converted to
// the point's unit as the rulebook converts it), the point's readings over [from, to) are
// cut into one scenario per point and Asia/Shanghai calendar day
// ("history-<org>-<point>-<YYYY-MM-DD>"). The events of a series are the reading times of
// the point's confirmed incidents: alarms raised at level red by a threshold rule
// (rule_kind threshold_high / threshold_low). Predicted alarms (rule_kind "predicted", or a
// rule id starting with "predict") that someone acknowledged while no red threshold alarm
// of the point followed within the horizon are acknowledged false alarms: their windows
// are negatives of the data set, and they are counted in the facts.

#include <cstdint>
#include <string>
#include <vector>

#include "wg/core/ids.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/predict/dataset.h"
#include "wg/server/installation.h"

namespace wg::cli {

struct HistoryOptions {
  core::Timestamp from, to;       // [from, to)
  double horizon_s = 15 * 60;     // a predicted alarm is false when no incident follows
                                  // within this long
  std::size_t min_readings = 10;  // a point-day with fewer readings is left out
};

// What the history contributed, per organization (the training facts).
struct HistoryOrgFacts {
  core::OrgId org;
  std::string code;
  std::size_t points = 0;           // points with a red threshold and readings
  std::size_t scenarios = 0;        // point-days
  std::size_t readings = 0;
  std::size_t events = 0;           // confirmed incidents (red threshold alarms)
  std::size_t predicted_alarms = 0;
  std::size_t acknowledged_false_alarms = 0;
  std::vector<std::string> skipped;  // "<point>: <why>" (no threshold, unit not convertible)
  std::vector<std::pair<std::string, double>> event_times;  // (point, reading time), first 100
};

struct HistoryDataset {
  predict::Dataset dataset;
  std::vector<HistoryOrgFacts> orgs;  // organizations with at least one scenario
  core::Json Facts(const HistoryOptions& o) const;
};

// Builds the data set from an installation opened by the caller.
core::Result<HistoryDataset> LoadHistory(server::Installation& inst, const HistoryOptions& o);

// Appends a "model.trained" fact (subject "model:<name>", actor `actor`) with `payload` to
// each organization's evidence and syncs its log. Floats are written as decimal strings
// (fact payloads carry no floats).
core::Status RecordModelTrained(server::Installation& inst, const std::vector<core::OrgId>& orgs,
                                const std::string& model_name, const core::Json& payload,
                                const std::string& actor);

// A copy of `j` with every floating-point number as a decimal string (fact payloads).
core::Json WithoutFloats(const core::Json& j);

}  // namespace wg::cli

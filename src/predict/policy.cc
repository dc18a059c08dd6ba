// The warning policy (when a forecast becomes a warning) and the per-series runner.
#include "wg/predict/model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

namespace wg::predict {
namespace {

using core::Json;
using core::Result;
using core::Status;

// A finite number member in [lo, hi]; absent members keep `value`.
Status ReadNumber(const Json& j, const char* key, double lo, double hi, double& value) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_number()) return Status::InvalidArgument(std::string(key) + ": expected a number", key);
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return Status::InvalidArgument(std::string(key) + ": must be in [" + Json(lo).dump() + ", " +
                                       Json(hi).dump() + "], got " + it->dump(),
                                   key);
  }
  value = v;
  return Status::Ok();
}

}  // namespace

Json ToJson(const WarningPolicy& p) {
  Json j = Json::object();
  j["on_probability"] = p.on_probability;
  j["off_probability"] = p.off_probability;
  j["hold_s"] = p.hold_s;
  j["confirm"] = p.confirm;
  j["rearm_s"] = p.rearm_s;
  return j;
}

Result<WarningPolicy> ParseWarningPolicy(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("policy: expected an object", "policy");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k != "on_probability" && k != "off_probability" && k != "hold_s" && k != "confirm" &&
        k != "rearm_s") {
      return Status::InvalidArgument("policy: unknown member '" + k + "'", k);
    }
  }
  WarningPolicy p;
  WG_RETURN_IF_ERROR(ReadNumber(j, "on_probability", 0.0, 1.0, p.on_probability));
  WG_RETURN_IF_ERROR(ReadNumber(j, "off_probability", 0.0, 1.0, p.off_probability));
  WG_RETURN_IF_ERROR(ReadNumber(j, "hold_s", 0.0, 7 * 24 * 3600.0, p.hold_s));
  WG_RETURN_IF_ERROR(ReadNumber(j, "rearm_s", 0.0, 7 * 24 * 3600.0, p.rearm_s));
  if (auto it = j.find("confirm"); it != j.end()) {
    if (!it->is_number_integer()) {
      return Status::InvalidArgument("confirm: expected an integer", "confirm");
    }
    const auto c = it->get<std::int64_t>();
    if (c < 1 || c > 100) {
      return Status::InvalidArgument("confirm: must be in [1, 100], got " + std::to_string(c), "confirm");
    }
    p.confirm = static_cast<int>(c);
  }
  WG_RETURN_IF_ERROR(ValidateWarningPolicy(p));
  return p;
}

Status ValidateWarningPolicy(const WarningPolicy& p, std::string_view prefix) {
  auto bad = [&](const char* member, const std::string& why) {
    const std::string field = std::string(prefix) + member;
    return Status::InvalidArgument(field + ": " + why, field);
  };
  constexpr double kWeek = 7 * 24 * 3600.0;
  if (!(p.on_probability >= 0 && p.on_probability <= 1)) {
    return bad("on_probability", "must be in [0, 1]");
  }
  if (!(p.off_probability >= 0 && p.off_probability <= 1)) {
    return bad("off_probability", "must be in [0, 1]");
  }
  if (!(p.hold_s >= 0 && p.hold_s <= kWeek)) return bad("hold_s", "must be in [0, 604800]");
  if (!(p.rearm_s >= 0 && p.rearm_s <= kWeek)) return bad("rearm_s", "must be in [0, 604800]");
  if (p.confirm < 1 || p.confirm > 100) return bad("confirm", "must be in [1, 100]");
  if (p.off_probability > p.on_probability) {
    return bad("off_probability", "must not exceed on_probability (" +
                                      Json(p.off_probability).dump() + " > " +
                                      Json(p.on_probability).dump() + ")");
  }
  return Status::Ok();
}

// While off, streak_ counts consecutive readings qualifying to turn on. While on, it
// counts consecutive readings below off_probability (the run began at below_since_), so
// the "not below" state never depends on a sentinel time.
WarningTracker::Change WarningTracker::Update(double t, double value, const Threshold& red,
                                              const Forecast& f) {
  const bool crossed = red.Crossed(value);
  if (crossed) {
    in_red_ = true;
    inside_run_ = false;
  } else if (in_red_) {
    if (!inside_run_) {
      inside_run_ = true;
      inside_since_ = t;
    }
    if (t - inside_since_ >= p_.rearm_s) in_red_ = false;
  }
  if (!on_) {
    if (!crossed && !in_red_ && f.probability >= p_.on_probability) {
      ++streak_;
    } else {
      streak_ = 0;
    }
    if (streak_ >= p_.confirm) {
      on_ = true;
      since_ = t;
      streak_ = 0;
      below_since_ = -1;
      return Change::kOn;
    }
    return Change::kNone;
  }
  if (crossed) {  // the event itself ends the warning
    on_ = false;
    streak_ = 0;
    return Change::kOff;
  }
  if (f.probability < p_.off_probability) {
    if (streak_ == 0) below_since_ = t;
    ++streak_;
    if (t - below_since_ >= p_.hold_s) {
      on_ = false;
      streak_ = 0;
      return Change::kOff;
    }
  } else {
    streak_ = 0;
  }
  return Change::kNone;
}

std::vector<Episode> RunSeries(const Predictor& m, const Series& s) {
  std::vector<Episode> episodes;
  const std::size_t n = std::min(s.t.size(), s.v.size());
  if (n == 0) return episodes;
  std::unique_ptr<State> state = m.NewState(s.red);
  WarningTracker tracker(m.policy());
  double start = 0;
  double last_t = 0;
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = s.t[i];
    if (any && !(t > last_t)) continue;  // times must strictly increase per state
    any = true;
    last_t = t;
    const Forecast f = m.Update(*state, t, s.v[i]);
    switch (tracker.Update(t, s.v[i], s.red, f)) {
      case WarningTracker::Change::kOn:
        start = t;
        break;
      case WarningTracker::Change::kOff:
        episodes.push_back({start, t});
        break;
      case WarningTracker::Change::kNone:
        break;
    }
  }
  if (tracker.on()) episodes.push_back({start, last_t});
  return episodes;
}

}  // namespace wg::predict

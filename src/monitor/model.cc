// Monitoring value types: names, strict point parsing and the alarm JSON
// (docs/formats/monitor-points.md).
#include "wg/monitor/model.h"

#include <algorithm>
#include <cmath>

#include "wg/monitor/rulebook.h"

namespace wg::monitor {

namespace {

using core::Json;
using core::Result;
using core::Status;

Status Bad(std::string field, std::string msg) {
  return Status::InvalidArgument(std::move(msg), std::move(field));
}

bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  });
}

Result<std::string> Str(const Json& j, std::string_view key, std::size_t max, bool required,
                        std::string_view prefix = "") {
  std::string field = std::string(prefix) + std::string(key);
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Bad(field, "is required");
    return std::string();
  }
  if (!it->is_string()) return Bad(field, "expected a string");
  auto s = it->get<std::string>();
  if (s.size() > max) return Bad(field, "longer than " + std::to_string(max) + " bytes");
  return s;
}

Result<std::optional<std::int64_t>> OptInt(const Json& j, std::string_view key, std::int64_t min,
                                           std::int64_t max, std::string_view prefix = "") {
  std::string field = std::string(prefix) + std::string(key);
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) return Bad(field, "expected an integer");
  auto v = it->get<std::int64_t>();
  if (v < min || v > max) {
    return Bad(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>(v);
}

Result<std::optional<double>> OptNumber(const Json& j, std::string_view key,
                                        std::string_view prefix = "") {
  std::string field = std::string(prefix) + std::string(key);
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return Bad(field, "expected a number");
  double v = it->get<double>();
  if (!std::isfinite(v)) return Bad(field, "must be finite");
  return std::optional<double>(v);
}

Result<std::optional<bool>> OptBool(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return Bad(std::string(key), "expected true or false");
  return std::optional<bool>(it->get<bool>());
}

Status Only(const Json& j, std::initializer_list<std::string_view> allowed,
            std::string_view prefix = "") {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return Bad(std::string(prefix) + it.key(), "unknown member");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> StrArray(const Json& j, std::string_view key, std::size_t max_n,
                                          std::size_t max_len) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return Bad(std::string(key), "expected an array of strings");
  if (it->size() > max_n) {
    return Bad(std::string(key), "at most " + std::to_string(max_n) + " entries");
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::string f = std::string(key) + "[" + std::to_string(i) + "]";
    const Json& e = (*it)[i];
    if (!e.is_string() || e.get<std::string>().empty()) return Bad(f, "expected a non-empty string");
    if (e.get<std::string>().size() > max_len) {
      return Bad(f, "longer than " + std::to_string(max_len) + " bytes");
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

Json TimeJson(core::Timestamp t) { return core::FormatTimestamp(t); }

Result<core::Timestamp> TimeFrom(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Bad(std::string(key), "expected a timestamp");
  return core::ParseTimestamp(it->get<std::string>(), key);
}

Result<std::optional<core::Timestamp>> OptTimeFrom(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<core::Timestamp>();
  WG_ASSIGN_OR_RETURN(auto t, TimeFrom(j, key));
  return std::optional<core::Timestamp>(t);
}

Result<double> NumFrom(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return Bad(std::string(key), "expected a number");
  return it->get<double>();
}

Json Strings(const std::vector<std::string>& v) {
  Json a = Json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

}  // namespace

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kBlue: return "blue";
    case Level::kYellow: return "yellow";
    case Level::kRed: return "red";
  }
  return "blue";
}

std::string_view LevelNameZh(Level l) {
  switch (l) {
    case Level::kBlue: return "蓝色";
    case Level::kYellow: return "黄色";
    case Level::kRed: return "红色";
  }
  return "蓝色";
}

core::Result<Level> ParseLevel(std::string_view s, std::string_view field) {
  if (s == "blue") return Level::kBlue;
  if (s == "yellow") return Level::kYellow;
  if (s == "red") return Level::kRed;
  return Bad(std::string(field), "unknown level '" + std::string(s) +
                                     "' (expected blue, yellow or red)");
}

std::string_view AlarmStateName(AlarmState s) {
  switch (s) {
    case AlarmState::kActiveUnacked: return "active_unacked";
    case AlarmState::kActiveAcked: return "active_acked";
    case AlarmState::kClearedUnacked: return "cleared_unacked";
    case AlarmState::kClearedAcked: return "cleared_acked";
  }
  return "active_unacked";
}

core::Result<AlarmState> ParseAlarmState(std::string_view s, std::string_view field) {
  for (auto st : {AlarmState::kActiveUnacked, AlarmState::kActiveAcked,
                  AlarmState::kClearedUnacked, AlarmState::kClearedAcked}) {
    if (AlarmStateName(st) == s) return st;
  }
  return Bad(std::string(field), "unknown alarm state '" + std::string(s) + "'");
}

core::Result<PointConfig> ParsePoint(const MonitorRulebook& book, core::OrgId org,
                                     const core::Json& doc) {
  if (!doc.is_object()) return Bad("point", "expected a JSON object");
  WG_RETURN_IF_ERROR(Only(doc, {"id", "name", "site", "zone", "equipment", "kind", "unit", "gas",
                                "permits", "stale_after_s", "limits", "enabled", "version"}));
  PointConfig p;
  p.org = org;
  WG_ASSIGN_OR_RETURN(p.id, Str(doc, "id", 64, true));
  if (!ValidId(p.id)) return Bad("id", "expected [A-Za-z0-9._-]{1,64}");
  WG_ASSIGN_OR_RETURN(p.name, Str(doc, "name", 128, false));
  WG_ASSIGN_OR_RETURN(p.site, Str(doc, "site", 64, true));
  if (p.site.empty()) return Bad("site", "must not be empty");
  WG_ASSIGN_OR_RETURN(p.zone, Str(doc, "zone", 64, false));
  WG_ASSIGN_OR_RETURN(p.equipment, Str(doc, "equipment", 64, false));
  WG_ASSIGN_OR_RETURN(p.kind, Str(doc, "kind", 64, true));
  const KindDef* kind = book.Kind(p.kind);
  if (kind == nullptr) return Bad("kind", "unknown kind '" + p.kind + "'");
  WG_ASSIGN_OR_RETURN(p.unit, Str(doc, "unit", 16, false));
  if (p.unit.empty()) p.unit = kind->units.front().unit;
  if (kind->Unit(p.unit) == nullptr) {
    std::string allowed;
    for (const auto& u : kind->units) allowed += (allowed.empty() ? "" : ", ") + u.unit;
    return Bad("unit", "unit '" + p.unit + "' not allowed for kind '" + p.kind + "' (" +
                           allowed + ")");
  }
  WG_ASSIGN_OR_RETURN(p.gas, Str(doc, "gas", 16, false));
  if (kind->needs_gas && p.gas.empty()) return Bad("gas", "kind '" + p.kind + "' needs the gas");
  if (!p.gas.empty()) {
    const GasDef* g = book.Gas(p.gas);
    if (g == nullptr) return Bad("gas", "unknown gas '" + p.gas + "'");
    if (!kind->gas.empty() && kind->gas != p.gas) {
      return Bad("gas", "kind '" + p.kind + "' measures " + kind->gas);
    }
    if (kind->needs_gas && g->lel_vol_pct <= 0) {
      return Bad("gas", "gas '" + p.gas + "' has no LEL: not a combustible gas");
    }
  }
  WG_ASSIGN_OR_RETURN(p.permits, StrArray(doc, "permits", 16, 64));
  WG_ASSIGN_OR_RETURN(p.stale_after_s, OptInt(doc, "stale_after_s", 1, 86400));
  WG_ASSIGN_OR_RETURN(auto enabled, OptBool(doc, "enabled"));
  p.enabled = enabled.value_or(true);
  WG_ASSIGN_OR_RETURN(auto version, OptInt(doc, "version", 0, INT64_MAX));
  p.version = version.value_or(0);
  auto lit = doc.find("limits");
  if (lit != doc.end() && !lit->is_null()) {
    if (!lit->is_array()) return Bad("limits", "expected an array");
    if (lit->size() > 8) return Bad("limits", "at most 8 limits");
    for (std::size_t i = 0; i < lit->size(); ++i) {
      const Json& l = (*lit)[i];
      std::string prefix = "limits[" + std::to_string(i) + "].";
      if (!l.is_object()) return Bad("limits[" + std::to_string(i) + "]", "expected an object");
      WG_RETURN_IF_ERROR(
          Only(l, {"level", "direction", "value", "for_s", "clear_hysteresis"}, prefix));
      PointLimit pl;
      WG_ASSIGN_OR_RETURN(auto level, Str(l, "level", 16, true, prefix));
      WG_ASSIGN_OR_RETURN(pl.level, ParseLevel(level, prefix + "level"));
      WG_ASSIGN_OR_RETURN(auto dir, Str(l, "direction", 16, false, prefix));
      if (dir.empty() || dir == "high") {
        pl.high = true;
      } else if (dir == "low") {
        pl.high = false;
      } else {
        return Bad(prefix + "direction", "expected \"high\" or \"low\"");
      }
      WG_ASSIGN_OR_RETURN(auto value, OptNumber(l, "value", prefix));
      if (!value) return Bad(prefix + "value", "is required");
      pl.value = *value;
      WG_ASSIGN_OR_RETURN(auto for_s, OptInt(l, "for_s", 0, 86400, prefix));
      pl.for_s = for_s.value_or(0);
      WG_ASSIGN_OR_RETURN(auto hyst, OptNumber(l, "clear_hysteresis", prefix));
      if (hyst && *hyst < 0) return Bad(prefix + "clear_hysteresis", "must not be negative");
      pl.clear_hysteresis = hyst.value_or(0);
      p.limits.push_back(pl);
    }
  }
  return p;
}

core::Json ToJson(const PointConfig& p) {
  Json j = Json::object();
  j["id"] = p.id;
  j["name"] = p.name;
  j["site"] = p.site;
  j["zone"] = p.zone;
  j["equipment"] = p.equipment;
  j["kind"] = p.kind;
  j["unit"] = p.unit;
  if (!p.gas.empty()) j["gas"] = p.gas;
  j["permits"] = Strings(p.permits);
  if (p.stale_after_s) j["stale_after_s"] = *p.stale_after_s;
  Json limits = Json::array();
  for (const auto& l : p.limits) {
    Json x = Json::object();
    x["level"] = LevelName(l.level);
    x["direction"] = l.high ? "high" : "low";
    x["value"] = l.value;
    x["for_s"] = l.for_s;
    x["clear_hysteresis"] = l.clear_hysteresis;
    limits.push_back(std::move(x));
  }
  j["limits"] = std::move(limits);
  j["enabled"] = p.enabled;
  j["version"] = p.version;
  return j;
}

core::Json ToJson(const Alarm& a) {
  Json j = Json::object();
  j["id"] = a.id;
  j["org"] = a.org.value;
  j["site"] = a.site;
  j["zone"] = a.zone;
  j["point"] = a.point;
  j["kind"] = a.kind;
  j["unit"] = a.unit;
  j["rule"] = a.rule;
  j["clause"] = a.clause;
  j["rule_kind"] = a.rule_kind;
  j["level"] = LevelName(a.level);
  j["level_zh"] = LevelNameZh(a.level);
  j["raised_level"] = LevelName(a.raised_level);
  j["state"] = AlarmStateName(a.state);
  j["profiles"] = Strings(a.profiles);
  j["threshold"] = a.threshold;
  j["value"] = a.value;
  j["peak"] = a.peak;
  j["raised_at"] = TimeJson(a.raised_at);
  j["reading_time"] = TimeJson(a.reading_time);
  j["ack_deadline"] = TimeJson(a.ack_deadline);
  j["acked_at"] = a.acked_at ? TimeJson(*a.acked_at) : Json();
  j["acked_by"] = a.acked_by;
  j["ack_note"] = a.ack_note;
  j["cleared_at"] = a.cleared_at ? TimeJson(*a.cleared_at) : Json();
  j["escalations"] = a.escalations;
  j["permits"] = Strings(a.permits);
  j["message_zh"] = a.message_zh;
  j["message_en"] = a.message_en;
  if (!a.actions.empty()) j["actions"] = Strings(a.actions);
  if (!a.evidence.empty()) {
    auto ev = core::ParseJson(a.evidence);
    j["evidence"] = ev.ok() ? *ev : Json(a.evidence);
  }
  return j;
}

core::Result<Alarm> AlarmFromJson(const core::Json& j) {
  if (!j.is_object()) return Bad("alarm", "expected a JSON object");
  Alarm a;
  WG_ASSIGN_OR_RETURN(auto id, OptInt(j, "id", 1, INT64_MAX));
  if (!id) return Bad("id", "is required");
  a.id = *id;
  WG_ASSIGN_OR_RETURN(auto org, OptInt(j, "org", 0, INT64_MAX));
  a.org.value = org.value_or(0);
  WG_ASSIGN_OR_RETURN(a.site, Str(j, "site", 1024, false));
  WG_ASSIGN_OR_RETURN(a.zone, Str(j, "zone", 1024, false));
  WG_ASSIGN_OR_RETURN(a.point, Str(j, "point", 160, true));
  WG_ASSIGN_OR_RETURN(a.kind, Str(j, "kind", 64, false));
  WG_ASSIGN_OR_RETURN(a.unit, Str(j, "unit", 16, false));
  WG_ASSIGN_OR_RETURN(a.rule, Str(j, "rule", 256, true));
  WG_ASSIGN_OR_RETURN(a.clause, Str(j, "clause", 1024, false));
  WG_ASSIGN_OR_RETURN(a.rule_kind, Str(j, "rule_kind", 32, false));
  WG_ASSIGN_OR_RETURN(auto level, Str(j, "level", 16, true));
  WG_ASSIGN_OR_RETURN(a.level, ParseLevel(level, "level"));
  WG_ASSIGN_OR_RETURN(auto raised_level, Str(j, "raised_level", 16, false));
  if (raised_level.empty()) {
    a.raised_level = a.level;
  } else {
    WG_ASSIGN_OR_RETURN(a.raised_level, ParseLevel(raised_level, "raised_level"));
  }
  WG_ASSIGN_OR_RETURN(auto state, Str(j, "state", 32, true));
  WG_ASSIGN_OR_RETURN(a.state, ParseAlarmState(state, "state"));
  WG_ASSIGN_OR_RETURN(a.profiles, StrArray(j, "profiles", 64, 64));
  WG_ASSIGN_OR_RETURN(a.threshold, NumFrom(j, "threshold"));
  WG_ASSIGN_OR_RETURN(a.value, NumFrom(j, "value"));
  WG_ASSIGN_OR_RETURN(a.peak, NumFrom(j, "peak"));
  WG_ASSIGN_OR_RETURN(a.raised_at, TimeFrom(j, "raised_at"));
  WG_ASSIGN_OR_RETURN(a.reading_time, TimeFrom(j, "reading_time"));
  WG_ASSIGN_OR_RETURN(a.ack_deadline, TimeFrom(j, "ack_deadline"));
  WG_ASSIGN_OR_RETURN(a.acked_at, OptTimeFrom(j, "acked_at"));
  WG_ASSIGN_OR_RETURN(a.acked_by, Str(j, "acked_by", 256, false));
  WG_ASSIGN_OR_RETURN(a.ack_note, Str(j, "ack_note", 4096, false));
  WG_ASSIGN_OR_RETURN(a.cleared_at, OptTimeFrom(j, "cleared_at"));
  WG_ASSIGN_OR_RETURN(auto esc, OptInt(j, "escalations", 0, 1000000));
  a.escalations = static_cast<int>(esc.value_or(0));
  WG_ASSIGN_OR_RETURN(a.permits, StrArray(j, "permits", 64, 64));
  WG_ASSIGN_OR_RETURN(a.message_zh, Str(j, "message_zh", 4096, false));
  WG_ASSIGN_OR_RETURN(a.message_en, Str(j, "message_en", 4096, false));
  WG_ASSIGN_OR_RETURN(a.actions, StrArray(j, "actions", 8, 32));
  if (auto ev = j.find("evidence"); ev != j.end() && !ev->is_null()) {
    a.evidence = ev->is_string() ? ev->get<std::string>() : core::DumpJson(*ev);
    if (a.evidence.size() > 16384) return Bad("evidence", "longer than 16384 bytes");
  }
  return a;
}

}  // namespace wg::monitor
